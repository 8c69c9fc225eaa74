select
    index_name::string as index_name,
    as_of_date::date as as_of_date,
    forward_pe::double as forward_pe,
    source::string as source,
    source_file::string as source_file
from {{ source('raw', 'index_valuation_history') }}
