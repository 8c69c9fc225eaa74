{#
  dbt's `where` config of a data test, with one addition: `where: latest_load` tests only the rows of
  the latest load, those whose ingested_at is the table's latest. A daily refresh then tests the session
  it added, not decades of rows that earlier builds already tested (a first build tests every row, all
  of them being the latest load; `dbt build --full-refresh` tests every row).
#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'latest_load' -%}
        {%- set where = '' if flags.FULL_REFRESH else 'ingested_at >= (select max(ingested_at) from ' ~ relation ~ ')' -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
