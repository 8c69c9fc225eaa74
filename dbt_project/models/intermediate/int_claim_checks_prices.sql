{#
  Verdicts of the price claims: streak, return, relative_return, cohort_return (one row per claim).
  Every kind is reduced to the same shape -- a value per (session, window) around the claim's session --
  and one verdict stage below judges them all. Defaults and conventions: see _claims.yml.
#}
{% set look_around = 5 %}
{% set max_best_window = 60 %}
{% set neighbour_windows = 2 %}
{% set periods = ['wtd', 'mtd', 'qtd', 'ytd'] %}
{% set period_units = {'wtd': 'week', 'mtd': 'month', 'qtd': 'quarter', 'ytd': 'year'} %}
{#- @v: the computed value; the stated comparison of the claim, within its tolerance for '='. The 1e-9 slack
    keeps a figure that equals the stated one in decimal from failing on floating-point rounding. -#}
{% set holds %}(case comparison
    when '=' then abs(@v - stated_value) <= tolerance + 1e-9
    when '>' then @v > stated_value
    when '<' then @v < stated_value
    when '>=' then @v >= stated_value - 1e-9
    when '<=' then @v <= stated_value + 1e-9
end){% endset %}

with claims as (
    select
        claim_file,
        claim_id,
        kind,
        as_of,
        ticker,
        leader,
        laggard,
        pair_id,
        cohort,
        coalesce(lower(weighting), 'equal') as weighting,
        lower(trim(window_spec)) as window_spec,
        -- a streak states its sessions (stated_value, if the landing also fills it, is the same figure)
        case when kind = 'streak' then coalesce(sessions::double, stated_value) else stated_value end as stated_value,
        coalesce(comparison, '=') as comparison,
        coalesce(tolerance, case when kind = 'streak' then 0 else 0.001 end) as tolerance,
        longest_since,
        -- <N>d windows as a number of sessions; wtd/mtd/qtd/ytd keep their name
        case when {{ matches_fully('lower(trim(window_spec))', "'[0-9]+d'") }}
            then nullif(cast(replace(lower(trim(window_spec)), 'd', '') as integer), 0) end as window_n,
        coalesce(
            (select max(sessions.date) from {{ ref('nyse_sessions') }} as sessions where sessions.date <= stg_claims.as_of),
            as_of
        ) as computed_on
    from {{ ref('stg_claims') }} as stg_claims
    where kind in ('streak', 'return', 'relative_return', 'cohort_return')
),

labelled as (
    select
        *,
        case
            when kind = 'streak' then 'streak'
            when window_n is not null then cast(window_n as string) || 'd'
            when window_spec in ('{{ periods | join("', '") }}') then window_spec
        end as stated_window
    from claims
),

-- Returns and relative returns ---------------------------------------------------------------------
-- A leg is one ticker of a claim, with the sign it enters the claim's value with.
legs as (
    select claim_file, claim_id, 1 as leg, ticker, 1 as sign, computed_on, window_n from labelled where kind = 'return'
    union all
    select claim_file, claim_id, 1, leader, 1, computed_on, window_n from labelled where kind = 'relative_return'
    union all
    select claim_file, claim_id, 2, laggard, -1, computed_on, window_n from labelled where kind = 'relative_return'
),

leg_ranges as (
    -- enough sessions before the look-around for the longest window (+ its neighbours) and the YTD base
    select
        *,
        least(
            date_trunc('year', computed_on - 15)::date - 15,
            computed_on - (130 + 2 * greatest(coalesce(window_n, 0), {{ max_best_window }}))
        ) as range_start,
        computed_on + 15 as range_end
    from legs
),

-- No subquery filter here: the join below picks each leg's rows (on Spark, subquery filters pushed into the
-- rows of a unit test's fixture made the query fail).
prices as (
    select ticker, date, close, adj_close
    from {{ ref('fct_returns_daily') }}
),

leg_rows as (
    select
        leg_ranges.claim_file,
        leg_ranges.claim_id,
        leg_ranges.leg,
        prices.*,
        row_number() over (partition by leg_ranges.claim_file, leg_ranges.claim_id, leg_ranges.leg order by prices.date) as rn
    from leg_ranges
    inner join prices
        on prices.ticker = leg_ranges.ticker and prices.date between leg_ranges.range_start and leg_ranges.range_end
),

leg_sessions as (
    -- the base of a period-to-date window: the last row before the period the row is in
    select
        *,
        {%- for period in periods %}
        min(rn) over (partition by claim_file, claim_id, leg, date_trunc('{{ period_units[period] }}', date)) - 1 as base_rn_{{ period }}{{ ',' if not loop.last }}
        {%- endfor %}
    from leg_rows
),

-- the look-around: the first leg's sessions within {{ look_around }} of the claim's session
return_look_around as (
    select leg_sessions.claim_file, leg_sessions.claim_id, leg_sessions.date, leg_sessions.rn - anchor.rn as session_offset
    from leg_sessions
    inner join leg_sessions as anchor
        on anchor.claim_file = leg_sessions.claim_file and anchor.claim_id = leg_sessions.claim_id and anchor.leg = 1
    inner join legs
        on legs.claim_file = anchor.claim_file and legs.claim_id = anchor.claim_id and legs.leg = 1
        and anchor.date = legs.computed_on
    where leg_sessions.leg = 1 and leg_sessions.rn between anchor.rn - {{ look_around }} and anchor.rn + {{ look_around }}
),

return_windows as (
    select claim_file, claim_id, cast(n as string) || 'd' as window_label, n as window_n
    from (
        select
            claim_file,
            claim_id,
            {{ each_integer(1, 'greatest(' ~ max_best_window ~ ', coalesce(window_n, 0)) + ' ~ neighbour_windows) }} as n
        from labelled
        where kind in ('return', 'relative_return')
    ) as windows
    union all
    select claim_file, claim_id, period, null
    from labelled
    cross join (values {% for period in periods %}('{{ period }}'){{ ', ' if not loop.last }}{% endfor %}) as periods(period)
    where kind in ('return', 'relative_return')
),

leg_returns as (
    select
        look.claim_file,
        look.claim_id,
        look.date,
        look.session_offset,
        windows.window_label,
        windows.window_n,
        legs.leg,
        legs.sign,
        legs.ticker,
        end_row.rn as end_rn,
        end_row.close as end_close,
        end_row.adj_close as end_adj_close,
        base_row.rn as base_rn,
        base_row.date as base_date,
        base_row.close as base_close,
        base_row.adj_close as base_adj_close,
        -- as fct_returns_daily: adjusted closes when both ends have one, else closes at both ends
        case
            when end_row.adj_close is not null and base_row.adj_close is not null then end_row.adj_close / base_row.adj_close
            else end_row.close / base_row.close
        end - 1 as leg_return
    from return_look_around as look
    inner join return_windows as windows using (claim_file, claim_id)
    inner join legs using (claim_file, claim_id)
    left join leg_sessions as end_row
        on end_row.claim_file = look.claim_file and end_row.claim_id = look.claim_id
        and end_row.leg = legs.leg and end_row.date = look.date
    left join leg_sessions as base_row
        on base_row.claim_file = look.claim_file and base_row.claim_id = look.claim_id and base_row.leg = legs.leg
        and base_row.rn = case windows.window_label
            {%- for period in periods %}
            when '{{ period }}' then end_row.base_rn_{{ period }}
            {%- endfor %}
            else end_row.rn - windows.window_n
        end
),

return_values as (
    select
        claim_file,
        claim_id,
        date,
        session_offset,
        window_label,
        window_n,
        case when count(leg_return) = count(*) then sum(sign * leg_return) end as value,
        true as also_holds,
        -- the stated window in sessions of the first leg, for its neighbours
        max(end_rn - base_rn) filter (where leg = 1) as sessions_spanned
    from leg_returns
    group by all
),

return_reasons as (
    select
        labelled.claim_file,
        labelled.claim_id,
        case
            when labelled.stated_window is null then 'the window ' || coalesce(labelled.window_spec, '(none)') || ' is not understood'
            when count(*) filter (where priced.leg is null) > 0 then
                'no prices of ' || {{ distinct_string_agg('case when priced.leg is null then legs.ticker end', "' and '") }}
                || ' on ' || cast(labelled.computed_on as string)
            when count(*) filter (where leg_returns.base_rn is null) > 0 then
                'not enough prices of ' || {{ distinct_string_agg('case when leg_returns.base_rn is null then legs.ticker end', "' and '") }}
                || ' before ' || cast(labelled.computed_on as string) || ' for the window ' || labelled.stated_window
        end as reason,
        {{ json_text(concat_lists(
            ordered_list(record({
                'table': "'marts.fct_returns_daily'", 'ticker': 'legs.ticker', 'date': 'cast(leg_returns.base_date as string)',
                'close': 'leg_returns.base_close', 'adj_close': 'leg_returns.base_adj_close'
            }), 'legs.leg', where='leg_returns.base_rn is not null'),
            ordered_list(record({
                'table': "'marts.fct_returns_daily'", 'ticker': 'legs.ticker', 'date': 'cast(leg_returns.date as string)',
                'close': 'leg_returns.end_close', 'adj_close': 'leg_returns.end_adj_close'
            }), 'legs.leg', where='leg_returns.end_rn is not null')
        )) }} as evidence
    from labelled
    inner join legs using (claim_file, claim_id)
    left join leg_rows as priced
        on priced.claim_file = legs.claim_file and priced.claim_id = legs.claim_id and priced.leg = legs.leg
        and priced.date = legs.computed_on
    left join leg_returns
        on leg_returns.claim_file = legs.claim_file and leg_returns.claim_id = legs.claim_id and leg_returns.leg = legs.leg
        and leg_returns.session_offset = 0 and leg_returns.window_label = labelled.stated_window
    group by labelled.claim_file, labelled.claim_id, labelled.stated_window, labelled.window_spec, labelled.computed_on
),

-- Cohort returns: the windows fct_cohort_returns has ----------------------------------------------
cohort_claims as (
    select * from labelled where kind = 'cohort_return'
),

cohort_rows as (
    select
        cohort_claims.claim_file,
        cohort_claims.claim_id,
        cohort_claims.weighting,
        cohort_returns.*,
        row_number() over (partition by cohort_claims.claim_file, cohort_claims.claim_id order by cohort_returns.date) as rn
    from cohort_claims
    inner join {{ ref('fct_cohort_returns') }} as cohort_returns
        on cohort_returns.cohort = cohort_claims.cohort
        and cohort_returns.date between cohort_claims.computed_on - 30 and cohort_claims.computed_on + 30
),

cohort_look_around as (
    {{ claim_look_around('cohort_rows', 'cohort_claims', look_around) }}
),

cohort_values as (
    -- the windows the mart has: 1d (equal weight only) and ytd
    select claim_file, claim_id, date, session_offset, '1d' as window_label, null::integer as window_n,
        return_1d_equal_weight as value, true as also_holds, null::integer as sessions_spanned
    from cohort_look_around
    where weighting = 'equal'
    union all
    select claim_file, claim_id, date, session_offset, 'ytd', null,
        case weighting when 'equal' then return_ytd_equal_weight when 'cap' then return_ytd_cap_weight end, true, null
    from cohort_look_around
),

cohort_reasons as (
    select
        cohort_claims.claim_file,
        cohort_claims.claim_id,
        case
            when cohort_claims.weighting not in ('equal', 'cap') then 'the weighting ' || cohort_claims.weighting || ' is not equal or cap'
            when not (cohort_claims.stated_window = 'ytd' or (cohort_claims.stated_window = '1d' and cohort_claims.weighting = 'equal')) then
                'marts.fct_cohort_returns has the 1d (equal weight) and ytd (equal and cap weight) returns only, not '
                || coalesce(cohort_claims.window_spec, '(no window)') || ' ' || cohort_claims.weighting || ' weight'
            when anchor.cohort is null then
                'no returns of the cohort ' || coalesce(cohort_claims.cohort, '(none)') || ' on ' || cast(cohort_claims.computed_on as string)
            when (case cohort_claims.stated_window when '1d' then anchor.return_1d_equal_weight
                  else (case cohort_claims.weighting when 'cap' then anchor.return_ytd_cap_weight else anchor.return_ytd_equal_weight end) end) is null then
                'no ' || cohort_claims.weighting || '-weight ' || cohort_claims.stated_window || ' return of the cohort ' || cohort_claims.cohort
                || ' on ' || cast(cohort_claims.computed_on as string)
        end as reason,
        case when anchor.cohort is not null then {{ json_text(list_of([record({
            'table': "'marts.fct_cohort_returns'", 'cohort': 'anchor.cohort', 'date': 'cast(anchor.date as string)',
            'members': 'anchor.members', 'members_with_ytd': 'anchor.members_with_ytd',
            'return_1d_equal_weight': 'anchor.return_1d_equal_weight', 'return_ytd_equal_weight': 'anchor.return_ytd_equal_weight',
            'return_ytd_cap_weight': 'anchor.return_ytd_cap_weight', 'members_with_cap_weight': 'anchor.members_with_cap_weight'
        })])) }} end as evidence
    from cohort_claims
    left join cohort_look_around as anchor
        on anchor.claim_file = cohort_claims.claim_file and anchor.claim_id = cohort_claims.claim_id and anchor.session_offset = 0
),

-- Streaks ------------------------------------------------------------------------------------------
streak_claims as (
    select
        *,
        case
            when {{ matches_fully('longest_since', "'[0-9]{4}'") }} then 'year'
            when try_cast(longest_since as date) is not null then 'date'
        end as longest_since_type
    from labelled where kind = 'streak'
),

pair_streaks as (
    select * from {{ ref('fct_relative_streaks') }}
    where pair_id in (select pair_id from streak_claims)
),

streak_rows as (
    select
        streak_claims.claim_file,
        streak_claims.claim_id,
        streak_claims.longest_since,
        streak_claims.longest_since_type,
        pair_streaks.*,
        row_number() over (partition by streak_claims.claim_file, streak_claims.claim_id order by pair_streaks.date) as rn
    from streak_claims
    inner join pair_streaks
        on pair_streaks.pair_id = streak_claims.pair_id
        and pair_streaks.date between streak_claims.computed_on - 30 and streak_claims.computed_on + 30
),

streak_look_around as (
    {{ claim_look_around('streak_rows', 'streak_claims', look_around) }}
),

streak_values as (
    select
        claim_file,
        claim_id,
        date,
        session_offset,
        'streak' as window_label,
        null::integer as window_n,
        streak_sessions::double as value,
        -- "longest since Y": the earlier run the streak is compared with ended in Y (or on the date given)
        case
            when longest_since is null then true
            when longest_since_type = 'year' then coalesce(year(longest_since_date) = cast(longest_since as integer), false)
            else coalesce(longest_since_date = try_cast(longest_since as date), false)
        end as also_holds,
        null::integer as sessions_spanned
    from streak_look_around
),

-- the runs before the one in progress on the claim's session; the shortest streak that is compared with
-- a run R is one longer than every run between R and now, and R must be at least that long
earlier_runs as (
    select
        streak_claims.claim_file,
        streak_claims.claim_id,
        streak_claims.longest_since,
        streak_claims.longest_since_type,
        runs.run_end_date,
        runs.run_length,
        coalesce(max(runs.run_length) over (
            partition by streak_claims.claim_file, streak_claims.claim_id
            order by runs.run_end_date desc rows between unbounded preceding and 1 preceding
        ), 0) + 1 as shortest_streak
    from streak_claims
    left join streak_look_around as anchor
        on anchor.claim_file = streak_claims.claim_file and anchor.claim_id = streak_claims.claim_id and anchor.session_offset = 0
    inner join (
        select distinct pair_id, run_end_date, run_length from pair_streaks where streak_sessions > 0
    ) as runs
        on runs.pair_id = streak_claims.pair_id
        and runs.run_end_date < coalesce(anchor.streak_start_date, streak_claims.computed_on)
    where streak_claims.longest_since_type is not null
),

shortest_streaks as (
    select claim_file, claim_id, min(shortest_streak) as shortest_streak_for_longest_since
    from earlier_runs
    where shortest_streak <= run_length
      and case longest_since_type
          when 'year' then year(run_end_date) = cast(longest_since as integer)
          else run_end_date = try_cast(longest_since as date)
      end
    group by claim_file, claim_id
),

-- the rows of the run in progress on the claim's session (that session's row alone when there is none)
streak_evidence as (
    select
        anchor.claim_file,
        anchor.claim_id,
        {{ json_text(ordered_list(record({
            'table': "'marts.fct_relative_streaks'", 'pair_id': 'run.pair_id', 'date': 'cast(run.date as string)',
            'leader_return_1d': 'run.leader_return_1d', 'laggard_return_1d': 'run.laggard_return_1d',
            'streak_sessions': 'run.streak_sessions', 'longest_since_date': 'cast(run.longest_since_date as string)',
            'longest_since_sessions': 'run.longest_since_sessions'
        }), 'run.date')) }} as evidence
    from streak_look_around as anchor
    inner join pair_streaks as run
        on run.pair_id = anchor.pair_id and run.date between coalesce(anchor.streak_start_date, anchor.date) and anchor.date
    where anchor.session_offset = 0
    group by anchor.claim_file, anchor.claim_id
),

streak_reasons as (
    select
        streak_claims.claim_file,
        streak_claims.claim_id,
        case
            when streak_claims.longest_since is not null and streak_claims.longest_since_type is null then
                'longest_since ' || streak_claims.longest_since || ' is neither a year (YYYY) nor a date (YYYY-MM-DD)'
            when anchor.pair_id is null then
                'no streak of the pair ' || coalesce(streak_claims.pair_id, '(none)') || ' on ' || cast(streak_claims.computed_on as string)
        end as reason,
        anchor.streak_sessions,
        anchor.longest_since_date,
        anchor.longest_since_sessions,
        streak_evidence.evidence
    from streak_claims
    left join streak_look_around as anchor
        on anchor.claim_file = streak_claims.claim_file and anchor.claim_id = streak_claims.claim_id and anchor.session_offset = 0
    left join streak_evidence
        on streak_evidence.claim_file = streak_claims.claim_file and streak_evidence.claim_id = streak_claims.claim_id
),

-- One verdict stage for every kind -----------------------------------------------------------------
{#- The closest window: the least distance from the stated figure; among equals the stated window, then the
    shortest <N>d window, then a period window by name. -#}
{% set best_window_order = [
    'judged.distance', 'judged.window_label <> labelled.stated_window',
    'judged.window_n is null', 'judged.window_n', 'judged.window_label'
] %}
{% set best_window_candidate %}judged.session_offset = 0 and judged.value is not null and labelled.kind <> 'streak'
            and (judged.window_n is null or judged.window_n <= {{ max_best_window }}){% endset %}
candidate_values as (
    {%- for values in ['return_values', 'cohort_values', 'streak_values'] %}
    select claim_file, claim_id, date, session_offset, window_label, window_n, value, also_holds, sessions_spanned
    from {{ values }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
),

judged as (
    select
        candidate_values.*,
        coalesce({{ holds | replace('@v', 'candidate_values.value') }} and candidate_values.also_holds, false) as holds,
        abs(candidate_values.value - labelled.stated_value) as distance
    from candidate_values
    inner join labelled using (claim_file, claim_id)
),

summary as (
    select
        labelled.claim_file,
        labelled.claim_id,
        any_value(judged.value) filter (where judged.session_offset = 0 and judged.window_label = labelled.stated_window) as computed_value,
        coalesce(bool_or(judged.holds) filter (where judged.session_offset = 0 and judged.window_label = labelled.stated_window), false) as holds_on_as_of,
        {{ ordered_string_agg(
            'case when judged.window_label = labelled.stated_window and judged.holds then cast(judged.date as string) end',
            "','", 'judged.date') }} as holds_on,
        -- neighbouring windows: up to {{ neighbour_windows }} sessions longer or shorter than the stated one
        {{ ordered_string_agg(
            'case when judged.session_offset = 0 and judged.holds and judged.window_label <> labelled.stated_window
            and judged.window_n between stated.sessions_spanned - ' ~ neighbour_windows ~ ' and stated.sessions_spanned + ' ~ neighbour_windows ~ '
            then judged.window_label end',
            "', '", 'judged.window_n') }} as holds_for_windows,
        {{ value_at_min('judged.window_label', best_window_order) }} filter (where {{ best_window_candidate }}) as best_window,
        {{ value_at_min('judged.value', best_window_order) }} filter (where {{ best_window_candidate }}) as best_value
    from labelled
    left join judged using (claim_file, claim_id)
    left join return_values as stated
        on stated.claim_file = labelled.claim_file and stated.claim_id = labelled.claim_id
        and stated.session_offset = 0 and stated.window_label = labelled.stated_window
    group by labelled.claim_file, labelled.claim_id
),

verdicts as (
    select
        labelled.*,
        summary.computed_value,
        summary.holds_on,
        summary.holds_for_windows,
        summary.best_window,
        summary.best_value,
        coalesce(return_reasons.reason, cohort_reasons.reason, streak_reasons.reason) as reason,
        coalesce(return_reasons.evidence, cohort_reasons.evidence, streak_reasons.evidence, '[]') as evidence,
        streak_reasons.longest_since_date,
        streak_reasons.longest_since_sessions,
        shortest_streaks.shortest_streak_for_longest_since,
        case
            when coalesce(return_reasons.reason, cohort_reasons.reason, streak_reasons.reason) is not null then 'uncheckable'
            when summary.computed_value is null then 'uncheckable'
            when summary.holds_on_as_of then 'true'
            when summary.holds_on is not null or summary.holds_for_windows is not null then 'near'
            else 'false'
        end as verdict
    from labelled
    inner join summary using (claim_file, claim_id)
    left join return_reasons using (claim_file, claim_id)
    left join cohort_reasons using (claim_file, claim_id)
    left join streak_reasons using (claim_file, claim_id)
    left join shortest_streaks using (claim_file, claim_id)
)

select
    claim_file,
    claim_id,
    kind,
    as_of,
    computed_on,
    stated_value,
    computed_value,
    verdict,
    case
        when verdict = 'uncheckable' then coalesce(reason, 'no value on ' || cast(computed_on as string))
        when kind = 'streak' then
            {{ format_text("'%d sessions on %s'", ['cast(round(computed_value) as integer)', 'cast(computed_on as string)']) }}
            || case
                when computed_value = 0 then ''
                when longest_since_date is null then ', the longest in the data'
                else {{ format_text("', longest since the %d-session run that ended %s'",
                    ['longest_since_sessions', 'cast(longest_since_date as string)']) }}
            end
            || {{ format_text("'; stated %s %d'", ['comparison', 'cast(round(stated_value) as integer)']) }}
            || coalesce(', longest since ' || longest_since, '')
            || coalesce('; holds on ' || holds_on, '; holds on no session within {{ look_around }} of it')
            || case when shortest_streak_for_longest_since is not null then {{ format_text(
                "'; a streak of %d would be the longest since %s'", ['shortest_streak_for_longest_since', 'longest_since']) }}
                else '' end
        else
            case kind
                when 'return' then ticker
                when 'relative_return' then leader || ' minus ' || laggard
                else cohort || ' (' || weighting || ' weight)'
            end
            || {{ format_text("' %s: %+.2f%% on %s; stated %s %+.2f%%'",
                ['stated_window', 'computed_value * 100', 'cast(computed_on as string)', 'comparison', 'stated_value * 100']) }}
            || case when comparison = '=' then {{ format_text("' (tolerance %.2f pp)'", ['tolerance * 100']) }} else '' end
            || coalesce('; holds on ' || holds_on, '')
            || coalesce('; holds for ' || holds_for_windows, '')
            || case when best_window is not null then {{ format_text("'; closest window %s (%+.2f%%)'", ['best_window', 'best_value * 100']) }}
                else '' end
    end as explanation,
    holds_on,
    best_window,
    shortest_streak_for_longest_since,
    evidence
from verdicts
