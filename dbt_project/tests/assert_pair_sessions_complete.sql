{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_prices_daily'}}}) }}
-- Dates on which one ticker of a pair has a close and the other does not, within the span both cover.
-- Such dates are not sessions of the pair; this check makes them visible instead of silently skipped.
-- It looks at the closes of the latest load (every close, on a first build), as the key tests do.
with pairs as (
    select pair_id, leader_ticker, laggard_ticker from {{ ref('universe_pairs') }}
),

prices as (
    select ticker, date, ingested_at from {{ ref('stg_prices_daily') }}
),

latest_load as (
    select ticker, date from prices where ingested_at >= (select max(ingested_at) from prices)
),

partners as (
    -- the closes the latest load's closes are compared with: a cheap filter before the join
    select ticker, date from prices where date >= (select min(date) from latest_load)
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
inner join latest_load as prices
    on prices.ticker = legs.ticker and prices.date between span.first_date and span.last_date
where not exists (select 1 from partners as o where o.ticker = legs.other and o.date = prices.date)
