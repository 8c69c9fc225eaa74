"""Acceptance of the Spark engine: the demo market built by `rotation run` on Spark and on DuckDB gives the same
marts, and a one-session refresh on Spark rewrites only the latest year of each incremental model.

Needs a Spark Thrift server (ROTATION_SPARK_HOST/PORT): `make test-spark` starts one and runs this module.
Two warehouses in a temporary folder, one per engine, each landed up to the session before the demo's end
(ROTATION_DEMO_END_DATE), built, compared; then both refreshed with the demo's last session and compared again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import numpy as np
import pandas as pd
import pytest
from tabulate import tabulate

from orchestration.spark_marts import Mart, fetch, mart_models, spark_cursor

pytestmark = pytest.mark.spark

ROTATION = str(Path(sys.executable).parent / "rotation")
SESSION_BEFORE_THE_END = "2026-11-19"
RELATIVE_TOLERANCE = 1e-9
ENGINES = ("duckdb", "spark")


def rotation_run(warehouse: Path, engine: str, end_date: str | None, *options: str) -> dict:
    """`rotation run` on `warehouse` with the engine and the demo's end date; dbt's run_results.json of the build."""
    env = {**os.environ, "ROTATION_WAREHOUSE": str(warehouse), "ROTATION_ENGINE": engine}
    for name in ("ROTATION_SOURCE", "ROTATION_FILES", "ROTATION_SERVING", "DAGSTER_HOME", "ROTATION_SPARK_RAW",
                 "ROTATION_DEMO_END_DATE"):
        env.pop(name, None)
    if end_date:
        env["ROTATION_DEMO_END_DATE"] = end_date
    result = subprocess.run([ROTATION, "run", *options], env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"rotation run on {engine}:\n" + result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((target_folder(warehouse, engine) / "run_results.json").read_text())


def target_folder(warehouse: Path, engine: str) -> Path:
    """dbt's target folder of a warehouse's builds on an engine (config.dbt_target_folder)."""
    return warehouse.with_name(warehouse.name + (".dbt" if engine == "duckdb" else f".dbt-{engine}"))


def manifest(warehouse: Path) -> dict:
    return json.loads((target_folder(warehouse, "spark") / "manifest.json").read_text())


def grains(manifest: dict) -> dict[str, list[str]]:
    """Each model's grain, from its unique_combination_of_columns (or single-column unique) test."""
    found = {}
    for node in manifest["nodes"].values():
        test = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        model = node["attached_node"].rsplit(".", 1)[-1]
        if test.get("name") == "unique_combination_of_columns":
            found[model] = list(test["kwargs"]["combination_of_columns"])
        elif test.get("name") == "unique" and model not in found:
            found[model] = [test["kwargs"]["column_name"]]
    return found


def duckdb_mart(warehouse: Path, mart: Mart) -> pd.DataFrame:
    columns = ", ".join(f'"{name}"' for name in mart.columns)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(f"SELECT {columns} FROM {mart.relation}").to_arrow_table().to_pandas()


