-- The verdict of every claim of every claims file: the int_claim_checks_* models, with the claim's source and text.
{% set check_columns = [
    'claim_file', 'claim_id', 'kind', 'as_of', 'computed_on', 'stated_value', 'computed_value', 'verdict',
    'explanation', 'holds_on', 'best_window', 'shortest_streak_for_longest_since', 'evidence'
] %}
with checks as (
    {%- for model in ['int_claim_checks_prices', 'int_claim_checks_other'] %}
    select {{ check_columns | join(', ') }}
    from {{ ref(model) }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
)

select
    checks.claim_file::string as claim_file,
    checks.claim_id::string as claim_id,
    claims.source::string as source,
    claims.claim_text::string as claim_text,
    checks.kind::string as kind,
    checks.as_of::date as as_of,
    checks.computed_on::date as computed_on,
    checks.stated_value::double as stated_value,
    checks.computed_value::double as computed_value,
    checks.verdict::string as verdict,
    checks.explanation::string as explanation,
    checks.holds_on::string as holds_on,
    checks.best_window::string as best_window,
    checks.shortest_streak_for_longest_since::integer as shortest_streak_for_longest_since,
    checks.evidence::string as evidence
from checks
inner join {{ ref('stg_claims') }} as claims using (claim_file, claim_id)
