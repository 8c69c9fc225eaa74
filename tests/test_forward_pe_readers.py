"""The report and the dashboard on a warehouse whose forward P/E comes only from an imported history.

No valuation snapshots: the S&P 500's forward P/E is the imported one (basis 'imported', no coverage nor
constituents), and the other universes have none. The history, loaded from a CSV as
ROTATION_VALUATION_HISTORY files are:

    2020-12-31 22     2021-01-08 25 (the 2021 high)    2022-06-30 18 (20 % or more below 25: 2021 is a peak year)
    2025-10-31 24.5   2026-01-02 24.6                  2026-01-05 24.25

On 2026-01-02: 24.6 / 25 = 98 % of the 2021 high; the last figure at least 24.6 is 2021-01-08's 25.
On 2026-01-05: 24.25 / 25 = 97 %; the last figure at least 24.25 is 2026-01-02's 24.6. The prior peak (a year
or more earlier) is 25 on 2021-01-08. Prices: ^GSPC and ^RUT on 2025-12-31 and 2026-01-02, 05 and 06.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from rich.console import Console

from orchestration.land.valuations import load_files
from orchestration.serve.report import load_summary_row, print_report, render_report
from orchestration.serve.snapshot import connect_snapshot, publish_snapshot
from tests.conftest import load_prices, query, run_dbt
from tests.test_dashboard import run_app
from tests.test_latest_session import figure

HISTORY = [("2020-12-31", 22), ("2021-01-08", 25), ("2022-06-30", 18), ("2025-10-31", 24.5),
           ("2026-01-02", 24.6), ("2026-01-05", 24.25)]
SESSIONS = ["2025-12-31", "2026-01-02", "2026-01-05", "2026-01-06"]


@pytest.fixture(scope="module")
def imported_only(tmp_path_factory) -> tuple[Path, Path]:
    """The warehouse and its serving folder."""
    folder = tmp_path_factory.mktemp("imported_history")
    warehouse = folder / "rotation.duckdb"
    load_prices(warehouse, [(ticker, day, 100.0 + i, None) for ticker in ("^GSPC", "^RUT") for i, day in enumerate(SESSIONS)])
    history = folder / "sp500_forward_pe.csv"
    pd.DataFrame([("sp500", day, pe) for day, pe in HISTORY], columns=["index_name", "as_of_date", "forward_pe"]).to_csv(history, index=False)
    with duckdb.connect(str(warehouse)) as con:
        counts, problems = load_files(con, [str(history)], "history", "raw.index_valuation_history", "test-load")
    assert not problems
    run_dbt(warehouse, "build", "--select", "+rotation_summary", "+fct_forward_pe_yearly", "--exclude-resource-type", "test", "unit_test")
    publish_snapshot(warehouse, folder / "serving")
    return warehouse, folder / "serving"


def report(serving: Path, on: date | None = None) -> str:
    out = io.StringIO()
    with connect_snapshot(serving) as con:
        print_report(con, on, Console(file=out, width=250))
    return out.getvalue()


def test_the_marts_carry_the_imported_basis_and_the_peaks(imported_only):
    warehouse, _ = imported_only
    pe = query(warehouse, "SELECT * FROM marts.fct_forward_pe ORDER BY as_of_date").set_index("as_of_date")
    assert set(pe["basis"]) == {"imported"} and pe["coverage_pct"].isna().all() and pe["constituents"].isna().all()
    last = pe.loc[pd.Timestamp("2026-01-05")]
    assert (last["reference_year"], last["reference_year_high"]) == (2021, 25)
    assert last["pct_of_reference_year_high"] == pytest.approx(24.25 / 25)
    assert last["highest_since_date"] == pd.Timestamp("2026-01-02")
    yearly = query(warehouse, "SELECT * FROM marts.fct_forward_pe_yearly WHERE universe = 'sp500' ORDER BY year").set_index("year")
    assert list(yearly.index) == [2020, 2021, 2022, 2025, 2026]
    assert (yearly.loc[2026, "high_forward_pe"], yearly.loc[2026, "low_forward_pe"], yearly.loc[2026, "last_forward_pe"]) == (24.6, 24.25, 24.25)


def test_the_report_states_the_imported_basis_and_the_reference_year(imported_only):
    _, serving = imported_only
    text = report(serving)
    assert "Market rotation, session of 2026-01-06" in text
    assert figure(text, "S&P 500 forward P/E (as of 2026-01-05)") == (
        "24.25x, 97 % of the 2021 high (25.00x on 2021-01-08); highest since 2026-01-02")
    assert figure(text, "  basis") == "imported history"
    assert figure(text, "S&P 500 prior peak (over a year earlier)") == "25.0x on 2021-01-08"
    assert figure(text, "Magnificent 7 / rest of the S&P 500 forward P/E") == "n/a (no valuation snapshots on this date)"
    assert figure(text, "Russell 2000 forward P/E") == "n/a (no valuation snapshots on this date)"
    earlier = report(serving, date(2026, 1, 2))
    assert figure(earlier, "S&P 500 forward P/E (as of 2026-01-02)") == (
        "24.60x, 98 % of the 2021 high (25.00x on 2021-01-08); highest since 2021-01-08")


def test_a_figure_from_constituents_states_its_coverage_and_a_new_high_says_so(imported_only):
    _, serving = imported_only
    with connect_snapshot(serving) as con:
        s = load_summary_row(con, date(2026, 1, 6))
    s |= {"laggard_forward_pe_basis": "constituents", "laggard_forward_pe_coverage_pct": 0.987,
          "laggard_forward_pe_highest_since_date": None, "laggard_forward_pe_reference_year": None}
    out = io.StringIO()
    Console(file=out, width=250).print(render_report(s, None, date(2026, 1, 6)))
    text = out.getvalue()
    assert figure(text, "  basis") == "constituents, 99 % of market cap"
    assert figure(text, "S&P 500 forward P/E (as of 2026-01-05)") == (
        "24.25x (no earlier peak year in the data); the highest in the data")


def test_the_dashboard_shows_the_imported_figure(imported_only, monkeypatch):
    _, serving = imported_only
    app = run_app(serving, monkeypatch)
    captions = [c.value for c in app.caption]
    assert ("S&P 500: 24.25x, 97 % of the 2021 high (25.00x on 2021-01-08); highest since 2026-01-02 "
            "(imported history).") in captions
    table = next(frame.value for frame in app.dataframe if "forward_pe" in frame.value.columns)
    assert list(table.index) == ["sp500"]
    assert table.loc["sp500", "basis"] == "imported" and pd.isna(table.loc["sp500", "coverage_pct"])
    assert table.loc["sp500", "pct_of_reference_year_high"] == pytest.approx(0.97)
