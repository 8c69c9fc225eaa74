-- Equal-weight and cap-weight returns of each cohort.
-- Equal weights set at the previous year's last close and then held make the cohort's YTD the mean of
-- its members' YTD returns. Cap weights are the members' market caps in the valuation snapshot of
-- that close (the member's last session of the previous year); null when no member has one.
with members as (
    select members.cohort, returns.*, year(returns.date) - 1 as base_year
    from {{ ref('universe_cohort_members') }} as members
    inner join {{ ref('fct_returns_daily') }} as returns on returns.ticker = members.ticker
),

year_end_caps as (
    select year(snapshots.as_of_date) as base_year, snapshots.ticker, snapshots.market_cap
    from {{ ref('stg_valuation_snapshots') }} as snapshots
    inner join (
        select ticker, max(date) as year_end from {{ ref('fct_returns_daily') }} group by ticker, year(date)
    ) as year_ends on year_ends.ticker = snapshots.ticker and year_ends.year_end = snapshots.as_of_date
    where snapshots.market_cap > 0
)

select
    members.cohort,
    members.date,
    count(*) as members,
    count(members.return_ytd) as members_with_ytd,
    avg(members.return_1d) as return_1d_equal_weight,
    avg(members.return_ytd) as return_ytd_equal_weight,
    sum(members.return_ytd * year_end_caps.market_cap) / sum(year_end_caps.market_cap) filter (
        where members.return_ytd is not null
    ) as return_ytd_cap_weight,
    count(year_end_caps.market_cap) filter (where members.return_ytd is not null) as members_with_cap_weight
from members
left join year_end_caps using (base_year, ticker)
group by members.cohort, members.date
