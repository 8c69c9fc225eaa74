{#- The rows of a claim-check CTE (one per claim and session, numbered `rn` in date order within each claim)
    that lie within `sessions` of the claim's own session (`computed_on` of `claims`), with their offset
    from it (`session_offset`: -sessions .. +sessions). -#}
{% macro claim_look_around(rows, claims, sessions) %}
    select {{ rows }}.*, {{ rows }}.rn - anchor.rn as session_offset
    from {{ rows }}
    inner join {{ claims }} using (claim_file, claim_id)
    inner join {{ rows }} as anchor
        on anchor.claim_file = {{ rows }}.claim_file and anchor.claim_id = {{ rows }}.claim_id
        and anchor.date = {{ claims }}.computed_on
    where {{ rows }}.rn between anchor.rn - {{ sessions }} and anchor.rn + {{ sessions }}
{% endmacro %}
