{#
  dbt's `where` config of a data test, with one addition: `where: latest_load` tests only the rows of
  the latest load of prices, those stamped no earlier than the first ingested_at that load recorded in
  raw.load_log (stg_load_log). A daily refresh then tests the session it added, not decades of rows that
  earlier builds already tested; a first build tests every row, all of them being the latest load, and so
  does `dbt build --full-refresh`. With no load of prices recorded, every row is tested. The tested
  relation needs an ingested_at column (the price's, or the latest of the prices a row is built from).
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'latest_load' -%}
        {%- set where = '' if flags.FULL_REFRESH else latest_load_filter() -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#
  `ingested_at >= ` the first ingested_at the latest load of prices stamped (a backfill's load spans
  several; with no load recorded, every row passes). The log is read through stg_load_log, found in the
  graph: a ref() here would be resolved only when the test runs, which dbt refuses for a dependency the
  test does not declare. Before the view's first build it returns '' (every row): that is a first build,
  whose every row is the latest load anyway.
#}
{% macro latest_load_filter() -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.stg_load_log'] -%}
    {%- set log = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if log is none -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do return(
        "ingested_at >= (select coalesce(min(ingested_at), '1900-01-01'::timestamp) from " ~ log
        ~ " where table_name = 'raw.prices_daily' and load_id = (select load_id from " ~ log
        ~ " where table_name = 'raw.prices_daily' order by seq desc limit 1))"
    ) -%}
{%- endmacro %}
