-- A table, not a view: fct_relative_streaks and the key test read it without redoing the join and window.
{{ config(materialized='table') }}
-- One row per pair and session: a session of a pair is a date on which both of its tickers have a close.
-- Returns run from the pair's previous session, so both legs always cover the same interval.
with pairs as (
    select pair_id, leader_ticker, laggard_ticker from {{ ref('universe_pairs') }}
),

prices as (
    select ticker, date, return_basis_price, ingested_at from {{ ref('int_prices_return_basis') }}
),

sessions as (
    select
        pairs.pair_id,
        pairs.leader_ticker,
        pairs.laggard_ticker,
        leader.date,
        leader.return_basis_price as leader_price,
        laggard.return_basis_price as laggard_price,
        greatest(leader.ingested_at, laggard.ingested_at) as ingested_at
    from pairs
    inner join prices as leader on leader.ticker = pairs.leader_ticker
    inner join prices as laggard on laggard.ticker = pairs.laggard_ticker and laggard.date = leader.date
)

select
    pair_id,
    leader_ticker,
    laggard_ticker,
    date,
    leader_price / lag(leader_price) over by_session - 1 as leader_return_1d,
    laggard_price / lag(laggard_price) over by_session - 1 as laggard_return_1d,
    ingested_at
from sessions
window by_session as (partition by pair_id order by date)
