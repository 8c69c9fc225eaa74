-- One row per session with the headline figures. What is headlined comes from the vars
-- (summary_pair_id, summary_cohort, summary_guidance_index) and the universe seeds (labels, parent
-- index, headline indices by universe_tickers.headline_order); columns are named by role.
{% set pair_id = var('summary_pair_id') %}
{% set cohort = var('summary_cohort') %}
{% set guidance_index = var('summary_guidance_index') %}
{% set headline_positions = [1, 2, 3] %}
with sessions as (
    select
        date,
        {{ ordered_string_agg('distinct source', "','", 'source') }} as source,
        bool_and(source = 'demo') as is_demo,
        count(*)::integer as tickers_priced
    from {{ ref('fct_returns_daily') }}
    group by date
),

tickers as (
    select * from {{ ref('universe_tickers') }}
),

-- One row: the headlined choices with their tickers, labels and valuation universes.
chosen as (
    select
        '{{ pair_id }}' as pair_id,
        pairs.description as pair_label,
        pairs.leader_ticker,
        leader.name as leader_label,
        leader.index_name as leader_universe,
        pairs.laggard_ticker,
        laggard.name as laggard_label,
        laggard.index_name as laggard_universe,
        '{{ cohort }}' as cohort_id,
        cohorts.label as cohort_label,
        (select count(*) from {{ ref('universe_cohort_members') }} where cohort = '{{ cohort }}') as cohort_size,
        parent.ticker as cohort_parent_ticker,
        parent.name as cohort_parent_label,
        cohorts.parent_index || '_ex_{{ cohort }}' as cohort_complement_id,
        complement_labels.cohort_label as cohort_complement_label,
        '{{ guidance_index }}' as guidance_index_name,
        guidance_index.name as guidance_index_label
    from (select 1 as one) as single_row
    left join {{ ref('universe_pairs') }} as pairs on pairs.pair_id = '{{ pair_id }}'
    left join tickers as leader on leader.ticker = pairs.leader_ticker
    left join tickers as laggard on laggard.ticker = pairs.laggard_ticker
    left join {{ ref('universe_cohorts') }} as cohorts on cohorts.cohort = '{{ cohort }}'
    left join tickers as parent on parent.index_name = cohorts.parent_index
    left join tickers as guidance_index on guidance_index.index_name = '{{ guidance_index }}'
    left join (
        select distinct cohort, cohort_label from {{ ref('fct_cohort_returns') }}
    ) as complement_labels on complement_labels.cohort = cohorts.parent_index || '_ex_{{ cohort }}'
),

headline as (
    select
        {%- for position in headline_positions %}
        max(ticker) filter (where headline_order = {{ position }}) as headline_index_{{ position }}_ticker,
        max(name) filter (where headline_order = {{ position }}) as headline_index_{{ position }}_label
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from tickers
),

streak as (
    select * from {{ ref('fct_relative_streaks') }} where pair_id = '{{ pair_id }}'
),

indices as (
    select
        returns.date,
        {%- for position in headline_positions %}
        max(returns.return_ytd) filter (where tickers.headline_order = {{ position }}) as headline_index_{{ position }}_return_ytd,
        max(returns.return_5d) filter (where tickers.headline_order = {{ position }}) as headline_index_{{ position }}_return_5d
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('fct_returns_daily') }} as returns
    inner join tickers on tickers.ticker = returns.ticker
    where tickers.headline_order in ({{ headline_positions | join(', ') }})
    group by returns.date
),

cohort as (
    select * from {{ ref('fct_cohort_returns') }} where cohort = '{{ cohort }}'
),

complement as (
    select cohort_returns.*
    from {{ ref('fct_cohort_returns') }} as cohort_returns
    inner join chosen on chosen.cohort_complement_id = cohort_returns.cohort
),

sectors as (
    select * from {{ ref('fct_sector_dispersion') }} where method = 'etf'
),

