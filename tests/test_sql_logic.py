"""The marts built end to end (`dbt build`) from tiny hand-made prices whose answers can be checked by eye.

The SQL logic of each model (returns and their bases, ties, missing days, streaks, longest-since,
sector ranks, ...) is tested by dbt unit tests (dbt_project/models/*/_unit_tests.yml, run by
tests/test_dbt_unit_tests.py); these cases check what needs a whole build: the headline summary,
the cohort returns, the data-quality test and an incremental refresh.

Sessions used (NYSE): 2024-12-26 27 30 31, 2025-01-02 03 06 07 08 (01-09 closed), 10 13 14.
^GSPC closes at 100 every session except 2025-01-10, which is missing for it (a day missing for
one ticker of a pair). ^RUT moves so that the russell2000_vs_sp500 pair has, in order:
  12-26 first session (no return)   12-27 +  12-30 +  12-31 -   01-02 + (first session of the year)
  01-03 tie (0 vs 0)   01-06 +  01-07 +  01-08 +   01-10 not a pair session   01-13 +   01-14 -
"""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest

from orchestration import config
from tests.conftest import delete_price, load_prices, query, run_dbt

# The dbt unit tests run in tests/test_dbt_unit_tests.py; these builds need not repeat them.
BUILD = ("build", "--exclude-resource-type", "unit_test")

D = date.fromisoformat
RUT = [
    ("2024-12-26", 100), ("2024-12-27", 101), ("2024-12-30", 102), ("2024-12-31", 101),
    ("2025-01-02", 102), ("2025-01-03", 102), ("2025-01-06", 103), ("2025-01-07", 104),
    ("2025-01-08", 105), ("2025-01-10", 110), ("2025-01-13", 106), ("2025-01-14", 105),
]
GSPC_DATES = [d for d, _ in RUT if d != "2025-01-10"]

