-- depends_on: {{ ref('stg_load_log') }}
{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_from_deleted_dates('ticker', deleted_tickers()) }}"
    )
}}
{#
  Incremental: a run recomputes, per ticker, only the rows on or after the earliest date whose price
  arrived, changed or was deleted since the last build (a daily refresh touches one session per ticker;
  see macros/incremental_changes.sql).
  A return on date d depends only on prices up to d, so rows before that date cannot change. The input
  reaches back to the start of the previous year, far enough for the 5-session, month and year bases.
#}
with prices as (
    select * from {{ ref('int_prices_return_basis') }}
),

{% if is_incremental() %}
recompute_from as (
    {{ changed_tickers() }}
),

input as (
    select prices.*, recompute_from.from_date
    from prices
    inner join recompute_from using (ticker)
    where prices.date >= date_trunc('year', recompute_from.from_date) - interval 1 year
      -- the same bound for all tickers first: a cheap filter before the join
      and prices.date >= (select date_trunc('year', min(from_date)) - interval 1 year from recompute_from)
),
{% else %}
input as (
    select prices.*, null::date as from_date from prices
),
{% endif %}

month_closes as (
    select ticker, date_trunc('month', date)::date as month_start, arg_max(return_basis_price, date) as month_close
    from input
    group by all
),

year_closes as (
    select ticker, year(date) as year, arg_max(return_basis_price, date) as year_close
    from input
    group by all
),

with_bases as (
    select
        input.*,
        lag(return_basis_price, 1) over by_ticker as base_1d,
        lag(return_basis_price, 5) over by_ticker as base_5d,
        month_closes.month_close as base_mtd,
        year_closes.year_close as base_ytd
    from input
    left join month_closes
        on month_closes.ticker = input.ticker
        and month_closes.month_start = (date_trunc('month', input.date) - interval 1 month)::date
    left join year_closes
        on year_closes.ticker = input.ticker
        and year_closes.year = year(input.date) - 1
    window by_ticker as (partition by input.ticker order by input.date)
)

select
    ticker,
    date,
    close,
    adj_close,
    return_basis_price,
    return_basis_price / base_1d - 1 as return_1d,
    return_basis_price / base_5d - 1 as return_5d,
    return_basis_price / base_mtd - 1 as return_mtd,
    return_basis_price / base_ytd - 1 as return_ytd,
    source,
    ingested_at
from with_bases
where from_date is null or date >= from_date
