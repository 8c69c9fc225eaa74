"""The dbt project as Dagster assets; dbt tests become asset checks."""

from collections.abc import Mapping
from typing import Any, Optional

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration import config as warehouse_config
from orchestration.defs.resources import dbt_project


class RotationDbtTranslator(DagsterDbtTranslator):
    """Models and seeds are keyed by schema and name (marts/fct_returns_daily); sources keep the
    default raw/<table> key, which is the ingest assets' key, so lineage is one graph."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> Optional[str]:
        if dbt_resource_props["resource_type"] == "seed":
            return "universe"
        return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else None


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild the incremental models from scratch and test every row (after prices were deleted by hand, say)."""


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=RotationDbtTranslator())
def rotation_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    warehouse_config.export_warehouse_for_dbt()
    # Unit tests check the SQL on fixed inputs, not the data: they run in the test suite, not on every build.
    arguments = ["build", "--exclude-resource-type", "unit_test"] + (["--full-refresh"] if config.full_refresh else [])
    yield from dbt.cli(arguments, context=context).stream()
