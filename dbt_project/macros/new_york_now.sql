{# The current wall-clock time in New York, as a timestamp without time zone (the NYSE's local time). #}
{% macro new_york_now() %}
    {{ return(adapter.dispatch('new_york_now')()) }}
{% endmacro %}

{% macro default__new_york_now() %}
    from_utc_timestamp(current_timestamp(), 'America/New_York')
{% endmacro %}

{% macro duckdb__new_york_now() %}
    timezone('America/New_York', current_timestamp)
{% endmacro %}
