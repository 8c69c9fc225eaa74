"""Valuation snapshots through yfinance's Ticker.info, against a local stand-in for Yahoo's quoteSummary API.

The answers are hand-written in the shape of Yahoo's quoteSummary (modules summaryDetail,
defaultKeyStatistics, assetProfile, financialData, quoteType) and v7 quote APIs; yfinance's own
code fetches (with its cookie and crumb) and flattens them.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest
import yfinance as yf
from pytest_httpserver import HTTPServer
from tenacity import wait_none
from werkzeug import Response

from orchestration.extract.yahoo import yahoo_base_urls
from orchestration.extract.yahoo_valuations import YahooInfoSource

AS_OF = date(2026, 11, 20)


def quote_summary(symbol: str) -> dict:
    raw = lambda value: {"raw": value, "fmt": f"{value}"}  # noqa: E731 - Yahoo's formatted-number shape
    return {"quoteSummary": {"error": None, "result": [{
        "summaryDetail": {"maxAge": 1, "marketCap": raw(3_900_000_000_000), "forwardPE": raw(31.2), "trailingPE": raw(35.4)},
        "defaultKeyStatistics": {"maxAge": 1, "sharesOutstanding": raw(14_700_000_000), "forwardEps": raw(8.5),
                                 "trailingEps": raw(7.5)},
        "assetProfile": {"maxAge": 86400, "sector": "Technology", "industry": "Consumer Electronics"},
        "financialData": {"maxAge": 86400, "currentPrice": raw(265.0)},
        "quoteType": {"symbol": symbol, "quoteType": "EQUITY", "exchange": "NMS"},
    }]}}


def quote(symbol: str) -> dict:
    return {"quoteResponse": {"error": None, "result": [{"symbol": symbol, "language": "en-US", "region": "US"}]}}


@pytest.fixture
def yahoo(tmp_path):
    yf.set_tz_cache_location(str(tmp_path / "yfinance-cache"))
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.expect_request("/").respond_with_data("", headers={"Set-Cookie": "A3=d=local; Path=/; HttpOnly"})
    server.expect_request("/v1/test/getcrumb").respond_with_data("local-crumb", content_type="text/plain")
    server.expect_request("/consent").respond_with_data("<html></html>", content_type="text/html")
    # Ticker.info also asks the fundamentals time series for the PEG ratio; none here.
    server.expect_request(re.compile(r"^/ws/fundamentals-timeseries/")).respond_with_json(
        {"timeseries": {"result": [], "error": None}})
    with yahoo_base_urls(server.url_for("/")):
        yield server
    server.clear()
    server.stop()


def test_info_lands_in_the_contract_shape_skips_stored_tickers_and_isolates_failures(yahoo):
    yahoo.expect_request("/v10/finance/quoteSummary/AAPL").respond_with_json(quote_summary("AAPL"))
    yahoo.expect_request("/v7/finance/quote", query_string={"symbols": "AAPL"}, method="GET").respond_with_json(quote("AAPL"))
    not_found = {"quoteSummary": {"result": None, "error": {"code": "Not Found", "description": "Quote not found for symbol: NOPE"}}}
    yahoo.expect_request("/v10/finance/quoteSummary/NOPE").respond_with_json(not_found, status=404)
    yahoo.expect_request("/v7/finance/quote").respond_with_json({"quoteResponse": {"result": [], "error": None}})

    chunks: list[pd.DataFrame] = []
    source = YahooInfoSource(["AAPL", "MSFT", "NOPE"], already_have={"MSFT"}, pause=0, max_attempts=2,
                             wait=wait_none(), as_of=AS_OF)
    report = source.fetch(chunks.append)

    assert report.fetched == ["AAPL"], report.failed
    assert report.skipped == ["MSFT"] and list(report.failed) == ["NOPE"]
    assert "NOPE" in report.failed["NOPE"]
    row = pd.concat(chunks).set_index("ticker").loc["AAPL"]
    assert row["as_of_date"] == AS_OF
    assert (row["market_cap"], row["shares_outstanding"]) == (3.9e12, 1.47e10)
    assert (row["forward_eps"], row["trailing_eps"], row["forward_pe"], row["trailing_pe"]) == (8.5, 7.5, 31.2, 35.4)
    assert (row["sector"], row["industry"]) == ("Technology", "Consumer Electronics")
    paths = [request.path for request, _ in yahoo.log]
    assert not any("MSFT" in p for p in paths)  # resumable: today's stored snapshot is not fetched again
    assert paths.count("/v10/finance/quoteSummary/NOPE") >= 2  # retried before giving up


def test_rate_limited_answers_are_retried(yahoo):
    answers = iter([Response("Too Many Requests", status=429)])

    def first_throttled(request):
        return next(answers, None) or Response(json.dumps(quote_summary("AAPL")), content_type="application/json")

    yahoo.expect_request("/v10/finance/quoteSummary/AAPL").respond_with_handler(first_throttled)
    yahoo.expect_request("/v7/finance/quote").respond_with_json(quote("AAPL"))
    chunks: list[pd.DataFrame] = []
    report = YahooInfoSource(["AAPL"], pause=0, max_attempts=3, wait=wait_none(), as_of=AS_OF).fetch(chunks.append)
    assert report.fetched == ["AAPL"] and not report.failed
    assert pd.concat(chunks)["forward_eps"].tolist() == [8.5]
    assert [r.path for r, _ in yahoo.log].count("/v10/finance/quoteSummary/AAPL") >= 2
