"""`rotation run --source yahoo` and `rotation backfill` as a user runs them, against the local stand-in
for Yahoo (ROTATION_YAHOO_URL points the yahoo source at it; nothing reaches the internet)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from yahoo_stub import NOT_FOUND, chart, chart_path, opening_stamp, stand_in_for_yahoo

from orchestration.trading_calendar import nyse_sessions
from orchestration.universe import load_universe
from tests.conftest import query

ROTATION = [str(Path(sys.executable).parent / "rotation")]
SESSIONS = list(nyse_sessions(date(2025, 1, 2), date(2025, 1, 10)))  # Jan 9 was a market holiday
UNKNOWN = "TSM"  # answered with Yahoo's 404 "symbol may be delisted"


def bars(number: int, adj_factor: float = 1.0) -> list[tuple]:
    """Ticker number `number`: closes number+100, +101, ... (one a session), volume 1,000."""
    rows = []
    for day, session in enumerate(SESSIONS):
        close = 100.0 + number + day
        rows.append((opening_stamp(session), close, close + 1, close - 1, close, round(close * adj_factor, 4), 1000))
    return rows


def serve_universe(server, adj_factors: dict[str, float] | None = None) -> list[str]:
    server.clear()
    stand_in_for_yahoo(server)
    tickers = load_universe().symbols
    for number, ticker in enumerate(tickers):
        if ticker == UNKNOWN:
            server.expect_request(chart_path(ticker)).respond_with_json(NOT_FOUND, status=404)
        else:
            factor = (adj_factors or {}).get(ticker, 1.0)
            server.expect_request(chart_path(ticker)).respond_with_json(chart(ticker, bars(number, factor)))
    return tickers


def rotation(server, warehouse, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ROTATION_WAREHOUSE": str(warehouse), "DAGSTER_HOME": str(warehouse.parent),
           "ROTATION_YAHOO_URL": server.url_for("/").rstrip("/")}
    env.pop("ROTATION_SOURCE", None)
    result = subprocess.run(ROTATION + list(args), env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def chart_starts(server, ticker: str) -> list[date]:
    new_york = ZoneInfo("America/New_York")
    return [datetime.fromtimestamp(int(r.args["period1"]), new_york).date()
            for r, _ in server.log if r.path == chart_path(ticker)]


def test_live_runs_refresh_incrementally_replace_rewritten_histories_and_backfill(server, tmp_path):
    warehouse = tmp_path / "live.duckdb"
    tickers = serve_universe(server)
    delivered = len(tickers) - 1

    first = rotation(server, warehouse, "run", "--source", "yahoo")
    assert f"raw.prices_daily: {delivered * len(SESSIONS)} rows inserted, 0 updated, 0 unchanged" in first.stdout
    assert f"check WARN: raw/prices_daily tickers_delivered: 1 ticker(s) not delivered: {UNKNOWN}" in first.stderr
    assert chart_starts(server, "AAPL") == [date(1985, 1, 1)]
    gspc = query(warehouse, "SELECT date, close, return_1d FROM marts.fct_returns_daily WHERE ticker = '^GSPC' ORDER BY date")
    number = tickers.index("^GSPC")
    assert gspc["close"].tolist() == [100.0 + number + day for day in range(len(SESSIONS))]
    assert gspc["return_1d"].iloc[1] == pytest.approx((101.0 + number) / (100.0 + number) - 1)
    summary = query(warehouse, "SELECT source, is_demo FROM marts.rotation_summary ORDER BY date DESC LIMIT 1")
    assert (summary["source"][0], bool(summary["is_demo"][0])) == ("yahoo", False)

    # The same answers again, except that AAPL went ex-dividend: Yahoo restates its adjusted history.
    # Each ticker is asked from its last session (Jan 10) minus 14 days and nothing of it changes; AAPL's
    # answer disagrees with what is stored, so its whole history is fetched again and replaced.
    serve_universe(server, adj_factors={"AAPL": 0.98})
    second = rotation(server, warehouse, "run", "--source", "yahoo")
    assert f"0 rows inserted, {len(SESSIONS)} updated, {(delivered - 1) * len(SESSIONS)} unchanged" in second.stdout
    assert chart_starts(server, "MSFT") == [date(2024, 12, 27)]
    assert chart_starts(server, UNKNOWN) == [date(1985, 1, 1)] * len(chart_starts(server, UNKNOWN))
    assert "whole history fetched again and replaced (the source rewrote past prices): AAPL" in second.stdout
    assert chart_starts(server, "AAPL") == [date(2024, 12, 27), date(1985, 1, 1)]
    aapl = query(warehouse, "SELECT adj_close FROM marts.fct_returns_daily WHERE ticker = 'AAPL' ORDER BY date")
    number = tickers.index("AAPL")
    assert aapl["adj_close"].tolist() == [round((100.0 + number + day) * 0.98, 4) for day in range(len(SESSIONS))]

    # A backfill of two tickers: the unknown one fails alone and is named; the other lands and is
    # recorded, so running the command again retries the failed one only (tested in test_yahoo_refresh.py).
    serve_universe(server, adj_factors={"AAPL": 0.98})
    backfill = rotation(server, warehouse, "backfill", "--start", "2025-01-02", "--tickers", f"^GSPC,{UNKNOWN}")
    assert "tickers loaded now: ^GSPC; already loaded by earlier runs: none; failed: TSM" in backfill.stdout
    assert "Run the same command again to retry the failed tickers only." in backfill.stderr
    assert "backfill from 2025-01-02" in backfill.stdout  # the progress bar's last state
    assert chart_starts(server, "^GSPC") == [date(2025, 1, 2)]
    assert query(warehouse, "SELECT ticker FROM raw.price_backfill_progress")["ticker"].tolist() == ["^GSPC"]
