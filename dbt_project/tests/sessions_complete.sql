{{ config(severity='warn', where='latest_load') }}
-- Prices preceded by NYSE sessions without a price of their ticker (since its previous price).
select ticker, previous_date, date, sessions_missing_before
from {{ get_where_subquery(ref('int_price_steps')) }}
where sessions_missing_before > 0
