select
    index_name::varchar as index_name,
    as_of_date::date as as_of_date,
    forward_pe::double as forward_pe,
    source::varchar as source,
    source_file::varchar as source_file
from {{ source('raw', 'index_valuation_history') }}
