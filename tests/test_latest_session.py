"""The readers' default session is the last headline-complete one, and every figure says which date it is for.

A tiny warehouse with a ragged edge, built by dbt from hand-made prices and published as a snapshot:

    ticker   2025-01-02 03 06 07 08
    ^RUT         100  102 104 105  -     ^RUT beats ^GSPC on 01-03, 01-06 and 01-07
    ^GSPC        100  101 101 101  -
    ^IXIC        200  202 204 206  -
    XLK           50   51  52  -   -     the sector proxies stop on 01-06
    XLF           40   40  39  -   -
    AAPL          10   11  12  13  14    a stock priced one session further

The headline tickers (the pair ^RUT/^GSPC, the headline indices ^RUT ^GSPC ^IXIC, the sector proxies
that have prices: XLK, XLF) all have a price up to 2025-01-06: that is the default session, and four
tickers (^RUT, ^GSPC, ^IXIC, AAPL) have prices after it, through 2025-01-08.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from orchestration.serve import dashboard_queries as data
from orchestration.serve.report import load_summary_row, print_report, render_report
from orchestration.serve.snapshot import connect_snapshot, publish_snapshot
from tests.conftest import load_prices, run_dbt
from tests.test_dashboard import run_app

DATES = ["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07", "2025-01-08"]
CLOSES = {
    "^RUT": [100, 102, 104, 105],
    "^GSPC": [100, 101, 101, 101],
    "^IXIC": [200, 202, 204, 206],
    "XLK": [50, 51, 52],
    "XLF": [40, 40, 39],
    "AAPL": [10, 11, 12, 13, 14],
}
DEFAULT_SESSION = date(2025, 1, 6)
AHEAD_NOTE = ("4 tickers have prices after this session, through 2025-01-08: the headline figures are for the last "
              "session where the pair, the headline indices and every sector proxy are priced.")


@pytest.fixture(scope="module")
def serving(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ragged_edge")
    warehouse = folder / "rotation.duckdb"
    load_prices(warehouse, [(ticker, day, float(close), None) for ticker, closes in CLOSES.items()
                            for day, close in zip(DATES, closes)])
    run_dbt(warehouse, "build", "--select", "+rotation_summary", "--exclude-resource-type", "test", "unit_test")
    publish_snapshot(warehouse, folder / "serving")
    return folder / "serving"


def report(serving: Path, on: date | None = None) -> str:
    out = io.StringIO()
    with connect_snapshot(serving) as con:
        print_report(con, on, Console(file=out, width=250))
    return out.getvalue()


def figure(text: str, label: str) -> str:
    """The value of the report's row `label`."""
    row = next(line for line in text.splitlines() if line.startswith(f"│ {label} "))
    return row.split("│")[2].strip()


def test_the_default_session_is_the_last_headline_complete_one(serving):
    with connect_snapshot(serving) as con:
        assert data.latest_session(con) == date(2025, 1, 8)
        assert data.latest_complete_session(con) == DEFAULT_SESSION
    text = report(serving)
    assert "Market rotation, session of 2025-01-06\n" in text
    assert AHEAD_NOTE in text
    assert "headline ticker" not in text  # nothing missing on the default session
    assert figure(text, "Streak russell2000_vs_sp500") == "2 sessions in a row, since 2025-01-03; the longest in the data"
    assert figure(text, "Best sector today") == "Technology +1.96 %"  # XLK: 52 / 51 - 1
    assert figure(text, "Worst sector today") == "Financial Services -2.50 %"  # XLF: 39 / 40 - 1


def test_a_date_after_it_names_the_missing_sector_proxies(serving):
    text = report(serving, date(2025, 1, 7))
    assert "Market rotation, session of 2025-01-07\n" in text
    assert ("2 headline tickers have no price on this date: XLF, XLK (the last session where every headline ticker "
            "is priced: 2025-01-06).") in text
    assert "1 ticker has prices after this session, through 2025-01-08.\n" in text
    assert figure(text, "Sectors") == "n/a (no price of 2 sector ETFs on this date: XLF, XLK)"
    assert figure(text, "Streak russell2000_vs_sp500") == "3 sessions in a row, since 2025-01-03; the longest in the data"
    assert figure(text, "Russell 2000 (^RUT) YTD / 5-day") == "n/a / n/a"  # priced, but no 2024 close nor 5 sessions before


