{#
  On Spark, the raw layer is the Parquet the ingest writes (one folder per raw table under
  ROTATION_SPARK_RAW, see orchestration/land/raw_parquet.py). Before each run, every source table of the
  `raw` source is registered afresh as a table over its folder, so Spark lists the files written since.
  Dropping such a table leaves its files alone. On DuckDB the ingest writes the raw tables themselves:
  nothing to do.
#}
{% macro register_raw_tables() %}
    {{ return(adapter.dispatch('register_raw_tables')()) }}
{% endmacro %}

{% macro default__register_raw_tables() %}
{% endmacro %}

{% macro spark__register_raw_tables() %}
    {% if execute %}
        {% set location = env_var('ROTATION_SPARK_RAW', '') %}
        {% if not location %}
            {{ exceptions.raise_compiler_error(
                "ROTATION_SPARK_RAW is not set: it must name the folder (or URI) where the ingest wrote the raw "
                ~ "tables as Parquet (`rotation run` with ROTATION_ENGINE=spark sets it).") }}
        {% endif %}
        {% do run_query('create database if not exists raw') %}
        {% for source in graph.sources.values() if source.source_name == 'raw' %}
            {% do run_query('drop table if exists raw.' ~ source.name) %}
            {% do run_query("create table raw." ~ source.name ~ " using parquet location '"
                ~ location.rstrip('/') ~ "/" ~ source.name ~ "'") %}
        {% endfor %}
    {% endif %}
{% endmacro %}
