{{ config(severity='warn', where='latest_load') }}
-- Split-sized jumps in close that adj_close repeats or lacks: a split the adjusted series does not record.
select ticker, previous_date, date, close_ratio, adj_close_ratio
from {{ get_where_subquery(ref('int_price_steps')) }}
where split_unrecorded