def sorted_rows(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    # The grain first; every other column after it, so that a mart without a grain sorts too.
    order = key + [c for c in frame.columns if c not in key]
    return frame.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def difference(mart: str, left: pd.DataFrame, right: pd.DataFrame, key: list[str], nulls_only: tuple[str, ...] = ()) -> float:
    """The largest relative difference of a float between the two frames; fails on any other difference.
    The columns `nulls_only` are compared for their nulls only."""
    assert len(left) == len(right), f"{mart}: {len(left)} rows against {len(right)}"
    left, right = sorted_rows(left, key), sorted_rows(right, key)
    largest = 0.0
    for column in left.columns:
        a, b = left[column], right[column]
        assert (a.isna() == b.isna()).all(), f"{mart}.{column}: nulls differ at rows {list(np.flatnonzero(a.isna() != b.isna()))[:5]}"
        if column in nulls_only:
            continue
        if pd.api.types.is_float_dtype(a):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            both = ~np.isnan(x) & ~np.isnan(y)
            scale = np.maximum(np.abs(x[both]), np.abs(y[both]))
            relative = np.abs(x[both] - y[both]) / np.where(scale > 0, scale, 1.0)
            if relative.size:
                largest = max(largest, float(relative.max()))
                worst = int(relative.argmax())
                assert relative.max() <= RELATIVE_TOLERANCE, (
                    f"{mart}.{column}: {x[both][worst]} against {y[both][worst]} (row {left.loc[both].iloc[worst][key].to_dict()})")
        else:
            unequal = ~(a.isna() | (a == b))
            assert not unequal.any(), f"{mart}.{column}: {a[unequal].iloc[0]!r} against {b[unequal].iloc[0]!r}"
    return largest


def compare_marts(warehouses: dict[str, Path]) -> list[list]:
    """Every mart read from Spark against the DuckDB engine's warehouse and against the Spark warehouse's copy."""
    built = manifest(warehouses["spark"])
    grain = grains(built)
    rows = []
    with spark_cursor() as cursor:
        for mart in mart_models(built):
            on_spark = fetch(mart.relation, mart.columns, cursor).to_pandas()
            key = grain.get(mart.name, [])
            # Each warehouse stamps the rows it lands with its own time: a timestamp (ingested_at) differs between them.
            stamps = tuple(name for name, kind in mart.columns.items() if kind.lower().startswith("timestamp"))
            largest = difference(mart.name, on_spark, duckdb_mart(warehouses["duckdb"], mart), key, stamps)
            copied = difference(f"{mart.name} (copied into DuckDB)", on_spark, duckdb_mart(warehouses["spark"], mart), key)
            rows.append([mart.relation, len(on_spark), largest, copied])
    return rows


def incremental_models(manifest: dict) -> list[str]:
    return sorted(f"{n['schema']}.{n['alias'] or n['name']}" for n in manifest["nodes"].values()
                  if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental")


def partition_files(cursor, relation: str) -> dict[str, frozenset[str]]:
    """The data files of each partition folder (partition_year=YYYY) of a Spark table on this machine."""
    cursor.execute(f"describe formatted {relation}")
    [location] = [row[1].strip() for row in cursor.fetchall() if (row[0] or "").strip() == "Location"]
    url = urlparse(location)
    assert url.scheme in ("file", ""), f"{relation} is stored at {location}: the harness lists local folders only"
    folder = Path(url.path)
    return {p.name: frozenset(f.name for f in p.iterdir() if not f.name.startswith((".", "_")))
            for p in folder.iterdir() if p.is_dir() and p.name.startswith("partition_year=")}


def build_times(results: dict[str, dict]) -> str:
    return "dbt build: " + ", ".join(f"{engine} {results[engine]['elapsed_time']:.1f} s" for engine in ENGINES)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> dict[str, Path]:
    """One warehouse per engine, landed up to the session before the demo's end and built from scratch
    (--full-refresh: the Spark server may keep tables of an earlier run)."""
    folder = tmp_path_factory.mktemp("engines")
    found = {engine: folder / engine / "rotation.duckdb" for engine in ENGINES}
    results = {engine: rotation_run(path, engine, SESSION_BEFORE_THE_END, "--full-refresh") for engine, path in found.items()}
    print(f"\nFirst build (demo up to {SESSION_BEFORE_THE_END}), {build_times(results)}")
    return found


def test_the_marts_built_on_spark_match_duckdb(warehouses):
    rows = compare_marts(warehouses)
    print(tabulate(rows, headers=["mart", "rows compared", "max rel. diff vs DuckDB", "max rel. diff of the copy"],
                   floatfmt=".1e"))
    assert len(rows) >= 10


def test_a_one_session_refresh_rewrites_only_the_latest_year(warehouses):
    incremental = incremental_models(manifest(warehouses["spark"]))
    with spark_cursor() as cursor:
        before = {model: partition_files(cursor, model) for model in incremental}
    results = {engine: rotation_run(path, engine, None) for engine, path in warehouses.items()}
    print(f"\nRefresh with the demo's last session, {build_times(results)}")
    rows_affected = {r["unique_id"].rsplit(".", 1)[-1]: r["adapter_response"].get("rows_affected")
                     for r in results["duckdb"]["results"]}
    table, rewritten = [], {}
    with spark_cursor() as cursor:
        for model in incremental:
            after = partition_files(cursor, model)
            assert after, f"{model} has no partition_year=... folders on Spark: it should be partitioned by partition_year"
            changed = sorted(p for p in before[model].keys() | after.keys() if before[model].get(p) != after.get(p))
            years = [int(p.split("=")[1]) for p in changed]
            spark_rows = 0
            if years:
                cursor.execute(f"select count(*) from {model} where partition_year in ({', '.join(map(str, years))})")
                spark_rows = cursor.fetchone()[0]
            rewritten[model] = (years, max(int(p.split("=")[1]) for p in after))
            table.append([model, rows_affected.get(model.split(".")[1]), spark_rows, ", ".join(map(str, years))])
    print(tabulate(table, headers=["incremental model", "DuckDB rows written", "Spark rows in rewritten partitions",
                                   "Spark partitions rewritten"]))
    for model, (years, latest) in rewritten.items():
        assert years == [latest], f"{model}: the refresh rewrote the partitions of {years}, not only {latest}"
    rows = compare_marts(warehouses)
    print(tabulate(rows, headers=["mart", "rows compared", "max rel. diff vs DuckDB", "max rel. diff of the copy"],
                   floatfmt=".1e"))
