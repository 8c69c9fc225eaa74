{#
  The record fct_relative_streaks keeps of each pair's runs, so that a refresh which appends sessions reads
  none of the table's kept rows (intermediate.streak_earlier_runs, DuckDB only):
    pair_id, last_date   the pair's last session in the table
    open_run_start       the first session of the run that last session belongs to (null when it did not
                         outperform): a new session extends that run
    run_end_date,        the pair's "staircase": every completed run (all but the open one) longer than each
    run_length           later completed run, one row each; null on the pair's only row when it has none
  The most recent earlier run at least k sessions long, which longest_since_* looks up, is always on the
  staircase (every run after it is shorter than k), and the staircase has a few dozen rows per pair.
  The model's post-hook rewrites the record of the pairs it recomputed, in the model's own transaction, so the
  record always describes the table. A pair missing from it is computed from the kept rows as before.
#}

{% macro streak_record() %}
    {{ return(api.Relation.create(database=this.database, schema=ref('int_pair_sessions').schema,
                                  identifier='streak_earlier_runs', type='table')) }}
{% endmacro %}

{#
  The record, when the model can use it in this run: an incremental build, the record written. Only the
  DuckDB hooks write it, so on Spark (and before the first build that writes it) every pair is computed
  from the kept rows.
#}
{% macro usable_streak_record() %}
    {% if not execute or not is_incremental() %}
        {{ return(none) }}
    {% endif %}
    {% set record = streak_record() %}
    {{ return(adapter.get_relation(database=record.database, schema=record.schema, identifier=record.identifier)) }}
{% endmacro %}

{# The record's table, created empty when missing. #}
{% macro create_streak_record() %}
    create table if not exists {{ streak_record() }} (
        pair_id string, last_date date, open_run_start date, run_end_date date, run_length integer
    )
{% endmacro %}

{#
  Pre-hook: forget the record of the pairs with a leg's price deleted since the last build: their rows are
  deleted from that date on, which may reopen a run the record holds as completed. They are computed from
  the kept rows, and the post-hook writes their record anew.
#}
{% macro forget_streak_records() %}
    {{ return(adapter.dispatch('forget_streak_records')()) }}
{% endmacro %}

{% macro default__forget_streak_records() %}
    {% if is_incremental() %}
    {{ create_streak_record() }};
    delete from {{ streak_record() }} where pair_id in (select pair_id from ({{ pairs_of(deleted_tickers()) }}))
    {% endif %}
{% endmacro %}

{% macro spark__forget_streak_records() %}
{% endmacro %}

{#
  Post-hook: write the record of the pairs this run computed. After an incremental run those are the pairs of
  the rows it recomputed (dbt's temporary relation of the run), and a pair's last session is among them.
  A pair whose recomputed rows start after every completed run of its record (a refresh that appended
  sessions) gets its staircase from the record and those rows; any other pair from all of its kept rows.
  After a first or full build, every pair from the table.
#}
{% macro write_streak_records() %}
    {{ return(adapter.dispatch('write_streak_records')()) }}
{% endmacro %}

{% macro default__write_streak_records() %}
    {# dbt-duckdb names the temporary table of an incremental run <model>__dbt_tmp<timestamp>. #}
    {% set temporary_tables = run_query(
        "select table_name from duckdb_tables() where temporary and starts_with(table_name, '"
        ~ this.identifier ~ "__dbt_tmp') order by table_name desc limit 1"
    ).columns[0].values() if execute else [] %}
    {% set incremental = temporary_tables | length > 0 %}
    {% set recomputed = adapter.quote(temporary_tables[0]) if incremental else none %}
    {% set record = streak_record() %}
    {{ create_streak_record() }};
    create or replace temp table streak_records_written as
    with
    {% if incremental %}
    written as (
        select pair_id, min(date) as first_date from {{ recomputed }} group by pair_id
    ),
    extendable as (
        select written.pair_id
        from written
        inner join (select pair_id, max(run_end_date) as last_run_end from {{ record }} group by pair_id) as kept
            using (pair_id)
        where kept.last_run_end is null or written.first_date > kept.last_run_end
    ),
    runs as (
        select pair_id, run_end_date, run_length from {{ record }}
        where pair_id in (select pair_id from extendable) and run_end_date is not null
        union all
        select pair_id, date, run_length from {{ recomputed }}
        where pair_id in (select pair_id from extendable) and streak_sessions > 0 and date = run_end_date
        union all
        select pair_id, date, run_length from {{ this }}
        where pair_id in (select pair_id from written where pair_id not in (select pair_id from extendable))
          and streak_sessions > 0 and date = run_end_date
    ),
    {% set last_rows = recomputed %}
    {% else %}
    runs as (
        select pair_id, date as run_end_date, run_length from {{ this }} where streak_sessions > 0 and date = run_end_date
    ),
    {% set last_rows = this %}
    {% endif %}
    last_sessions as (
        select
            pair_id,
            max(date) as last_date,
            {{ value_at_max('case when streak_sessions > 0 then streak_start_date end', 'date') }} as open_run_start
        from {{ last_rows }}
        group by pair_id
    ),
    completed as (
        select runs.pair_id, runs.run_end_date, runs.run_length,
            max(runs.run_length) over (
                partition by runs.pair_id order by runs.run_end_date desc rows between unbounded preceding and 1 preceding
            ) as longest_later
        from runs
        inner join last_sessions using (pair_id)
        where runs.run_end_date < last_sessions.last_date
    )
    select last_sessions.pair_id, last_sessions.last_date, last_sessions.open_run_start,
        staircase.run_end_date, staircase.run_length
    from last_sessions
    left join (select * from completed where longest_later is null or run_length > longest_later) as staircase
        using (pair_id);
    delete from {{ record }}
    {%- if incremental %}
    where pair_id in (select pair_id from streak_records_written)
       or pair_id not in (select pair_id from {{ ref('universe_pairs') }})
    {%- endif %};
    insert into {{ record }} by name select * from streak_records_written;
    drop table streak_records_written
{% endmacro %}

{% macro spark__write_streak_records() %}
{% endmacro %}
