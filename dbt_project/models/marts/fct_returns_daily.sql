-- depends_on: {{ ref('stg_load_log') }}
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_from_deleted_dates('ticker', deleted_tickers()) }}",
        ],
        post_hook="{{ drop_years_without_rows(years_with_prices()) }}",
        **incremental_by_key(['ticker', 'date'])
    )
}}
{#
  Incremental: a run recomputes, per ticker, only the rows on or after the earliest date whose price
  arrived, changed or was deleted since the last build (a daily refresh touches one session per ticker;
  see macros/incremental_changes.sql).
  A return on date d depends only on prices up to d, so rows before that date cannot change. The input
  reaches back to the start of the previous year, far enough for the 5-session, month and year bases.

  A return never mixes bases: it compares adjusted closes when the row and its base both have one, else
  traded closes at both ends (see int_prices_return_basis). So a series whose adjusted closes start
  later has no false move where they start; its returns spanning the start are on closes.
#}
{% set periods = ['1d', '5d', 'mtd', 'ytd'] %}
with prices as (
    select * from {{ ref('int_prices_return_basis') }}
),

{% if is_incremental() %}
recompute_from as (
    {{ recompute_from_dates(changed_tickers(), 'select distinct ticker from ' ~ ref('int_prices_return_basis'), 'ticker') }}
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
    select prices.*, cast(null as date) as from_date from prices
),
{% endif %}

-- the last row of each month and year: its close and adjusted close (either may be null there)
month_closes as (
    select
        ticker,
        cast(date_trunc('month', date) as date) as month_start,
        {{ value_at_max('close', 'date') }} as close,
        {{ value_at_max('adj_close', 'date') }} as adj_close
    from input
    group by all
),

year_closes as (
    select
        ticker,
        year(date) as year,
        {{ value_at_max('close', 'date') }} as close,
        {{ value_at_max('adj_close', 'date') }} as adj_close
    from input
    group by all
),

with_bases as (
    select
        input.*,
        lag(input.close, 1) over by_ticker as base_close_1d,
        lag(input.adj_close, 1) over by_ticker as base_adj_1d,
        lag(input.close, 5) over by_ticker as base_close_5d,
        lag(input.adj_close, 5) over by_ticker as base_adj_5d,
        month_closes.close as base_close_mtd,
        month_closes.adj_close as base_adj_mtd,
        year_closes.close as base_close_ytd,
        year_closes.adj_close as base_adj_ytd
    from input
    left join month_closes
        on month_closes.ticker = input.ticker
        and month_closes.month_start = cast(date_trunc('month', input.date) - interval 1 month as date)
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
    {%- for period in periods %}
    case
        when adj_close is not null and base_adj_{{ period }} is not null then adj_close / base_adj_{{ period }}
        else close / base_close_{{ period }}
    end - 1 as return_{{ period }},
    {%- endfor %}
    source,
    ingested_at
    {{- partition_year_column() }}
from with_bases
where from_date is null or date >= from_date
