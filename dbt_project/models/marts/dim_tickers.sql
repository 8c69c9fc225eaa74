-- Every ticker of the universe, plus any ticker that was loaded without being in it.
with cohorts as (
    select ticker, {{ ordered_string_agg('cohort', "','", 'cohort') }} as cohorts
    from {{ ref('universe_cohort_members') }}
    group by ticker
),

loaded as (
    select ticker, min(date) as first_date, max(date) as last_date, count(*) as sessions
    from {{ ref('stg_prices_daily') }}
    group by ticker
),

universe as (
    select ticker, name, asset_type, sector, proxy_for_sector, true as in_universe
    from {{ ref('universe_tickers') }}
    union all
    select ticker, null, null, null, null, false
    from loaded
    where ticker not in (select ticker from {{ ref('universe_tickers') }})
)

select
    universe.*,
    cohorts.cohorts,
    loaded.first_date,
    loaded.last_date,
    coalesce(loaded.sessions, 0) as sessions
from universe
left join cohorts using (ticker)
left join loaded using (ticker)
