{#
  A portable as-of join (DuckDB's ASOF JOIN has no Spark counterpart): for every row of `probes`, the
  greatest `candidate_column` of `candidates` that is on or before its `probe_column`, within the same
  `partition_by` columns (both relations have them). Returns the partition columns, the probe's value under
  its own name, and `matched` (null when no candidate is that early); probes whose value is null are left out. Join the candidates back on
  `matched` for their other columns. One sorted pass over both relations, no inequality join.
#}
{% macro asof_match(probes, probe_column, candidates, candidate_column, partition_by=[]) %}
    {%- set keys = partition_by | join(', ') -%}
    {%- set key_list = (keys ~ ', ') if keys else '' -%}
(
    select {{ key_list }}mark as {{ probe_column }}, matched
    from (
        select
            {{ key_list }}mark,
            is_probe,
            max(candidate) over (
                {% if keys %}partition by {{ keys }}{% endif %}
                order by mark, is_probe rows between unbounded preceding and current row
            ) as matched
        from (
            select {{ key_list }}{{ probe_column }} as mark, 1 as is_probe, cast(null as date) as candidate
            from {{ probes }}
            where {{ probe_column }} is not null
            union all
            select {{ key_list }}{{ candidate_column }} as mark, 0 as is_probe, {{ candidate_column }} as candidate
            from {{ candidates }}
        ) as marks
    ) as running
    where is_probe = 1
)
{% endmacro %}
