-- The S&P 500's members with their sector and market cap, at every date on which either can change:
-- each membership vintage and each date a member has a valuation snapshot. On a weights_date the
-- members are those of the membership vintage in force (int_index_membership), each with its latest
-- positive market cap on or before that date (null when it has none yet). The sector is the
-- membership file's, else the one of that valuation snapshot; a member with neither is left out.
-- Readers take the latest weights_date on or before the date they need, so one row per member and
-- change date (not per session) is enough: the demo's ~500 members x ~270 snapshot dates.
{% set index_name = 'sp500' %}

with membership as (
    select ticker, membership_date, sector
    from {{ ref('int_index_membership') }}
    where index_name = '{{ index_name }}'
),

caps as (
    select ticker, as_of_date, market_cap, sector
    from {{ ref('stg_valuation_snapshots') }}
    where market_cap > 0 and ticker in (select ticker from membership)
),

vintages as (
    select distinct membership_date from membership
),

change_dates as (
    select membership_date as weights_date from vintages
    union
    select as_of_date from caps
),

-- the membership vintage in force on each change date (none before the first vintage)
points as (
    select weights_date, matched as membership_date
    from {{ asof_match('change_dates', 'weights_date', 'vintages', 'membership_date') }} as vintage_in_force
    where matched is not null
),

-- each member's latest market-cap date on or before each change date
member_points as (
    select points.weights_date, points.membership_date, membership.ticker, membership.sector
    from points
    inner join membership on membership.membership_date = points.membership_date
),

cap_dates as (
    select * from {{ asof_match('member_points', 'weights_date', 'caps', 'as_of_date', ['ticker']) }} as latest_cap
)

select
    points.weights_date,
    points.membership_date,
    points.ticker,
    coalesce(points.sector, caps.sector) as sector,
    caps.market_cap,
    caps.as_of_date as market_cap_date
from member_points as points
left join cap_dates on cap_dates.ticker = points.ticker and cap_dates.weights_date = points.weights_date
left join caps on caps.ticker = points.ticker and caps.as_of_date = cap_dates.matched
where coalesce(points.sector, caps.sector) is not null
