"""Resources shared by the assets: the writer's DuckDB warehouse and the dbt project."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from orchestration import config
from orchestration.extract.base import PriceFetch
from orchestration.extract.registry import fetch_prices
from orchestration.universe import Universe
from orchestration.warehouse_writer import WarehouseHeld, exclusive_writer, waiting_log

dbt_project = DbtProject(project_dir=config.DBT_PROJECT_DIR, profiles_dir=config.DBT_PROJECT_DIR)


class PriceSources(dg.ConfigurableResource):
    """Where the prices asset gets its prices: the source registry (demo, files, yahoo). A run can
    be given another implementation (the benchmark's market at scale does that)."""

    def fetch(self, con, source: str, files: list[str], universe: Universe) -> PriceFetch:
        return fetch_prices(con, source, files, universe)


class WarehouseResource(DuckDBResource):
    """The writer's DuckDB file, held by one run at a time: a run waits for the warehouse's writer lock
    before its first step and keeps it to its end (the jobs run in one process, so the resource lives
    as long as the run), and stops before any step when a foreign process has the file open."""

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseResource]:
        def say(message: str) -> None:
            context.log.warning(message)
            waiting_log.warning(message)

        try:
            with exclusive_writer(Path(self.database), context.run_id or "an unnamed run", say):
                yield self
        except WarehouseHeld as held:
            raise dg.Failure(str(held)) from None


def warehouse_resource() -> WarehouseResource:
    return WarehouseResource(database=str(config.export_warehouse_for_dbt()), connection_config=config.duckdb_settings())


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtualenv), so an unactivated venv works too."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


class RotationDbtCliResource(DbtCliResource):
    """dbt run as a command, without the two things dagster-dbt does first that this project does not
    use: it asks `dbt --version` in a subprocess and opens a dbt adapter in this process (for its row
    count and column helpers; defs/dbt.py reads those figures from the warehouse itself). Together
    they cost about 8 s of every run."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    config.export_warehouse_for_dbt()
    return RotationDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


@dg.definitions
def resources() -> dg.Definitions:
    # One process per run: steps share the resources, so the warehouse's writer lock spans the whole run
    # (and no step pays a process start).
    return dg.Definitions(
        resources={"warehouse": warehouse_resource(), "dbt": dbt_resource(), "price_sources": PriceSources()},
        executor=dg.in_process_executor,
    )
