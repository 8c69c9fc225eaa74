-- The price every return is computed on: adj_close when present, else close.
select
    ticker,
    date,
    close,
    adj_close,
    coalesce(adj_close, close) as return_basis_price,
    source,
    ingested_at
from {{ ref('stg_prices_daily') }}
