{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'dim_tickers'}}}) }}
-- Loaded tickers whose last price is older than the last completed NYSE session.
select tickers.ticker, tickers.last_date, completed.session_date as last_completed_session
from {{ ref('dim_tickers') }} as tickers
cross join {{ ref('int_last_completed_session') }} as completed
where tickers.last_date < completed.session_date
