{#
  The few SQL constructs that DuckDB and Spark spell differently, one dispatch macro each, so that every
  model has one copy for both engines. dbt's own cross-database macros are used where they exist and
  agree on both engines (dbt.datediff...); these cover the rest. Each is exercised on both engines by the
  models' unit tests and by `make test-spark` (a Spark build compared row for row with the DuckDB build).
#}

{#
  The value of `value` on the row where `ordering` is greatest (rows whose ordering is null are skipped;
  a null value on that row is returned as null, not skipped). `ordering` is one expression or a list of
  expressions compared left to right. DuckDB's arg_max skips null values; arg_max_null and Spark's max_by do not.
#}
{% macro value_at_max(value, ordering) %}
    {{- return(adapter.dispatch('value_at_max')(value, ordering)) -}}
{% endmacro %}

{% macro duckdb__value_at_max(value, ordering) -%}
    arg_max_null({{ value }}, {{ ordered_tuple(ordering) }})
{%- endmacro %}

{% macro spark__value_at_max(value, ordering) -%}
    max_by({{ value }}, {{ ordered_tuple(ordering) }})
{%- endmacro %}

{# The same on the row where `ordering` is least. #}
{% macro value_at_min(value, ordering) %}
    {{- return(adapter.dispatch('value_at_min')(value, ordering)) -}}
{% endmacro %}

{% macro duckdb__value_at_min(value, ordering) -%}
    arg_min_null({{ value }}, {{ ordered_tuple(ordering) }})
{%- endmacro %}

{% macro spark__value_at_min(value, ordering) -%}
    min_by({{ value }}, {{ ordered_tuple(ordering) }})
{%- endmacro %}

{# Several expressions as one value that orders like them, left to right (one expression: itself). #}
{% macro ordered_tuple(expressions) %}
    {%- if expressions is string -%}
        {{- return(expressions) -}}
    {%- endif -%}
    {{- return(adapter.dispatch('ordered_tuple')(expressions)) -}}
{% endmacro %}

{% macro duckdb__ordered_tuple(expressions) -%}
    row({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__ordered_tuple(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}

{# The values of `expression` joined by `separator`, in the order of `order_by` (an ORDER BY list without the keywords). #}
{% macro ordered_string_agg(expression, separator, order_by) %}
    {{- return(adapter.dispatch('ordered_string_agg')(expression, separator, order_by)) -}}
{% endmacro %}

{% macro duckdb__ordered_string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_string_agg(expression, separator, order_by) -%}
    listagg({{ expression }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}

{# printf-style formatting (`%.1f`, `%d`, `%s`): DuckDB's printf, Spark's format_string. #}
{% macro format_text(format, arguments) %}
    {{- return(adapter.dispatch('format_text')(format, arguments)) -}}
{% endmacro %}

{% macro duckdb__format_text(format, arguments) -%}
    printf({{ format }}, {{ arguments | join(', ') }})
{%- endmacro %}

{% macro spark__format_text(format, arguments) -%}
    format_string({{ format }}, {{ arguments | join(', ') }})
{%- endmacro %}

{# Whether the whole of `text` matches the regular expression `pattern`. #}
{% macro matches_fully(text, pattern) %}
    {{- return(adapter.dispatch('matches_fully')(text, pattern)) -}}
{% endmacro %}

{% macro duckdb__matches_fully(text, pattern) -%}
    regexp_full_match({{ text }}, {{ pattern }})
{%- endmacro %}

{% macro spark__matches_fully(text, pattern) -%}
    regexp_like({{ text }}, concat('^(?:', {{ pattern }}, ')$'))
{%- endmacro %}

{# The product of `expression` over the window `window` (a window name or a parenthesised spec); null values are skipped, all null gives null. #}
{% macro window_product(expression, window) %}
    {{- return(adapter.dispatch('window_product')(expression, window)) -}}
{% endmacro %}

{% macro duckdb__window_product(expression, window) -%}
    product({{ expression }}) over {{ window }}
{%- endmacro %}

{% macro spark__window_product(expression, window) -%}
    case when count({{ expression }}) over {{ window }} > 0 then
        aggregate(collect_list({{ expression }}) over {{ window }}, cast(1 as double), (product, factor) -> product * factor)
    end
{%- endmacro %}