def test_the_last_date_says_the_pair_has_no_price_instead_of_not_loaded(serving):
    text = report(serving, date(2025, 1, 8))
    assert "5 headline tickers have no price on this date: ^RUT, ^GSPC, ^IXIC, XLF, XLK" in text
    assert "after this session" not in text  # nothing is ahead of the last date
    assert figure(text, "Streak russell2000_vs_sp500") == "n/a (no price of ^RUT or ^GSPC on this date)"
    assert figure(text, "S&P 500 (^GSPC) YTD / 5-day") == "n/a (no price on this date)"
    assert "not both loaded" not in text


def test_an_earlier_complete_session_has_no_notes(serving):
    text = report(serving, date(2025, 1, 3))
    assert "Market rotation, session of 2025-01-03\n" in text
    assert "no price" not in text and "after this session" not in text
    assert figure(text, "Streak russell2000_vs_sp500") == "1 session in a row, since 2025-01-03; the longest in the data"


def test_a_sector_spread_without_some_proxies_says_so(serving):
    # A session where XLF alone lacks a price: the best and worst sector are of the proxies priced.
    with connect_snapshot(serving) as con:
        s = load_summary_row(con, DEFAULT_SESSION) | {"headline_complete": False, "headline_tickers_missing": 1,
                                                      "headline_tickers_missing_list": "XLF"}
    out = io.StringIO()
    Console(file=out, width=250).print(render_report(s, DEFAULT_SESSION, date(2025, 1, 3)))
    text = out.getvalue()
    assert "1 headline ticker has no price on this date: XLF (the last session where every headline ticker is priced: 2025-01-03)." in text
    assert figure(text, "Best minus worst") == "+4.46 % (without XLF: no price on this date)"  # 52 / 51 - 39 / 40
    assert "after this session" in text  # a session after the last complete one, with tickers ahead


def test_dashboard_defaults_to_the_last_complete_session(serving, monkeypatch):
    app = run_app(serving, monkeypatch)
    assert app.date_input(key="session").value == DEFAULT_SESSION
    assert "Session of 2025-01-06." in app.caption[0].value
    assert [w.value for w in app.warning] == [AHEAD_NOTE]
    captions = [c.value for c in app.caption]
    assert "Return by sector on the session of 2025-01-06" in captions
    assert "Through the session of 2025-01-06." in captions


def test_dashboard_labels_earlier_sector_returns_with_their_date(serving, monkeypatch):
    app = run_app(serving, monkeypatch, date(2025, 1, 7))
    warnings = [w.value for w in app.warning]
    assert warnings[0].startswith("2 headline tickers have no price on this date: XLF, XLK")
    assert ("Returns of 2025-01-06: the last sector ETF prices on or before the session of 2025-01-07, which has none."
            in warnings)
    assert "Dispersion: best minus worst sector, 1-day (last: 2025-01-06)" in [c.value for c in app.caption]
    headline = app.table[0].value["Value"].to_dict()
    assert headline["Best sector today"] == "n/a (no price of 2 sector ETFs on this date: XLF, XLK)"
    assert headline["Russell 2000 (^RUT) YTD"] == "n/a"


def test_dashboard_on_the_last_date_names_what_is_missing(serving, monkeypatch):
    app = run_app(serving, monkeypatch, date(2025, 1, 8))
    headline = app.table[0].value["Value"].to_dict()
    assert headline["Streak russell2000_vs_sp500"] == "n/a (no price of ^RUT or ^GSPC on this date)"
    assert headline["S&P 500 (^GSPC) YTD"] == "n/a (no price on this date)"
    captions = [c.value for c in app.caption]
    assert "Through the session of 2025-01-08; last price before it: ^GSPC 2025-01-07, ^IXIC 2025-01-07, ^RUT 2025-01-07." in captions
    assert any(c.endswith("On 2025-01-08: n/a (no price of ^RUT or ^GSPC on this date).") for c in captions)


def test_dashboard_panels_follow_the_session_not_the_date_picked(serving, monkeypatch):
    app = run_app(serving, monkeypatch, date(2025, 1, 4))  # a Saturday: the session shown is Friday's
    assert "Session of 2025-01-03." in app.caption[0].value
    assert "Return by sector on the session of 2025-01-03" in [c.value for c in app.caption]
