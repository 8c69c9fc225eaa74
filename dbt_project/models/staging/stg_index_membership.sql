select
    index_name::varchar as index_name,
    ticker::varchar as ticker,
    as_of_date::date as as_of_date,
    weight::double as weight,
    sector::varchar as sector,
    source::varchar as source,
    ingested_at::timestamp as ingested_at
from {{ source('raw', 'index_membership') }}
