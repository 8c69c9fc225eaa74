"""The dbt project as Dagster assets; dbt tests become asset checks.

Each materialization carries the table's row count and its columns with their types, read from the
warehouse once dbt has finished (dbt holds the warehouse file while it runs).

With ROTATION_ENGINE=spark, dbt builds on Spark: the raw tables are first written as Parquet for it
(land/raw_parquet.py), and after the build the marts are copied back into the DuckDB warehouse
(spark_marts.py), which the serving snapshot and every reader use whatever the engine. A build with an
error copies nothing: the warehouse keeps the marts of the last good build.
"""

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration import config as warehouse_config
from orchestration.defs.resources import dbt_project
from orchestration.land.raw_parquet import export_raw_tables
from orchestration.spark_marts import import_marts

GENERIC_TEST_TEXT = {
    "not_null": "`{column_name}` is never null",
    "unique": "`{column_name}` is unique",
    "accepted_values": "`{column_name}` only takes the values {values}",
    "relationships": "every `{column_name}` exists in {to}.{field}",
    "unique_combination_of_columns": "one row per {combination_of_columns}",
}


def check_description(test: Mapping[str, Any]) -> str:
    """The dbt test's own description, else what its generic test asserts, with its severity."""
    severity = (test.get("config", {}).get("severity") or "error").lower()
    outcome = "a failure blocks the models downstream" if severity == "error" else "a failure warns; the data stays"
    if test.get("description"):
        return f"{test['description']} ({outcome})"
    generic = test.get("test_metadata") or {}
    kwargs = {k: ", ".join(map(str, v)) if isinstance(v, list) else v
              for k, v in generic.get("kwargs", {}).items() if k != "model"}
    template = GENERIC_TEST_TEXT.get(generic.get("name", ""))
    if template:
        try:
            return f"{template.format(**kwargs)} ({outcome})"
        except KeyError:
            pass
    return f"dbt test {test['name']}: the rows it selects are failures ({outcome})"


class RotationDbtTranslator(DagsterDbtTranslator):
    """Models and seeds are keyed by schema and name (marts/fct_returns_daily); sources keep the
    default raw/<table> key, which is the ingest assets' key, so lineage is one graph."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "calendar" if dbt_resource_props["original_file_path"].startswith("calendar/") else "universe"
        return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else None

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=check_description(manifest["nodes"][unique_id]))


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild the incremental models from scratch and test every row (after prices were deleted by hand, say)."""


def with_table_metadata(context: dg.AssetExecutionContext, events: list, warehouse: DuckDBResource) -> Iterator:
    """`events` with each materialized table's row count and column schema added (models and seeds
    are keyed by schema and name)."""
    with warehouse.get_connection() as con:
        for event in events:
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
                schema, name = key.path
                declared = context.assets_def.metadata_by_key.get(key, {}).get("dagster/column_schema")
                described = {c.name: c.description for c in declared.columns} if declared else {}
                columns = con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, name],
                ).fetchall()
                if columns:
                    rows = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
                    event = event.with_metadata({
                        **event.metadata,
                        "dagster/row_count": rows,
                        "dagster/column_schema": dg.TableSchema(
                            columns=[dg.TableColumn(c, t, description=described.get(c)) for c, t in columns]
                        ),
                        "dagster/table_name": f"{schema}.{name}",
                    })
            yield event


def start_from_project_parse_cache(target: Path) -> None:
    """A warehouse's first run starts from the parse cache `make prepare` left beside the manifest
    (orchestration/dbt_parse.py). dbt uses it only if the profile, its variables and the project's files are
    those it was parsed with, and parses the whole project otherwise, as without it."""
    cache = dbt_project.manifest_path.with_name("partial_parse.msgpack")
    if cache.exists() and not (target / cache.name).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, target / cache.name)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=RotationDbtTranslator())
def rotation_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBResource, config: DbtBuildConfig
):
    warehouse_config.export_warehouse_for_dbt()
    engine = warehouse_config.engine()
    if engine == "spark":
        with warehouse.get_connection() as con:
            written = export_raw_tables(con, warehouse_config.spark_raw_folder())
        context.log.info(f"raw tables written as Parquet for Spark to {warehouse_config.spark_raw_folder()}: {written}")
    # Unit tests check the SQL on fixed inputs, not the data: they run in the test suite, not on every build.
    arguments = ["build", "--exclude-resource-type", "unit_test"] + (["--full-refresh"] if config.full_refresh else [])
    events = []
    start_from_project_parse_cache(warehouse_config.dbt_target_folder())
    try:
        invocation = dbt.cli(arguments, context=context, target_path=warehouse_config.dbt_target_folder())
        for event in invocation.stream():
            events.append(event)
        if engine == "spark":
            with warehouse.get_connection() as con:
                copied = import_marts(con, invocation.get_artifact("manifest.json"))
            context.log.info(f"marts copied from Spark into the warehouse: {copied}")
    finally:
        # Also after a failed build: what did materialize is reported, with its table's figures.
        yield from with_table_metadata(context, events, warehouse)
