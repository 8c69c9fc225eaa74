-- Each index membership snapshot (vintage) with the period it stands for: a date d uses the index's
-- latest membership on or before d, i.e. the row with membership_date <= d < next_membership_date
-- (next_membership_date is null for the latest vintage). is_first_membership marks the index's
-- first vintage, for readers that let it stand for the dates before it too.
with vintages as (
    select distinct index_name, as_of_date from {{ ref('stg_index_membership') }}
),

periods as (
    select
        index_name,
        as_of_date as membership_date,
        lead(as_of_date) over (partition by index_name order by as_of_date) as next_membership_date,
        row_number() over (partition by index_name order by as_of_date) = 1 as is_first_membership
    from vintages
)

select
    membership.index_name,
    membership.ticker,
    periods.membership_date,
    periods.next_membership_date,
    periods.is_first_membership,
    membership.weight,
    membership.sector
from {{ ref('stg_index_membership') }} as membership
inner join periods
    on periods.index_name = membership.index_name
    and periods.membership_date = membership.as_of_date
