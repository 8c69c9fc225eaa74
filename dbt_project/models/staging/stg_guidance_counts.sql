-- Published counts; a file loaded twice with the same key keeps its latest version.
select
    index_name::string as index_name,
    fiscal_quarter::string as fiscal_quarter,
    as_of_date::date as as_of_date,
    negative_count::integer as negative_count,
    positive_count::integer as positive_count,
    total_count::integer as total_count,
    source_url::string as source_url,
    source::string as source,
    source_file::string as source_file,
    ingested_at::timestamp as ingested_at
from {{ source('raw', 'guidance_counts') }}
qualify row_number() over (
    partition by index_name, fiscal_quarter, as_of_date order by ingested_at desc
) = 1
