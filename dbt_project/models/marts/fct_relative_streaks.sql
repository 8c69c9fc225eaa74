-- depends_on: {{ ref('stg_load_log') }}
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_pairs_not_in_seed() }}",
            "{{ delete_from_deleted_dates('pair_id', pairs_of(deleted_tickers())) }}",
            "{{ forget_streak_records() }}",
        ],
        post_hook=[
            "{{ drop_years_without_rows(years_with_seed_pairs()) }}",
            "{{ write_streak_records() }}",
        ],
        **incremental_by_key(['pair_id', 'date'])
    )
}}
{#
  Consecutive sessions on which a pair's leader beat its laggard, and since when such a streak was last seen.
  Incremental: per pair, the earliest session that arrived or changed since the last build, or whose price
  was deleted (see macros/incremental_changes.sql), or the pair's first session for a new pair or changed
  legs, is found; the rows from the start of the run in progress just before it are recomputed. Earlier rows cannot change: their runs ended before that start.
  A pair whose change comes after its last kept session (a refresh appending sessions) takes the run in
  progress and its earlier runs from the record the model keeps of each pair's runs (macros/streak_record.sql),
  and reads none of its kept rows. Any other pair reads them: run_length and run_end_date are stored so that
  longest_since_* of a recomputed row can still find its earlier run among the kept rows (the latest kept row
  with the same streak_sessions is that run's k-th row).
#}
with pair_sessions as (
    select
        *,
        leader_return_1d - laggard_return_1d as spread_1d,
        leader_return_1d > laggard_return_1d as leader_outperformed
    from {{ ref('int_pair_sessions') }}
),

{% if is_incremental() %}
changes as (
    {{ streak_changes() }}
),

{% set record = usable_streak_record() %}
{% if record %}
appended as (
    -- pairs whose change comes after their last kept session: the record has the run in progress
    select changes.pair_id, coalesce(kept.open_run_start, changes.from_date) as from_date
    from changes
    inner join (select distinct pair_id, last_date, open_run_start from {{ record }}) as kept using (pair_id)
    where changes.from_date > kept.last_date
),

changes_in_history as (
    select * from changes where pair_id not in (select pair_id from appended)
),

run_starts as (
    select * from appended
    union all
    {{ streak_run_starts('changes_in_history') }}
),
{% else %}
run_starts as (
    {{ streak_run_starts('changes') }}
),
{% endif %}

recompute_from as (
    -- per pair, the start of the run in progress just before its change (Spark: all pairs, from the first
    -- of January of the earliest such start: see recompute_from_dates)
    {{ recompute_from_dates('select * from run_starts', 'select pair_id from ' ~ ref('universe_pairs'), 'pair_id') }}
),

input_from as (
    -- where each pair's computation starts: the start of the run in progress just before its recomputed
    -- rows, so that their streaks count from it
    {{ streak_input_from('recompute_from') }}
),

input as (
    select pair_sessions.*, recompute_from.from_date as output_from
    from pair_sessions
    inner join input_from using (pair_id)
    inner join recompute_from using (pair_id)
    where pair_sessions.date >= input_from.from_date
      -- the same bound for all pairs first: a cheap filter before the join
      and pair_sessions.date >= (select min(from_date) from input_from)
),

streaks as {{ run_length_streaks('input', 'pair_id', 'date', 'leader_outperformed') }},

looked_up as (
    -- the streak lengths whose earlier run is not among the recomputed rows
    select distinct pair_id, streak_sessions from streaks
    where streak_sessions > 0 and longest_since_date is null
),

{% if record %}
looked_up_in_history as (
    select * from looked_up where pair_id not in (select pair_id from appended)
),
{% endif %}

earlier_runs as (
    {% if record %}
    -- appended pairs: the most recent run of the staircase at least k long
    select
        looked_up.pair_id,
        looked_up.streak_sessions,
        max(kept.run_end_date) as run_end_date,
        {{ value_at_max('kept.run_length', 'kept.run_end_date') }} as run_length
    from looked_up
    inner join {{ record }} as kept
        on kept.pair_id = looked_up.pair_id and kept.run_length >= looked_up.streak_sessions
    where looked_up.pair_id in (select pair_id from appended)
    group by looked_up.pair_id, looked_up.streak_sessions
    union all
    {% endif %}
    -- per pair and streak length k, the latest kept row with streak_sessions = k: the k-th row of the
    -- most recent earlier run at least k long
    select
        t.pair_id,
        t.streak_sessions,
        {{ value_at_max('t.run_end_date', 't.date') }} as run_end_date,
        {{ value_at_max('t.run_length', 't.date') }} as run_length
    {%- set wanted = 'looked_up_in_history' if record else 'looked_up' %}
    -- a cheap bound for all rows first: with no pair to look up (every pair appended), no row passes it and
    -- the joins below get nothing to build on
    from (
        select * from {{ this }}
        where date < (select max(from_date) from input_from where pair_id in (select pair_id from {{ wanted }}))
    ) as t
    inner join {{ wanted }} using (pair_id, streak_sessions)
    inner join input_from using (pair_id)
    where t.date < input_from.from_date
    group by t.pair_id, t.streak_sessions
)
{% else %}
input as (
    select *, cast(null as date) as output_from from pair_sessions
),

streaks as {{ run_length_streaks('input', 'pair_id', 'date', 'leader_outperformed') }},

earlier_runs as (
    select
        cast(null as string) as pair_id,
        cast(null as integer) as streak_sessions,
        cast(null as date) as run_end_date,
        cast(null as integer) as run_length
    where false
)
{% endif %}

select
    streaks.pair_id,
    streaks.date,
    streaks.leader_ticker,
    streaks.laggard_ticker,
    streaks.leader_return_1d,
    streaks.laggard_return_1d,
    streaks.spread_1d,
    coalesce(streaks.leader_outperformed, false) as leader_outperformed,
    streaks.streak_sessions,
    streaks.streak_start_date,
    case when streaks.streak_sessions > 0 then
        coalesce(streaks.longest_since_date, earlier_runs.run_end_date)
    end as longest_since_date,
    case when streaks.streak_sessions > 0 then
        coalesce(streaks.longest_since_sessions, earlier_runs.run_length)
    end as longest_since_sessions,
    streaks.run_length,
    streaks.run_end_date,
    streaks.ingested_at
    {{- partition_year_column('streaks.date') }}
from streaks
left join earlier_runs
    on earlier_runs.pair_id = streaks.pair_id and earlier_runs.streak_sessions = streaks.streak_sessions
where streaks.output_from is null or streaks.date >= streaks.output_from
