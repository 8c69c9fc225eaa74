"""The whole asset graph materialized through `rotation run` (the schedule's Dagster job) into temporary warehouses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.extract.demo import rotation_sessions
from orchestration.serve.snapshot import publish_snapshot
from tests.conftest import query

ROTATION = [str(Path(sys.executable).parent / "rotation")]

CONTRACT_COLUMNS = {
    "raw.prices_daily": "ticker date open high low close adj_close volume source ingested_at",
    "marts.dim_tickers": "ticker name asset_type sector proxy_for_sector cohorts",
    "marts.fct_returns_daily": "ticker date close adj_close return_1d return_5d return_mtd return_ytd",
    "marts.fct_relative_streaks": "pair_id date leader_ticker laggard_ticker leader_return_1d laggard_return_1d "
    "spread_1d leader_outperformed streak_sessions streak_start_date longest_since_date longest_since_sessions",
    "marts.fct_sector_returns": "sector date method proxy_ticker return_1d return_5d return_mtd return_ytd rank_1d",
    "marts.fct_sector_dispersion": "date method top_sector top_return_1d bottom_sector bottom_return_1d spread_1d",
    "marts.fct_cohort_returns": "cohort date members return_1d_equal_weight return_ytd_equal_weight return_ytd_cap_weight "
    "cohort_label cohort_size complement_of cap_weight_basis",
    "marts.fct_forward_pe": "universe as_of_date constituents coverage_pct forward_pe median_forward_pe "
    "relative_pe_vs_sp500 relative_pe_long_run_avg discount_vs_long_run_pct prior_peak_forward_pe prior_peak_date "
    "basis highest_since_date",
    "marts.fct_forward_pe_yearly": "universe year high_forward_pe high_date low_forward_pe low_date last_forward_pe last_date",
    "marts.fct_guidance_counts": "index_name fiscal_quarter negative_count positive_count total_count negative_share "
    "negative_avg_5y negative_avg_10y positive_avg_5y positive_avg_10y negative_lowest_since_quarter negative_tied_quarters",
    "marts.rotation_summary": "date source is_demo streak_pair_id streak_leader_ticker streak_laggard_ticker streak_sessions "
    "streak_start_date streak_longest_since_date headline_index_1_ticker headline_index_1_return_ytd cohort_id cohort_label "
    "cohort_size cohort_members cohort_return_ytd_equal_weight cohort_complement_id laggard_forward_pe leader_forward_pe",
}


def rotation(*args: str, warehouse: Path, check: bool = True) -> subprocess.CompletedProcess:
    """`rotation ARGS` on `warehouse`, with the defaults a user gets: its snapshot in serving/<name>/ and its
    run history in <warehouse>.dagster/ beside it (a warehouse outside the project's default)."""
    env = {**os.environ, "ROTATION_WAREHOUSE": str(warehouse)}
    for name in ("ROTATION_SOURCE", "ROTATION_FILES", "ROTATION_SERVING", "DAGSTER_HOME"):
        env.pop(name, None)
    result = subprocess.run(ROTATION + list(args), env=env, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture
def demo_warehouse(demo_run) -> tuple[Path, subprocess.CompletedProcess]:
    """The session's demo warehouse (tests/conftest.py), to read."""
    return demo_run


@pytest.fixture
def demo_copy(demo_run, tmp_path) -> Path:
    """A copy of the session's demo warehouse, for a test that runs again on it or changes it."""
    copy = tmp_path / "rotation.duckdb"
    shutil.copy(demo_run[0], copy)
    return copy


def test_contract_tables_and_columns(demo_warehouse):
    path, _ = demo_warehouse
    columns = query(path, "SELECT table_schema || '.' || table_name AS t, column_name FROM information_schema.columns")
    for table, expected in CONTRACT_COLUMNS.items():
        present = set(columns.loc[columns["t"] == table, "column_name"])
        assert set(expected.split()) <= present, f"{table} lacks {set(expected.split()) - present}"
    schemas = set(query(path, "SELECT DISTINCT table_schema FROM information_schema.tables")["table_schema"])
    assert {"raw", "staging", "intermediate", "marts"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_every_row_is_labelled_demo(demo_warehouse):
    path, result = demo_warehouse
    assert query(path, "SELECT DISTINCT source FROM raw.prices_daily")["source"].tolist() == ["demo"]
    assert query(path, "SELECT bool_and(is_demo) AS all_demo FROM marts.rotation_summary")["all_demo"][0]
    report = rotation("report", warehouse=path).stdout
    assert report.splitlines()[0].startswith("DEMO DATA")
    assert "Pipeline finished in" in result.stdout


def test_the_run_is_one_load_in_the_load_log(demo_warehouse):
    path, _ = demo_warehouse
    logged = query(path, "SELECT count(*) AS n, count(DISTINCT partition_value) AS tickers, sum(inserted) AS inserted, "
                         "sum(updated + deleted) AS other FROM raw.load_log WHERE table_name = 'raw.prices_daily'").iloc[0]
    stored = query(path, "SELECT count(DISTINCT ticker) AS tickers, count(*) AS n FROM raw.prices_daily").iloc[0]
    # one row per ticker, each counting what it inserted
    assert (logged["n"], logged["tickers"], logged["inserted"], logged["other"]) == (stored["tickers"], stored["tickers"], stored["n"], 0)
    tables = query(path, "SELECT table_name, load_id FROM raw.load_log GROUP BY ALL")
    assert {"raw.prices_daily", "raw.index_membership", "raw.valuation_snapshots", "raw.guidance_events"} <= set(tables["table_name"])
    assert tables["load_id"].nunique() == 1  # every ingest asset of the run, under its run id


def test_the_demo_market_is_not_reported_stale(demo_warehouse):
    # It ends on a fixed date: in a demo warehouse that date stands for the last completed session.
    _, run = demo_warehouse
    assert "check WARN: marts/dim_tickers prices_not_stale" not in run.stdout + run.stderr
    assert "raw.prices_daily: 111914 rows inserted" in run.stdout


def test_returns_cover_every_price_and_match_closes(demo_warehouse):
    path, _ = demo_warehouse
    counts = query(path, "SELECT (SELECT count(*) FROM raw.prices_daily) AS raw, (SELECT count(*) FROM marts.fct_returns_daily) AS fct")
    assert counts["raw"][0] == counts["fct"][0] > 100_000
    spy = query(path, "SELECT date, adj_close, return_1d FROM marts.fct_returns_daily WHERE ticker = 'SPY' ORDER BY date")
    assert spy["return_1d"].iloc[1:].to_numpy() == pytest.approx((spy["adj_close"] / spy["adj_close"].shift() - 1).iloc[1:].to_numpy())


def test_split_moves_close_but_not_the_return(demo_warehouse):
    path, _ = demo_warehouse
    nvda = query(path, "SELECT date, close, return_1d FROM marts.fct_returns_daily "
                       "WHERE ticker = 'NVDA' AND date BETWEEN '2024-06-07' AND '2024-06-10' ORDER BY date")
    assert nvda["close"].iloc[1] / nvda["close"].iloc[0] < 0.15  # 10-for-1
    assert abs(nvda["return_1d"].iloc[1]) < 0.2


def test_january_rotation_streak_and_longest_since(demo_warehouse):
    path, _ = demo_warehouse
    length = rotation_sessions(2026)
    row = query(path, "SELECT * FROM marts.fct_relative_streaks WHERE pair_id = 'russell2000_vs_sp500' "
                      "AND date >= '2026-01-01' ORDER BY streak_sessions DESC LIMIT 1").iloc[0]
    assert row["streak_sessions"] == length
    assert row["streak_start_date"].date().isoformat() == "2026-01-02"  # first session of 2026
    # The named earlier run is at least as long, and no run that long ended between it and this streak.
    since = row["longest_since_date"]
    assert row["longest_since_sessions"] >= length
    between = query(path, "SELECT count(*) AS n FROM marts.fct_relative_streaks WHERE pair_id = 'russell2000_vs_sp500' "
                          "AND date > ? AND date < '2026-01-02' AND streak_sessions >= ?", [since, length])
    assert between["n"][0] == 0


def test_sql_is_read_only(demo_warehouse):
    path, _ = demo_warehouse
    answer = rotation("sql", "SELECT count(DISTINCT pair_id) AS pairs FROM marts.fct_relative_streaks", warehouse=path).stdout
    assert "pairs" in answer and "│     4 │" in answer
    refused = rotation("sql", "DELETE FROM marts.dim_tickers", warehouse=path, check=False)
    assert refused.returncode != 0 and "read-only" in refused.stderr


# The tables a load that changes nothing must leave as they were, row for row: the raw layer and the
# incremental models. (The other marts are rebuilt by every run; their float sums may differ in the
# last bit with the order DuckDB's threads add them up.)
KEPT_TABLES = "raw.% intermediate.int_pair_sessions intermediate.int_price_steps marts.fct_relative_streaks marts.fct_returns_daily"


def table_checksums(warehouse: Path) -> pd.DataFrame:
    """Row count and a hash of every row, per table of KEPT_TABLES."""
    tables = query(warehouse, "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables "
                              "WHERE list_bool_or([t LIKE kept FOR kept IN string_split(?, ' ')]) ORDER BY 1",
                   [KEPT_TABLES])["t"].tolist()
    assert len(tables) > 4, tables
    return query(warehouse, " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n, sum(hash(x)) AS h FROM {t} x" for t in tables))


def test_a_second_run_changes_nothing_and_a_full_refresh_rebuilds_what_it_would_not(demo_copy):
    path = demo_copy
    returns = "SELECT * EXCLUDE (ingested_at) FROM marts.fct_returns_daily ORDER BY ticker, date"
    before = query(path, returns)
    with duckdb.connect(str(path)) as con:  # a mart row lost by hand: its price is unchanged, so increments skip it
        con.execute("DELETE FROM marts.fct_returns_daily WHERE ticker = 'AAPL' AND date = '2020-03-16'")
    checksums = table_checksums(path)

    second = rotation("run", warehouse=path)
    assert "0 rows inserted, 0 updated" in second.stdout
    pd.testing.assert_frame_equal(checksums, table_checksums(path))  # no raw row or kept row differs

    rotation("run", "--full-refresh", warehouse=path)
    pd.testing.assert_frame_equal(before, query(path, returns))


def run_status(warehouse: Path, run_id: str) -> str:
    """The status of a run in the warehouse's own Dagster instance (<warehouse>.dagster/)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(warehouse.with_name(warehouse.name + ".dagster"))) as instance:
        return instance.get_run_by_id(run_id).status.value


def run_id_of(result: subprocess.CompletedProcess) -> str:
    return re.search(r"\(run ([0-9a-f-]{36})\)", result.stdout + result.stderr).group(1)


def test_a_second_warehouse_has_its_own_snapshot_and_history_and_a_bad_file_fails_loudly(demo_copy, tmp_path):
    # The demo warehouse, published where its readers look by default.
    publish_snapshot(demo_copy, tmp_path / "serving" / "rotation")
    good = tmp_path / "good.csv"
    good.write_text(
        "date,ticker,open,high,low,close,adj_close,volume\n"
        "2025-01-02,^GSPC,100,101,99,100,,0\n2025-01-03,^GSPC,100,102,99,101,,0\n"
        "2025-01-02,^RUT,50,51,49,50,,0\n2025-01-03,^RUT,50,52,49,51,,0\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("date,ticker,open,high,low,close,adj_close,volume\n2025-01-02,SPY,500,490,495,498,,10\n")
    warehouse = tmp_path / "files.duckdb"
    result = rotation("run", "--files", str(good), str(bad), warehouse=warehouse, check=False)
    assert result.returncode == 1
    assert "bad.csv, row 2, ticker SPY: high 490.0 is below low 495.0" in result.stdout + result.stderr
    assert good.exists()
    assert len(list((tmp_path / "quarantine").glob("*-bad.csv.reason.txt"))) == 1
    loaded = query(warehouse, "SELECT ticker, count(*) AS n FROM raw.prices_daily GROUP BY ticker ORDER BY ticker")
    assert loaded.to_dict("list") == {"ticker": ["^GSPC", "^RUT"], "n": [2, 2]}
    # The marts were still built from what landed.
    row = query(warehouse, "SELECT * FROM marts.fct_relative_streaks WHERE date = '2025-01-03' AND pair_id = 'russell2000_vs_sp500'").iloc[0]
    assert row["spread_1d"] == pytest.approx(0.02 - 0.01) and row["streak_sessions"] == 1

    # Each warehouse has its own snapshot: the files run did not replace the demo's.
    assert (tmp_path / "serving" / "files" / "current").is_symlink()
    demo_report = rotation("report", "--warehouse", str(demo_copy), warehouse=warehouse).stdout
    assert demo_report.startswith("DEMO DATA") and "session of 2026-11-20" in demo_report
    files_report = rotation("report", warehouse=warehouse).stdout
    assert "Source: files" in files_report and "session of 2025-01-03" in files_report
    # ... and its own run history, beside it.
    assert run_status(warehouse, run_id_of(result)) == "SUCCESS"


def test_a_run_without_input_fails_at_once_and_publishes_nothing(tmp_path):
    warehouse = tmp_path / "files.duckdb"
    with duckdb.connect(str(warehouse)) as con:  # a warehouse with marts, published
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.rotation_summary AS SELECT DATE '2025-01-03' AS date")
    serving = tmp_path / "serving" / "files"
    published = publish_snapshot(warehouse, serving)

    missing = rotation("run", "--files", str(tmp_path / "typo.csv"), warehouse=warehouse, check=False)
    assert missing.returncode == 2 and f"Path '{tmp_path / 'typo.csv'}' does not exist" in missing.stderr
    assert not warehouse.with_name("files.duckdb.dagster").exists()  # refused before any run

    empty = tmp_path / "empty"
    empty.mkdir()
    result = rotation("run", "--files", str(empty), warehouse=warehouse, check=False)
    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failed == [f"FAILED raw__prices_daily: no prices landed, so nothing was built or published: no price files "
                      f"found in {empty} (a folder stands for the CSV and Parquet price files in it)"]
    assert run_status(warehouse, run_id_of(result)) == "FAILURE"
    assert (serving / "current").resolve() == published.folder


def test_reference_data_figures(tmp_path, reference_data):
    files = [str(reference_data / name) for name in ("indices_daily.csv", "etfs_daily_unadjusted.csv", "stocks_daily.csv")]
    warehouse = tmp_path / "reference.duckdb"
    rotation("run", "--source", "files", "--files", *files, warehouse=warehouse)
    summary = query(warehouse, "SELECT * FROM marts.rotation_summary WHERE date = '2026-01-16'").iloc[0]
    indices = pd.read_csv(reference_data / "indices_daily.csv", index_col=["ticker", "date"])["close"]
    for ticker, position in [("^GSPC", 2), ("^RUT", 1), ("^IXIC", 3)]:
        assert summary[f"headline_index_{position}_ticker"] == ticker
        assert summary[f"headline_index_{position}_return_ytd"] == pytest.approx(indices[ticker, "2026-01-16"] / indices[ticker, "2025-12-31"] - 1)
        assert summary[f"headline_index_{position}_return_5d"] == pytest.approx(indices[ticker, "2026-01-16"] / indices[ticker, "2026-01-09"] - 1)
    # ^RUT beat ^GSPC on each of the first 11 sessions of 2026 in this data.
    window = slice("2025-12-31", "2026-01-16")
    first = indices.loc["^RUT"].loc[window].pct_change().dropna() - indices.loc["^GSPC"].loc[window].pct_change().dropna()
    assert (first > 0).all() and len(first) == 11
    assert summary["streak_sessions"] == 11
    report = rotation("report", "--date", "2026-01-16", warehouse=warehouse).stdout
    assert "11 sessions in a row, since 2026-01-02" in report and "Source: files" in report


def test_valuation_and_guidance_figures_in_the_summary_and_report(demo_warehouse):
    path, _ = demo_warehouse
    last = query(path, "SELECT * FROM marts.rotation_summary ORDER BY date DESC LIMIT 1").iloc[0]
    for column in ("laggard_forward_pe", "laggard_prior_peak_forward_pe", "cohort_forward_pe", "cohort_complement_forward_pe",
                   "leader_relative_pe", "leader_relative_pe_long_run_avg",
                   "leader_discount_vs_long_run_pct", "guidance_fiscal_quarter", "guidance_negative_count",
                   "guidance_positive_count", "guidance_negative_avg_5y", "guidance_negative_avg_10y",
                   "cohort_return_ytd_cap_weight", "cohort_complement_return_ytd_cap_weight"):
        assert pd.notna(last[column]), column
    # the roles of the default vars, with the seeds' labels
    assert (last["streak_leader_ticker"], last["streak_laggard_ticker"], last["cohort_id"]) == ("^RUT", "^GSPC", "magnificent_7")
    assert (last["streak_laggard_label"], last["cohort_label"], last["cohort_size"]) == ("S&P 500", "Magnificent 7", 7)
    assert last["cohort_complement_label"] == "S&P 500 ex Magnificent 7" and last["guidance_index_label"] == "S&P 500"
    # the demo's story: a forward P/E near its 2021 peak, small caps at a discount to their long-run relative P/E
    assert str(last["laggard_prior_peak_date"])[:4] == "2021"
    assert abs(last["laggard_forward_pe"] / last["laggard_prior_peak_forward_pe"] - 1) < 0.05
    assert last["leader_discount_vs_long_run_pct"] < -0.2
    quarters = query(path, "SELECT count(*) AS n FROM marts.fct_guidance_counts WHERE index_name = 'sp500'")["n"][0]
    assert quarters >= 48  # at least 12 years of quarters
    report = rotation("report", warehouse=path).stdout
    for label in ("S&P 500 forward P/E", "prior peak", "Magnificent 7 / rest of the S&P 500", "Russell 2000 P/E relative to the S&P 500",
                  "S&P 500 EPS guidance for", "5-year / 10-year average", "lowest since", "(7 of 7 members with data)",
                  "S&P 500 ex Magnificent 7 YTD, cap weight"):
        assert label in report, label


def test_the_rest_of_the_index_without_the_cohort(demo_warehouse):
    """The demo prices no S&P 500 member but the Magnificent 7: the complement says so (members 0) and its
    cap weight is the index less the cohort, weighted by their caps at the previous year's last close."""
    path, _ = demo_warehouse
    rest = query(path, "SELECT * FROM marts.fct_cohort_returns WHERE cohort = 'sp500_ex_magnificent_7' AND date = '2026-11-20'").iloc[0]
    assert rest["members"] == 0 and pd.isna(rest["return_ytd_equal_weight"])
    assert rest["cohort_size"] == 493 and rest["complement_of"] == "magnificent_7"
    cohort = query(path, "SELECT * FROM marts.fct_cohort_returns WHERE cohort = 'magnificent_7' AND date = '2026-11-20'").iloc[0]
    index_ytd = query(path, "SELECT return_ytd FROM marts.fct_returns_daily WHERE ticker = '^GSPC' AND date = '2026-11-20'")["return_ytd"][0]
    caps = query(path, """
        SELECT sum(v.market_cap) AS index_cap,
               sum(v.market_cap) FILTER (WHERE m.ticker IN ('AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA', 'META', 'TSLA')) AS cohort_cap
        FROM raw.index_membership AS m
        JOIN raw.valuation_snapshots AS v ON v.ticker = m.ticker AND v.as_of_date = m.as_of_date
        WHERE m.index_name = 'sp500' AND m.as_of_date = '2025-12-31'""").iloc[0]
    share = caps["cohort_cap"] / caps["index_cap"]
    assert 0 < share < 1
    assert share * cohort["return_ytd_cap_weight"] + (1 - share) * rest["return_ytd_cap_weight"] == pytest.approx(index_ytd)
