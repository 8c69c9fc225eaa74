-- Verdicts of the claims of kinds sector_return, sector_spread, forward_pe and guidance_count (one row per
-- claim; the columns are those of every int_claim_checks_* model, see _claims_other.yml).
-- computed_on is the last NYSE session on or before as_of; the look-around is the 5 sessions before and
-- after it. A stated figure "holds" per the claim's comparison: `=` within the tolerance (default per kind).
{% set look_around = 5 %}
{#- holds: the stated comparison applied to the value in place of VALUE -#}
{%- set holds_template -%}
    case comparison
        when '=' then abs(VALUE - stated) <= tol
        when '>' then VALUE > stated
        when '<' then VALUE < stated
        when '>=' then VALUE >= stated
        when '<=' then VALUE <= stated
    end
{%- endset %}
with claims as (
    select
        *,
        coalesce(stated_value, negative::double) as stated,
        coalesce(
            tolerance,
            case kind when 'forward_pe' then 0.25 when 'guidance_count' then 0 else 0.001 end
        ) as tol
    from {{ ref('stg_claims') }}
    where kind in ('sector_return', 'sector_spread', 'forward_pe', 'guidance_count')
),

sessions as (
    select date, row_number() over (order by date) as session_number from {{ ref('nyse_sessions') }}
),

computed_on as (
    select claims.claim_file, claims.claim_id, max(sessions.session_number) as session_number
    from claims
    left join sessions on sessions.date <= claims.as_of
    group by claims.claim_file, claims.claim_id
),

-- Each claim's sessions from 5 before to 5 after computed_on (offset 0 = computed_on).
look_around as (
    select
        claims.*,
        sessions.date,
        sessions.session_number - computed_on.session_number as offset_sessions
    from claims
    inner join computed_on using (claim_file, claim_id)
    inner join sessions
        on sessions.session_number between computed_on.session_number - {{ look_around }}
        and computed_on.session_number + {{ look_around }}
),

-- Sector returns -----------------------------------------------------------------------------------------

proxies as (
    select ticker as proxy_ticker, proxy_for_sector as sector
    from {{ ref('universe_tickers') }}
    where proxy_for_sector is not null
),

proxy_prices as (
    select
        returns.ticker,
        returns.date,
        returns.return_basis_price as price,
        row_number() over (partition by returns.ticker order by returns.date) as row_number
    from {{ ref('fct_returns_daily') }} as returns
    where returns.ticker in (select proxy_ticker from proxies) and returns.return_basis_price is not null
),

sector_claims as (
    select look_around.*, proxies.proxy_ticker
    from look_around
    left join proxies using (sector)
    where look_around.kind = 'sector_return'
),

-- Method etf, windows of N sessions: the proxy's close N rows back.
session_windows as (
    select
        sector_claims.claim_file,
        sector_claims.claim_id,
        sector_claims.date,
        cast(n as string) || 'd' as window_name,
        n as window_sessions,
        base.date as base_date,
        base.price as base_price,
        ending.price as end_price,
        ending.price / base.price - 1 as value
    from sector_claims
    inner join proxy_prices as ending on ending.ticker = sector_claims.proxy_ticker and ending.date = sector_claims.date
    cross join range(1, 61) as windows(n)
    inner join proxy_prices as base on base.ticker = ending.ticker and base.row_number = ending.row_number - n
    where sector_claims.method = 'etf'
),

-- Method etf, period windows: from the proxy's last close before the week, month, quarter or year.
period_windows as (
    select
        sector_claims.claim_file,
        sector_claims.claim_id,
        sector_claims.date,
        periods.window_name,
        max(ending.row_number) - max(base.row_number) as window_sessions,
        max(base.date) as base_date,
        {{ value_at_max('base.price', 'base.date') }} as base_price,
        max(ending.price) as end_price,
        max(ending.price) / {{ value_at_max('base.price', 'base.date') }} - 1 as value
    from sector_claims
    inner join proxy_prices as ending on ending.ticker = sector_claims.proxy_ticker and ending.date = sector_claims.date
    cross join (values ('wtd'), ('mtd'), ('qtd'), ('ytd')) as periods(window_name)
    inner join proxy_prices as base
        on base.ticker = ending.ticker
        and base.date >= ending.date - interval 2 year
        and base.date < cast(case periods.window_name
            when 'wtd' then date_trunc('week', ending.date)
            when 'mtd' then date_trunc('month', ending.date)
            when 'qtd' then date_trunc('quarter', ending.date)
            else date_trunc('year', ending.date)
        end as date)
    where sector_claims.method = 'etf'
    group by sector_claims.claim_file, sector_claims.claim_id, sector_claims.date, periods.window_name
),

-- The mart's own windows (both methods); for etf they replace the figures from closes.
mart_windows as (
    select
        sector_claims.claim_file,
        sector_claims.claim_id,
        sector_claims.date,
        mart_window.window_name,
        case mart_window.window_name
            when '1d' then mart.return_1d when '5d' then mart.return_5d
            when 'mtd' then mart.return_mtd else mart.return_ytd
        end as value
    from sector_claims
    inner join {{ ref('fct_sector_returns') }} as mart
        on mart.sector = sector_claims.sector and mart.method = sector_claims.method and mart.date = sector_claims.date
    cross join (values ('1d'), ('5d'), ('mtd'), ('ytd')) as mart_window(window_name)
),

sector_windows as (
    select
        coalesce(mart_windows.claim_file, closes.claim_file) as claim_file,
        coalesce(mart_windows.claim_id, closes.claim_id) as claim_id,
        coalesce(mart_windows.date, closes.date) as date,
        coalesce(mart_windows.window_name, closes.window_name) as window_name,
        closes.window_sessions,
        closes.base_date,
        closes.base_price,
        closes.end_price,
        mart_windows.value is not null as from_mart,
        coalesce(mart_windows.value, closes.value) as value
    from mart_windows
    full join (
        {%- for windows in ['session_windows', 'period_windows'] %}
        select claim_file, claim_id, date, window_name, window_sessions, base_date, base_price, end_price, value
        from {{ windows }}
        {{- '\n        union all' if not loop.last }}
        {%- endfor %}
    ) as closes using (claim_file, claim_id, date, window_name)
    where coalesce(mart_windows.value, closes.value) is not null
),

sector_values as (
    select sector_claims.*, sector_windows.* except (claim_file, claim_id, date)
    from sector_claims
    inner join sector_windows using (claim_file, claim_id, date)
),

stated_window_length as (
    select claim_file, claim_id, window_sessions as stated_sessions
    from sector_values
    where offset_sessions = 0 and window_name = window_spec
),

sector_checks as (
    select
        claim_file,
        claim_id,
        max(value) filter (where offset_sessions = 0 and window_name = window_spec) as computed_value,
        bool_or({{ holds_template.replace('VALUE', 'value') }}) filter (where offset_sessions = 0 and window_name = window_spec) as holds_today,
        bool_or({{ holds_template.replace('VALUE', 'value') }}) filter (where window_name = window_spec) as holds_around,
        bool_or({{ holds_template.replace('VALUE', 'value') }}) filter (
            where offset_sessions = 0 and window_name <> window_spec
            and abs(window_sessions - stated_sessions) <= 2
        ) as holds_nearby_window,
        {# a claim has one row per window and session: no window is listed twice -#}
        {{ ordered_string_agg(
            "case when offset_sessions = 0 and window_name <> window_spec and abs(window_sessions - stated_sessions) <= 2
            and " ~ holds_template.replace('VALUE', 'value') ~ " then window_name end",
            "', '", 'window_name') }} as nearby_windows,
        {{ ordered_string_agg(
            "case when window_name = window_spec and " ~ holds_template.replace('VALUE', 'value') ~ " then cast(date as string) end",
            "','", 'date') }} as holds_on,
        {# a window without a count of sessions (from the mart alone) comes after those with one, as DuckDB orders nulls in a row -#}
        {{ value_at_min('window_name', ['abs(value - stated)', 'window_sessions is null', 'window_sessions', 'window_name']) }}
            filter (where offset_sessions = 0) as best_window,
        min(abs(value - stated)) filter (where offset_sessions = 0) as best_distance,
        {{ json_text(ordered_list(record({
            'table': "case when from_mart then 'marts.fct_sector_returns' else 'marts.fct_returns_daily' end",
            'sector': 'sector',
            'method': 'method',
            'ticker': 'case when not from_mart then proxy_ticker end',
            'date': 'date',
            'window': 'window_name',
            'base_date': 'base_date',
            'base_close': 'base_price',
            'close': 'end_price',
            'return': 'value'
        }), 'date', where='window_name = window_spec')) }} as evidence
    from sector_values
    left join stated_window_length using (claim_file, claim_id)
    group by claim_file, claim_id
),

-- Sector spread: best minus worst sector's 1d return, method etf -------------------------------------------

spread_values as (
    select look_around.*, dispersion.* except (date, method)
    from look_around
    inner join {{ ref('fct_sector_dispersion') }} as dispersion
        on dispersion.date = look_around.date and dispersion.method = 'etf'
    where look_around.kind = 'sector_spread'
),

spread_checks as (
    select
        claim_file,
        claim_id,
        max(spread_1d) filter (where offset_sessions = 0) as computed_value,
        bool_or({{ holds_template.replace('VALUE', 'spread_1d') }}) filter (where offset_sessions = 0) as holds_today,
        bool_or({{ holds_template.replace('VALUE', 'spread_1d') }}) as holds_around,
        {{ ordered_string_agg(
            "case when " ~ holds_template.replace('VALUE', 'spread_1d') ~ " then cast(date as string) end",
            "','", 'date') }} as holds_on,
        max(top_sector || ' ' || round(top_return_1d * 100, 2) || ' %, ' || bottom_sector || ' '
            || round(bottom_return_1d * 100, 2) || ' %') filter (where offset_sessions = 0) as extremes,
        {{ json_text(ordered_list(record({
            'table': "'marts.fct_sector_dispersion'",
            'method': "'etf'",
            'date': 'date',
            'top_sector': 'top_sector',
            'top_return_1d': 'top_return_1d',
            'bottom_sector': 'bottom_sector',
            'bottom_return_1d': 'bottom_return_1d',
            'spread_1d': 'spread_1d'
        }), 'date')) }} as evidence
    from spread_values
    group by claim_file, claim_id
),

-- Forward P/E: the figure of the last date on or before as_of; dates within the look-around for holds_on ----

pe_claims as (
    select
        claims.*,
        (select min(date) from look_around
            where look_around.claim_file = claims.claim_file and look_around.claim_id = claims.claim_id) as around_from,
        (select max(date) from look_around
            where look_around.claim_file = claims.claim_file and look_around.claim_id = claims.claim_id) as around_to
    from claims
    where kind = 'forward_pe'
),

pe_latest as (
    select pe_claims.claim_file, pe_claims.claim_id, max(pe.as_of_date) as latest_date
    from pe_claims
    inner join {{ ref('fct_forward_pe') }} as pe
        on pe.universe = pe_claims.universe and pe.as_of_date <= pe_claims.as_of
    group by pe_claims.claim_file, pe_claims.claim_id
),

pe_values as (
    select pe_claims.*, pe_latest.latest_date, pe.as_of_date, pe.forward_pe, pe.basis
    from pe_claims
    inner join pe_latest using (claim_file, claim_id)
    inner join {{ ref('fct_forward_pe') }} as pe
        on pe.universe = pe_claims.universe
        and (pe.as_of_date = pe_latest.latest_date or pe.as_of_date between pe_claims.around_from and pe_claims.around_to)
),

pe_checks as (
    select
        pe_values.claim_file,
        pe_values.claim_id,
        max(pe_values.latest_date) as computed_on,
        max(pe_values.forward_pe) filter (where pe_values.as_of_date = pe_values.latest_date) as computed_value,
        bool_or({{ holds_template.replace('VALUE', 'pe_values.forward_pe') }}) filter (where pe_values.as_of_date = pe_values.latest_date) as holds_today,
        bool_or({{ holds_template.replace('VALUE', 'pe_values.forward_pe') }}) filter (
            where pe_values.as_of_date between pe_values.around_from and pe_values.around_to
        ) as holds_around,
        {{ ordered_string_agg(
            "case when pe_values.as_of_date between pe_values.around_from and pe_values.around_to
            and " ~ holds_template.replace('VALUE', 'pe_values.forward_pe') ~ " then cast(pe_values.as_of_date as string) end",
            "','", 'pe_values.as_of_date') }} as holds_on,
        {{ ordered_list(record({
            'table': "'marts.fct_forward_pe'",
            'universe': 'pe_values.universe',
            'as_of_date': 'pe_values.as_of_date',
            'basis': 'pe_values.basis',
            'forward_pe': 'pe_values.forward_pe'
        }), 'pe_values.as_of_date') }} as rows
    from pe_values
    group by pe_values.claim_file, pe_values.claim_id
),

pe_high as (
    select
        pe_claims.claim_file,
        pe_claims.claim_id,
        yearly.high_forward_pe,
        yearly.high_date,
        abs(yearly.high_forward_pe - pe_claims.stated) <= pe_claims.tol as matches_high
    from pe_claims
    inner join {{ ref('fct_forward_pe_yearly') }} as yearly
        on yearly.universe = pe_claims.universe and yearly.year = pe_claims.matches_high_of
),

-- Guidance counts: the figures known on each session (the vintage valid then) ------------------------------

guidance_values as (
    select
        look_around.*,
        known.valid_from,
        known.available_date,
        known.negative_count,
        known.total_count,
        known.negative_lowest_since_quarter,
        known.negative_tied_quarters,
        (look_around.negative is null or abs(known.negative_count - look_around.negative) <= look_around.tol)
        and (look_around.total is null or abs(known.total_count - look_around.total) <= look_around.tol)
        and (look_around.lowest_since is null or known.negative_lowest_since_quarter = look_around.lowest_since)
            as holds
    from look_around
    inner join {{ ref('fct_guidance_counts_asof') }} as known
        on known.index_name = look_around.index_name
        and known.fiscal_quarter = look_around.fiscal_quarter
        and known.valid_from <= look_around.date
        and (known.valid_to is null or look_around.date < known.valid_to)
    where look_around.kind = 'guidance_count'
),

guidance_checks as (
    select
        claim_file,
        claim_id,
        max(negative_count) filter (where offset_sessions = 0) as computed_value,
        max(total_count) filter (where offset_sessions = 0) as computed_total,
        max(negative_lowest_since_quarter) filter (where offset_sessions = 0) as computed_lowest_since,
        max(valid_from) filter (where offset_sessions = 0) as known_since,
        bool_or(holds) filter (where offset_sessions = 0) as holds_today,
        bool_or(holds) as holds_around,
        {{ ordered_string_agg('case when holds then cast(date as string) end', "','", 'date') }} as holds_on,
        {{ json_text(sorted_distinct_list(record({
            'table': "'marts.fct_guidance_counts_asof'",
            'index_name': 'index_name',
            'fiscal_quarter': 'fiscal_quarter',
            'valid_from': 'valid_from',
            'available_date': 'available_date',
            'negative_count': 'negative_count',
            'total_count': 'total_count',
            'negative_lowest_since_quarter': 'negative_lowest_since_quarter'
        }))) }} as evidence
    from guidance_values
    group by claim_file, claim_id
),

-- Verdicts ----------------------------------------------------------------------------------------------------

checks as (
    select
        claims.claim_file,
        claims.claim_id,
        claims.kind,
        claims.as_of,
        case when claims.kind = 'forward_pe' then pe_checks.computed_on else sessions.date end as computed_on,
        claims.stated,
        claims.tol,
        claims.comparison,
        claims.window_spec,
        claims.method,
        claims.sector,
        claims.universe,
        claims.index_name,
        claims.fiscal_quarter,
        claims.matches_high_of,
        claims.negative,
        claims.total,
        claims.lowest_since,
        sessions.date as session_date,
        proxies.proxy_ticker,
        sector_checks.computed_value as sector_value,
        sector_checks.holds_today as sector_today,
        sector_checks.holds_around as sector_around,
        sector_checks.holds_nearby_window,
        sector_checks.nearby_windows,
        sector_checks.holds_on as sector_holds_on,
        sector_checks.best_window,
        sector_checks.evidence as sector_evidence,
        spread_checks.computed_value as spread_value,
        spread_checks.holds_today as spread_today,
        spread_checks.holds_around as spread_around,
        spread_checks.holds_on as spread_holds_on,
        spread_checks.extremes,
        spread_checks.evidence as spread_evidence,
        pe_checks.computed_value as pe_value,
        pe_checks.holds_today as pe_today,
        pe_checks.holds_around as pe_around,
        pe_checks.holds_on as pe_holds_on,
        pe_checks.rows as pe_rows,
        pe_high.high_forward_pe,
        pe_high.high_date,
        pe_high.matches_high,
        guidance_checks.computed_value as guidance_value,
        guidance_checks.computed_total,
        guidance_checks.computed_lowest_since,
        guidance_checks.known_since,
        guidance_checks.holds_today as guidance_today,
        guidance_checks.holds_around as guidance_around,
        guidance_checks.holds_on as guidance_holds_on,
        guidance_checks.evidence as guidance_evidence
    from claims
    left join computed_on using (claim_file, claim_id)
    left join sessions on sessions.session_number = computed_on.session_number
    left join proxies on proxies.sector = claims.sector
    left join sector_checks using (claim_file, claim_id)
    left join spread_checks using (claim_file, claim_id)
    left join pe_checks using (claim_file, claim_id)
    left join pe_high using (claim_file, claim_id)
    left join guidance_checks using (claim_file, claim_id)
),

-- Each kind's computed value, why it cannot be checked (null when it can), and whether it holds.
decided as (
    select
        *,
        case kind
            when 'sector_return' then sector_value
            when 'sector_spread' then spread_value
            when 'forward_pe' then pe_value
            else guidance_value
        end as computed_value,
        case
            when session_date is null then 'no NYSE session on or before ' || as_of
            when kind = 'sector_return' and method = 'etf' and proxy_ticker is null
                then 'no proxy ETF for sector ' || coalesce(sector, '(none)') || ' in the universe seed'
            when kind = 'sector_return' and sector_value is null
                then 'no ' || coalesce(window_spec, '(no window)') || ' return of sector ' || coalesce(sector, '(none)')
                || ' (method ' || coalesce(method, '(none)') || ') on ' || session_date
                || case when method = 'constituents' then '; method constituents has only 1d, 5d, mtd and ytd' else '' end
            when kind = 'sector_spread' and spread_value is null then 'no sector returns (method etf) on ' || session_date
            when kind = 'forward_pe' and pe_value is null
                then 'no forward P/E of ' || coalesce(universe, '(none)') || ' on or before ' || as_of
            when kind = 'forward_pe' and matches_high_of is not null and high_forward_pe is null
                then 'no forward P/E of ' || universe || ' in ' || matches_high_of
            when kind = 'guidance_count' and guidance_value is null
                then 'no guidance count of ' || coalesce(index_name, '(none)') || ' for '
                || coalesce(fiscal_quarter, '(none)') || ' known on ' || session_date
        end as uncheckable_reason,
        case kind
            when 'sector_return' then sector_today
            when 'sector_spread' then spread_today
            when 'forward_pe' then pe_today and coalesce(matches_high, true)
            else guidance_today
        end as holds_today,
        case kind
            when 'sector_return' then sector_around or holds_nearby_window
            when 'sector_spread' then spread_around
            when 'forward_pe' then pe_around and coalesce(matches_high, true)
            else guidance_around
        end as holds_near
    from checks
)

select
    claim_file,
    claim_id,
    kind,
    as_of,
    computed_on,
    stated as stated_value,
    computed_value,
    case
        when uncheckable_reason is not null then 'uncheckable'
        when holds_today then 'true'
        when holds_near then 'near'
        else 'false'
    end as verdict,
    coalesce(uncheckable_reason, case kind
        when 'sector_return' then
            sector || ' ' || window_spec || ' (' || method || ') ' || round(computed_value * 100, 2) || ' % on ' || computed_on
            || case when nearby_windows is not null then '; the stated figure holds over ' || nearby_windows else '' end
            || '; closest window: ' || best_window
        when 'sector_spread' then
            'best minus worst sector ' || round(computed_value * 100, 2) || ' pp on ' || computed_on || ' (' || extremes || ')'
        when 'forward_pe' then
            universe || ' forward P/E ' || round(computed_value, 2) || ' on ' || computed_on
            || case when matches_high_of is not null then
                '; ' || matches_high_of || ' high ' || round(high_forward_pe, 2) || ' on ' || high_date
                || case when matches_high then ' (matches)' else ' (does not match)' end
            else '' end
        else
            index_name || ' ' || fiscal_quarter || ': ' || cast(round(computed_value) as integer) || ' negative of '
            || computed_total || ' as known on ' || computed_on || ' (since ' || known_since || ')'
            || case when computed_lowest_since is not null
                then ', lowest since ' || computed_lowest_since else '' end
    end) as explanation,
    case when uncheckable_reason is null then case kind
        when 'sector_return' then sector_holds_on
        when 'sector_spread' then spread_holds_on
        when 'forward_pe' then case when coalesce(matches_high, true) then pe_holds_on end
        else guidance_holds_on
    end end as holds_on,
    case when kind = 'sector_return' then best_window end as best_window,
    cast(null as integer) as shortest_streak_for_longest_since,
    case kind
        when 'sector_return' then sector_evidence
        when 'sector_spread' then spread_evidence
        when 'forward_pe' then {{ json_text(concat_lists(
            'coalesce(pe_rows, ' ~ list_of([]) ~ ')',
            'case when high_forward_pe is not null then ' ~ list_of([record({
                'table': "'marts.fct_forward_pe_yearly'", 'universe': 'universe', 'as_of_date': 'high_date',
                'basis': "'high of ' || matches_high_of", 'forward_pe': 'high_forward_pe'
            })]) ~ ' else ' ~ list_of([]) ~ ' end'
        )) }}
        else guidance_evidence
    end as evidence
from decided
