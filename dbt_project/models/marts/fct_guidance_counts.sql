-- EPS-guidance counts per index and fiscal quarter.
-- From classified guidance events where the index has any for the quarter (basis 'events'), else
-- the latest published count (basis 'published'; a count without a date ranks below dated ones).
-- Averages cover the 20 (5y) and 40 (10y) fiscal quarters before this one that have a count.
-- negative_lowest_since_quarter: the most recent earlier quarter whose negative count was <= this one's.
with events as (
    select
        index_name,
        fiscal_quarter,
        'events' as basis,
        max(announced_date) as as_of_date,
        count(*) filter (where direction = 'negative') as negative_count,
        count(*) filter (where direction = 'positive') as positive_count,
        count(*) as total_count
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
        total_count::bigint as total_count
    from {{ ref('stg_guidance_counts') }}
    qualify row_number() over (
        partition by index_name, fiscal_quarter order by as_of_date desc nulls last, ingested_at desc
    ) = 1
),

quarters as (
    select * from events
    union all
    select * from published
    anti join events using (index_name, fiscal_quarter)
),

numbered as (
    select
        *,
        cast(left(fiscal_quarter, 4) as integer) * 4 + cast(right(fiscal_quarter, 1) as integer) - 1 as quarter_number,
        -- when the count is known to be public: its date, else the quarter's last day
        coalesce(
            as_of_date,
            (make_date(cast(left(fiscal_quarter, 4) as integer), cast(right(fiscal_quarter, 1) as integer) * 3, 1)
                + interval 1 month - interval 1 day)::date
        ) as available_date
    from quarters
),

averaged as (
    select
        *,
        negative_count::double / nullif(total_count, 0) as negative_share,
        avg(negative_count) over five_years as negative_avg_5y,
        avg(negative_count) over ten_years as negative_avg_10y,
        avg(positive_count) over five_years as positive_avg_5y,
        avg(positive_count) over ten_years as positive_avg_10y,
        count(*) over five_years as quarters_in_avg_5y,
        count(*) over ten_years as quarters_in_avg_10y
    from numbered
    window
        five_years as (partition by index_name order by quarter_number range between 20 preceding and 1 preceding),
        ten_years as (partition by index_name order by quarter_number range between 40 preceding and 1 preceding)
),

lowest_since as (
    select
        this.index_name,
        this.fiscal_quarter,
        arg_max(earlier.fiscal_quarter, earlier.quarter_number) as negative_lowest_since_quarter,
        arg_max(earlier.negative_count, earlier.quarter_number) as negative_lowest_since_count
    from numbered as this
    inner join numbered as earlier
        on earlier.index_name = this.index_name
        and earlier.quarter_number < this.quarter_number
        and earlier.negative_count <= this.negative_count
    group by this.index_name, this.fiscal_quarter
)

select
    averaged.index_name,
    averaged.fiscal_quarter,
    averaged.quarter_number,
    averaged.basis,
    averaged.as_of_date,
    averaged.available_date,
    averaged.negative_count,
    averaged.positive_count,
    averaged.total_count,
    averaged.negative_share,
    averaged.negative_avg_5y,
    averaged.negative_avg_10y,
    averaged.positive_avg_5y,
    averaged.positive_avg_10y,
    averaged.quarters_in_avg_5y,
    averaged.quarters_in_avg_10y,
    lowest_since.negative_lowest_since_quarter,
    lowest_since.negative_lowest_since_count
from averaged
left join lowest_since using (index_name, fiscal_quarter)
