select
    ticker::string as ticker,
    announced_date::date as announced_date,
    fiscal_quarter::string as fiscal_quarter,
    eps_low::double as eps_low,
    eps_high::double as eps_high,
    consensus_eps_before::double as consensus_eps_before,
    source::string as source,
    source_file::string as source_file
from {{ source('raw', 'guidance_events') }}
