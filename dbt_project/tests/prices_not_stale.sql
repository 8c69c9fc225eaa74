{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'dim_tickers'}}}) }}
-- Loaded tickers whose last price is older than the last completed NYSE session. The demo market ends on
-- a fixed date, so in a demo warehouse its own last session stands for the last completed one.
with market as (
    select bool_and(source = 'demo') as is_demo, max(date) as last_date
    from {{ ref('stg_prices_daily') }}
)

select
    tickers.ticker,
    tickers.last_date,
    case when market.is_demo then market.last_date else completed.session_date end as last_completed_session
from {{ ref('dim_tickers') }} as tickers
cross join {{ ref('int_last_completed_session') }} as completed
cross join market
where tickers.last_date < case when market.is_demo then market.last_date else completed.session_date end
