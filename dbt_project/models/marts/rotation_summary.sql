-- One row per session with the headline figures.
{% set pair_id = var('summary_pair_id') %}
{% set cohort = var('summary_cohort') %}
with sessions as (
    select
        date,
        string_agg(distinct source, ',' order by source) as source,
        bool_and(source = 'demo') as is_demo
    from {{ ref('fct_returns_daily') }}
    group by date
),

streak as (
    select * from {{ ref('fct_relative_streaks') }} where pair_id = '{{ pair_id }}'
),

indices as (
    select
        date,
        max(return_ytd) filter (where ticker = '^RUT') as russell2000_return_ytd,
        max(return_5d) filter (where ticker = '^RUT') as russell2000_return_5d,
        max(return_ytd) filter (where ticker = '^GSPC') as sp500_return_ytd,
        max(return_5d) filter (where ticker = '^GSPC') as sp500_return_5d,
        max(return_ytd) filter (where ticker = '^IXIC') as nasdaq_return_ytd,
        max(return_5d) filter (where ticker = '^IXIC') as nasdaq_return_5d
    from {{ ref('fct_returns_daily') }}
    where ticker in ('^RUT', '^GSPC', '^IXIC')
    group by date
),

cohort as (
    select * from {{ ref('fct_cohort_returns') }} where cohort = '{{ cohort }}'
),

sectors as (
    select * from {{ ref('fct_sector_dispersion') }} where method = 'etf'
),

-- Valuations: one row per snapshot date with the figures of each universe side by side.
valuations as (
    select
        as_of_date,
        max(forward_pe) filter (where universe = 'sp500') as sp500_forward_pe,
        max(coverage_pct) filter (where universe = 'sp500') as sp500_forward_pe_coverage_pct,
        max(prior_peak_forward_pe) filter (where universe = 'sp500') as sp500_prior_peak_forward_pe,
        max(prior_peak_date) filter (where universe = 'sp500') as sp500_prior_peak_date,
        max(forward_pe) filter (where universe = '{{ cohort }}') as magnificent_7_forward_pe,
        max(forward_pe) filter (where universe = 'sp500_ex_{{ cohort }}') as sp500_ex_magnificent_7_forward_pe,
        max(forward_pe) filter (where universe = 'russell2000') as russell2000_forward_pe,
        max(relative_pe_vs_sp500) filter (where universe = 'russell2000') as russell2000_relative_pe_vs_sp500,
        max(relative_pe_long_run_avg) filter (where universe = 'russell2000') as russell2000_relative_pe_long_run_avg,
        max(long_run_start_date) filter (where universe = 'russell2000') as russell2000_long_run_start_date,
        max(discount_vs_long_run_pct) filter (where universe = 'russell2000') as russell2000_discount_vs_long_run_pct
    from {{ ref('fct_forward_pe') }}
    group by as_of_date
    having max(forward_pe) filter (where universe = 'sp500') is not null
),

-- Guidance: the S&P 500's quarter with the latest count already public on a date.
guidance as (
    select * from {{ ref('fct_guidance_counts') }} where index_name = 'sp500'
),

guidance_by_date as (
    select available_date, max(quarter_number) as quarter_number from guidance group by available_date
),

guidance_latest as (
    select
        guidance_by_date.available_date,
        max(guidance_by_date.quarter_number) over (order by guidance_by_date.available_date) as quarter_number
    from guidance_by_date
)

select
    sessions.date,
    sessions.source,
    sessions.is_demo,
    '{{ pair_id }}' as streak_pair_id,
    streak.leader_outperformed as streak_leader_outperformed,
    streak.spread_1d as streak_spread_1d,
    streak.streak_sessions,
    streak.streak_start_date,
    streak.longest_since_date as streak_longest_since_date,
    streak.longest_since_sessions as streak_longest_since_sessions,
    indices.russell2000_return_ytd,
    indices.russell2000_return_5d,
    indices.sp500_return_ytd,
    indices.sp500_return_5d,
    indices.nasdaq_return_ytd,
    indices.nasdaq_return_5d,
    cohort.members as magnificent_7_members,
    cohort.return_ytd_equal_weight as magnificent_7_return_ytd_equal_weight,
    cohort.return_ytd_cap_weight as magnificent_7_return_ytd_cap_weight,
    sectors.top_sector,
    sectors.top_return_1d as top_sector_return_1d,
    sectors.bottom_sector,
    sectors.bottom_return_1d as bottom_sector_return_1d,
    sectors.spread_1d as sector_spread_1d,
    -- Valuation and guidance figures: the latest as of the session (null before the first one).
    valuations.as_of_date as forward_pe_as_of_date,
    valuations.sp500_forward_pe,
    valuations.sp500_forward_pe_coverage_pct,
    valuations.sp500_prior_peak_forward_pe,
    valuations.sp500_prior_peak_date,
    valuations.magnificent_7_forward_pe,
    valuations.sp500_ex_magnificent_7_forward_pe,
    valuations.russell2000_forward_pe,
    valuations.russell2000_relative_pe_vs_sp500,
    valuations.russell2000_relative_pe_long_run_avg,
    valuations.russell2000_long_run_start_date,
    valuations.russell2000_discount_vs_long_run_pct,
    guidance.fiscal_quarter as guidance_fiscal_quarter,
    guidance.basis as guidance_basis,
    guidance.as_of_date as guidance_as_of_date,
    guidance.negative_count::integer as guidance_negative_count,
    guidance.positive_count::integer as guidance_positive_count,
    guidance.total_count::integer as guidance_total_count,
    guidance.negative_avg_5y as guidance_negative_avg_5y,
    guidance.negative_avg_10y as guidance_negative_avg_10y,
    guidance.positive_avg_5y as guidance_positive_avg_5y,
    guidance.negative_lowest_since_quarter as guidance_negative_lowest_since_quarter
from sessions
left join streak using (date)
left join indices using (date)
left join cohort using (date)
left join sectors using (date)
asof left join valuations on sessions.date >= valuations.as_of_date
asof left join guidance_latest on sessions.date >= guidance_latest.available_date
left join guidance on guidance.quarter_number = guidance_latest.quarter_number
