select
    ticker::string as ticker,
    as_of_date::date as as_of_date,
    market_cap::double as market_cap,
    shares_outstanding::double as shares_outstanding,
    forward_eps::double as forward_eps,
    trailing_eps::double as trailing_eps,
    forward_pe::double as forward_pe,
    trailing_pe::double as trailing_pe,
    sector::string as sector,
    industry::string as industry,
    source::string as source,
    ingested_at::timestamp as ingested_at
from {{ source('raw', 'valuation_snapshots') }}