PRICES = (
    [("^RUT", d, c, c) for d, c in RUT]
    + [("^GSPC", d, 100.0, 100.0) for d in GSPC_DATES]
    # Sector ETFs on 2025-01-03: Technology and Financial Services tie at +2 % (adj_close), Energy -1 %.
    # XLK's traded close does not move: returns must use adj_close.
    + [("XLK", "2025-01-02", 60.0, 50.0), ("XLK", "2025-01-03", 60.0, 51.0)]
    + [("XLF", "2025-01-02", 25.0, None), ("XLF", "2025-01-03", 25.5, None)]
    + [("XLE", "2025-01-02", 10.0, None), ("XLE", "2025-01-03", 9.9, None)]
    # Two Magnificent 7 members: AAPL +10 % YTD on 01-02, MSFT -5 %.
    + [("AAPL", "2024-12-31", 10.0, None), ("AAPL", "2025-01-02", 11.0, None)]
    + [("MSFT", "2024-12-31", 20.0, None), ("MSFT", "2025-01-02", 19.0, None)]
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixture") / "rotation.duckdb"
    load_prices(path, PRICES)
    run_dbt(path, *BUILD)
    return path


def returns_row(warehouse, ticker: str, day: str) -> dict:
    frame = query(warehouse, "SELECT * FROM marts.fct_returns_daily WHERE ticker = ? AND date = ?", [ticker, D(day)])
    return frame.iloc[0].to_dict()


def test_missing_day_is_reported_by_the_data_quality_test(warehouse):
    result = run_dbt(warehouse, "test", "--select", "assert_pair_sessions_complete")
    assert "WARN 1 assert_pair_sessions_complete" in result.stdout


def test_cohort_equal_weight(warehouse):
    row = query(warehouse, "SELECT * FROM marts.fct_cohort_returns WHERE cohort = 'magnificent_7' AND date = '2025-01-02'").iloc[0]
    assert row["members"] == 2
    assert row["return_ytd_equal_weight"] == pytest.approx((0.10 - 0.05) / 2)
    assert row["return_1d_equal_weight"] == pytest.approx((0.10 - 0.05) / 2)
    assert pd.isna(row["return_ytd_cap_weight"])  # no market caps loaded


def test_summary(warehouse):
    row = query(warehouse, "SELECT * FROM marts.rotation_summary WHERE date = '2025-01-13'").iloc[0]
    assert not row["is_demo"] and row["source"] == "files"
    assert row["streak_sessions"] == 4 and row["streak_start_date"].date() == D("2025-01-06")
    assert (row["streak_leader_ticker"], row["streak_laggard_ticker"]) == ("^RUT", "^GSPC")
    assert (row["headline_index_1_ticker"], row["headline_index_1_label"]) == ("^RUT", "Russell 2000")
    assert row["headline_index_1_return_ytd"] == pytest.approx(106 / 101 - 1)
    assert (row["headline_index_2_ticker"], row["headline_index_2_return_ytd"]) == ("^GSPC", 0)
    assert (row["cohort_id"], row["cohort_label"], row["cohort_size"]) == ("magnificent_7", "Magnificent 7", 7)
    tickers = query(warehouse, "SELECT ticker, in_universe, cohorts, sessions FROM marts.dim_tickers").set_index("ticker")
    assert tickers.loc["AAPL", "cohorts"] == "magnificent_7" and tickers.loc["AAPL", "sessions"] == 2
    assert tickers.loc["ASML", "sessions"] == 0 and bool(tickers.loc["ASML", "in_universe"])



def test_the_summary_follows_the_vars_and_the_seeds(warehouse, tmp_path, monkeypatch):
    """Another pair, cohort, guidance index and headline order: labels and tickers follow, nothing keeps an old name."""
    copy = tmp_path / "rotation.duckdb"
    shutil.copy(warehouse, copy)
    seeds = tmp_path / "seeds"
    shutil.copytree(config.SEEDS_DIR, seeds)
    tickers = pd.read_csv(seeds / "universe_tickers.csv", dtype=str, keep_default_na=False)
    tickers["headline_order"] = tickers["ticker"].map({"^GSPC": "1", "^RUT": "2"}).fillna("")
    tickers.to_csv(seeds / "universe_tickers.csv", index=False)
    with open(seeds / "universe_pairs.csv", "a") as out:
        out.write("large_vs_small,^GSPC,^RUT,S&P 500 vs Russell 2000\n")
    with open(seeds / "universe_cohorts.csv", "a") as out:
        out.write("two_giants,Two giants,sp500\n")
    with open(seeds / "universe_cohort_members.csv", "a") as out:
        out.write("two_giants,AAPL\ntwo_giants,MSFT\n")
    monkeypatch.setenv("ROTATION_DBT_SEEDS", str(seeds))
    run_dbt(copy, "build", "--full-refresh", "--select", "universe_tickers universe_pairs universe_cohorts universe_cohort_members "
            "int_pair_sessions fct_relative_streaks fct_cohort_returns rotation_summary",
            "--vars", "{summary_pair_id: large_vs_small, summary_cohort: two_giants, summary_guidance_index: russell2000}")
    summary = query(copy, "SELECT * FROM marts.rotation_summary ORDER BY date").set_index("date")
    row = summary.loc[pd.Timestamp("2025-01-02")]
    assert (row["streak_pair_id"], row["streak_pair_label"]) == ("large_vs_small", "S&P 500 vs Russell 2000")
    assert (row["streak_leader_ticker"], row["streak_leader_label"]) == ("^GSPC", "S&P 500")
    assert (row["streak_laggard_ticker"], row["streak_laggard_label"]) == ("^RUT", "Russell 2000")
    # ^RUT fell on 12-31 (a one-session run of ^GSPC) and rose on 01-02
    assert summary.loc[pd.Timestamp("2024-12-31"), "streak_sessions"] == 1 and row["streak_sessions"] == 0
    assert (row["headline_index_1_ticker"], row["headline_index_1_return_ytd"]) == ("^GSPC", 0)
    assert (row["headline_index_2_ticker"], row["headline_index_2_label"]) == ("^RUT", "Russell 2000")
    assert row["headline_index_2_return_ytd"] == pytest.approx(102 / 101 - 1)
    assert summary["headline_index_3_ticker"].isna().all() and summary["headline_index_3_return_ytd"].isna().all()
    # the cohort: AAPL +10 %, MSFT -5 % YTD
    assert (row["cohort_id"], row["cohort_label"], row["cohort_size"], row["cohort_members"]) == ("two_giants", "Two giants", 2, 2)
    assert row["cohort_return_ytd_equal_weight"] == pytest.approx((0.10 - 0.05) / 2)
    assert (row["cohort_parent_ticker"], row["cohort_complement_id"]) == ("^GSPC", "sp500_ex_two_giants")
    assert (row["guidance_index_name"], row["guidance_index_label"]) == ("russell2000", "Russell 2000")
    # no valuations here, and no relative P/E claimed against a laggard that is not its reference
    assert summary[["laggard_forward_pe", "leader_relative_pe"]].isna().all().all()


def test_incremental_refresh_matches_a_full_rebuild(tmp_path):
    path = tmp_path / "rotation.duckdb"
    load_prices(path, PRICES)
    run_dbt(path, *BUILD)
    # A new session, a revised old close and a vanished row, then an incremental build ...
    load_prices(path, [("^RUT", "2025-01-15", 107, 107), ("^GSPC", "2025-01-15", 101, 101), ("^RUT", "2024-12-31", 100.5, 100.5)])
    delete_price(path, "XLE", "2025-01-03")
    run_dbt(path, *BUILD)
    columns = "ticker, date, close, adj_close, return_1d, return_5d, return_mtd, return_ytd"
    incremental = query(path, f"SELECT {columns} FROM marts.fct_returns_daily ORDER BY ticker, date")
    # ... equals a build from scratch.
    run_dbt(path, *BUILD, "--full-refresh", "--select", "fct_returns_daily")
    full = query(path, f"SELECT {columns} FROM marts.fct_returns_daily ORDER BY ticker, date")
    assert len(incremental) == len(PRICES) + 2 - 1
    pd.testing.assert_frame_equal(incremental, full)
    assert returns_row(path, "^RUT", "2025-01-02")["return_ytd"] == pytest.approx(102 / 100.5 - 1)
