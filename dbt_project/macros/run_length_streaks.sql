{#
  Run-length streaks over an ordered series.
  Input: a relation with the partition column, an order column and a boolean `condition_column`
  (null counts as false). Output: the input plus
    streak_sessions         consecutive rows up to and including this one where the condition held; 0 otherwise
    streak_start_date       first row of that run (null when streak_sessions = 0)
    run_length              full length of the run this row belongs to (null when streak_sessions = 0)
    run_end_date            last row of that run
    longest_since_date      last row of the most recent EARLIER run whose full length >= streak_sessions
    longest_since_sessions  that run's full length
  Two orderings of the rows, no more: by partition and order column (which numbers the rows and the runs;
  each run's figures are then one aggregate, joined back), and by partition and streak length. The k-th
  row of every run of length >= k shares the partition (key, k), so the earlier run asked for is simply
  the previous row of that partition: no self-join over runs.
#}
{% macro run_length_streaks(relation, partition_by, order_by, condition_column) %}
(
    with flagged as (
        select
            *,
            coalesce({{ condition_column }}, false) as _holds,
            -- rows where the condition failed so far: one run id per run, shared with the failing row before it
            sum(case when coalesce({{ condition_column }}, false) then 0 else 1 end) over by_order as _run_id,
            row_number() over by_order as _row_number
        from {{ relation }}
        window by_order as (partition by {{ partition_by }} order by {{ order_by }} rows unbounded preceding)
    ),
    run_figures as (
        select
            {{ partition_by }},
            _run_id,
            min({{ order_by }}) as streak_start_date,
            max({{ order_by }}) as run_end_date,
            cast(count(*) as integer) as run_length,
            min(_row_number) as _first_row_number
        from flagged
        where _holds
        group by {{ partition_by }}, _run_id
    ),
    runs as (
        select
            flagged.*,
            case when flagged._holds then cast(flagged._row_number - run_figures._first_row_number + 1 as integer)
                else 0 end as streak_sessions,
            case when flagged._holds then run_figures.streak_start_date end as streak_start_date,
            case when flagged._holds then run_figures.run_length end as run_length,
            case when flagged._holds then run_figures.run_end_date end as run_end_date
        from flagged
        left join run_figures
            on run_figures.{{ partition_by }} = flagged.{{ partition_by }} and run_figures._run_id = flagged._run_id
    )
    select
        * except (_holds, _run_id, _row_number),
        case when streak_sessions > 0 then
            lag(run_end_date) over (partition by {{ partition_by }}, streak_sessions order by {{ order_by }})
        end as longest_since_date,
        case when streak_sessions > 0 then
            lag(run_length) over (partition by {{ partition_by }}, streak_sessions order by {{ order_by }})
        end as longest_since_sessions
    from runs
)
{% endmacro %}

{#
  The changes a build of fct_relative_streaks recomputes from, per pair (pair_id, from_date): the earliest
  session that arrived or changed since its last build, or whose price was deleted (see
  macros/incremental_changes.sql), or the pair's first session for a pair to rebuild.
#}
{% macro streak_changes() %}
    select pair_id, min(date) as from_date
    from (
        select pair_id, date from {{ ref('int_pair_sessions') }}
        where ingested_at > {{ incremental_watermark() }}
        union all
        {{ pairs_of(deleted_tickers()) }}
        union all
        {{ pairs_to_rebuild() }}
    ) as changed
    group by pair_id
{% endmacro %}

{#
  Per pair of `changes` (pair_id, from_date): the start of the streak in progress on the stored session just
  before from_date, or from_date itself when there is none. Rows from that start on are recomputed: a later
  session can lengthen or end that run, which changes run_length and run_end_date of its earlier rows.
#}
{% macro streak_run_starts(changes) %}
    select
        changes.pair_id,
        coalesce(
            {{ value_at_max('case when t.streak_sessions > 0 then t.streak_start_date end', 't.date') }},
            changes.from_date
        ) as from_date
    from {{ changes }} as changes
    left join {{ this }} as t
        on t.pair_id = changes.pair_id and t.date < changes.from_date
    group by changes.pair_id, changes.from_date
{% endmacro %}

{#
  Where each pair's computation starts, given the rows it recomputes from (recompute_from): on DuckDB those
  rows' own start, which streak_run_starts already put at the start of a run. On Spark, where every pair is
  recomputed from the first of January of a year, the start of the run in progress on that date.
#}
{% macro streak_input_from(recompute_from) %}
    {{ return(adapter.dispatch('streak_input_from')(recompute_from)) }}
{% endmacro %}

{% macro default__streak_input_from(recompute_from) %}
    select pair_id, from_date from {{ recompute_from }}
{% endmacro %}

{% macro spark__streak_input_from(recompute_from) %}
    {{ streak_run_starts(recompute_from) }}
{% endmacro %}
