{#
  Lists, records and their JSON text, spelled for each engine (see portable_sql.sql for the scalar
  constructs). The claim checks keep their evidence as JSON text built from these, and that text parses to
  the same value on both engines: keys in the order given, null fields written as null, lists in a stated
  order. Only numbers may be spelled differently (Spark writes 9.7E-4 where DuckDB writes 0.00097).
#}

{# A record with named fields, in the order given: `fields` maps each name to a SQL expression. #}
{% macro record(fields) %}
    {{- return(adapter.dispatch('record')(fields)) -}}
{% endmacro %}

{% macro duckdb__record(fields) -%}
    {
    {%- for name, expression in fields.items() -%}
        '{{ name }}': {{ expression }}{{ ', ' if not loop.last }}
    {%- endfor -%}
    }
{%- endmacro %}

{% macro spark__record(fields) -%}
    named_struct(
    {%- for name, expression in fields.items() -%}
        '{{ name }}', {{ expression }}{{ ', ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}

{# A list of the given SQL expressions (none: the empty list). #}
{% macro list_of(items) %}
    {{- return(adapter.dispatch('list_of')(items)) -}}
{% endmacro %}

{% macro duckdb__list_of(items) -%}
    [{{ items | join(', ') }}]
{%- endmacro %}

{% macro spark__list_of(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}

{# The elements of list `first` then those of list `second`; null when either is null. #}
{% macro concat_lists(first, second) %}
    {{- return(adapter.dispatch('concat_lists')(first, second)) -}}
{% endmacro %}

{% macro duckdb__concat_lists(first, second) -%}
    ({{ first }} || {{ second }})
{%- endmacro %}

{% macro spark__concat_lists(first, second) -%}
    concat({{ first }}, {{ second }})
{%- endmacro %}

{# Aggregate: `expression` of the rows where `where` holds, as a list ordered by `order_by` (ascending, never null); null when no row. #}
{% macro ordered_list(expression, order_by, where=none) %}
    {{- return(adapter.dispatch('ordered_list')(expression, order_by, where)) -}}
{% endmacro %}

{% macro duckdb__ordered_list(expression, order_by, where) -%}
    list({{ expression }} order by {{ order_by if order_by is string else order_by | join(', ') }})
    {%- if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}

{#- collect_list has no order and skips nulls: each value is collected in a record with its ordering, sorted, taken out -#}
{% macro spark__ordered_list(expression, order_by, where) -%}
    {%- set filter_clause = ' filter (where ' ~ where ~ ')' if where else '' -%}
    case when count(*){{ filter_clause }} > 0 then transform(
        array_sort(collect_list(named_struct('k', {{ ordered_tuple(order_by) }}, 'v', {{ expression }})){{ filter_clause }}),
        element -> element.v
    ) end
{%- endmacro %}

{# Aggregate: the distinct values of `expression` as a list sorted ascending (records field by field); null when no row. #}
{% macro sorted_distinct_list(expression) %}
    {{- return(adapter.dispatch('sorted_distinct_list')(expression)) -}}
{% endmacro %}

{% macro duckdb__sorted_distinct_list(expression) -%}
    list_sort(list(distinct {{ expression }}))
{%- endmacro %}

{% macro spark__sorted_distinct_list(expression) -%}
    case when count(*) > 0 then array_sort(collect_set({{ expression }})) end
{%- endmacro %}

{# The JSON text of a value (a record, a list of records...), a string; null fields are written as null. #}
{% macro json_text(expression) %}
    {{- return(adapter.dispatch('json_text')(expression)) -}}
{% endmacro %}

{% macro duckdb__json_text(expression) -%}
    cast(to_json({{ expression }}) as string)
{%- endmacro %}

{% macro spark__json_text(expression) -%}
    to_json({{ expression }}, map('ignoreNullFields', 'false'))
{%- endmacro %}

{# In a select list: one row for each integer from `start` to `stop`, both included (the integer as the column). #}
{% macro each_integer(start, stop) %}
    {{- return(adapter.dispatch('each_integer')(start, stop)) -}}
{% endmacro %}

{% macro duckdb__each_integer(start, stop) -%}
    unnest(generate_series({{ start }}, {{ stop }}))
{%- endmacro %}

{% macro spark__each_integer(start, stop) -%}
    explode(sequence({{ start }}, {{ stop }}))
{%- endmacro %}

{# Aggregate: the distinct non-null values of `expression`, sorted, joined by `separator`; null when there is none. #}
{% macro distinct_string_agg(expression, separator) %}
    {{- return(adapter.dispatch('distinct_string_agg')(expression, separator)) -}}
{% endmacro %}

{% macro duckdb__distinct_string_agg(expression, separator) -%}
    string_agg(distinct {{ expression }}, {{ separator }} order by {{ expression }})
{%- endmacro %}

{#- Spark fails on two listagg(distinct ...) of different expressions in one query: a set is collected instead -#}
{% macro spark__distinct_string_agg(expression, separator) -%}
    case when count({{ expression }}) > 0 then array_join(array_sort(collect_set({{ expression }})), {{ separator }}) end
{%- endmacro %}
