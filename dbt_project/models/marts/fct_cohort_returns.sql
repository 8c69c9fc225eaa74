-- Equal-weight (and, once market caps exist, cap-weight) returns of each cohort.
-- Equal weights set at the previous year's last close and then held make the cohort's YTD the mean of
-- its members' YTD returns.
select
    members.cohort,
    returns.date,
    count(*) as members,
    count(returns.return_ytd) as members_with_ytd,
    avg(returns.return_1d) as return_1d_equal_weight,
    avg(returns.return_ytd) as return_ytd_equal_weight,
    null::double as return_ytd_cap_weight
from {{ ref('universe_cohort_members') }} as members
inner join {{ ref('fct_returns_daily') }} as returns on returns.ticker = members.ticker
group by members.cohort, returns.date
