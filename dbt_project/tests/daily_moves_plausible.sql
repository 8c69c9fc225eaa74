{{ config(severity='warn', where='latest_load') }}
-- Daily returns (fct_returns_daily.return_1d, on adj_close when present) beyond +-max_daily_move.
select ticker, date, close, adj_close, return_1d
from {{ get_where_subquery(ref('fct_returns_daily')) }}
where abs(return_1d) > {{ var('max_daily_move', 0.25) }}
