"""Shared helpers: build a warehouse from hand-made prices and run dbt against it."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yfinance as yf
from filelock import FileLock
from pytest_httpserver import HTTPServer
from yahoo_stub import stand_in_for_yahoo

from orchestration.config import DBT_PROJECT_DIR, DBT_WAREHOUSE_ENV
from orchestration.defs.resources import dbt_executable
from orchestration.extract.yahoo import yahoo_base_urls
from orchestration.land.tables import PRICES
from orchestration.land.upsert import upsert

REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "reference-data"


def prices_frame(rows: list[tuple], source: str = "files") -> pd.DataFrame:
    """rows: (ticker, 'YYYY-MM-DD', close, adj_close or None)."""
    frame = pd.DataFrame(rows, columns=["ticker", "date", "close", "adj_close"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["open"] = frame["high"] = frame["low"] = frame["close"]
    frame["volume"] = pd.array([1000] * len(frame), dtype="Int64")
    frame["source"] = source
    return frame


def load_prices(warehouse: Path, rows: list[tuple], source: str = "files") -> None:
    with duckdb.connect(str(warehouse)) as con:
        upsert(con, PRICES.name, prices_frame(rows, source), source, ingested_at=datetime.now())


def delete_price(warehouse: Path, ticker: str, day: str) -> None:
    """Delete one stored price the way the ingest does (the source's new history of the ticker lacks it),
    recorded in raw.load_log."""
    with duckdb.connect(str(warehouse)) as con:
        kept = con.execute(
            "SELECT * EXCLUDE (ingested_at) FROM raw.prices_daily WHERE ticker = ? AND date <> ?::DATE", [ticker, day]
        ).df()
        [(source,)] = con.execute("SELECT source FROM raw.prices_daily WHERE ticker = ? AND date = ?::DATE", [ticker, day]).fetchall()
        upsert(con, PRICES.name, kept, source, ingested_at=datetime.now(), replace=[ticker])


def latest_load_changes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """What the incremental models read of raw.load_log: for each ticker the latest price load
    inserted, changed or deleted rows of, the earliest such date (columns ticker, from_date)."""
    return con.execute(
        """
        SELECT partition_value AS ticker, min(least(changed_from, deleted_from)) AS from_date
        FROM raw.load_log
        WHERE table_name = ? AND load_id = (SELECT load_id FROM raw.load_log WHERE table_name = ? ORDER BY seq DESC LIMIT 1)
        GROUP BY ticker ORDER BY ticker
        """,
        [PRICES.name, PRICES.name],
    ).df()


# dbt's parse cache is only valid for the profile that wrote it, and the profile names the warehouse
# file. So dbt runs each test's warehouse from one folder per name in this process: the project is
# parsed once per process and warehouse name, not once per test.
DBT_WORKSPACE = Path(tempfile.gettempdir()) / f"rotation-tests-dbt-{os.getpid()}"
atexit.register(shutil.rmtree, DBT_WORKSPACE, ignore_errors=True)


def dbt_target(warehouse: Path) -> Path:
    """The target folder of dbt's runs on `warehouse` (run_results.json, sources.json)."""
    return DBT_WORKSPACE / warehouse.stem / "target"


def dbt_command(warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    """Run dbt on `warehouse` (moved into the workspace while dbt runs) and return its result."""
    folder = DBT_WORKSPACE / warehouse.stem
    folder.mkdir(parents=True, exist_ok=True)
    files = [(warehouse.with_name(warehouse.name + suffix), folder / (warehouse.name + suffix)) for suffix in ("", ".wal")]
    for home, there in files:
        if home.exists():
            shutil.move(home, there)
    try:
        return subprocess.run(
            [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(folder / "target"), "--log-path", str(folder / "logs"), "--no-use-colors"],
            env={**os.environ, DBT_WAREHOUSE_ENV: str(files[0][1])}, capture_output=True, text=True,
        )
    finally:
        for home, there in files:
            if there.exists():
                shutil.move(there, home)


def run_dbt(warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    """Run dbt on `warehouse` and fail on an error; a build leaves the unit tests out (tests/test_dbt_unit_tests.py runs them)."""
    if args and args[0] == "build" and "--exclude-resource-type" not in args and "test_type:unit" not in args:
        args = (*args, "--exclude-resource-type", "unit_test")
    result = dbt_command(warehouse, *args)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def query(warehouse: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).df()


@pytest.fixture
def con(tmp_path):
    """A connection to an empty warehouse file of the test's own."""
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def clock(monkeypatch):
    """Makes ingest stamp rows with a chosen UTC time: call clock(naive_utc_datetime) before each run."""
    from orchestration.land import prices as price_ingest

    current: dict[str, datetime] = {}
    monkeypatch.setattr(price_ingest, "now_utc", lambda: current["now"])
    return lambda when: current.update(now=when)


@pytest.fixture
def reference_data() -> Path:
    if not REFERENCE_DATA.is_dir():
        pytest.skip("the shared reference data is not beside this checkout")
    return REFERENCE_DATA


@pytest.fixture(scope="session", autouse=True)
def default_engine():
    """The suite builds on DuckDB with the whole demo market, whatever the shell exported (tests/spark sets
    the engine and the demo's end for each of its runs)."""
    saved = {name: os.environ.pop(name) for name in ("ROTATION_ENGINE", "ROTATION_DEMO_END_DATE", "ROTATION_SPARK_RAW")
             if name in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session", autouse=True)
def private_yfinance_cache(tmp_path_factory):
    """Keep yfinance's on-disk cookie and time-zone caches out of the user's cache folder."""
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture(scope="module")
def server():
    # Threaded, so that a deliberately slow answer does not hold up the other requests.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def yahoo(server):
    """The local server standing in for Yahoo, with yfinance pointed at it."""
    server.clear()
    stand_in_for_yahoo(server)
    with yahoo_base_urls(server.url_for("/")):
        yield server
    server.clear()


# make test runs two pytest-xdist workers, each handed whole modules (--dist loadscope, so a module's
# shared build is made once). The modules that run whole pipelines go first, longest first, so that
# the two workers finish together instead of one waiting for a long module handed out last.
LONGEST_FIRST = ["test_yahoo_end_to_end", "test_end_to_end", "test_bench_smoke", "test_sql_logic", "test_browser"]


def pytest_collection_modifyitems(items):
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__.rpartition(".")[2], len(rank)))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, worker_id) -> tuple[Path, subprocess.CompletedProcess]:
    """One demo warehouse built by `rotation run` for the whole session, with its serving snapshot beside it:
    the warehouse file and the run's output. Tests only read it; a test that changes it works on a copy.
    With several xdist workers, the first that needs it builds it (under a lock) and the others read it."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    folder = shared / "demo"
    with FileLock(shared / "demo.lock"):
        output = folder / "run.json"
        if not output.exists():
            folder.mkdir(exist_ok=True)
            env = {**os.environ, "ROTATION_WAREHOUSE": str(folder / "rotation.duckdb"), "DAGSTER_HOME": str(folder)}
            for name in ("ROTATION_SOURCE", "ROTATION_FILES", "ROTATION_SERVING"):
                env.pop(name, None)
            rotation = Path(sys.executable).parent / "rotation"
            result = subprocess.run([str(rotation), "run"], env=env, capture_output=True, text=True)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            output.write_text(json.dumps({"args": result.args, "stdout": result.stdout, "stderr": result.stderr}))
    run = json.loads(output.read_text())
    return folder / "rotation.duckdb", subprocess.CompletedProcess(run["args"], 0, run["stdout"], run["stderr"])


@pytest.fixture(scope="session")
def demo_serving(demo_run) -> Path:
    """The serving folder of the session's demo warehouse (its default: serving/<warehouse name>/ beside it)."""
    return demo_run[0].parent / "serving" / "rotation"