-- Valuations: one row per snapshot date with the figures of the pair's indices and the cohort side by side.
-- fct_forward_pe measures relative P/E against the sp500 universe: the leader's relative figures
-- are the pair's only when the laggard stands for that universe, so they are null otherwise.
valuations as (
    select
        pe.as_of_date,
        max(pe.forward_pe) filter (where pe.universe = chosen.laggard_universe) as laggard_forward_pe,
        max(pe.coverage_pct) filter (where pe.universe = chosen.laggard_universe) as laggard_forward_pe_coverage_pct,
        max(pe.prior_peak_forward_pe) filter (where pe.universe = chosen.laggard_universe) as laggard_prior_peak_forward_pe,
        max(pe.prior_peak_date) filter (where pe.universe = chosen.laggard_universe) as laggard_prior_peak_date,
        max(pe.basis) filter (where pe.universe = chosen.laggard_universe) as laggard_forward_pe_basis,
        max(pe.highest_since_date) filter (where pe.universe = chosen.laggard_universe) as laggard_forward_pe_highest_since_date,
        max(pe.reference_year) filter (where pe.universe = chosen.laggard_universe) as laggard_forward_pe_reference_year,
        max(pe.reference_year_high) filter (where pe.universe = chosen.laggard_universe) as laggard_forward_pe_reference_year_high,
        max(pe.reference_year_high_date) filter (
            where pe.universe = chosen.laggard_universe
        ) as laggard_forward_pe_reference_year_high_date,
        max(pe.pct_of_reference_year_high) filter (
            where pe.universe = chosen.laggard_universe
        ) as laggard_forward_pe_pct_of_reference_year_high,
        max(pe.forward_pe) filter (where pe.universe = chosen.cohort_id) as cohort_forward_pe,
        max(pe.forward_pe) filter (where pe.universe = chosen.cohort_complement_id) as cohort_complement_forward_pe,
        max(pe.forward_pe) filter (where pe.universe = chosen.leader_universe) as leader_forward_pe,
        max(pe.relative_pe_vs_sp500) filter (
            where pe.universe = chosen.leader_universe and chosen.laggard_universe = 'sp500'
        ) as leader_relative_pe,
        max(pe.relative_pe_long_run_avg) filter (
            where pe.universe = chosen.leader_universe and chosen.laggard_universe = 'sp500'
        ) as leader_relative_pe_long_run_avg,
        max(pe.long_run_start_date) filter (
            where pe.universe = chosen.leader_universe and chosen.laggard_universe = 'sp500'
        ) as leader_relative_pe_long_run_start_date,
        max(pe.discount_vs_long_run_pct) filter (
            where pe.universe = chosen.leader_universe and chosen.laggard_universe = 'sp500'
        ) as leader_discount_vs_long_run_pct
    from {{ ref('fct_forward_pe') }} as pe
    cross join chosen
    group by pe.as_of_date
    having max(pe.forward_pe) filter (where pe.universe = chosen.laggard_universe) is not null
),

-- Completeness of a session. The headline tickers are those whose figures the report opens with: the pair's
-- legs, the headline indices and the sector proxies. Each is expected on every session from its first price
-- on, so a ticker not listed yet is not missing, while one whose prices stop early (a ragged edge) is.
ticker_ranges as (
    select ticker, min(date) as first_date, max(date) as last_date
    from {{ ref('fct_returns_daily') }}
    group by ticker
),

headline_tickers as (
    -- role_order lists the missing tickers pair first, then the headline indices, then the sector proxies
    select ticker, min(role_order) as role_order
    from (
        select leader_ticker as ticker, 1 as role_order from chosen
        union all
        select laggard_ticker, 2 from chosen
        union all
        select ticker, 2 + headline_order from tickers where headline_order in ({{ headline_positions | join(', ') }})
        union all
        select ticker, 10 from tickers where proxy_for_sector is not null
    ) as roles
    where ticker is not null
    group by ticker
),

headline_missing as (
    select
        sessions.date,
        count(*)::integer as tickers_missing,
        {{ ordered_string_agg('headline_tickers.ticker', "','", 'headline_tickers.role_order, headline_tickers.ticker') }} as missing_list
    from headline_tickers
    inner join ticker_ranges on ticker_ranges.ticker = headline_tickers.ticker
    inner join sessions on sessions.date > ticker_ranges.first_date
    -- the headline tickers' rows only (a few dozen tickers): the join is built on them, not on every row
    left join (
        select ticker, date from {{ ref('fct_returns_daily') }}
        where ticker in (select ticker from headline_tickers)
    ) as priced
        on priced.ticker = headline_tickers.ticker and priced.date = sessions.date
    where priced.ticker is null
    group by sessions.date
),

-- Tickers with a price after a session: all of them less those whose last price is on or before it.
ticker_ends as (
    select last_date as date, count(*) as tickers_ending from ticker_ranges group by last_date
),

ahead as (
    select
        sessions.date,
        ((select count(*) from ticker_ranges)
            - sum(coalesce(ticker_ends.tickers_ending, 0)) over (order by sessions.date))::integer as tickers_ahead,
        max(sessions.date) over () as last_price_date
    from sessions
    left join ticker_ends on ticker_ends.date = sessions.date
),

-- Guidance: from each date on which what was known changed, the headlined index's latest quarter then
-- (with its figures as known then: fct_guidance_counts_asof is point-in-time).
guidance as (
    select * from {{ ref('fct_guidance_counts_asof') }}
    where index_name = '{{ guidance_index }}'
    qualify row_number() over (partition by valid_from order by quarter_number desc) = 1
)

