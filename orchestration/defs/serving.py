"""Serving assets: the readers' snapshot of the marts, and the dashboard's data read from it."""

from pathlib import Path

import dagster as dg

from orchestration import config
from orchestration.defs.dbt import rotation_dbt_assets
from orchestration.defs.resources import WarehouseResource
from orchestration.serve.snapshot import (
    connect_snapshot,
    current_duckdb_file,
    publish_snapshot,
)

MART_KEYS = sorted((key for key in rotation_dbt_assets.keys if key.path[0] == "marts"), key=lambda k: k.path)


@dg.asset(
    key=["serving", "marts_snapshot"],
    group_name="serving",
    kinds={"duckdb", "parquet"},
    deps=MART_KEYS,
    description="Read-only copy of every mart (DuckDB file in the 1.0 storage format, plus Parquet files per mart and year), "
    "published atomically for rotation sql, the report, the dashboard and BI tools; only the years that changed are rewritten.",
)
def marts_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    snapshot = publish_snapshot(Path(warehouse.database), config.serving_folder())
    context.log.info(f"published snapshot {snapshot.snapshot_id} to {snapshot.folder} ({snapshot.written})")
    return dg.MaterializeResult(metadata={
        "snapshot_id": snapshot.snapshot_id,
        "built_at": snapshot.built_at.isoformat(),
        "written": snapshot.written,
        "path": dg.MetadataValue.path(str(current_duckdb_file(config.serving_folder()))),
        "row_counts": dg.MetadataValue.json(snapshot.row_counts),
    })


@dg.asset(
    key=["serving", "dashboard"],
    group_name="serving",
    kinds={"streamlit"},
    deps=[marts_snapshot],
    description="The Market Rotation dashboard's data (`make dashboard`): every panel's query run against the new snapshot.",
)
def dashboard_data(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from orchestration.serve import (
        dashboard_queries as data,  # the dashboard's own queries: this asset fails when a panel would
    )

    with connect_snapshot(config.serving_folder()) as con:
        panels = data.panel_row_counts(con)
        latest = data.latest_complete_session(con)
    context.log.info(f"dashboard panels: {panels}")
    return dg.MaterializeResult(metadata={
        "latest_session": str(latest),
        "panel_rows": dg.MetadataValue.json(panels),
    })
