-- Prices with the basis returns are computed on. return_basis_price is the row's own price on its
-- basis: adj_close when present, else close. A return never mixes bases: it compares adjusted closes
-- when both of its ends have one, else traded closes at both ends (fct_returns_daily,
-- int_pair_sessions), so a ticker whose adjusted closes start later shows no false move where they
-- start. A ratio of two return_basis_price values is a return only when both ends are on one basis.
select
    ticker,
    date,
    close,
    adj_close,
    coalesce(adj_close, close) as return_basis_price,
    source,
    ingested_at
from {{ ref('stg_prices_daily') }}
