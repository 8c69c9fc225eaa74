-- The sector breakdown of the event-based guidance counts (quarters with classified events only).
select
    index_name,
    fiscal_quarter,
    coalesce(sector, 'Unknown') as sector,
    count(*) filter (where direction = 'negative') as negative_count,
    count(*) filter (where direction = 'positive') as positive_count,
    count(*) as total_count,
    count(*) filter (where direction = 'negative')::double / count(*) as negative_share
from {{ ref('int_guidance_classified') }}
where index_name is not null
group by index_name, fiscal_quarter, coalesce(sector, 'Unknown')
