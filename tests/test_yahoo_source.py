"""The Yahoo source against a local stand-in for Yahoo's chart API (tests/yahoo_stub.py).

The test marked `live` asks the real Yahoo service; it only runs with ROTATION_LIVE_TESTS=1.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import date

import pandas as pd
import pytest
from werkzeug import Response
from yahoo_stub import (
    AAPL_BARS,
    GSPC_BARS,
    GSPC_RANGE,
    JAN_02,
    JAN_03,
    JAN_06_EVENING,
    JUN_06,
    JUN_07,
    JUN_10,
    JUN_11,
    NOT_FOUND,
    TINY_WAIT,
    chart,
    chart_path,
    chart_requests,
    serve,
    serve_once,
)
from yfinance.data import YfData

from orchestration.extract.base import PRICE_COLUMNS
from orchestration.extract.yahoo import (
    RedirectedSession,
    YahooSource,
    session_dates,
    yahoo_base_urls,
)
from orchestration.land.validation import validate_batch

pytestmark = [
    # Passing raise_errors to yfinance's history() is how its errors reach the retry logic.
    pytest.mark.filterwarnings("ignore:'raise_errors' deprecated:DeprecationWarning"),
    # yfinance 1.7 itself calls sort_index/set_index(inplace=True), which pandas 3 flags.
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame"),
]

def source(tickers: list[str], start: date = GSPC_RANGE[0], end: date | None = GSPC_RANGE[1], **options) -> YahooSource:
    options = {"wait": TINY_WAIT, "chunk_pause": 0.0, "timeout": 5.0, "max_attempts": 4, **options}
    return YahooSource(tickers, start, end, **options)


def by_origin(batches) -> dict:
    return {batch.origin: batch for batch in batches}


# --- success -----------------------------------------------------------------------------------


def test_several_tickers_arrive_in_the_contract_shape(yahoo):
    spy_bars = [
        (JAN_02, 589.39, 591.13, 580.50, 584.64, 578.51, 50203900),
        (JAN_03, None, None, None, None, None, None),  # a null bar, as Yahoo sometimes sends
        (JAN_06_EVENING, 596.27, 599.70, 593.60, 595.36, 589.12, 47679400),
    ]
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))
    serve(yahoo, "SPY", chart("SPY", spy_bars, instrument="ETF"))
    serve(yahoo, "AAPL", chart("AAPL", AAPL_BARS, instrument="EQUITY"))

    src = source(["^GSPC", "spy", "AAPL"], chunk_size=2, max_workers=2)
    batches = src.fetch()

    assert [b.origin for b in batches] == ["yahoo:^GSPC", "yahoo:SPY", "yahoo:AAPL"]
    assert all(b.read_errors == [] for b in batches)
    assert src.last_failures == {}
    assert src.last_attempts == {"^GSPC": 1, "SPY": 1, "AAPL": 1}
    assert src.last_null_bars_dropped == {"^GSPC": 0, "SPY": 1, "AAPL": 0}

    gspc = batches[0].frame
    assert list(gspc.columns) == PRICE_COLUMNS + ["row"]
    assert gspc.shape == (3, len(PRICE_COLUMNS) + 1)
    assert {c: str(gspc[c].dtype) for c in ["open", "high", "low", "close", "adj_close", "volume", "row"]} == {
        "open": "float64", "high": "float64", "low": "float64", "close": "float64", "adj_close": "float64",
        "volume": "Int64", "row": "int64",
    }
    assert all(type(d) is date for d in gspc["date"])
    assert list(gspc["date"]) == [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 6)]
    assert list(gspc["ticker"]) == ["^GSPC"] * 3
    assert list(gspc["source"]) == ["yahoo"] * 3
    assert list(gspc["row"]) == [0, 1, 2]
    assert list(gspc["open"]) == [5903.26, 5891.07, 5982.81]
    assert list(gspc["high"]) == [5935.09, 5949.34, 6021.04]
    assert list(gspc["low"]) == [5829.53, 5888.66, 5960.01]
    assert list(gspc["close"]) == [5868.55, 5942.47, 5975.38]
    assert list(gspc["adj_close"]) == [5868.55, 5942.47, 5975.38]
    assert list(gspc["volume"]) == [3621680000, 3667340000, 4940120000]

    spy = batches[1].frame
    # The null bar of Jan 3 is dropped; the bar stamped 00:30 UTC on Jan 7 is the New York session of Jan 6.
    assert list(spy["date"]) == [date(2025, 1, 2), date(2025, 1, 6)]
    assert list(spy["close"]) == [584.64, 595.36]
    assert list(spy["adj_close"]) == [578.51, 589.12]
    assert list(spy["row"]) == [0, 1]

    aapl = batches[2].frame
    assert list(aapl["close"]) == [243.85, 243.36, 245.00]
    assert list(aapl["adj_close"]) == [242.75, 242.26, 243.89]

    for batch in batches:
        checked = validate_batch(batch)
        assert checked.accepted, checked.errors
    # One chart request per ticker, for the session range as New York midnights: Jan 2 up to Jan 7 (exclusive).
    gspc_request = next(r for r, _ in yahoo.log if r.path == chart_path("^GSPC"))
    assert gspc_request.args["period1"] == "1735794000"  # 2025-01-02T00:00-05:00
    assert gspc_request.args["period2"] == "1736226000"  # 2025-01-07T00:00-05:00
    assert gspc_request.args["interval"] == "1d"
    assert [chart_requests(yahoo, t) for t in ["^GSPC", "SPY", "AAPL"]] == [[200], [200], [200]]


def test_session_dates_are_new_york_dates_not_utc_dates():
    stamps = pd.DatetimeIndex(["2025-01-02T14:30:00Z", "2025-01-03T01:30:00Z", "2025-07-03T13:30:00Z"])
    # 01:30 UTC on Jan 3 is 20:30 on Jan 2 in New York.
    assert list(session_dates(stamps)) == [date(2025, 1, 2), date(2025, 1, 2), date(2025, 7, 3)]


def test_a_bar_stamped_at_the_hour_before_midnight_keeps_its_session(yahoo):
    # Yahoo now and then stamps a daily bar at 23:00 of the evening before (a daylight-saving slip):
    # 2025-01-03T04:00Z is 23:00 New York on Jan 2. yfinance reads such a stamp as the next midnight,
    # so the bar stays on the Jan 3 session it was sent for.
    bars = [(JAN_02, 10.0, 11.0, 9.0, 10.5, 10.5, 100), (1735876800, 10.5, 12.0, 10.0, 11.5, 11.5, 200)]
    serve(yahoo, "^RUT", chart("^RUT", bars))
    frame = source(["^RUT"], date(2025, 1, 2), date(2025, 1, 3)).fetch()[0].frame
    assert list(frame["date"]) == [date(2025, 1, 2), date(2025, 1, 3)]
    assert list(frame["close"]) == [10.5, 11.5]


def test_a_split_keeps_the_split_adjusted_close_and_the_adjusted_close_as_served(yahoo):
    # NVDA split 10-for-1 on 2024-06-10; Yahoo's close is already split-adjusted (the Jun 7 close
    # traded at 1208.88 shows as 120.888), its adjclose also takes out the $0.01 dividend of Jun 11.
    bars = [
        (JUN_06, 124.05, 125.59, 118.32, 120.998, 120.988, 664696000),
        (JUN_07, 119.77, 121.69, 119.18, 120.888, 120.878, 412386000),
        (JUN_10, 120.37, 123.10, 117.01, 121.790, 121.780, 314162700),
        (JUN_11, 121.77, 122.87, 118.74, 120.910, 120.910, 222551200),
    ]
    events = {
        "splits": {str(JUN_10): {"date": JUN_10, "numerator": 10.0, "denominator": 1.0, "splitRatio": "10:1"}},
        "dividends": {str(JUN_11): {"amount": 0.01, "date": JUN_11}},
    }
    serve(yahoo, "NVDA", chart("NVDA", bars, instrument="EQUITY", events=events))

    batch = source(["NVDA"], date(2024, 6, 6), date(2024, 6, 11)).fetch()[0]

    assert batch.read_errors == []
    frame = batch.frame
    assert list(frame["date"]) == [date(2024, 6, 6), date(2024, 6, 7), date(2024, 6, 10), date(2024, 6, 11)]
    assert list(frame["close"]) == [120.998, 120.888, 121.790, 120.910]
    assert list(frame["adj_close"]) == [120.988, 120.878, 121.780, 120.910]
    assert list(frame["open"]) == [124.05, 119.77, 120.37, 121.77]
    assert list(frame["volume"]) == [664696000, 412386000, 314162700, 222551200]
    assert (frame["close"] != frame["adj_close"]).tolist() == [True, True, True, False]


# --- retried failures --------------------------------------------------------------------------


def test_rate_limiting_is_retried(yahoo):
    # Two 429s: yfinance re-sends the first itself, then gives up with YFRateLimitError; the source retries.
    serve_once(yahoo, "^GSPC", "Too Many Requests", 429, "text/plain")
    serve_once(yahoo, "^GSPC", "Too Many Requests", 429, "text/plain")
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))

    src = source(["^GSPC"])
    batch = src.fetch()[0]

    assert batch.read_errors == []
    assert list(batch.frame["close"]) == [5868.55, 5942.47, 5975.38]
    assert chart_requests(yahoo, "^GSPC") == [429, 429, 200]
    assert src.last_attempts == {"^GSPC": 2}


def test_a_timeout_is_retried(yahoo):
    slow_answer_seconds, client_timeout = 1.0, 0.25
    slow_done = threading.Event()

    def slow(request):
        time.sleep(slow_answer_seconds)
        slow_done.set()
        return Response(json.dumps(chart("^GSPC", GSPC_BARS)), status=200, content_type="application/json")

    yahoo.expect_oneshot_request(chart_path("^GSPC")).respond_with_handler(slow)
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))

    src = source(["^GSPC"], timeout=client_timeout)
    started = time.monotonic()
    batch = src.fetch()[0]
    elapsed = time.monotonic() - started

    assert batch.read_errors == []
    assert list(batch.frame["close"]) == [5868.55, 5942.47, 5975.38]
    assert src.last_attempts == {"^GSPC": 2}
    assert elapsed < slow_answer_seconds  # the client gave up on the slow answer instead of waiting for it
    assert slow_done.wait(5)
    assert len(chart_requests(yahoo, "^GSPC")) == 2


def test_server_errors_are_retried(yahoo):
    serve_once(yahoo, "^GSPC", "<html><body>Bad Gateway</body></html>", 502, "text/html")
    serve_once(yahoo, "^GSPC", json.dumps({"chart": {"result": None, "error": {
        "code": "Internal Server Error", "description": "Service temporarily unavailable"}}}), 503)
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))

    src = source(["^GSPC"])
    batch = src.fetch()[0]

    assert batch.read_errors == []
    assert list(batch.frame["close"]) == [5868.55, 5942.47, 5975.38]
    assert chart_requests(yahoo, "^GSPC") == [502, 503, 200]
    assert src.last_attempts == {"^GSPC": 2}


def test_a_truncated_body_is_retried(yahoo):
    body = json.dumps(chart("^GSPC", GSPC_BARS))
    serve_once(yahoo, "^GSPC", body[: len(body) // 2], 200)
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))

    src = source(["^GSPC"])
    batch = src.fetch()[0]

    assert batch.read_errors == []
    assert list(batch.frame["close"]) == [5868.55, 5942.47, 5975.38]
    assert chart_requests(yahoo, "^GSPC") == [200, 200]
    assert src.last_attempts == {"^GSPC": 2}


# --- failures that stay with their ticker ------------------------------------------------------


def test_an_unknown_ticker_fails_alone_and_is_not_retried(yahoo):
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))
    serve(yahoo, "NOSUCH", NOT_FOUND, status=404)
    serve(yahoo, "AAPL", chart("AAPL", AAPL_BARS, instrument="EQUITY"))

    src = source(["^GSPC", "NOSUCH", "AAPL"], max_attempts=5)
    batches = by_origin(src.fetch())

    failed = batches["yahoo:NOSUCH"]
    assert failed.frame.empty
    assert list(failed.frame.columns) == PRICE_COLUMNS + ["row"]
    [problem] = failed.read_errors
    assert problem.origin == "yahoo:NOSUCH"
    assert problem.ticker == "NOSUCH"
    assert "NOSUCH" in problem.problem and "No data found, symbol may be delisted" in problem.problem
    assert "symbol" in problem.fix
    assert str(problem).startswith("yahoo:NOSUCH, ticker NOSUCH: Yahoo does not know the symbol NOSUCH")
    assert not validate_batch(failed).accepted
    assert src.last_attempts["NOSUCH"] == 1
    assert chart_requests(yahoo, "NOSUCH") == [404, 404]  # yfinance's own second try only
    assert list(src.last_failures) == ["NOSUCH"]

    assert batches["yahoo:^GSPC"].read_errors == []
    assert list(batches["yahoo:^GSPC"].frame["close"]) == [5868.55, 5942.47, 5975.38]
    assert list(batches["yahoo:AAPL"].frame["close"]) == [243.85, 243.36, 245.00]


def test_a_ticker_failing_on_every_attempt_fails_alone_after_max_attempts(yahoo):
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))
    yahoo.expect_request(chart_path("BROKEN")).respond_with_data("Internal Server Error", status=500)
    serve(yahoo, "AAPL", chart("AAPL", AAPL_BARS, instrument="EQUITY"))

    src = source(["^GSPC", "BROKEN", "AAPL"], max_attempts=3)
    batches = by_origin(src.fetch())

    [problem] = batches["yahoo:BROKEN"].read_errors
    assert problem.ticker == "BROKEN"
    assert problem.problem == "Yahoo did not deliver prices for BROKEN after 3 attempt(s): HTTP 500"
    assert "again later" in problem.fix
    assert batches["yahoo:BROKEN"].frame.empty
    assert src.last_attempts == {"^GSPC": 1, "BROKEN": 3, "AAPL": 1}
    assert chart_requests(yahoo, "BROKEN") == [500] * 6  # 3 attempts, each re-sent once by yfinance
    assert list(src.last_failures) == ["BROKEN"]
    assert list(batches["yahoo:^GSPC"].frame["close"]) == [5868.55, 5942.47, 5975.38]
    assert list(batches["yahoo:AAPL"].frame["close"]) == [243.85, 243.36, 245.00]


# --- empty answers -----------------------------------------------------------------------------


def test_an_empty_answer_for_a_range_without_sessions_is_an_empty_batch_without_errors(yahoo):
    serve(yahoo, "^GSPC", chart("^GSPC", []))

    src = source(["^GSPC"], date(2025, 1, 4), date(2025, 1, 5))  # a Saturday and a Sunday
    batch = src.fetch()[0]

    assert batch.read_errors == []
    assert batch.frame.empty
    assert list(batch.frame.columns) == PRICE_COLUMNS + ["row"]
    assert validate_batch(batch).accepted
    assert src.last_attempts == {"^GSPC": 1}
    assert chart_requests(yahoo, "^GSPC") == [200]


def test_an_empty_answer_for_a_range_with_sessions_is_retried_then_rejected(yahoo):
    serve(yahoo, "^GSPC", chart("^GSPC", []))
    serve(yahoo, "AAPL", chart("AAPL", AAPL_BARS, instrument="EQUITY"))

    src = source(["^GSPC", "AAPL"], max_attempts=3)
    batches = by_origin(src.fetch())

    [problem] = batches["yahoo:^GSPC"].read_errors
    assert problem.problem == (
        "Yahoo returned no prices for ^GSPC from 2025-01-02 to 2025-01-06 after 3 attempt(s), "
        "no prices although the NYSE traded 3 session(s) in the range"
    )
    assert chart_requests(yahoo, "^GSPC") == [200, 200, 200]
    assert batches["yahoo:AAPL"].read_errors == []


def test_an_empty_answer_followed_by_prices_succeeds(yahoo):
    serve_once(yahoo, "^GSPC", json.dumps(chart("^GSPC", [])), 200)
    serve(yahoo, "^GSPC", chart("^GSPC", GSPC_BARS))

    src = source(["^GSPC"])
    batch = src.fetch()[0]

    assert batch.read_errors == []
    assert list(batch.frame["close"]) == [5868.55, 5942.47, 5975.38]
    assert src.last_attempts == {"^GSPC": 2}


# --- the redirection ---------------------------------------------------------------------------


def test_the_redirected_session_maps_yahoo_hosts_and_refuses_any_other():
    session = RedirectedSession("http://127.0.0.1:8123")
    assert session.redirect("https://query2.finance.yahoo.com/v8/finance/chart/^GSPC?interval=1d") == (
        "http://127.0.0.1:8123/v8/finance/chart/^GSPC?interval=1d"
    )
    assert session.redirect("https://fc.yahoo.com") == "http://127.0.0.1:8123/"
    assert session.redirect("http://127.0.0.1:8123/v1/test/getcrumb") == "http://127.0.0.1:8123/v1/test/getcrumb"
    with pytest.raises(ValueError, match="refusing to contact example.com"):
        session.redirect("https://example.com/")
    with pytest.raises(ValueError, match="refusing to contact notyahoo.com"):
        session.redirect("https://notyahoo.com/")
    session.close()


def test_yahoo_base_urls_puts_the_previous_session_back():
    before = YfData()._session
    with yahoo_base_urls("http://127.0.0.1:8123") as session:
        assert YfData()._session is session
    assert YfData()._session is before


# --- the real service --------------------------------------------------------------------------


@pytest.mark.live
@pytest.mark.skipif(os.environ.get("ROTATION_LIVE_TESTS") != "1", reason="asks Yahoo; set ROTATION_LIVE_TESTS=1")
def test_live_yahoo():
    src = YahooSource(["^GSPC", "SPY"], date(2025, 1, 2), date(2025, 1, 6), max_attempts=3)
    batches = src.fetch()
    assert src.last_failures == {}
    for batch in batches:
        assert list(batch.frame["date"]) == [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 6)]
        assert validate_batch(batch).accepted
    assert batches[0].frame["close"].round(2).tolist() == [5868.55, 5942.47, 5975.38]
