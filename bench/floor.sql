-- The floor: the three marts computed by one hand-written DuckDB script straight from bench.raw.prices_daily,
-- with no staging, views or tests. {seeds} is the folder of the universe seed CSVs; the results go to
-- the database `floor`.

create or replace table floor.returns_daily as
with prices as (
    select ticker, date, close, adj_close, coalesce(adj_close, close) as price from bench.raw.prices_daily
),
month_ends as (
    select ticker, (date_trunc('month', date) + interval 1 month)::date as next_month, arg_max(price, date) as base
    from prices group by all
),
year_ends as (
    select ticker, year(date) + 1 as next_year, arg_max(price, date) as base from prices group by all
)
select
    p.ticker, p.date, p.close, p.adj_close,
    p.price / lag(p.price) over w - 1 as return_1d,
    p.price / lag(p.price, 5) over w - 1 as return_5d,
    p.price / m.base - 1 as return_mtd,
    p.price / y.base - 1 as return_ytd
from prices p
left join month_ends m on m.ticker = p.ticker and m.next_month = date_trunc('month', p.date)::date
left join year_ends y on y.ticker = p.ticker and y.next_year = year(p.date)
window w as (partition by p.ticker order by p.date);

create or replace table floor.relative_streaks as
with pairs as (
    select * from read_csv('{seeds}/universe_pairs.csv', all_varchar = true)
),
prices as (
    select ticker, date, coalesce(adj_close, close) as price from bench.raw.prices_daily
),
sessions as (
    select pairs.pair_id, pairs.leader_ticker, pairs.laggard_ticker, l.date, l.price as lp, g.price as gp
    from pairs
    join prices l on l.ticker = pairs.leader_ticker
    join (select * from prices where ticker in (select laggard_ticker from pairs)) g
        on g.ticker = pairs.laggard_ticker and g.date = l.date
),
legs as (
    select * exclude (lp, gp),
        lp / lag(lp) over w - 1 as leader_return_1d,
        gp / lag(gp) over w - 1 as laggard_return_1d
    from sessions window w as (partition by pair_id order by date)
),
marked as (
    select *, coalesce(leader_return_1d > laggard_return_1d, false) as won,
        count(*) filter (where not coalesce(leader_return_1d > laggard_return_1d, false)) over w as run,
        row_number() over w as row_number
    from legs window w as (partition by pair_id order by date rows unbounded preceding)
),
run_figures as (
    select pair_id, run, min(date) as run_start, max(date) as run_end, count(*)::integer as run_length,
        min(row_number) as first_row_number
    from marked where won group by all
),
runs as (
    select marked.*, case when won then (row_number - first_row_number + 1)::integer else 0 end as streak_sessions,
        run_start, run_end, run_length
    from marked left join run_figures using (pair_id, run)
)
select
    pair_id, date, leader_ticker, laggard_ticker, leader_return_1d, laggard_return_1d,
    leader_return_1d - laggard_return_1d as spread_1d,
    won as leader_outperformed,
    streak_sessions,
    case when won then run_start end as streak_start_date,
    case when won then lag(run_end) over k end as longest_since_date,
    case when won then lag(run_length) over k end as longest_since_sessions
from runs
window k as (partition by pair_id, streak_sessions order by date);

create or replace table floor.sector_returns as
with proxies as (
    select ticker, proxy_for_sector as sector
    from read_csv('{seeds}/universe_tickers.csv', all_varchar = true)
    where proxy_for_sector is not null and proxy_for_sector <> ''
)
select
    proxies.sector, r.date, 'etf' as method, proxies.ticker as proxy_ticker,
    r.return_1d, r.return_5d, r.return_mtd, r.return_ytd,
    case when r.return_1d is not null then rank() over (partition by r.date, r.return_1d is null order by r.return_1d desc) end as rank_1d
from proxies
join floor.returns_daily r on r.ticker = proxies.ticker;
