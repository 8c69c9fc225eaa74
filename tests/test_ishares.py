"""iShares holdings downloads, with their real quirks, parsed into index membership (offline: a local server)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from tenacity import wait_none

from orchestration.extract.ishares import (
    FUNDS,
    HoldingsError,
    download_holdings,
    parse_holdings,
    yahoo_symbol,
)

CANNED = (Path(__file__).parent / "fixtures" / "IVV_holdings.csv").read_text()


def test_quirks_preamble_cash_futures_placeholders_and_disclaimer():
    frame = parse_holdings(CANNED, "sp500", "IVV_holdings.csv")
    assert sorted(frame["ticker"]) == ["AAPL", "BRK-B", "GOOGL", "NVDA", "UNH", "XOM"]  # no cash, futures, money market
    assert set(frame["as_of_date"]) == {date(2026, 11, 19)}
    rows = frame.set_index("ticker")
    assert rows.at["NVDA", "weight"] == pytest.approx(0.075)
    assert pd.isna(rows.at["XOM", "weight"])  # '-' placeholder
    assert rows.at["NVDA", "sector"] == "Technology"
    assert rows.at["BRK-B", "sector"] == "Financial Services"
    assert rows.at["UNH", "sector"] == "Healthcare"
    assert rows.at["GOOGL", "sector"] == "Communication Services"


def test_symbols_follow_yahoo():
    assert yahoo_symbol("BRK.B") == "BRK-B" and yahoo_symbol("bf.b") == "BF-B" and yahoo_symbol("AAPL") == "AAPL"


def test_a_file_without_the_holdings_header_is_refused():
    with pytest.raises(HoldingsError, match="no header line"):
        parse_holdings("Ticker;Name\nAAPL;Apple\n", "sp500", "odd.csv")


def test_download_retries_a_server_error_then_parses():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        path = FUNDS["sp500"][1].split("?")[0]
        server.expect_ordered_request(path).respond_with_data("busy", status=503)
        server.expect_ordered_request(path).respond_with_data(CANNED, content_type="text/csv")
        frame = download_holdings("sp500", base_url=server.url_for("/"), wait=wait_none())
        assert len(frame) == 6 and len(server.log) == 2
    finally:
        server.clear()
        server.stop()
