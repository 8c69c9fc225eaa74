-- depends_on: {{ ref('stg_load_log') }}
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_from_deleted_dates('ticker', deleted_tickers()) }}",
        ],
        post_hook="{{ drop_years_without_rows(years_with_prices()) }}",
        **incremental_by_key(['ticker', 'date'])
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

off_calendar as (
    -- the few prices on days the NYSE was closed: how many sessions there were up to them
    select prices.ticker, prices.date, max(sessions.session_number) as sessions_through
    from prices
    left join sessions on sessions.date < prices.date
    where prices.session_number is null
    group by prices.ticker, prices.date
),

located as (
    -- sessions_through: the number of sessions up to and including the price's date
    select
        prices.ticker,
        prices.date,
        prices.close,
        prices.adj_close,
        prices.ingested_at,
        prices.session_number is not null as is_session,
        coalesce(prices.session_number, off_calendar.sessions_through, 0) as sessions_through
    from prices
    left join off_calendar on off_calendar.ticker = prices.ticker and off_calendar.date = prices.date
),

{% if is_incremental() %}
recompute_from as (
    {{ recompute_from_dates(changed_tickers(), 'select distinct ticker from ' ~ ref('int_prices_return_basis'), 'ticker') }}
),

window_start as (
    -- per changed ticker, the stored price before its earliest changed date (the first one compared)
    select
        recompute_from.ticker,
        recompute_from.from_date,
        coalesce(max(prices.date), recompute_from.from_date) as start_date
    from recompute_from
    left join {{ ref('int_prices_return_basis') }} as prices
        on prices.ticker = recompute_from.ticker and prices.date < recompute_from.from_date
    group by recompute_from.ticker, recompute_from.from_date
),

input as (
    select located.*, window_start.from_date
    from located
    inner join window_start
        on window_start.ticker = located.ticker and located.date >= window_start.start_date
    -- the same bound for all tickers first: a cheap filter before the join
    where located.date >= (select min(start_date) from window_start)
),
{% else %}
input as (
    select located.*, cast(null as date) as from_date from located
),
{% endif %}

steps as (
    select
        ticker,
        date,
        from_date,
        is_session,
        lag(date) over by_ticker as previous_date,
        -- the sessions strictly between the previous price and this one
        sessions_through - case when is_session then 1 else 0 end - lag(sessions_through) over by_ticker
            as sessions_missing_before,
        close / lag(close) over by_ticker as close_ratio,
        adj_close / lag(adj_close) over by_ticker as adj_close_ratio,
        -- the later of the two prices': a step is new when either of its prices is
        greatest(ingested_at, lag(ingested_at) over by_ticker) as ingested_at
    from input
    window by_ticker as (partition by ticker order by date)
)

select
    ticker,
    date,
    previous_date,
    is_session,
    sessions_missing_before,
    close_ratio,
    adj_close_ratio,
    -- a split-sized jump in close that adj_close repeats (or lacks): not recorded in the adjusted series
    coalesce(
        (close_ratio < {{ split_like_ratio }} or close_ratio > 1 / {{ split_like_ratio }})
        and (adj_close_ratio is null or adj_close_ratio < {{ split_like_ratio }} or adj_close_ratio > 1 / {{ split_like_ratio }}),
        false
    ) as split_unrecorded,
    ingested_at
    {{- partition_year_column() }}
from steps
where from_date is null or date >= from_date
