-- EPS-guidance counts point-in-time: for each index and each date from which what was known changed
-- (a vintage's available_date), every quarter known then, with the figures as they stood from valid_from
-- until valid_to (exclusive; null = still current). A quarter uses its latest vintage available by
-- valid_from; its averages and lowest-since are taken over the other quarters as known then.
-- Averages: over the 20 (5y) and 40 (10y) quarters before this one, as far as they have a count; null
-- when fewer than var guidance_average_min_share (0.75) of them do (avg_*_quarters says how many).
-- negative_lowest_since_quarter: the most recent earlier quarter with a strictly lower negative count;
-- negative_tied_quarters: the quarters after it (or, without one, all earlier ones) with an equal count.
{% set min_share = var('guidance_average_min_share', 0.75) %}
with vintages as (
    select * from {{ ref('int_guidance_vintages') }}
),

change_dates as (
    select
        index_name,
        available_date as valid_from,
        lead(available_date) over (partition by index_name order by available_date) as valid_to
    from (select distinct index_name, available_date from vintages) as dates
),

known as (
    select change_dates.valid_from, change_dates.valid_to, vintages.*
    from change_dates
    inner join vintages
        on vintages.index_name = change_dates.index_name
        and vintages.available_date <= change_dates.valid_from
    qualify row_number() over (
        partition by vintages.index_name, change_dates.valid_from, vintages.fiscal_quarter order by vintages.vintage_rank
    ) = 1
),

averaged as (
    select
        *,
        count(*) over five_years as avg_5y_quarters,
        count(*) over ten_years as avg_10y_quarters,
        avg(negative_count) over five_years as negative_mean_5y,
        avg(negative_count) over ten_years as negative_mean_10y,
        avg(positive_count) over five_years as positive_mean_5y,
        avg(positive_count) over ten_years as positive_mean_10y
    from known
    window
        five_years as (
            partition by index_name, valid_from order by quarter_number range between 20 preceding and 1 preceding
        ),
        ten_years as (
            partition by index_name, valid_from order by quarter_number range between 40 preceding and 1 preceding
        )
),

lowest_since as (
    select
        this.index_name,
        this.valid_from,
        this.fiscal_quarter,
        {{ value_at_max('earlier.fiscal_quarter', 'earlier.quarter_number') }} as negative_lowest_since_quarter,
        {{ value_at_max('earlier.negative_count', 'earlier.quarter_number') }} as negative_lowest_since_count,
        max(earlier.quarter_number) as since_number
    from known as this
    inner join known as earlier
        on earlier.index_name = this.index_name
        and earlier.valid_from = this.valid_from
        and earlier.quarter_number < this.quarter_number
        and earlier.negative_count < this.negative_count
    group by this.index_name, this.valid_from, this.fiscal_quarter
),

tied as (
    select
        this.index_name,
        this.valid_from,
        this.fiscal_quarter,
        {{ ordered_string_agg('earlier.fiscal_quarter', "','", 'earlier.quarter_number') }} as negative_tied_quarters
    from known as this
    left join lowest_since using (index_name, valid_from, fiscal_quarter)
    inner join known as earlier
        on earlier.index_name = this.index_name
        and earlier.valid_from = this.valid_from
        and earlier.quarter_number < this.quarter_number
        and earlier.quarter_number > coalesce(lowest_since.since_number, -1)
        and earlier.negative_count = this.negative_count
    group by this.index_name, this.valid_from, this.fiscal_quarter
)

select
    averaged.index_name,
    averaged.fiscal_quarter,
    averaged.valid_from,
    averaged.valid_to,
    averaged.quarter_number,
    averaged.basis,
    averaged.as_of_date,
    averaged.available_date,
    averaged.negative_count,
    averaged.positive_count,
    averaged.total_count,
    averaged.negative_count::double / nullif(averaged.total_count, 0) as negative_share,
    case when averaged.avg_5y_quarters >= {{ min_share }} * 20 then averaged.negative_mean_5y end as negative_avg_5y,
    case when averaged.avg_10y_quarters >= {{ min_share }} * 40 then averaged.negative_mean_10y end as negative_avg_10y,
    case when averaged.avg_5y_quarters >= {{ min_share }} * 20 then averaged.positive_mean_5y end as positive_avg_5y,
    case when averaged.avg_10y_quarters >= {{ min_share }} * 40 then averaged.positive_mean_10y end as positive_avg_10y,
    averaged.avg_5y_quarters::integer as avg_5y_quarters,
    averaged.avg_10y_quarters::integer as avg_10y_quarters,
    lowest_since.negative_lowest_since_quarter,
    lowest_since.negative_lowest_since_count,
    tied.negative_tied_quarters
from averaged
left join lowest_since using (index_name, valid_from, fiscal_quarter)
left join tied using (index_name, valid_from, fiscal_quarter)
