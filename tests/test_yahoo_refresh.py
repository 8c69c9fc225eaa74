"""Incremental Yahoo runs and backfills, against the local stand-in for Yahoo (tests/yahoo_stub.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
from werkzeug import Response
from yahoo_stub import (
    AAPL_BARS,
    GSPC_BARS,
    NOT_FOUND,
    TINY_WAIT,
    chart,
    chart_path,
    serve,
    stand_in_for_yahoo,
)

from orchestration.extract.yahoo_incremental import fetch_yahoo
from orchestration.land.backfill import backfill_prices
from orchestration.land.prices import ingest_price_batches
from orchestration.land.tables import PRICES
from orchestration.land.upsert import LoadCounts, upsert
from tests.conftest import latest_load_changes

pytestmark = [
    pytest.mark.filterwarnings("ignore:'raise_errors' deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame"),
]

FAST = {"wait": TINY_WAIT, "chunk_pause": 0.0, "timeout": 5.0, "max_attempts": 3}
UNIVERSE = ["^GSPC", "AAPL"]


def new_york_midnight(day: date) -> str:
    return str(int(datetime.combine(day, time(0, 0), ZoneInfo("America/New_York")).timestamp()))


def chart_starts(server, ticker: str) -> list[str]:
    """The period1 (start) of every chart request the server answered for `ticker`, in order."""
    return [request.args["period1"] for request, _ in server.log if request.path == chart_path(ticker)]


def stored_aapl(con) -> list[tuple]:
    return con.execute(
        "SELECT date::VARCHAR, close, adj_close FROM raw.prices_daily WHERE ticker = 'AAPL' ORDER BY date"
    ).fetchall()


def aapl_with_dividend_restated(factor: float) -> list[tuple]:
    """AAPL_BARS as Yahoo serves them after a dividend: every adjusted close scaled by `factor`."""
    return [(stamp, o, h, low, c, round(adj * factor, 4), v) for stamp, o, h, low, c, adj, v in AAPL_BARS]


@pytest.fixture
def warehouse(tmp_path):
    """AAPL stored from Yahoo for 2024-12-31 and 2025-01-02 .. 2025-01-06 (the last three as AAPL_BARS)."""
    bars = [(date(2024, 12, 31), 252.44, 253.28, 249.43, 250.42, 249.29, 39480700)] + [
        (d, o, h, low, c, adj, v)
        for d, (_, o, h, low, c, adj, v) in zip([date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 6)], AAPL_BARS)
    ]
    frame = pd.DataFrame(bars, columns=["date", "open", "high", "low", "close", "adj_close", "volume"])
    frame["ticker"], frame["source"] = "AAPL", "yahoo"
    with duckdb.connect(str(tmp_path / "refresh.duckdb")) as con:
        upsert(con, PRICES.name, frame, "yahoo", ingested_at=datetime(2025, 1, 7, 0, 0))
        yield con


def test_each_ticker_is_fetched_from_its_own_start_and_an_unchanged_overlap_changes_nothing(yahoo, warehouse):
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))
    serve(yahoo, "AAPL", chart("AAPL", AAPL_BARS, instrument="EQUITY"))

    fetched = fetch_yahoo(warehouse, UNIVERSE, **FAST)

    # AAPL: 14 days before its last stored session (2025-01-06); ^GSPC has nothing stored: from 1985.
    assert fetched.starts == {"^GSPC": date(1985, 1, 1), "AAPL": date(2024, 12, 23)}
    assert chart_starts(yahoo, "AAPL") == [new_york_midnight(date(2024, 12, 23))]
    assert chart_starts(yahoo, "^GSPC") == [new_york_midnight(date(1985, 1, 1))]
    assert fetched.refetched == {} and fetched.failures == {}

    report = ingest_price_batches(warehouse, fetched.batches, "yahoo", UNIVERSE, list(fetched.refetched))
    assert (report.counts.inserted, report.counts.updated, report.counts.unchanged) == (3, 0, 3)


def test_a_correction_of_the_last_stored_session_alone_is_an_ordinary_update(yahoo, warehouse):
    bars = list(AAPL_BARS)
    stamp, o, h, low, _, _, v = bars[-1]
    bars[-1] = (stamp, o, h, low, 245.10, 243.99, v)  # Jan 6 corrected; Jan 2 and Jan 3 as stored
    serve(yahoo, "AAPL", chart("AAPL", bars, instrument="EQUITY"))

    fetched = fetch_yahoo(warehouse, ["AAPL"], **FAST)

    assert fetched.refetched == {}
    assert len(chart_starts(yahoo, "AAPL")) == 1
    report = ingest_price_batches(warehouse, fetched.batches, "yahoo", UNIVERSE, list(fetched.refetched))
    assert (report.counts.updated, report.counts.unchanged, report.counts.deleted) == (1, 2, 0)
    assert stored_aapl(warehouse)[-1] == ("2025-01-06", 245.10, 243.99)


def test_a_rewritten_adjusted_history_is_refetched_in_full_and_replaces_the_stored_one(yahoo, warehouse):
    restated = aapl_with_dividend_restated(0.99)
    serve(yahoo, "AAPL", chart("AAPL", restated, instrument="EQUITY"))

    fetched = fetch_yahoo(warehouse, ["AAPL"], **FAST)

    # The overlap's sessions before Jan 6 (Jan 2 and Jan 3) disagree: the whole history is fetched again.
    assert list(fetched.refetched) == ["AAPL"]
    assert fetched.refetched["AAPL"].startswith("2 stored session(s) differ, first 2025-01-02: close 243.85 -> 243.85, "
                                                "adj_close 242.75 -> 240.3225")
    assert chart_starts(yahoo, "AAPL") == [new_york_midnight(date(2024, 12, 23)), new_york_midnight(date(1985, 1, 1))]
    assert fetched.starts["AAPL"] == date(1985, 1, 1)

    report = ingest_price_batches(warehouse, fetched.batches, "yahoo", UNIVERSE, list(fetched.refetched))
    # 2024-12-31 is not in Yahoo's history any more, so it goes: the stored history is Yahoo's, whole.
    assert (report.counts.updated, report.counts.deleted) == (3, 1)
    assert stored_aapl(warehouse) == [
        ("2025-01-02", 243.85, 240.3225), ("2025-01-03", 243.36, 239.8374), ("2025-01-06", 245.0, 241.4511),
    ]
    # The load log records what changed and what went, so the incremental marts and the quality checks
    # look from the removed date on.
    assert warehouse.execute(
        "SELECT partition_value, inserted, updated, deleted, changed_from, changed_to, deleted_from, deleted_to, deleted_reason "
        "FROM raw.load_log ORDER BY seq DESC LIMIT 1"
    ).fetchall() == [
        ("AAPL", 0, 3, 1, date(2025, 1, 2), date(2025, 1, 6), date(2024, 12, 31), date(2024, 12, 31),
         "history rewritten by the source")
    ]
    changes = latest_load_changes(warehouse)
    assert [(t, d.date()) for t, d in changes.itertuples(index=False)] == [("AAPL", date(2024, 12, 31))]


def test_a_failed_refetch_loads_nothing_of_the_ticker_and_says_why(yahoo, warehouse):
    full_history_start = new_york_midnight(date(1985, 1, 1))
    restated = chart("AAPL", aapl_with_dividend_restated(0.99), instrument="EQUITY")

    def answer(request):
        if request.args["period1"] == full_history_start:
            return Response("upstream broke", status=503)
        return Response(json.dumps(restated), content_type="application/json")

    yahoo.expect_request(chart_path("AAPL")).respond_with_handler(answer)
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))
    before = stored_aapl(warehouse)

    fetched = fetch_yahoo(warehouse, UNIVERSE, **FAST)
    report = ingest_price_batches(warehouse, fetched.batches, "yahoo", UNIVERSE, list(fetched.refetched))

    assert [b.origin for b in fetched.batches] == ["yahoo:^GSPC"]
    assert fetched.refetched == {}
    message = str(fetched.failures["AAPL"])
    assert "its stored history disagrees with Yahoo's (2 stored session(s) differ" in message
    assert "refetching the whole history failed (Yahoo did not deliver prices for AAPL after 3 attempt(s): HTTP 503)" in message
    assert "the stored rows stay" in message
    assert stored_aapl(warehouse) == before
    assert report.counts.inserted == 3  # ^GSPC landed


def test_a_backfill_resumes_with_the_tickers_an_earlier_run_did_not_load(yahoo, tmp_path):
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))
    yahoo.expect_request(chart_path("AAPL")).respond_with_json(NOT_FOUND, status=404)
    seen = []
    with duckdb.connect(str(tmp_path / "backfill.duckdb")) as con:
        first = backfill_prices(con, UNIVERSE, date(2025, 1, 2), UNIVERSE, progress=seen.append, **FAST)
        assert first.loaded == {"^GSPC": 3}
        assert list(first.failures) == ["AAPL"] and first.remaining == ["AAPL"]
        assert "Yahoo does not know the symbol AAPL" in str(first.failures["AAPL"])
        assert [(p.done, p.total, p.failed) for p in seen] == [(1, 2, 1)]
        assert chart_starts(yahoo, "^GSPC") == [new_york_midnight(date(2025, 1, 2))]

        # Yahoo knows AAPL again: the same backfill fetches AAPL only.
        yahoo.clear_log()
        yahoo.handlers.clear()
        stand_in_for_yahoo(yahoo)
        serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))
        serve(yahoo, "AAPL", chart("AAPL", AAPL_BARS, instrument="EQUITY"))
        second = backfill_prices(con, UNIVERSE, date(2025, 1, 2), UNIVERSE, **FAST)
        assert second.already_done == ["^GSPC"] and second.loaded == {"AAPL": 3} and second.failures == {}
        assert chart_starts(yahoo, "^GSPC") == []
        assert con.execute("SELECT ticker, rows_loaded FROM raw.price_backfill_progress ORDER BY ticker").fetchall() == [
            ("AAPL", 3), ("^GSPC", 3)
        ]
        # Another start date is another backfill; restart forgets the record and fetches everything again.
        third = backfill_prices(con, UNIVERSE, date(2025, 1, 2), UNIVERSE, restart=True, **FAST)
        assert third.already_done == [] and sorted(third.loaded) == ["AAPL", "^GSPC"]
        assert third.counts == LoadCounts(unchanged=6)
        assert con.execute("SELECT count(*) FROM raw.prices_daily").fetchone()[0] == 6
        # Each backfill is one load, recorded by the tickers it changed (the third changed nothing).
        loads = con.execute(
            "SELECT load_id, partition_value, inserted, changed_from, changed_to FROM raw.load_log ORDER BY seq"
        ).fetchall()
        ids = list(dict.fromkeys(load_id for load_id, *_ in loads))
        assert [(ids.index(load_id), *rest) for load_id, *rest in loads] == [
            (0, "^GSPC", 3, date(2025, 1, 2), date(2025, 1, 6)), (1, "AAPL", 3, date(2025, 1, 2), date(2025, 1, 6)),
        ]
