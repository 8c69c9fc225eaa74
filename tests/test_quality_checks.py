"""Data-quality checks on raw prices, on hand-made data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.defs.price_checks import (
    daily_moves_plausible,
    implausible_moves,
    last_completed_session,
    missing_sessions,
    prices_not_stale,
    sessions_complete,
    splits_recorded,
    unrecorded_splits,
)
from orchestration.land.tables import PRICES
from orchestration.land.upsert import upsert
from tests.conftest import load_prices, prices_frame

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


# --- daily_moves_plausible and splits_recorded cover what the latest load wrote ----------------------


def moves(path) -> tuple[list[tuple], str]:
    with duckdb.connect(str(path)) as con:
        found, scope = implausible_moves(con)
    return [(t, str(d.date()), prev, price) for t, d, prev, price, _ in found.itertuples(index=False)], scope


def splits(path) -> list[tuple]:
    with duckdb.connect(str(path)) as con:
        found, _ = unrecorded_splits(con)
    return [(t, str(d.date()), prev, close) for t, d, prev, close, _, _ in found.itertuples(index=False)]


def test_a_bad_move_of_an_earlier_load_is_not_reported_again(tmp_path):
    path = tmp_path / "w.duckdb"
    load_prices(path, [("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 150.0, 150.0)])
    assert moves(path)[0] == [("SPY", "2025-01-03", 100.0, 150.0)]  # the first load: +50 %

    load_prices(path, [("SPY", "2025-01-06", 151.0, 151.0), ("SPY", "2025-01-07", 152.0, 152.0)])
    assert moves(path) == ([], "latest load: 1 tickers, from 2025-01-06")
    result = daily_moves_plausible(warehouse=DuckDBResource(database=str(path)))
    assert result.passed and result.metadata["summary"].value == (
        "0 daily moves beyond +-25% (latest load: 1 tickers, from 2025-01-06)"
    )


def test_a_new_price_is_compared_with_the_stored_one_before_it(tmp_path):
    path = tmp_path / "w.duckdb"
    load_prices(path, [
        ("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 101.0, 101.0),
        ("NVDA", "2025-01-02", 140.0, 140.0), ("NVDA", "2025-01-03", 142.0, 142.0),
    ])
    # SPY falls by half; NVDA halves its close for an unrecorded 2-for-1 split (adj_close halves too).
    load_prices(path, [("SPY", "2025-01-06", 50.5, 50.5), ("NVDA", "2025-01-06", 71.0, 71.0)])
    assert moves(path) == (
        [("NVDA", "2025-01-06", 142.0, 71.0), ("SPY", "2025-01-06", 101.0, 50.5)],  # both -50 %
        "latest load: 2 tickers, from 2025-01-06",
    )
    assert splits(path) == [("NVDA", "2025-01-06", 142.0, 71.0), ("SPY", "2025-01-06", 101.0, 50.5)]


def test_the_previous_price_is_found_beyond_the_first_lookback(tmp_path):
    path = tmp_path / "w.duckdb"
    load_prices(path, [("SPY", "2024-11-01", 100.0, 100.0)])
    load_prices(path, [("SPY", "2025-01-02", 130.0, 130.0)])  # two months later: +30 %
    assert moves(path)[0] == [("SPY", "2025-01-02", 100.0, 130.0)]


def test_a_changed_price_is_checked_with_the_prices_after_it(tmp_path):
    path = tmp_path / "w.duckdb"
    rows = [("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 101.0, 101.0), ("SPY", "2025-01-06", 102.0, 102.0)]
    load_prices(path, rows)
    # 01-03 is rewritten to 202: the move into it (+102 %) and out of it (-49.5 %) are both new.
    load_prices(path, [("SPY", "2025-01-03", 202.0, 202.0)])
    assert moves(path) == (
        [("SPY", "2025-01-03", 100.0, 202.0), ("SPY", "2025-01-06", 202.0, 102.0)],
        "latest load: 1 tickers, from 2025-01-03",
    )


def test_a_removed_price_makes_its_neighbours_compared(tmp_path):
    path = tmp_path / "w.duckdb"
    rows = [("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 80.0, 80.0),
            ("SPY", "2025-01-06", 64.0, 64.0), ("SPY", "2025-01-07", 60.0, 60.0)]  # -20 %, -20 %, -6 %
    load_prices(path, rows)
    assert moves(path)[0] == []
    # The source's new history lacks 01-03 and changes nothing else: 01-02 -> 01-06 is -36 %.
    with duckdb.connect(str(path)) as con:
        kept = prices_frame([rows[0], *rows[2:]])
        counts = upsert(con, PRICES.name, kept, "files", replace=["SPY"])
    assert (counts.inserted, counts.updated, counts.deleted) == (0, 0, 1)
    assert moves(path) == ([("SPY", "2025-01-06", 100.0, 64.0)], "latest load: 1 tickers, from 2025-01-03")


def test_a_load_of_several_transactions_is_covered_whole(tmp_path):
    """A backfill loads each ticker in its own transaction, hours apart: all of them are the latest load."""
    path = tmp_path / "w.duckdb"
    load_prices(path, [("SPY", "2025-01-02", 100.0, 100.0), ("QQQ", "2025-01-02", 500.0, 500.0)])
    with duckdb.connect(str(path)) as con:
        spy, qqq = prices_frame([("SPY", "2025-01-03", 40.0, 40.0)]), prices_frame([("QQQ", "2025-01-03", 200.0, 200.0)])
        upsert(con, PRICES.name, spy, "files", ingested_at=datetime(2030, 1, 1, 9), load_id="backfill")
        upsert(con, PRICES.name, qqq, "files", ingested_at=datetime(2030, 1, 1, 17), load_id="backfill")
    assert moves(path) == (
        [("QQQ", "2025-01-03", 500.0, 200.0), ("SPY", "2025-01-03", 100.0, 40.0)],
        "latest load: 2 tickers, from 2025-01-03",
    )


def test_a_load_that_changes_nothing_leaves_the_checks_on_the_latest_that_did(tmp_path):
    path = tmp_path / "w.duckdb"
    rows = [("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 150.0, 150.0)]
    load_prices(path, rows)
    load_prices(path, rows)  # the same prices again: nothing inserted or changed, nothing recorded
    assert moves(path) == ([("SPY", "2025-01-03", 100.0, 150.0)], "latest load: 1 tickers, from 2025-01-02")


def test_prices_loaded_before_loads_were_recorded_are_checked_whole(tmp_path):
    path = tmp_path / "w.duckdb"
    load_prices(path, [("SPY", "2025-01-02", 100.0, 100.0), ("SPY", "2025-01-03", 150.0, 150.0)])
    load_prices(path, [("SPY", "2025-01-06", 151.0, 151.0)])
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM raw.load_log")
    assert moves(path) == ([("SPY", "2025-01-03", 100.0, 150.0)], "whole table: no load recorded")
