{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_prices_daily'}}}) }}
-- Dates on which one ticker of a pair has a close and the other does not, within the span both cover.
-- Such dates are not sessions of the pair; this check makes them visible instead of silently skipped.
with pairs as (
    select pair_id, leader_ticker, laggard_ticker from {{ ref('universe_pairs') }}
),

prices as (
    select ticker, date from {{ ref('stg_prices_daily') }}
),

legs as (
    select pair_id, leader_ticker as ticker, laggard_ticker as other from pairs
    union all
    select pair_id, laggard_ticker, leader_ticker from pairs
),

coverage as (
    select ticker, min(date) as first_date, max(date) as last_date from prices group by ticker
),

span as (
    select pairs.pair_id, greatest(a.first_date, b.first_date) as first_date, least(a.last_date, b.last_date) as last_date
    from pairs
    inner join coverage as a on a.ticker = pairs.leader_ticker
    inner join coverage as b on b.ticker = pairs.laggard_ticker
)

select legs.pair_id, legs.ticker as has_close, legs.other as lacks_close, prices.date
from legs
inner join span using (pair_id)
inner join prices on prices.ticker = legs.ticker and prices.date between span.first_date and span.last_date
where not exists (select 1 from prices as o where o.ticker = legs.other and o.date = prices.date)
