-- Forward P/E of each universe per snapshot date.
-- Aggregate forward P/E = sum of market caps / sum of forward earnings (forward_eps x shares) over
-- the members with a positive forward EPS; coverage_pct = their share of the members' market cap.
-- Membership on a date is the index's latest membership snapshot on or before it.
-- Dates with no snapshot but an imported index P/E (raw.index_valuation_history) carry the
-- imported figure (basis 'imported'), so long-run averages reach back as far as that history.
-- Each date is compared with a reference year's high: var forward_pe_reference_year names it; without
-- it, the reference is the previous peak year of the universe's series as known on the date (see peak_years).
{% set cohort = var('summary_cohort') %}
{% set reference_year = var('forward_pe_reference_year', none) %}
{% set peak_fall = var('forward_pe_peak_fall', 0.2) %}
with snapshots as (
    select * from {{ ref('stg_valuation_snapshots') }} where market_cap is not null
),

snapshot_dates as (
    select distinct as_of_date from snapshots
),

index_members as (
    select membership.index_name as universe, snapshot_dates.as_of_date, membership.ticker
    from snapshot_dates
    inner join {{ ref('int_index_membership') }} as membership
        on membership.membership_date <= snapshot_dates.as_of_date
        and (membership.next_membership_date is null or snapshot_dates.as_of_date < membership.next_membership_date)
),

cohort as (
    select ticker from {{ ref('universe_cohort_members') }} where cohort = '{{ cohort }}'
),

-- The cohort's parent index (universe_cohorts.parent_index): its other members are the complement.
parent as (
    select parent_index from {{ ref('universe_cohorts') }} where cohort = '{{ cohort }}'
),

universe_members as (
    select * from index_members
    union all
    select '{{ cohort }}' as universe, snapshot_dates.as_of_date, cohort.ticker
    from snapshot_dates cross join cohort
    union all
    select index_members.universe || '_ex_{{ cohort }}' as universe, index_members.as_of_date, index_members.ticker
    from index_members
    inner join parent on parent.parent_index = index_members.universe
    where index_members.ticker not in (select ticker from cohort)
),

constituents as (
    select
        universe_members.universe,
        universe_members.as_of_date,
        snapshots.market_cap,
        snapshots.forward_eps * snapshots.shares_outstanding as forward_earnings,
        snapshots.forward_eps > 0 and snapshots.shares_outstanding > 0 as included
    from universe_members
    inner join snapshots using (ticker, as_of_date)
),

computed as (
    select
        universe,
        as_of_date,
        'constituents' as basis,
        count(*) as constituents,
        count(*) filter (where included) as constituents_included,
        sum(market_cap) filter (where included) / sum(market_cap) as coverage_pct,
        sum(market_cap) filter (where included) / sum(forward_earnings) filter (where included) as forward_pe,
        median(market_cap / forward_earnings) filter (where included) as median_forward_pe
    from constituents
    group by universe, as_of_date
),

imported as (
    select
        history.index_name as universe,
        history.as_of_date,
        'imported' as basis,
        null::bigint as constituents,
        null::bigint as constituents_included,
        null::double as coverage_pct,
        history.forward_pe,
        null::double as median_forward_pe
    from {{ ref('stg_index_valuation_history') }} as history
    anti join computed
        on computed.universe = history.index_name and computed.as_of_date = history.as_of_date
),

series as (
    select * from computed where forward_pe is not null
    union all
    select * from imported
),

relative as (
    select series.*, series.forward_pe / sp500.forward_pe as relative_pe_vs_sp500
    from series
    left join series as sp500 on sp500.universe = 'sp500' and sp500.as_of_date = series.as_of_date
),

-- The last observation of each month, for long-run averages that weigh every month alike.
month_ends as (
    select universe, as_of_date, relative_pe_vs_sp500
    from relative
    where relative_pe_vs_sp500 is not null
    qualify row_number() over (partition by universe, date_trunc('month', as_of_date) order by as_of_date desc) = 1
),

long_run as (
    select
        relative.universe,
        relative.as_of_date,
        avg(month_ends.relative_pe_vs_sp500) as relative_pe_long_run_avg,
        count(*) as long_run_months,
        min(month_ends.as_of_date) as long_run_start_date
    from relative
    inner join month_ends
        on month_ends.universe = relative.universe
        and month_ends.as_of_date <= relative.as_of_date
        and month_ends.as_of_date > relative.as_of_date - interval 20 year
    group by relative.universe, relative.as_of_date
),

