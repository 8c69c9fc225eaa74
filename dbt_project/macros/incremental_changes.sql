{#
  Bookkeeping shared by the incremental models (fct_returns_daily by ticker; int_pair_sessions and
  fct_relative_streaks by pair). It costs as much as what changed, not as much as the tables: every
  upsert of raw.prices_daily records in raw.load_log (stg_load_log), per ticker, the dates it inserted
  or changed and the dates it deleted, with the ingested_at it stamped. The loads recorded after the
  model's high-water mark are what changed since its last build.
  A model recomputes each changed partition from its earliest changed date. Before that, its pre-hook
  deletes the partition's rows from the earliest deleted date on, so rows whose price went do not stay.

  On Spark the tables are plain Parquet, which has no row-level delete: a table is partitioned by the year
  of its rows (partition_year, a column only the Spark table has) and a run rewrites whole years. Every
  key is recomputed from the first of January of the earliest changed year, and a post-hook drops the
  years left without any row (drop_years_without_rows), so a year whose rows all went does not stay either.
  The change detection (watermark, load log) is the same on both engines.
#}

{#
  The incremental settings of a table kept per ticker or pair: on DuckDB delete+insert by `unique_key`;
  on Spark insert_overwrite of its partition_year partitions. The model's contract is enforced on
  DuckDB; on Spark the table holds partition_year beyond the contract's columns (readers select theirs).
#}
{% macro incremental_by_key(unique_key) %}
    {% if target.type == 'spark' %}
        {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': ['partition_year'],
                   'file_format': 'parquet', 'contract': {'enforced': false}}) }}
    {% endif %}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': unique_key}) }}
{% endmacro %}

{# The last column of such a table on Spark: the year it is partitioned by. Nothing on DuckDB. #}
{% macro partition_year_column(date_column='date') %}
    {%- if target.type == 'spark' -%}, year({{ date_column }}) as partition_year{%- endif -%}
{% endmacro %}

{#
  Per key, the date from which its rows are recomputed, given `changes` (key, from_date). DuckDB: the
  changes as they are. Spark: every key of `keys` from the first of January of the earliest changed year,
  so that each rewritten year holds all of its rows; nothing when nothing changed.
#}
{% macro recompute_from_dates(changes, keys, key) %}
    {{ return(adapter.dispatch('recompute_from_dates')(changes, keys, key)) }}
{% endmacro %}

{% macro default__recompute_from_dates(changes, keys, key) %}
    {{ changes }}
{% endmacro %}

{% macro spark__recompute_from_dates(changes, keys, key) %}
    select all_keys.{{ key }}, make_date(year(earliest.from_date), 1, 1) as from_date
    from ({{ keys }}) as all_keys
    cross join (select min(from_date) as from_date from ({{ changes }}) as changes) as earliest
    where earliest.from_date is not null
{% endmacro %}

{#
  Spark post-hook: drop the table's years that `kept_years` (a query of the years that still have rows,
  one column) no longer lists, such as a year whose prices all went. insert_overwrite rewrites the years
  the run computed; a year without any row is not among them and would otherwise keep its old rows.
  Nothing on DuckDB.
#}
{% macro drop_years_without_rows(kept_years) %}
    {{ return(adapter.dispatch('drop_years_without_rows')(kept_years)) }}
{% endmacro %}

{% macro default__drop_years_without_rows(kept_years) %}
{% endmacro %}

{% macro spark__drop_years_without_rows(kept_years) %}
    {% if execute %}
        {% set kept = run_query(kept_years).columns[0].values() | map('int') | list %}
        {% set dropped = [] %}
        {% for partition in run_query('show partitions ' ~ this).columns[0].values() %}
            {% set year = partition.split('=')[1] | int %}
            {% if year not in kept %}
                {% do dropped.append('partition (partition_year = ' ~ year ~ ')') %}
            {% endif %}
        {% endfor %}
        {% if dropped %}
            {% do run_query('alter table ' ~ this ~ ' drop if exists ' ~ dropped | join(', ')) %}
        {% endif %}
    {% endif %}
{% endmacro %}

{# The years of the prices: those the tables kept per ticker have rows in. #}
{% macro years_with_prices() %}
    {{ return('select distinct year(date) from ' ~ ref('int_prices_return_basis')) }}
{% endmacro %}

{# The years in which the table holds a row of a pair of the seed (with the seed's legs). #}
{% macro years_with_seed_pairs() %}
    {{ return('select distinct year(kept.date) from ' ~ this ~ ' as kept inner join ' ~ ref('universe_pairs')
        ~ ' as pairs on pairs.pair_id = kept.pair_id and pairs.leader_ticker = kept.leader_ticker'
        ~ ' and pairs.laggard_ticker = kept.laggard_ticker') }}
{% endmacro %}

{# The model's high-water mark: the latest ingested_at it holds. #}
{% macro incremental_watermark() %}
    (select coalesce(max(ingested_at), cast('1900-01-01' as timestamp)) from {{ this }})
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

{#
  Pairs to recompute from their first session (from_date 1900-01-01): a pair of the seed the table does not
  hold yet, or whose legs changed (the DuckDB pre-hook delete_pairs_not_in_seed dropped its rows). On Spark,
  which keeps those rows until their years are rewritten, also any pair held with legs the seed no longer
  has: all years are rewritten then.
#}
{% macro pairs_to_rebuild() %}
    select pair_id, cast('1900-01-01' as date) as from_date from {{ ref('universe_pairs') }}
    where pair_id not in (select distinct pair_id from {{ this }})
    {% if target.type == 'spark' %}
    union all
    select kept.pair_id, cast('1900-01-01' as date)
    from (select distinct pair_id, leader_ticker, laggard_ticker from {{ this }}) as kept
    left join {{ ref('universe_pairs') }} as pairs
        on pairs.pair_id = kept.pair_id
        and pairs.leader_ticker = kept.leader_ticker
        and pairs.laggard_ticker = kept.laggard_ticker
    where pairs.pair_id is null
    {% endif %}
{% endmacro %}

{#
  Pre-hook: delete each partition's rows from its earliest deleted date on (the model recomputes them).
  Spark's Parquet tables have no row-level delete: there the rewritten years replace those rows.
#}
{% macro delete_from_deleted_dates(partition_column, deleted) %}
    {{ return(adapter.dispatch('delete_from_deleted_dates')(partition_column, deleted)) }}
{% endmacro %}

{% macro default__delete_from_deleted_dates(partition_column, deleted) %}
    {% if is_incremental() %}
    delete from {{ this }} as target
    using ({{ deleted }}) as deleted
    where target.{{ partition_column }} = deleted.{{ partition_column }} and target.date >= deleted.from_date
    {% endif %}
{% endmacro %}

{% macro spark__delete_from_deleted_dates(partition_column, deleted) %}
{% endmacro %}

{#
  Pre-hook of the pair models: delete the rows of pairs that left the seed or whose legs changed in it.
  On Spark, pairs_to_rebuild has every year rewritten instead.
#}
{% macro delete_pairs_not_in_seed() %}
    {{ return(adapter.dispatch('delete_pairs_not_in_seed')()) }}
{% endmacro %}

{% macro default__delete_pairs_not_in_seed() %}
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

{% macro spark__delete_pairs_not_in_seed() %}
{% endmacro %}
