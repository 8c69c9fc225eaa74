"""Data-quality checks on raw prices, on hand-made data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.quality_checks import (
    daily_moves_plausible,
    last_completed_session,
    missing_sessions,
    prices_not_stale,
    sessions_complete,
    splits_recorded,
)
from tests.conftest import load_prices

NY = ZoneInfo("America/New_York")


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "quality.duckdb"
    load_prices(path, [
        # SPY misses 2025-01-06; 2025-01-09 is a closure (not missing).
        ("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 101.0, 101.0),
        ("SPY", "2025-01-07", 102.0, 102.0), ("SPY", "2025-01-08", 103.0, 103.0), ("SPY", "2025-01-10", 104.0, 104.0),
        # NVDA: a recorded 10-for-1 split on 01-03 (adj_close smooth), then an unrecorded halving on 01-07.
        ("NVDA", "2025-01-02", 1400.0, 140.0), ("NVDA", "2025-01-03", 141.0, 141.0),
        ("NVDA", "2025-01-06", 142.0, 142.0), ("NVDA", "2025-01-07", 71.0, 71.0),
    ])
    return DuckDBResource(database=str(path))


def test_missing_sessions_against_the_nyse_calendar(warehouse):
    result = sessions_complete(warehouse=warehouse)
    assert not result.passed and result.metadata["rows"].value == 1
    assert "| SPY      |         1 | 2025-01-06" in result.metadata["examples"].value


def test_daily_moves_beyond_the_threshold(warehouse):
    result = daily_moves_plausible(warehouse=warehouse)
    assert not result.passed and result.metadata["rows"].value == 1  # NVDA 142 -> 71 (adjusted), -50 %
    assert "NVDA" in result.metadata["examples"].value


def test_only_the_unrecorded_split_is_flagged(warehouse):
    result = splits_recorded(warehouse=warehouse)
    assert result.metadata["rows"].value == 1 and "2025-01-07" in result.metadata["examples"].value


def test_stale_prices(warehouse):
    result = prices_not_stale(warehouse=warehouse)
    assert not result.passed and result.metadata["rows"].value == 2


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-01-16T15:59", "2026-01-15"),  # before Friday's close
        ("2026-01-16T16:01", "2026-01-16"),
        ("2026-01-19T12:00", "2026-01-16"),  # Martin Luther King Jr. Day: closed
        ("2026-11-21T10:00", "2026-11-20"),  # a Saturday
    ],
)
def test_last_completed_session(now, expected):
    assert last_completed_session(datetime.fromisoformat(now).replace(tzinfo=NY)).isoformat() == expected


# --- sessions_complete: the aggregate finds the tickers to look at -----------------------------------


def test_an_off_calendar_price_does_not_hide_a_missing_session(tmp_path):
    path = tmp_path / "off_calendar.duckdb"
    load_prices(path, [
        # Four prices over the four sessions 01-02 ... 01-07, but 01-04 is a Saturday: 01-06 is missing.
        ("QQQ", "2025-01-02", 500.0, 500.0), ("QQQ", "2025-01-03", 501.0, 501.0),
        ("QQQ", "2025-01-04", 501.0, 501.0), ("QQQ", "2025-01-07", 502.0, 502.0),
        # Complete: 01-02, 01-03, 01-06, 01-07; and from 01-03 to 01-06.
        ("IWM", "2025-01-02", 220.0, 220.0), ("IWM", "2025-01-03", 221.0, 221.0),
        ("IWM", "2025-01-06", 222.0, 222.0), ("IWM", "2025-01-07", 223.0, 223.0),
        ("DIA", "2025-01-03", 420.0, 420.0), ("DIA", "2025-01-06", 421.0, 421.0),
    ])
    with duckdb.connect(str(path)) as con:
        found = missing_sessions(con)
    assert found.astype(str).values.tolist() == [["QQQ", "1", "2025-01-06", "2025-01-06"]]
