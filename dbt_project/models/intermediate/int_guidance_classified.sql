-- Each guidance event classified by FactSet's rule, with the index and sector of the company.
-- The guided EPS is the range's midpoint, or the single value; compared with the mean estimate the
-- day before (to 1e-6, so a midpoint that equals the estimate is not split by floating point).
-- Index and sector come from the company's membership snapshot on or before the announcement
-- (or the first one after it when the membership history starts later).
-- Events of companies in no loaded index are kept with a null index_name (counted nowhere).
with events as (
    select
        *,
        case
            when eps_low is not null and eps_high is not null then (eps_low + eps_high) / 2
            else coalesce(eps_low, eps_high)
        end as guidance_eps
    from {{ ref('stg_guidance_events') }}
),

snapshot_dates as (
    select distinct index_name, as_of_date from {{ ref('stg_index_membership') }}
),

event_snapshot as (
    select
        events.ticker,
        events.announced_date,
        events.fiscal_quarter,
        snapshot_dates.index_name,
        coalesce(
            max(snapshot_dates.as_of_date) filter (where snapshot_dates.as_of_date <= events.announced_date),
            min(snapshot_dates.as_of_date)
        ) as membership_date
    from events
    cross join snapshot_dates
    group by all
),

members as (
    select event_snapshot.*, membership.sector
    from event_snapshot
    inner join {{ ref('stg_index_membership') }} as membership
        on membership.index_name = event_snapshot.index_name
        and membership.as_of_date = event_snapshot.membership_date
        and membership.ticker = event_snapshot.ticker
)

-- One row per event and index the company belongs to; index_name is null for a company in no loaded index.
select
    events.ticker,
    events.announced_date,
    events.fiscal_quarter,
    members.index_name,
    members.sector,
    events.eps_low,
    events.eps_high,
    events.guidance_eps,
    events.consensus_eps_before,
    case
        when round(events.guidance_eps - events.consensus_eps_before, 6) < 0 then 'negative'
        when round(events.guidance_eps - events.consensus_eps_before, 6) > 0 then 'positive'
        else 'in_line'
    end as direction,
    events.source
from events
left join members
    on members.ticker = events.ticker
    and members.announced_date = events.announced_date
    and members.fiscal_quarter = events.fiscal_quarter
