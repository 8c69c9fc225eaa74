{{ config(severity='error', meta={'dagster': {'ref': {'name': 'nyse_sessions'}}}) }}
-- A row when prices fall outside the session calendar's range: sessions would go uncounted there.
with calendar as (
    select min(date) as first_session, max(date) as last_session from {{ ref('nyse_sessions') }}
),

prices as (
    select min(date) as first_price_date, max(date) as last_price_date from {{ ref('stg_prices_daily') }}
)

select
    prices.first_price_date,
    prices.last_price_date,
    calendar.first_session,
    calendar.last_session,
    'regenerate the seed: python -m orchestration.extract.nyse_calendar --start/--end covering the prices' as fix
from prices
cross join calendar
where prices.first_price_date < calendar.first_session or prices.last_price_date > calendar.last_session
