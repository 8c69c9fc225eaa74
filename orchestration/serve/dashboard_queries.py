"""The dashboard's queries: plain selections from the marts of the serving snapshot.

Every figure is computed by dbt; this module only picks rows and columns. What is headlined (the
pair, the indices, the cohort) is whatever marts.rotation_summary says: pass its row.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

HEADLINE_POSITIONS = (1, 2, 3)
SECTOR_METHOD = "etf"
FORWARD_PE = "fct_forward_pe"
CLAIM_CHECKS = "fct_claim_checks"
GUIDANCE = "fct_guidance_counts_asof"


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def has_mart(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' AND table_name = ?", [table]
    ).fetchall()[0][0]
    return found > 0


def session_range(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    return con.execute("SELECT min(date), max(date) FROM marts.rotation_summary").fetchall()[0]


def latest_session(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last date with any price: the session range's end, not the readers' default (see below)."""
    return session_range(con)[1]


def latest_complete_session(con: duckdb.DuckDBPyConnection) -> date | None:
    """The readers' default session: the last one on which every headline ticker (the pair, the headline
    indices, the sector proxies) has a price. Tickers whose prices run further are ahead of it."""
    return con.execute("SELECT max(date) FROM marts.rotation_summary WHERE headline_complete").fetchall()[0][0]


def snapshot_info(con: duckdb.DuckDBPyConnection) -> tuple[str, object] | None:
    return con.execute("SELECT any_value(snapshot_id), any_value(built_at) FROM serving.snapshot_info").fetchall()[0]


def summary_row(con: duckdb.DuckDBPyConnection, on: date) -> dict | None:
    """The headline figures of the last session on or before `on`."""
    frame = _frame(con, "SELECT * FROM marts.rotation_summary WHERE date <= ? ORDER BY date DESC LIMIT 1", [on])
    return None if frame.empty else frame.iloc[0].to_dict()


def missing_tickers(s: dict) -> list[str]:
    """The headline tickers without a price on the summary row's date, in the mart's order."""
    listed = s["headline_tickers_missing_list"]
    return listed.split(",") if isinstance(listed, str) else []


def headline_indices(s: dict) -> dict[str, str]:
    """Ticker -> label of the summary row's headline indices, in their order."""
    tickers = {s[f"headline_index_{p}_ticker"]: s[f"headline_index_{p}_label"] for p in HEADLINE_POSITIONS}
    return {ticker: label for ticker, label in tickers.items() if isinstance(ticker, str)}


def streak_history(con: duckdb.DuckDBPyConnection, start: date, end: date, pair_id: str) -> pd.DataFrame:
    return _frame(con, """
        SELECT date, streak_sessions, streak_start_date, longest_since_date, longest_since_sessions, spread_1d
        FROM marts.fct_relative_streaks
        WHERE pair_id = ? AND date BETWEEN ? AND ?
        ORDER BY date""", [pair_id, start, end])


def ytd_lines(con: duckdb.DuckDBPyConnection, on: date, tickers: list[str]) -> pd.DataFrame:
    """return_ytd of `tickers` from the start of `on`'s year up to `on`."""
    return _frame(con, """
        SELECT date, ticker, return_ytd
        FROM marts.fct_returns_daily
        WHERE list_contains(?, ticker) AND date BETWEEN make_date(year(?::DATE), 1, 1) AND ?
        ORDER BY date, ticker""", [tickers, on, on])


def sector_returns(con: duckdb.DuckDBPyConnection, on: date) -> pd.DataFrame:
    """The sector returns of the last date on or before `on` that has them (its `date` says which)."""
    return _frame(con, """
        SELECT date, sector, proxy_ticker, return_1d, return_5d, return_mtd, return_ytd, rank_1d
        FROM marts.fct_sector_returns
        WHERE method = ? AND date = (SELECT max(date) FROM marts.fct_sector_returns WHERE method = ? AND date <= ?)
        ORDER BY rank_1d, sector""", [SECTOR_METHOD, SECTOR_METHOD, on])


