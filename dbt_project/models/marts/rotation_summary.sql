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
    -- Valuation and guidance figures: filled once those marts exist.
    null::double as sp500_forward_pe,
    null::double as russell2000_relative_pe_vs_sp500,
    null::double as russell2000_discount_vs_long_run_pct,
    null::varchar as guidance_fiscal_quarter,
    null::integer as guidance_negative_count,
    null::integer as guidance_positive_count
from sessions
left join streak using (date)
left join indices using (date)
left join cohort using (date)
left join sectors using (date)
