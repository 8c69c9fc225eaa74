-- Best and worst sector of each session and the gap between them (ties go to the first name alphabetically).
with ranked as (
    select * from {{ ref('fct_sector_returns') }} where rank_1d is not null
),

extremes as (
    select
        date,
        method,
        count(*) as sectors,
        max(rank_1d) as worst_rank
    from ranked
    group by date, method
)

select
    extremes.date,
    extremes.method,
    extremes.sectors,
    min(ranked.sector) filter (where ranked.rank_1d = 1) as top_sector,
    max(ranked.return_1d) as top_return_1d,
    min(ranked.sector) filter (where ranked.rank_1d = extremes.worst_rank) as bottom_sector,
    min(ranked.return_1d) as bottom_return_1d,
    max(ranked.return_1d) - min(ranked.return_1d) as spread_1d
from extremes
inner join ranked using (date, method)
group by extremes.date, extremes.method, extremes.sectors