def sector_dispersion(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pd.DataFrame:
    return _frame(con, """
        SELECT date, top_sector, top_return_1d, bottom_sector, bottom_return_1d, spread_1d
        FROM marts.fct_sector_dispersion
        WHERE method = ? AND date BETWEEN ? AND ?
        ORDER BY date""", [SECTOR_METHOD, start, end])


def cohort_vs_market(con: duckdb.DuckDBPyConnection, on: date, s: dict) -> pd.DataFrame:
    """YTD of the summary's cohort and of its complement (equal and cap weight, where known) beside the
    cohort's parent index, one row per date and series; labels from the marts."""
    return _frame(con, """
        WITH series AS (
            SELECT date, cohort_label || ' (equal weight)' AS series, return_ytd_equal_weight AS return_ytd
            FROM marts.fct_cohort_returns WHERE cohort IN (?, ?)
            UNION ALL
            SELECT date, cohort_label || ' (cap weight)', return_ytd_cap_weight
            FROM marts.fct_cohort_returns WHERE cohort IN (?, ?)
            UNION ALL
            SELECT date, ? || ' (' || ticker || ')', return_ytd
            FROM marts.fct_returns_daily WHERE ticker = ?
        )
        SELECT * FROM series
        WHERE return_ytd IS NOT NULL AND date BETWEEN make_date(year(?::DATE), 1, 1) AND ?
        ORDER BY date, series""",
        [s["cohort_id"], s["cohort_complement_id"], s["cohort_id"], s["cohort_complement_id"],
         s["cohort_parent_label"], s["cohort_parent_ticker"], on, on])


def forward_pe(con: duckdb.DuckDBPyConnection, on: date) -> pd.DataFrame | None:
    """Forward P/E history per universe up to `on`; None while the mart does not exist."""
    if not has_mart(con, FORWARD_PE):
        return None
    return _frame(con, f"""
        SELECT universe, as_of_date, basis, forward_pe, relative_pe_vs_sp500, relative_pe_long_run_avg,
               discount_vs_long_run_pct, prior_peak_forward_pe, prior_peak_date, coverage_pct, highest_since_date,
               reference_year, reference_year_high, reference_year_high_date, pct_of_reference_year_high
        FROM marts.{FORWARD_PE}
        WHERE as_of_date <= ?
        ORDER BY universe, as_of_date""", [on])


def guidance_counts(con: duckdb.DuckDBPyConnection, on: date) -> pd.DataFrame | None:
    """Guidance counts per index and fiscal quarter as known on `on`: each quarter's latest vintage available by
    then, with the averages and lowest-since as they stood (point-in-time); None while the mart does not exist."""
    if not has_mart(con, GUIDANCE):
        return None
    return _frame(con, f"""
        SELECT index_name, fiscal_quarter, basis, as_of_date, negative_count, positive_count, total_count,
               negative_share, negative_avg_5y, negative_avg_10y, avg_5y_quarters, avg_10y_quarters,
               negative_lowest_since_quarter, negative_tied_quarters
        FROM marts.{GUIDANCE}
        WHERE valid_from <= ? AND (valid_to IS NULL OR ? < valid_to)
        ORDER BY index_name, fiscal_quarter""", [on, on])


def panel_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    """Rows each panel shows for the default session (None: the panel's mart is not built yet)."""
    on = latest_complete_session(con)
    if on is None:
        return {"headline": 0}
    start = date(on.year - 1, on.month, 1)
    s = summary_row(con, on)
    pe, guidance = forward_pe(con, on), guidance_counts(con, on)
    return {
        "headline": 1 if s else 0,
        "streak_history": len(streak_history(con, start, on, s["streak_pair_id"])),
        "ytd_lines": len(ytd_lines(con, on, list(headline_indices(s)))),
        "sector_returns": len(sector_returns(con, on)),
        "sector_dispersion": len(sector_dispersion(con, start, on)),
        "cohort_vs_market": len(cohort_vs_market(con, on, s)),
        "forward_pe": None if pe is None else len(pe),
        "guidance_counts": None if guidance is None else len(guidance),
    }


def claim_checks(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """Every checked claim, by claims file and claim id; None while the mart does not exist."""
    if not has_mart(con, CLAIM_CHECKS):
        return None
    return _frame(con, f"""
        SELECT claim_file, source, claim_id, kind, as_of, stated_value, computed_value, verdict, explanation,
               holds_on, best_window
        FROM marts.{CLAIM_CHECKS}
        ORDER BY claim_file, claim_id""")
