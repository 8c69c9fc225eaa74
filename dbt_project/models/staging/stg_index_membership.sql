select
    index_name::string as index_name,
    ticker::string as ticker,
    as_of_date::date as as_of_date,
    weight::double as weight,
    sector::string as sector,
    source::string as source,
    ingested_at::timestamp as ingested_at
from {{ source('raw', 'index_membership') }}
