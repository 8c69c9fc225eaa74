-- depends_on: {{ ref('stg_load_log') }}
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_pairs_not_in_seed() }}",
            "{{ delete_from_deleted_dates('pair_id', pairs_of(deleted_tickers())) }}",
        ],
        post_hook="{{ drop_years_without_rows(years_with_seed_pairs()) }}",
        **incremental_by_key(['pair_id', 'date'])
    )
}}
{#
  One row per pair and session: a session of a pair is a date on which both of its tickers have a close.
  Returns run from the pair's previous session, so both legs always cover the same interval.
  Incremental: per pair, the rows from the earliest date on which a leg's price arrived, changed or was
  deleted are recomputed (a pair new to the seed, or whose legs changed, from its first session); the
  pair's last kept session before that date is the base of the first recomputed return.
#}
with pairs as (
    select pair_id, leader_ticker, laggard_ticker from {{ ref('universe_pairs') }}
),

prices as (
    select ticker, date, close, adj_close, ingested_at from {{ ref('int_prices_return_basis') }}
),

{% if is_incremental() %}
changes as (
    select pair_id, min(from_date) as from_date
    from (
        {{ pairs_of(changed_tickers()) }}
        union all
        {{ pairs_to_rebuild() }}
    ) as changed
    group by pair_id
),

recompute_from as (
    {{ recompute_from_dates('select * from changes', 'select pair_id from pairs', 'pair_id') }}
),

base_dates as (
    -- the first date each recomputed pair needs: its last kept session before the change
    select recompute_from.pair_id, recompute_from.from_date, coalesce(max(kept.date), recompute_from.from_date) as input_from
    from recompute_from
    left join {{ this }} as kept
        on kept.pair_id = recompute_from.pair_id and kept.date < recompute_from.from_date
    group by recompute_from.pair_id, recompute_from.from_date
),

recomputed_pairs as (
    select pairs.*, base_dates.from_date, base_dates.input_from
    from pairs
    inner join base_dates using (pair_id)
),

input_prices as (
    -- a cheap filter first, so that the joins below see the recent rows only
    select * from prices where date >= (select min(input_from) from base_dates)
),
{% else %}
recomputed_pairs as (
    select pairs.*, cast(null as date) as from_date, cast(null as date) as input_from from pairs
),

input_prices as (
    select * from prices
),
{% endif %}

sessions as (
    select
        pairs.pair_id,
        pairs.leader_ticker,
        pairs.laggard_ticker,
        pairs.from_date,
        leader.date,
        leader.close as leader_close,
        leader.adj_close as leader_adj_close,
        laggard.close as laggard_close,
        laggard.adj_close as laggard_adj_close,
        greatest(leader.ingested_at, laggard.ingested_at) as ingested_at
    from recomputed_pairs as pairs
    inner join input_prices as leader on leader.ticker = pairs.leader_ticker
    -- the laggards' prices only (a few tickers, such as the index): the join is built on them, not on every price
    inner join (select * from input_prices where ticker in (select laggard_ticker from recomputed_pairs)) as laggard
        on laggard.ticker = pairs.laggard_ticker and laggard.date = leader.date
    where pairs.input_from is null or leader.date >= pairs.input_from
),

with_returns as (
    select
        pair_id,
        leader_ticker,
        laggard_ticker,
        date,
        from_date,
        {%- for leg in ['leader', 'laggard'] %}
        -- on adjusted closes when both ends have one, else on closes (never mixed: int_prices_return_basis)
        case
            when {{ leg }}_adj_close is not null and lag({{ leg }}_adj_close) over by_session is not null
                then {{ leg }}_adj_close / lag({{ leg }}_adj_close) over by_session
            else {{ leg }}_close / lag({{ leg }}_close) over by_session
        end - 1 as {{ leg }}_return_1d,
        {%- endfor %}
        ingested_at
    from sessions
    window by_session as (partition by pair_id order by date)
)

select
    pair_id, leader_ticker, laggard_ticker, date, leader_return_1d, laggard_return_1d, ingested_at
    {{- partition_year_column() }}
from with_returns
where from_date is null or date >= from_date
