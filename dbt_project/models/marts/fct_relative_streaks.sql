-- depends_on: {{ ref('stg_load_log') }}
{{
    config(
        materialized='incremental',
        unique_key=['pair_id', 'date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_pairs_not_in_seed() }}",
            "{{ delete_from_deleted_dates('pair_id', pairs_of(deleted_tickers())) }}",
        ]
    )
}}
{#
  Consecutive sessions on which a pair's leader beat its laggard, and since when such a streak was last seen.
  Incremental: per pair, the earliest session that arrived or changed since the last build, or whose price
  was deleted (see macros/incremental_changes.sql), or the pair's first session for a new pair or changed
  legs, is found; the rows from the start of the run in progress just before it are recomputed. Earlier rows cannot change: their runs ended before that start.
  run_length and run_end_date are stored so that longest_since_* of a recomputed row can still find its
  earlier run among the kept rows: the latest kept row with the same streak_sessions is that run's k-th row.
#}
with pair_sessions as (
    select
        *,
        leader_return_1d - laggard_return_1d as spread_1d,
        leader_return_1d > laggard_return_1d as leader_outperformed
    from {{ ref('int_pair_sessions') }}
),

{% if is_incremental() %}
changed as (
    select pair_id, date from pair_sessions
    where ingested_at > {{ incremental_watermark() }}
    union all
    {{ pairs_of(deleted_tickers()) }}
    union all
    -- a pair new to the mart (or whose legs changed: the pre-hook dropped its rows): from its first session
    select pair_id, '1900-01-01'::date from {{ ref('universe_pairs') }}
    where pair_id not in (select distinct pair_id from {{ this }})
),

earliest_change as (
    select pair_id, min(date) as changed_from from changed group by pair_id
),

recompute_from as (
    -- the start of the run the session before the change belongs to, if the leader was on a streak then
    select
        earliest_change.pair_id,
        coalesce(
            arg_max(case when t.streak_sessions > 0 then t.streak_start_date end, t.date),
            earliest_change.changed_from
        ) as from_date
    from earliest_change
    left join {{ this }} as t
        on t.pair_id = earliest_change.pair_id and t.date < earliest_change.changed_from
    group by earliest_change.pair_id, earliest_change.changed_from
),

input as (
    select pair_sessions.*
    from pair_sessions
    inner join recompute_from using (pair_id)
    where pair_sessions.date >= recompute_from.from_date
      -- the same bound for all pairs first: a cheap filter before the join
      and pair_sessions.date >= (select min(from_date) from recompute_from)
),

streaks as {{ run_length_streaks('input', 'pair_id', 'date', 'leader_outperformed') }},

looked_up as (
    -- the streak lengths whose earlier run is not among the recomputed rows
    select distinct pair_id, streak_sessions from streaks
    where streak_sessions > 0 and longest_since_date is null
),

earlier_runs as (
    -- per pair and streak length k, the latest kept row with streak_sessions = k: the k-th row of the
    -- most recent earlier run at least k long
    select
        t.pair_id,
        t.streak_sessions,
        arg_max(t.run_end_date, t.date) as run_end_date,
        arg_max(t.run_length, t.date) as run_length
    from {{ this }} as t
    inner join looked_up using (pair_id, streak_sessions)
    inner join recompute_from using (pair_id)
    where t.date < recompute_from.from_date
    group by t.pair_id, t.streak_sessions
)
{% else %}
input as (
    select * from pair_sessions
),

streaks as {{ run_length_streaks('input', 'pair_id', 'date', 'leader_outperformed') }},

earlier_runs as (
    select null::string as pair_id, null::integer as streak_sessions, null::date as run_end_date, null::integer as run_length
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
from streaks
left join earlier_runs
    on earlier_runs.pair_id = streaks.pair_id and earlier_runs.streak_sessions = streaks.streak_sessions
