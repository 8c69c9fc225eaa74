-- Equal-weight and cap-weight returns of each cohort of the universe seeds, and of each cohort's
-- complement: the other members of its parent index (universe_cohorts.parent_index), as the cohort
-- <parent_index>_ex_<cohort>, on the parent index's sessions where its membership is known.
-- Equal weights set at the previous year's last close and then held make a cohort's YTD the mean of
-- its members' YTD returns. Cap weights are the members' market caps in the valuation snapshot of
-- that close (the member's last session of the previous year); null when no member has one.
-- A complement's cap weight is derived from its index (see _marts.yml): its members seldom have prices.
with cohorts as (
    select cohort, label, parent_index from {{ ref('universe_cohorts') }}
),

seed_members as (
    select cohort, ticker from {{ ref('universe_cohort_members') }}
),

members as (
    select seed_members.cohort, returns.*, year(returns.date) - 1 as base_year
    from seed_members
    inner join {{ ref('fct_returns_daily') }} as returns on returns.ticker = seed_members.ticker
),

year_ends as (
    select ticker, year(date) as base_year, max(date) as year_end
    from {{ ref('fct_returns_daily') }}
    group by ticker, year(date)
),

year_end_caps as (
    select year_ends.base_year, snapshots.ticker, snapshots.market_cap
    from {{ ref('stg_valuation_snapshots') }} as snapshots
    inner join year_ends on year_ends.ticker = snapshots.ticker and year_ends.year_end = snapshots.as_of_date
    where snapshots.market_cap > 0
),

cohort_returns as (
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
),

-- Complements --------------------------------------------------------------------------------------

parents as (
    select
        cohorts.cohort,
        cohorts.parent_index,
        cohorts.parent_index || '_ex_' || cohorts.cohort as complement,
        tickers.ticker as parent_ticker
    from cohorts
    inner join {{ ref('universe_tickers') }} as tickers on tickers.index_name = cohorts.parent_index
),

vintages as (
    select distinct index_name, membership_date, next_membership_date from {{ ref('int_index_membership') }}
),

-- The parent's sessions, each with the membership snapshot in force (the latest on or before it).
parent_sessions as (
    select
        parents.*,
        sessions.date,
        sessions.return_ytd as parent_return_ytd,
        year(sessions.date) - 1 as base_year,
        vintages.membership_date
    from parents
    inner join {{ ref('fct_returns_daily') }} as sessions on sessions.ticker = parents.parent_ticker
    inner join vintages
        on vintages.index_name = parents.parent_index
        and vintages.membership_date <= sessions.date
        and (vintages.next_membership_date is null or sessions.date < vintages.next_membership_date)
),

complement_members as (
    select parent_sessions.complement, parent_sessions.date, membership.ticker
    from parent_sessions
    inner join {{ ref('int_index_membership') }} as membership
        on membership.index_name = parent_sessions.parent_index
        and membership.membership_date = parent_sessions.membership_date
    left join seed_members
        on seed_members.cohort = parent_sessions.cohort and seed_members.ticker = membership.ticker
    where seed_members.ticker is null
),

-- Equal weight: over the members with a price that day, as for a cohort (none when prices are missing).
complement_equal_weight as (
    select
        complement_members.complement,
        complement_members.date,
        count(*) as cohort_size,
        count(returns.ticker) as members,
        count(returns.return_ytd) as members_with_ytd,
        avg(returns.return_1d) as return_1d_equal_weight,
        avg(returns.return_ytd) as return_ytd_equal_weight
    from complement_members
    left join {{ ref('fct_returns_daily') }} as returns
        on returns.ticker = complement_members.ticker and returns.date = complement_members.date
    group by complement_members.complement, complement_members.date
),

-- The parent's members at its last session of each year, with their caps in that day's snapshot.
base_members as (
    select
        parents.complement,
        parents.cohort,
        year_ends.base_year,
        membership.ticker,
        snapshots.market_cap,
        seed_members.ticker is not null as in_cohort
    from parents
    inner join year_ends on year_ends.ticker = parents.parent_ticker
    inner join vintages
        on vintages.index_name = parents.parent_index
        and vintages.membership_date <= year_ends.year_end
        and (vintages.next_membership_date is null or year_ends.year_end < vintages.next_membership_date)
    inner join {{ ref('int_index_membership') }} as membership
        on membership.index_name = vintages.index_name and membership.membership_date = vintages.membership_date
    left join {{ ref('stg_valuation_snapshots') }} as snapshots
        on snapshots.ticker = membership.ticker and snapshots.as_of_date = year_ends.year_end and snapshots.market_cap > 0
    left join seed_members on seed_members.cohort = parents.cohort and seed_members.ticker = membership.ticker
),

-- Index and complement caps per year; null when a member has no cap (the identity needs them all).
base_caps as (
    select
        complement,
        base_year,
        case when count(market_cap) = count(*) then sum(market_cap) end as index_cap,
        count(market_cap) filter (where not in_cohort) as complement_members_with_cap
    from base_members
    group by complement, base_year
),

-- The cohort's members in the index at the base close: their caps and cap-weighted YTD gain per session.
cohort_in_index as (
    select
        parent_sessions.complement,
        parent_sessions.date,
        sum(base_members.market_cap) as cohort_cap,
        sum(base_members.market_cap * returns.return_ytd) as cohort_gain,
        count(returns.return_ytd) = count(*) as complete
    from parent_sessions
    inner join base_members
        on base_members.complement = parent_sessions.complement
        and base_members.base_year = parent_sessions.base_year
        and base_members.in_cohort
    left join {{ ref('fct_returns_daily') }} as returns
        on returns.ticker = base_members.ticker and returns.date = parent_sessions.date
    group by parent_sessions.complement, parent_sessions.date
),

-- (index cap x index YTD - the cohort's gain) / the other members' cap; unknown when a cohort member
-- of the index has no YTD return that day.
complement_cap_weight as (
    select
        parent_sessions.complement,
        parent_sessions.date,
        case when coalesce(cohort_in_index.complete, true) then
            (parent_sessions.parent_return_ytd * base_caps.index_cap - coalesce(cohort_in_index.cohort_gain, 0))
            / nullif(base_caps.index_cap - coalesce(cohort_in_index.cohort_cap, 0), 0)
        end as return_ytd_cap_weight,
        base_caps.complement_members_with_cap as members_with_cap_weight
    from parent_sessions
    inner join base_caps
        on base_caps.complement = parent_sessions.complement and base_caps.base_year = parent_sessions.base_year
    left join cohort_in_index
        on cohort_in_index.complement = parent_sessions.complement and cohort_in_index.date = parent_sessions.date
),

cohort_sizes as (
    select cohort, count(*) as cohort_size from seed_members group by cohort
)

select
    cohort_returns.cohort,
    cohort_returns.date,
    cohort_returns.members,
    cohort_returns.members_with_ytd,
    cohort_returns.return_1d_equal_weight,
    cohort_returns.return_ytd_equal_weight,
    cohort_returns.return_ytd_cap_weight,
    cohort_returns.members_with_cap_weight,
    cohorts.label as cohort_label,
    cohort_sizes.cohort_size,
    cast(null as string) as complement_of,
    'members' as cap_weight_basis
from cohort_returns
left join cohorts using (cohort)
left join cohort_sizes using (cohort)

union all

select
    parent_sessions.complement as cohort,
    parent_sessions.date,
    complement_equal_weight.members,
    complement_equal_weight.members_with_ytd,
    complement_equal_weight.return_1d_equal_weight,
    complement_equal_weight.return_ytd_equal_weight,
    complement_cap_weight.return_ytd_cap_weight,
    coalesce(complement_cap_weight.members_with_cap_weight, 0) as members_with_cap_weight,
    parent_tickers.name || ' ex ' || cohorts.label as cohort_label,
    complement_equal_weight.cohort_size,
    parent_sessions.cohort as complement_of,
    'index_less_cohort' as cap_weight_basis
from parent_sessions
inner join complement_equal_weight
    on complement_equal_weight.complement = parent_sessions.complement
    and complement_equal_weight.date = parent_sessions.date
left join complement_cap_weight
    on complement_cap_weight.complement = parent_sessions.complement
    and complement_cap_weight.date = parent_sessions.date
inner join cohorts on cohorts.cohort = parent_sessions.cohort
inner join {{ ref('universe_tickers') }} as parent_tickers on parent_tickers.ticker = parent_sessions.parent_ticker
