-- depends_on: {{ ref('stg_price_deletions') }}
{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_from_deleted_dates('ticker', deleted_tickers()) }}"
    )
}}
{#
  Each price beside the ticker's previous one: the NYSE sessions missing between them (from the
  nyse_sessions seed) and whether a split-sized jump in close is matched by adj_close. The data tests
  sessions_complete and splits_recorded report the rows where it is not so.

  Incremental like fct_returns_daily (macros/incremental_changes.sql): a run recomputes, per ticker,
  the rows from the earliest date whose price arrived, changed or was deleted; the window starts at the
  stored price before that date, so the first recomputed row is compared with it however old it is.
  A whole-table window here would cost a refresh as much as a full build.
#}
{% set split_like_ratio = var('split_like_ratio', 0.6) %}

with sessions as (
    select date, row_number() over (order by date) as session_number
    from {{ ref('nyse_sessions') }}
),

prices as (
    select prices.ticker, prices.date, prices.close, prices.adj_close, prices.ingested_at, sessions.session_number
    from {{ ref('int_prices_return_basis') }} as prices
    left join sessions on sessions.date = prices.date
),

{% if is_incremental() %}
recompute_from as (
    {{ changed_tickers() }}
),

window_start as (
    -- Per changed ticker, the stored price the window starts at: the last one on a session before the
    -- changed date (the previous session a gap is counted from), or the last one at all if none is.
    select
        recompute_from.ticker,
        recompute_from.from_date,
        coalesce(
            max(case when prices.session_number is not null then prices.date end),
            max(prices.date),
            recompute_from.from_date
        ) as start_date
    from recompute_from
    left join prices
        on prices.ticker = recompute_from.ticker and prices.date < recompute_from.from_date
    group by recompute_from.ticker, recompute_from.from_date
),

input as (
    select prices.*, window_start.from_date
    from prices
    inner join window_start
        on window_start.ticker = prices.ticker and prices.date >= window_start.start_date
    -- the same bound for all tickers first: a cheap filter before the join
    where prices.date >= (select min(start_date) from window_start)
),
{% else %}
input as (
    select prices.*, cast(null as date) as from_date from prices
),
{% endif %}

steps as (
    select
        ticker,
        date,
        from_date,
        close,
        adj_close,
        session_number,
        ingested_at,
        lag(date) over by_ticker as previous_date,
        lag(close) over by_ticker as previous_close,
        lag(adj_close) over by_ticker as previous_adj_close,
        lag(ingested_at) over by_ticker as previous_ingested_at,
        -- session numbers grow with the date: the largest before this row is the previous price on a session
        max(session_number) over (by_ticker rows between unbounded preceding and 1 preceding) as previous_session_number
    from input
    window by_ticker as (partition by ticker order by date)
),

ratios as (
    select
        *,
        close / previous_close as close_ratio,
        adj_close / previous_adj_close as adj_close_ratio,
        coalesce(close / previous_close < {{ split_like_ratio }} or close / previous_close > 1 / {{ split_like_ratio }}, false)
            as split_sized_close_jump
    from steps
)

select
    ticker,
    date,
    previous_date,
    session_number is not null as is_session,
    session_number - previous_session_number - 1 as sessions_missing_before,
    previous_close,
    close,
    previous_adj_close,
    adj_close,
    close_ratio,
    adj_close_ratio,
    split_sized_close_jump,
    -- adj_close jumps with close (or is missing): the split is not in the adjusted series
    split_sized_close_jump
        and (adj_close_ratio is null or adj_close_ratio < {{ split_like_ratio }} or adj_close_ratio > 1 / {{ split_like_ratio }})
        as split_unrecorded,
    -- the later of the two prices': a step is new when either of its prices is
    greatest(ingested_at, previous_ingested_at) as ingested_at
from ratios
where from_date is null or date >= from_date
