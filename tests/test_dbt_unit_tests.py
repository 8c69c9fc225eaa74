"""dbt's own tests of the SQL logic and of the prices' freshness, run in a scratch warehouse.

The unit tests (`unit_tests:` in dbt_project/models/*/_unit_tests.yml) check each model on hand-made
inputs. dbt reads the column types of a unit test's inputs from the warehouse, so those relations must
exist: the raw schema is created from warehouse/raw_schema.sql and every seed and model is built empty
(`dbt build --empty`) before `dbt test --select test_type:unit`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.config import DBT_PROJECT_DIR, PROJECT_ROOT
from tests.conftest import dbt_command, dbt_target

RAW_SCHEMA = PROJECT_ROOT / "warehouse" / "raw_schema.sql"
# How many unit tests the yml files define: change it with them, so that a file dbt stops finding
# (or a suite that silently shrinks) fails here.
EXPECTED_UNIT_TESTS = 50


def defined_unit_tests() -> list[str]:
    names = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        names += [test["name"] for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])]
    return names


UNIT_TESTS = defined_unit_tests()


def dbt_results(warehouse: Path, name: str, *args: str) -> list[dict]:
    """Run dbt and return the results it writes to target/<name>; fail with its output when it wrote none."""
    path = dbt_target(warehouse) / name
    path.unlink(missing_ok=True)
    result = dbt_command(warehouse, *args)
    assert path.exists(), result.stdout[-4000:] + result.stderr[-2000:]
    return json.loads(path.read_text())["results"]


@pytest.fixture(scope="session")
def scratch_warehouse(tmp_path_factory) -> Path:
    """A warehouse with the raw tables and every seed and model, all empty."""
    warehouse = tmp_path_factory.mktemp("dbt_unit_tests") / "rotation.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(RAW_SCHEMA.read_text())
    built = dbt_command(warehouse, "build", "--empty", "--exclude-resource-type", "test", "unit_test")
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]
    return warehouse


@pytest.fixture(scope="session")
def unit_test_results(scratch_warehouse) -> dict[str, dict]:
    results = dbt_results(scratch_warehouse, "run_results.json", "test", "--select", "test_type:unit")
    # The results also list the on-run-start hook (a no-op on DuckDB).
    return {result["unique_id"].split(".")[-1]: result for result in results if result["unique_id"].startswith("unit_test.")}


def test_every_unit_test_ran(unit_test_results):
    assert len(UNIT_TESTS) == EXPECTED_UNIT_TESTS, f"the yml files define {len(UNIT_TESTS)} unit tests"
    assert len(set(UNIT_TESTS)) == len(UNIT_TESTS), "two unit tests share a name"
    assert sorted(unit_test_results) == sorted(UNIT_TESTS)


@pytest.mark.parametrize("name", UNIT_TESTS)
def test_unit_test_passes(unit_test_results, name):
    assert name in unit_test_results, f"dbt did not run the unit test {name}"
    result = unit_test_results[name]
    assert result["status"] == "pass", f"{name}: {result['status']}\n{result['message']}"


@pytest.mark.parametrize(("age", "status"), [
    (timedelta(days=6), "warn"),  # a day more than the longest market closure (4 days) and the 5 allowed
    (timedelta(days=11), "error"),
])
def test_source_freshness_of_prices(scratch_warehouse, age, status):
    ingested_at = datetime.now(UTC).replace(tzinfo=None) - age  # raw tables hold UTC without a zone
    with duckdb.connect(str(scratch_warehouse)) as con:
        con.execute("DELETE FROM raw.prices_daily")
        con.execute("INSERT INTO raw.prices_daily VALUES ('^GSPC', DATE '2025-01-02', 1, 1, 1, 1, 1, 1, 'files', ?)",
                    [ingested_at])
    (freshness,) = dbt_results(scratch_warehouse, "sources.json", "source", "freshness", "--select", "source:raw.prices_daily")
    assert freshness["status"] == status
