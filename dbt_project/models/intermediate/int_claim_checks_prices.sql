-- Placeholder until the price-based claim checks (streak, return, relative_return, cohort_return) land:
-- no rows, the columns of every int_claim_checks_* model.
select
    cast(null as varchar) as claim_file,
    cast(null as varchar) as claim_id,
    cast(null as varchar) as kind,
    cast(null as date) as as_of,
    cast(null as date) as computed_on,
    cast(null as double) as stated_value,
    cast(null as double) as computed_value,
    cast(null as varchar) as verdict,
    cast(null as varchar) as explanation,
    cast(null as varchar) as holds_on,
    cast(null as varchar) as best_window,
    cast(null as integer) as shortest_streak_for_longest_since,
    cast(null as varchar) as evidence
where false
