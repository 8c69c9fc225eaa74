"""fct_forward_pe and fct_guidance_counts on hand-made snapshots, events and counts (answers checkable by hand)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.land.guidance_landing import process_landing_folder
from orchestration.land.upsert import upsert
from tests.conftest import query, run_dbt

FIXTURES = Path(__file__).parent / "fixtures"
MODELS = "+fct_forward_pe +fct_guidance_counts +fct_guidance_counts_by_sector"

# Members on 2024-01-31: (ticker, market_cap, shares, forward_eps). Forward earnings = shares x eps.
SP500 = [("AAA", 100.0, 10.0, 1.0), ("BBB", 300.0, 10.0, 2.0), ("CCC", 100.0, 10.0, -1.0), ("AAPL", 500.0, 10.0, 5.0)]
RUSSELL = [("SSS", 50.0, 10.0, 0.5)]


def _membership() -> pd.DataFrame:
    rows = [("sp500", t, date(2024, 1, 2), None, "Technology") for t, *_ in SP500]
    rows += [("russell2000", t, date(2024, 1, 2), None, "Industrials") for t, *_ in RUSSELL]
    return pd.DataFrame(rows, columns=["index_name", "ticker", "as_of_date", "weight", "sector"])


def _snapshots() -> pd.DataFrame:
    rows = [(t, date(2024, 1, 31), cap, shares, eps, None, None, None, None, None) for t, cap, shares, eps in SP500 + RUSSELL]
    return pd.DataFrame(rows, columns=["ticker", "as_of_date", "market_cap", "shares_outstanding", "forward_eps",
                                       "trailing_eps", "forward_pe", "trailing_pe", "sector", "industry"])


def _history() -> pd.DataFrame:
    rows = [("sp500", date(2022, 6, 30), 25.0), ("sp500", date(2023, 1, 31), 18.0),
            ("sp500", date(2023, 11, 30), 20.0), ("sp500", date(2023, 12, 29), 20.0),
            ("russell2000", date(2023, 11, 30), 24.0), ("russell2000", date(2023, 12, 29), 26.0)]
    return pd.DataFrame(rows, columns=["index_name", "as_of_date", "forward_pe"])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("valuations")
    path = folder / "w.duckdb"
    landing = folder / "landing"
    landing.mkdir()
    for name in ("guidance_counts_small.csv", "guidance_events_small.csv"):
        shutil.copy(FIXTURES / name, landing / name)
    with duckdb.connect(str(path)) as con:
        upsert(con, "raw.index_membership", _membership(), "files")
        upsert(con, "raw.valuation_snapshots", _snapshots(), "files")
        upsert(con, "raw.index_valuation_history", _history(), "files")
        report = process_landing_folder(con, landing, folder / "quarantine")
    assert len(report.loaded) == 2 and not report.quarantined
    run_dbt(path, "build", "--select", MODELS, "--indirect-selection", "cautious")
    return path


def _pe(warehouse: Path, universe: str, on: str) -> dict:
    rows = query(warehouse, "SELECT * FROM marts.fct_forward_pe WHERE universe = ? AND as_of_date = ?", [universe, on])
    assert len(rows) == 1, f"{universe} {on}: {len(rows)} rows"
    return rows.iloc[0].to_dict()


def test_aggregate_pe_excludes_negative_eps_and_reports_coverage(warehouse):
    sp500 = _pe(warehouse, "sp500", "2024-01-31")
    # caps of AAA, BBB, AAPL = 900; their forward earnings 10 + 20 + 50 = 80; CCC (negative EPS) left out.
    assert sp500["forward_pe"] == pytest.approx(900 / 80)
    assert sp500["coverage_pct"] == pytest.approx(900 / 1000)
    assert (sp500["constituents"], sp500["constituents_included"]) == (4, 3)
    assert sp500["median_forward_pe"] == pytest.approx(10.0)  # member P/Es 10, 15, 10
    assert sp500["basis"] == "constituents"


def test_magnificent_7_and_the_rest(warehouse):
    assert _pe(warehouse, "magnificent_7", "2024-01-31")["forward_pe"] == pytest.approx(10.0)
    rest = _pe(warehouse, "sp500_ex_magnificent_7", "2024-01-31")
    assert rest["forward_pe"] == pytest.approx(400 / 30)
    assert rest["coverage_pct"] == pytest.approx(400 / 500)


def test_relative_pe_long_run_average_uses_imported_history(warehouse):
    russell = _pe(warehouse, "russell2000", "2024-01-31")
    relative = 10.0 / (900 / 80)
    assert russell["relative_pe_vs_sp500"] == pytest.approx(relative)
    # month-ends: 24/20 (Nov), 26/20 (Dec), and this date
    average = (1.2 + 1.3 + relative) / 3
    assert russell["relative_pe_long_run_avg"] == pytest.approx(average)
    assert russell["long_run_months"] == 3
    assert russell["discount_vs_long_run_pct"] == pytest.approx(relative / average - 1)
    imported = _pe(warehouse, "russell2000", "2023-12-29")
    assert imported["basis"] == "imported" and imported["relative_pe_vs_sp500"] == pytest.approx(1.3)


def test_prior_peak_is_the_highest_at_least_a_year_earlier(warehouse):
    sp500 = _pe(warehouse, "sp500", "2024-01-31")
    assert sp500["prior_peak_forward_pe"] == pytest.approx(25.0)
    assert str(sp500["prior_peak_date"])[:10] == "2022-06-30"
    assert pd.isna(_pe(warehouse, "sp500", "2023-01-31")["prior_peak_forward_pe"])  # nothing a year before it


def test_classification_midpoint_single_value_and_in_line(warehouse):
    rows = query(warehouse, "SELECT ticker, index_name, guidance_eps, direction FROM intermediate.int_guidance_classified")
    by_ticker = rows.set_index("ticker")
    assert by_ticker.at["AAA", "direction"] == "negative"  # midpoint 1.00 < 1.05
    assert by_ticker.at["AAA", "guidance_eps"] == pytest.approx(1.0)
    assert by_ticker.at["BBB", "direction"] == "positive"  # single value 2.10 > 2.00
    assert by_ticker.at["CCC", "direction"] == "in_line"  # midpoint 1.00 = 1.00
    assert by_ticker.at["AAPL", "direction"] == "negative"  # 1.50 < 1.60
    assert pd.isna(by_ticker.at["ZZZ", "index_name"])  # in no loaded index


def test_counts_from_events_win_over_published_ones(warehouse):
    q1 = query(warehouse, "SELECT * FROM marts.fct_guidance_counts WHERE fiscal_quarter = '2024Q1'").iloc[0]
    assert q1["basis"] == "events"
    assert (q1["negative_count"], q1["positive_count"], q1["total_count"]) == (2, 1, 4)
    assert q1["negative_share"] == pytest.approx(0.5)
    by_sector = query(warehouse, "SELECT * FROM marts.fct_guidance_counts_by_sector WHERE fiscal_quarter = '2024Q1'")
    assert by_sector[["sector", "negative_count", "total_count"]].values.tolist() == [["Technology", 2, 4]]


def test_latest_published_count_averages_and_lowest_since(warehouse):
    counts = query(warehouse, "SELECT * FROM marts.fct_guidance_counts WHERE index_name = 'sp500' ORDER BY fiscal_quarter")
    by_quarter = counts.set_index("fiscal_quarter")
    assert by_quarter.at["2022Q4", "negative_count"] == 3  # the later of the two publications
    assert by_quarter.at["2023Q3", "basis"] == "published" and pd.isna(by_quarter.at["2023Q3", "as_of_date"])
    # 2024Q1: the five quarters before it: (3 + 1 + 4 + 2 + 5) / 5
    assert by_quarter.at["2024Q1", "negative_avg_5y"] == pytest.approx(3.0)
    assert by_quarter.at["2024Q1", "positive_avg_5y"] == pytest.approx((2 + 3 + 1 + 2 + 0) / 5)
    assert by_quarter.at["2024Q1", "quarters_in_avg_5y"] == 5
    assert pd.isna(by_quarter.at["2022Q4", "negative_avg_5y"])
    lowest = by_quarter["negative_lowest_since_quarter"]
    assert lowest["2024Q1"] == "2023Q3"  # 2 <= 2
    assert lowest["2023Q4"] == "2023Q3"  # 2 <= 5
    assert lowest["2023Q2"] == "2023Q1"  # 1 <= 4
    assert pd.isna(lowest["2023Q1"])  # the lowest in the data


def test_published_reference_counts(reference_data, tmp_path):
    path = tmp_path / "w.duckdb"
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(reference_data / "published_guidance_counts.csv", landing)
    with duckdb.connect(str(path)) as con:
        report = process_landing_folder(con, landing, tmp_path / "quarantine")
    assert report.loaded and not report.quarantined
    run_dbt(path, "build", "--select", "+fct_guidance_counts", "--indirect-selection", "cautious")
    published = pd.read_csv(reference_data / "published_guidance_counts.csv")
    counts = query(path, "SELECT * FROM marts.fct_guidance_counts").set_index("fiscal_quarter")
    assert set(counts.index) == set(published["fiscal_quarter"])
    q4 = counts.loc["2025Q4"]
    expected = published.set_index("fiscal_quarter").loc["2025Q4"]
    assert (q4["negative_count"], q4["total_count"]) == (expected["negative_count"], expected["total_count"])
    # the most recent earlier quarter with at most as many negative guidances
    earlier = published[(published["fiscal_quarter"] < "2025Q4") & (published["negative_count"] <= expected["negative_count"])]
    assert q4["negative_lowest_since_quarter"] == earlier["fiscal_quarter"].max()