select
    sessions.date,
    sessions.source,
    sessions.is_demo,
    chosen.pair_id as streak_pair_id,
    chosen.pair_label as streak_pair_label,
    chosen.leader_ticker as streak_leader_ticker,
    chosen.leader_label as streak_leader_label,
    chosen.laggard_ticker as streak_laggard_ticker,
    chosen.laggard_label as streak_laggard_label,
    streak.leader_outperformed as streak_leader_outperformed,
    streak.spread_1d as streak_spread_1d,
    streak.streak_sessions,
    streak.streak_start_date,
    streak.longest_since_date as streak_longest_since_date,
    streak.longest_since_sessions as streak_longest_since_sessions,
    {%- for position in headline_positions %}
    headline.headline_index_{{ position }}_ticker,
    headline.headline_index_{{ position }}_label,
    indices.headline_index_{{ position }}_return_ytd,
    indices.headline_index_{{ position }}_return_5d,
    {%- endfor %}
    chosen.cohort_id,
    chosen.cohort_label,
    chosen.cohort_size,
    cohort.members as cohort_members,
    cohort.return_ytd_equal_weight as cohort_return_ytd_equal_weight,
    cohort.return_ytd_cap_weight as cohort_return_ytd_cap_weight,
    chosen.cohort_parent_ticker,
    chosen.cohort_parent_label,
    chosen.cohort_complement_id,
    chosen.cohort_complement_label,
    complement.members as cohort_complement_members,
    complement.return_ytd_cap_weight as cohort_complement_return_ytd_cap_weight,
    sectors.top_sector,
    sectors.top_return_1d as top_sector_return_1d,
    sectors.bottom_sector,
    sectors.bottom_return_1d as bottom_sector_return_1d,
    sectors.spread_1d as sector_spread_1d,
    -- Valuation and guidance figures: the latest as of the session (null before the first one).
    valuations.as_of_date as forward_pe_as_of_date,
    valuations.laggard_forward_pe,
    valuations.laggard_forward_pe_coverage_pct,
    valuations.laggard_prior_peak_forward_pe,
    valuations.laggard_prior_peak_date,
    valuations.laggard_forward_pe_basis,
    valuations.laggard_forward_pe_highest_since_date,
    valuations.laggard_forward_pe_reference_year,
    valuations.laggard_forward_pe_reference_year_high,
    valuations.laggard_forward_pe_reference_year_high_date,
    valuations.laggard_forward_pe_pct_of_reference_year_high,
    valuations.cohort_forward_pe,
    valuations.cohort_complement_forward_pe,
    valuations.leader_forward_pe,
    valuations.leader_relative_pe,
    valuations.leader_relative_pe_long_run_avg,
    valuations.leader_relative_pe_long_run_start_date,
    valuations.leader_discount_vs_long_run_pct,
    chosen.guidance_index_name,
    chosen.guidance_index_label,
    guidance.fiscal_quarter as guidance_fiscal_quarter,
    guidance.basis as guidance_basis,
    guidance.as_of_date as guidance_as_of_date,
    guidance.available_date as guidance_available_date,
    guidance.negative_count::integer as guidance_negative_count,
    guidance.positive_count::integer as guidance_positive_count,
    guidance.total_count::integer as guidance_total_count,
    guidance.negative_avg_5y as guidance_negative_avg_5y,
    guidance.negative_avg_10y as guidance_negative_avg_10y,
    guidance.positive_avg_5y as guidance_positive_avg_5y,
    guidance.positive_avg_10y as guidance_positive_avg_10y,
    guidance.avg_5y_quarters as guidance_avg_5y_quarters,
    guidance.avg_10y_quarters as guidance_avg_10y_quarters,
    guidance.negative_lowest_since_quarter as guidance_negative_lowest_since_quarter,
    guidance.negative_lowest_since_count::integer as guidance_negative_lowest_since_count,
    guidance.negative_tied_quarters as guidance_negative_tied_quarters,
    -- Completeness: the readers' default session is the last one with headline_complete.
    coalesce(headline_missing.tickers_missing, 0) = 0 as headline_complete,
    coalesce(headline_missing.tickers_missing, 0) as headline_tickers_missing,
    headline_missing.missing_list as headline_tickers_missing_list,
    sessions.tickers_priced,
    ahead.tickers_ahead,
    ahead.last_price_date
from sessions
cross join chosen
cross join headline
left join streak on streak.date = sessions.date
left join indices on indices.date = sessions.date
left join cohort on cohort.date = sessions.date
left join complement on complement.date = sessions.date
left join sectors on sectors.date = sessions.date
left join headline_missing on headline_missing.date = sessions.date
left join ahead on ahead.date = sessions.date
-- the latest valuations and guidance known on each session
left join {{ asof_match('sessions', 'date', 'valuations', 'as_of_date') }} as valuation_dates
    on valuation_dates.date = sessions.date
left join valuations on valuations.as_of_date = valuation_dates.matched
left join {{ asof_match('sessions', 'date', 'guidance', 'valid_from') }} as guidance_dates
    on guidance_dates.date = sessions.date
left join guidance on guidance.valid_from = guidance_dates.matched
