-- Sector returns by method. Method `etf`: each sector's Select Sector SPDR stands in for the sector.
-- Method `constituents`: the cap-weighted mean of the return_1d of the sector's S&P 500 members, with
-- membership and caps as of the previous session's close (int_sector_constituent_weights); the
-- longer returns chain the daily ones (see _marts.yml).
with etf_proxies as (
    select ticker as proxy_ticker, proxy_for_sector as sector
    from {{ ref('universe_tickers') }}
    where proxy_for_sector is not null
),

etf_method as (
    select
        etf_proxies.sector,
        returns.date,
        'etf' as method,
        etf_proxies.proxy_ticker,
        returns.return_1d,
        returns.return_5d,
        returns.return_mtd,
        returns.return_ytd,
        cast(null as bigint) as members,
        cast(null as bigint) as sector_members,
        cast(null as double) as covered_market_cap,
        cast(null as double) as coverage_pct,
        cast(null as date) as weights_date
    from etf_proxies
    inner join {{ ref('fct_returns_daily') }} as returns on returns.ticker = etf_proxies.proxy_ticker
),

-- Constituents ---------------------------------------------------------------------------------------

weights as (
    select * from {{ ref('int_sector_constituent_weights') }}
),

sessions as (
    select
        date,
        lag(date) over (order by date) as previous_session,
        row_number() over (order by date) as session_number
    from {{ ref('nyse_sessions') }}
),

-- Each session with the weights of the latest change date on or before the previous session.
weights_dates as (
    select distinct weights_date from weights
),

session_weights as (
    select sessions.date, weights_in_force.matched as weights_date
    from sessions
    inner join {{ asof_match('sessions', 'previous_session', 'weights_dates', 'weights_date') }} as weights_in_force
        on weights_in_force.previous_session = sessions.previous_session
    where weights_in_force.matched is not null
),

sector_totals as (
    select weights_date, sector, count(*) as sector_members, sum(market_cap) as sector_market_cap
    from weights
    group by weights_date, sector
),

-- A member with no cap counts in sector_members but carries no weight.
daily as (
    select
        weights.sector,
        returns.date,
        session_weights.weights_date,
        count(*) filter (where returns.return_1d is not null and weights.market_cap is not null) as members,
        coalesce(sum(weights.market_cap) filter (where returns.return_1d is not null), 0) as covered_market_cap,
        sum(weights.market_cap * returns.return_1d)
        / sum(weights.market_cap) filter (where returns.return_1d is not null) as return_1d
    from {{ ref('fct_returns_daily') }} as returns
    inner join session_weights on session_weights.date = returns.date
    inner join weights on weights.weights_date = session_weights.weights_date and weights.ticker = returns.ticker
    group by weights.sector, returns.date, session_weights.weights_date
),

-- Chained returns and whether the chain has a return on every session of its window.
chained as (
    select
        daily.*,
        sessions.session_number,
        {{ window_product('1 + daily.return_1d', 'last_5') }} - 1 as chain_5d,
        count(daily.return_1d) over last_5 as returns_5d,
        min(sessions.session_number) over last_5 as first_session_5d,
        {{ window_product('1 + daily.return_1d', 'month_to_date') }} - 1 as chain_mtd,
        count(daily.return_1d) over month_to_date as returns_mtd,
        {{ window_product('1 + daily.return_1d', 'year_to_date') }} - 1 as chain_ytd,
        count(daily.return_1d) over year_to_date as returns_ytd
    from daily
    inner join sessions using (date)
    window
        last_5 as (partition by daily.sector order by daily.date rows between 4 preceding and current row),
        month_to_date as (
            partition by daily.sector, date_trunc('month', daily.date) order by daily.date
            rows between unbounded preceding and current row
        ),
        year_to_date as (
            partition by daily.sector, year(daily.date) order by daily.date
            rows between unbounded preceding and current row
        )
),

-- How many sessions each month and year has up to a date: a chain must have that many returns.
period_sessions as (
    select
        date,
        session_number - min(session_number) over (partition by date_trunc('month', date)) + 1 as sessions_mtd,
        session_number - min(session_number) over (partition by year(date)) + 1 as sessions_ytd
    from sessions
),

constituents_method as (
    select
        chained.sector,
        chained.date,
        'constituents' as method,
        cast(null as string) as proxy_ticker,
        chained.return_1d,
        case when chained.returns_5d = 5 and chained.session_number - chained.first_session_5d = 4
            then chained.chain_5d end as return_5d,
        case when chained.returns_mtd = period_sessions.sessions_mtd then chained.chain_mtd end as return_mtd,
        case when chained.returns_ytd = period_sessions.sessions_ytd then chained.chain_ytd end as return_ytd,
        chained.members,
        sector_totals.sector_members,
        chained.covered_market_cap,
        chained.covered_market_cap / nullif(sector_totals.sector_market_cap, 0) as coverage_pct,
        chained.weights_date
    from chained
    inner join period_sessions using (date)
    inner join sector_totals using (weights_date, sector)
),

methods as (
    select * from etf_method
    union all
    select * from constituents_method
)

select
    sector,
    date,
    method,
    proxy_ticker,
    return_1d,
    return_5d,
    return_mtd,
    return_ytd,
    case when return_1d is not null then
        cast(rank() over (partition by date, method, return_1d is null order by return_1d desc) as bigint)
    end as rank_1d,
    members,
    sector_members,
    covered_market_cap,
    coverage_pct,
    weights_date
from methods
