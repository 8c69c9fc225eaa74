-- The latest NYSE session whose close (16:00 New York) has passed: the session a fresh ticker's last
-- price is from. One row; evaluated when queried, so it follows the clock.
with now_in_new_york as (
    select {{ new_york_now() }} as local_time
)

select max(sessions.date) as session_date
from {{ ref('nyse_sessions') }} as sessions
cross join now_in_new_york
where sessions.date < cast(now_in_new_york.local_time as date)
    or (sessions.date = cast(now_in_new_york.local_time as date) and hour(now_in_new_york.local_time) >= 16)