peaks as (
    select
        relative.universe,
        relative.as_of_date,
        max(earlier.forward_pe) as prior_peak_forward_pe,
        {{ value_at_max('earlier.as_of_date', ['earlier.forward_pe', 'earlier.as_of_date']) }} as prior_peak_date
    from relative
    inner join relative as earlier
        on earlier.universe = relative.universe
        and earlier.as_of_date <= relative.as_of_date - interval 1 year
    group by relative.universe, relative.as_of_date
),

-- "Highest since": the most recent earlier date whose forward P/E was at least this date's (a tie counts).
highest_since as (
    select relative.universe, relative.as_of_date, max(earlier.as_of_date) as highest_since_date
    from relative
    inner join relative as earlier
        on earlier.universe = relative.universe
        and earlier.as_of_date < relative.as_of_date
        and earlier.forward_pe >= relative.forward_pe
    group by relative.universe, relative.as_of_date
),

-- Each calendar year's high (the later date on ties), as in fct_forward_pe_yearly.
years as (
    select
        universe,
        year(as_of_date) as year,
        max(forward_pe) as high_forward_pe,
        {{ value_at_max('as_of_date', ['forward_pe', 'as_of_date']) }} as high_date
    from relative
    group by universe, year(as_of_date)
),

-- The first figure above each year's high, after it (null while none).
years_surpassed as (
    select years.universe, years.year, years.high_forward_pe, years.high_date, min(higher.as_of_date) as surpassed_date
    from years
    left join relative as higher
        on higher.universe = years.universe
        and higher.as_of_date > years.high_date
        and higher.forward_pe > years.high_forward_pe
    group by years.universe, years.year, years.high_forward_pe, years.high_date
),

-- A peak year: a year whose high was followed, in the next calendar year and before any higher figure, by
-- a forward P/E at least forward_pe_peak_fall (default 20 %) below it: the high before a de-rating. A fall
-- within the high's own year does not count (it would make the first weeks of a de-rating year, e.g.
-- January 2022, a peak); a fall after a higher figure belongs to that higher peak. The year is known to be
-- a peak year from the first such figure (confirmed_date) on.
peak_years as (
    select years_surpassed.universe, years_surpassed.year, min(later.as_of_date) as confirmed_date
    from years_surpassed
    inner join relative as later
        on later.universe = years_surpassed.universe
        and year(later.as_of_date) = years_surpassed.year + 1
        and (years_surpassed.surpassed_date is null or later.as_of_date < years_surpassed.surpassed_date)
        and later.forward_pe <= years_surpassed.high_forward_pe * (1 - {{ peak_fall }})
    group by years_surpassed.universe, years_surpassed.year
),

-- The reference year of each date: the var's year once it is over, else the most recent earlier
-- calendar year confirmed as a peak year on or before the date.
reference as (
    {% if reference_year is none %}
    select relative.universe, relative.as_of_date, max(peak_years.year) as reference_year
    from relative
    inner join peak_years
        on peak_years.universe = relative.universe
        and peak_years.year < year(relative.as_of_date)
        and peak_years.confirmed_date <= relative.as_of_date
    group by relative.universe, relative.as_of_date
    {% else %}
    select universe, as_of_date, {{ reference_year }} as reference_year
    from relative
    where year(as_of_date) > {{ reference_year }}
    {% endif %}
),

reference_high as (
    select
        reference.universe,
        reference.as_of_date,
        reference.reference_year::integer as reference_year,
        years.high_forward_pe as reference_year_high,
        years.high_date as reference_year_high_date
    from reference
    inner join years on years.universe = reference.universe and years.year = reference.reference_year
)

select
    relative.universe,
    relative.as_of_date,
    relative.basis,
    relative.constituents,
    relative.constituents_included,
    relative.coverage_pct,
    relative.forward_pe,
    relative.median_forward_pe,
    relative.relative_pe_vs_sp500,
    long_run.relative_pe_long_run_avg,
    long_run.long_run_months,
    long_run.long_run_start_date,
    relative.relative_pe_vs_sp500 / long_run.relative_pe_long_run_avg - 1 as discount_vs_long_run_pct,
    peaks.prior_peak_forward_pe,
    peaks.prior_peak_date,
    highest_since.highest_since_date,
    reference_high.reference_year,
    reference_high.reference_year_high,
    reference_high.reference_year_high_date,
    relative.forward_pe / reference_high.reference_year_high as pct_of_reference_year_high
from relative
left join long_run using (universe, as_of_date)
left join peaks using (universe, as_of_date)
left join highest_since using (universe, as_of_date)
left join reference_high using (universe, as_of_date)
