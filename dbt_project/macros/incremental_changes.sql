{#
  Bookkeeping shared by the incremental models (fct_returns_daily by ticker; int_pair_sessions and
  fct_relative_streaks by pair). It costs as much as what changed, not as much as the tables: every
  upsert of raw.prices_daily records in raw.load_log (stg_load_log), per ticker, the dates it inserted
  or changed and the dates it deleted, with the ingested_at it stamped. The loads recorded after the
  model's high-water mark are what changed since its last build.
  A model recomputes each changed partition from its earliest changed date. Before that, its pre-hook
  deletes the partition's rows from the earliest deleted date on, so rows whose price went do not stay.
#}

{# The model's high-water mark: the latest ingested_at it holds. #}
{% macro incremental_watermark() %}
    (select coalesce(max(ingested_at), '1900-01-01'::timestamp) from {{ this }})
{% endmacro %}

{# Per ticker, what the loads of prices after the watermark changed: changed_from, deleted_from (either may be null). #}
{% macro price_changes_since_watermark() %}
    select partition_value as ticker, changed_from, deleted_from
    from {{ ref('stg_load_log') }}
    where table_name = 'raw.prices_daily' and ingested_at > {{ incremental_watermark() }}
{% endmacro %}

{# Per ticker, the earliest date whose price was deleted after the watermark. #}
{% macro deleted_tickers() %}
    select ticker, min(deleted_from) as from_date
    from ({{ price_changes_since_watermark() }})
    where deleted_from is not null
    group by ticker
{% endmacro %}

{# Per ticker, the earliest date whose price arrived, changed or was deleted after the watermark. #}
{% macro changed_tickers() %}
    select ticker, min(least(changed_from, deleted_from)) as from_date
    from ({{ price_changes_since_watermark() }})
    group by ticker
{% endmacro %}

{# Per pair of the universe_pairs seed, the earliest changed date of either leg. #}
{% macro pairs_of(tickers) %}
    select pairs.pair_id, min(changed.from_date) as from_date
    from {{ ref('universe_pairs') }} as pairs
    inner join ({{ tickers }}) as changed
        on changed.ticker in (pairs.leader_ticker, pairs.laggard_ticker)
    group by pairs.pair_id
{% endmacro %}

{# Pre-hook: delete each partition's rows from its earliest deleted date on (the model recomputes them). #}
{% macro delete_from_deleted_dates(partition_column, deleted) %}
    {% if is_incremental() %}
    delete from {{ this }} as target
    using ({{ deleted }}) as deleted
    where target.{{ partition_column }} = deleted.{{ partition_column }} and target.date >= deleted.from_date
    {% endif %}
{% endmacro %}

{# Pre-hook of the pair models: delete the rows of pairs that left the seed or whose legs changed in it. #}
{% macro delete_pairs_not_in_seed() %}
    {% if is_incremental() %}
    delete from {{ this }} as target
    where not exists (
        select 1 from {{ ref('universe_pairs') }} as pairs
        where pairs.pair_id = target.pair_id
          and pairs.leader_ticker = target.leader_ticker
          and pairs.laggard_ticker = target.laggard_ticker
    )
    {% endif %}
{% endmacro %}
