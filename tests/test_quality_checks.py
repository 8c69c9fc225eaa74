"""The data-quality checks are dbt tests over the NYSE calendar seed: the seed is what
exchange_calendars says; the checks' logic has dbt unit tests (models/intermediate/
_quality_unit_tests.yml), run by tests/test_dbt_unit_tests.py; one end-to-end case loads hand-made prices and checks which
rows the tests report, on a first build, an incremental one and a full refresh."""

from __future__ import annotations

import csv

import duckdb
import pytest

from orchestration.extract.nyse_calendar import (
    FIRST_DAY,
    LAST_DAY,
    SEED_FILE,
    session_rows,
)
from tests.conftest import load_prices, run_dbt

CHECKS = ("sessions_complete", "daily_moves_plausible", "splits_recorded", "prices_not_stale",
          "nyse_calendar_covers_prices")


def test_the_calendar_seed_is_the_nyse_calendar():
    with open(SEED_FILE, newline="") as seed:
        committed = [tuple(row) for row in csv.reader(seed)]
    assert committed[0] == ("date", "early_close")
    assert committed[1:] == session_rows(FIRST_DAY, LAST_DAY), "regenerate: python -m orchestration.extract.nyse_calendar"
    # spot checks by hand: New Year's Day 1985 closed, Carter's day of mourning 2025-01-09 closed, early closes
    days = dict(committed[1:])
    assert committed[1] == ("1985-01-02", "false") and "2025-01-09" not in days
    assert days["2025-11-28"] == "true" and days["2025-12-24"] == "true" and days["2025-12-26"] == "false"
    assert committed[-1][0] >= "2030-12-31"


def build(warehouse, *args: str):
    """Build what the checks read and run the checks, keeping each one's failing rows in dbt_test__audit."""
    selection = " ".join(f"+{check}" for check in CHECKS)
    return run_dbt(warehouse, "build", "--select", selection, "--exclude", "test_type:unit",
                   "--indirect-selection", "cautious", "--store-failures", *args)


def found(warehouse, check: str, columns: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"SELECT {columns} FROM dbt_test__audit.{check} ORDER BY ALL").fetchall()
    return [tuple(str(value) for value in row) for row in rows]


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """A warehouse of hand-made prices after its first build: (warehouse, dbt's output)."""
    warehouse = tmp_path_factory.mktemp("quality") / "rotation.duckdb"
    load_prices(warehouse, [
        # SPY misses 2025-01-06; 2025-01-09 is a closure (not missing).
        ("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 101.0, 101.0),
        ("SPY", "2025-01-07", 102.0, 102.0), ("SPY", "2025-01-08", 103.0, 103.0), ("SPY", "2025-01-10", 104.0, 104.0),
        # NVDA: a recorded 10-for-1 split on 01-03 (adj_close smooth), then an unrecorded halving on 01-07.
        ("NVDA", "2025-01-02", 1410.0, 141.0), ("NVDA", "2025-01-03", 141.0, 141.0),
        ("NVDA", "2025-01-06", 142.0, 142.0), ("NVDA", "2025-01-07", 71.0, 71.0),
    ])
    return warehouse, build(warehouse).stdout


def test_the_checks_warn_with_the_rows_of_the_latest_load(first_build):
    warehouse, output = first_build
    for line in ("WARN 1 sessions_complete", "WARN 1 daily_moves_plausible", "WARN 1 splits_recorded",
                 "WARN 2 prices_not_stale", "PASS nyse_calendar_covers_prices"):
        assert line in output, output[-3000:]
    assert found(warehouse, "sessions_complete", "ticker, previous_date, date, sessions_missing_before") == [
        ("SPY", "2025-01-03", "2025-01-07", "1")]
    assert found(warehouse, "daily_moves_plausible", "ticker, date, round(return_1d, 4)") == [("NVDA", "2025-01-07", "-0.5")]
    assert found(warehouse, "splits_recorded", "ticker, date, close_ratio, adj_close_ratio") == [
        ("NVDA", "2025-01-07", "0.5", "0.5")]
    assert found(warehouse, "prices_not_stale", "ticker, last_date") == [("NVDA", "2025-01-07"), ("SPY", "2025-01-10")]

    # A later load: what the first one wrote is not reported again; QQQ arrives with a gap and +30 %.
    load_prices(warehouse, [
        ("NVDA", "2025-01-08", 72.0, 72.0),
        ("QQQ", "2025-01-06", 500.0, 500.0), ("QQQ", "2025-01-08", 650.0, 650.0),
    ])
    build(warehouse)
    assert found(warehouse, "sessions_complete", "ticker, previous_date, date") == [
        ("QQQ", "2025-01-06", "2025-01-08")]
    assert found(warehouse, "daily_moves_plausible", "ticker, date, round(return_1d, 4)") == [("QQQ", "2025-01-08", "0.3")]
    assert found(warehouse, "splits_recorded", "ticker, date") == []

    # A full refresh tests every row again.
    build(warehouse, "--full-refresh")
    assert found(warehouse, "sessions_complete", "ticker, date") == [("QQQ", "2025-01-08"), ("SPY", "2025-01-07")]
    assert found(warehouse, "daily_moves_plausible", "ticker, date") == [("NVDA", "2025-01-07"), ("QQQ", "2025-01-08")]
    assert found(warehouse, "splits_recorded", "ticker, date") == [("NVDA", "2025-01-07")]
