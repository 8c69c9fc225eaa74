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

members as (
    select events.ticker, events.announced_date, events.fiscal_quarter, membership.index_name, membership.sector
    from events
    inner join {{ ref('int_index_membership') }} as membership
        on membership.ticker = events.ticker
        and (membership.membership_date <= events.announced_date or membership.is_first_membership)
        and (membership.next_membership_date is null or events.announced_date < membership.next_membership_date)
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
