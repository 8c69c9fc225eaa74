-- Consecutive sessions on which a pair's leader beat its laggard, and since when such a streak was last seen.
-- Rebuilt in full each run: it is one row per pair and session, small next to fct_returns_daily.
with sessions as (
    select
        *,
        leader_return_1d - laggard_return_1d as spread_1d,
        leader_return_1d > laggard_return_1d as leader_outperformed
    from {{ ref('int_pair_sessions') }}
),

streaks as {{ run_length_streaks('sessions', 'pair_id', 'date', 'leader_outperformed') }}

select
    pair_id,
    date,
    leader_ticker,
    laggard_ticker,
    leader_return_1d,
    laggard_return_1d,
    spread_1d,
    coalesce(leader_outperformed, false) as leader_outperformed,
    streak_sessions,
    streak_start_date,
    longest_since_date,
    longest_since_sessions
from streaks
