-- Every vintage of every guidance count, with the date from which it counts as known.
-- A quarter with classified events is counted from them (basis 'events'): one vintage, dated by its last
-- announcement. Any other quarter takes its published counts (basis 'published'): one vintage per
-- publication date, restatements included. A published count without a date counts as known from its
-- quarter's end plus var guidance_undated_lag_days (14): a quarter's final count is out by the time that
-- quarter's own reporting season opens (the dated counts of the published sample came out between 6 days
-- before and 14 days after their quarter's end).
{% set undated_lag_days = var('guidance_undated_lag_days', 14) %}
with events as (
    select
        index_name,
        fiscal_quarter,
        'events' as basis,
        max(announced_date) as as_of_date,
        count(*) filter (where direction = 'negative') as negative_count,
        count(*) filter (where direction = 'positive') as positive_count,
        count(*) as total_count,
        null::timestamp as ingested_at
    from {{ ref('int_guidance_classified') }}
    where index_name is not null
    group by index_name, fiscal_quarter
),

published as (
    select
        index_name,
        fiscal_quarter,
        'published' as basis,
        as_of_date,
        negative_count::bigint as negative_count,
        positive_count::bigint as positive_count,
        total_count::bigint as total_count,
        ingested_at
    from {{ ref('stg_guidance_counts') }}
    anti join events using (index_name, fiscal_quarter)
),

vintages as (
    select * from events
    union all
    select * from published
),

numbered as (
    select
        *,
        cast(left(fiscal_quarter, 4) as integer) * 4 + cast(right(fiscal_quarter, 1) as integer) - 1 as quarter_number,
        (make_date(cast(left(fiscal_quarter, 4) as integer), cast(right(fiscal_quarter, 1) as integer) * 3, 1)
            + interval 1 month - interval 1 day)::date as quarter_end_date
    from vintages
)

select
    index_name,
    fiscal_quarter,
    quarter_number::integer as quarter_number,
    basis,
    as_of_date,
    coalesce(as_of_date, quarter_end_date + {{ undated_lag_days }}) as available_date,
    -- 1 = the quarter's latest vintage: dated ones by date, above an undated one
    row_number() over (
        partition by index_name, fiscal_quarter order by as_of_date desc nulls last, ingested_at desc
    ) as vintage_rank,
    negative_count,
    positive_count,
    total_count
from numbered
