"""Data-quality checks on raw.prices_daily, shown in Dagster as asset checks (warnings: the data still lands).

sessions_complete and prices_not_stale look at the whole table, through one aggregate per ticker.
daily_moves_plausible and splits_recorded compare each price with the ticker's previous one, and only
where the latest load (raw.price_loads) wrote: per ticker, the rows from the earliest date it
inserted, changed or removed, each compared with the stored row before it. A load that changes
nothing is not recorded, so the checks go on reporting on the latest one that did. A first load
writes every row, so it is checked whole; so are prices loaded before loads were recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.defs.prices import PRICES_KEY
from orchestration.land.load_log import latest_load_changes
from orchestration.trading_calendar import nyse_sessions

MAX_DAILY_MOVE = 0.25  # an adjusted daily move beyond +-25 % is worth a look
SPLIT_LIKE_RATIO = 0.6  # a close that falls below 60 % (or rises above 1/0.6) of the previous one
NEW_YORK = ZoneInfo("America/New_York")
SHOWN = 20
# The stored row before a ticker's first new date is looked for this far back first (then further).
LOOKBACK = timedelta(days=14)
LATEST_LOAD_SCOPE = (
    "Covers the latest price load that changed prices: per ticker, the rows from the earliest date it "
    "inserted, changed or removed, each compared with the stored row before it (a first load: every row)."
)


def _warning(passed: bool, found: pd.DataFrame, summary: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "summary": summary,
            "rows": len(found),
            "examples": dg.MetadataValue.md(found.head(SHOWN).to_markdown(index=False) if len(found) else "none"),
        },
    )


def last_completed_session(now: datetime) -> date:
    """The latest NYSE session whose close (16:00 New York) has passed."""
    local = now.astimezone(NEW_YORK)
    sessions = nyse_sessions(local.date() - timedelta(days=10), local.date())
    completed = [s.date() for s in sessions if s.date() < local.date() or local.hour >= 16]
    return completed[-1]


# --- what the checks cover -------------------------------------------------------------------------


def latest_load_scope(con) -> pd.DataFrame | None:
    """The rows the row-level checks report on: per ticker the latest load wrote to, `from_date` (the
    earliest date it inserted, changed or removed) and `start` (the stored row before it, which the
    first compared price needs; from_date when there is none). None: no load is recorded, check all."""
    changes = latest_load_changes(con)
    if changes is None:
        return None
    scope = pd.DataFrame({"ticker": changes["ticker"], "from_date": pd.to_datetime(changes["from_date"]).dt.date})
    if scope.empty:
        return scope.assign(start=scope["from_date"])
    con.register("load_changes", scope)
    try:
        # Usually the row before is a session or a few before: look there first (the date bounds
        # filter the scan), then without bound for the tickers that had none there.
        previous = con.execute(
            """
            SELECT c.ticker, max(p.date) AS previous
            FROM load_changes AS c
            JOIN raw.prices_daily AS p
              ON p.ticker = c.ticker AND p.date < c.from_date AND p.date >= c.from_date - ?::INTEGER
            WHERE p.date >= ? AND p.date < ?
            GROUP BY c.ticker
            """,
            [LOOKBACK.days, min(scope["from_date"]) - LOOKBACK, max(scope["from_date"])],
        ).fetchall()
        rest = sorted(set(scope["ticker"]) - {ticker for ticker, _ in previous})
        if rest:
            previous += con.execute(
                """
                SELECT c.ticker, max(p.date) AS previous
                FROM (SELECT * FROM load_changes WHERE list_contains(?, ticker)) AS c
                JOIN raw.prices_daily AS p ON p.ticker = c.ticker AND p.date < c.from_date
                WHERE p.date < ?
                GROUP BY c.ticker
                """,
                [rest, max(scope["from_date"])],
            ).fetchall()
    finally:
        con.unregister("load_changes")
    before = dict(previous)
    return scope.assign(start=[before.get(t, d) for t, d in zip(scope["ticker"], scope["from_date"])])


@contextmanager
def prices_to_check(con) -> Iterator[tuple[str, str]]:
    """(SQL of the rows a row-level check reads, with `reported` true on those it reports on; what they are).
    Ordered by date within a ticker, each reported row's previous row is in it."""
    scope = latest_load_scope(con)
    if scope is None:
        yield "SELECT *, true AS reported FROM raw.prices_daily", "whole table: no load recorded"
        return
    if scope.empty:
        yield "SELECT *, true AS reported FROM raw.prices_daily WHERE false", "the latest load wrote no prices"
        return
    covered = f"latest load: {len(scope)} tickers, from {min(scope['from_date'])}"
    if (scope["start"] == scope["from_date"]).all() and len(scope) == _ticker_count(con):
        # Nothing stored before what the load wrote, for every ticker: a first load, the whole table.
        yield "SELECT *, true AS reported FROM raw.prices_daily", covered
        return
    con.register("check_scope", scope)
    try:
        yield f"""
            SELECT p.*, p.date >= s.from_date AS reported
            FROM raw.prices_daily AS p
            JOIN check_scope AS s ON p.ticker = s.ticker AND p.date >= s.start
            WHERE p.date >= DATE '{min(scope["start"]).isoformat()}'
        """, covered
    finally:
        con.unregister("check_scope")


def _ticker_count(con) -> int:
    return con.execute("SELECT count(DISTINCT ticker) FROM raw.prices_daily").fetchall()[0][0]


# --- the checks ------------------------------------------------------------------------------------


def missing_sessions(con) -> pd.DataFrame:
    """Per ticker, the NYSE sessions between its first and last date without a price. One aggregate
    counts each ticker's prices on sessions; only the tickers that come short are looked at in detail."""
    first, last = con.execute("SELECT min(date), max(date) FROM raw.prices_daily").fetchall()[0]
    if first is None:
        return pd.DataFrame(columns=["ticker", "missing", "first_missing", "last_missing"])
    sessions = nyse_sessions(first, last)
    con.register("nyse_sessions", pd.DataFrame({"date": sessions.date}))
    try:
        spans = con.execute("""
            SELECT p.ticker, min(p.date) AS first, max(p.date) AS last, count(c.date) AS on_sessions
            FROM raw.prices_daily AS p LEFT JOIN nyse_sessions AS c ON c.date = p.date
            GROUP BY p.ticker
        """).df()
        calendar = sessions.values.astype("datetime64[ns]")
        expected = (  # the sessions from each ticker's first date to its last
            np.searchsorted(calendar, spans["last"].values.astype("datetime64[ns]"), side="right")
            - np.searchsorted(calendar, spans["first"].values.astype("datetime64[ns]"), side="left")
        )
        short = spans.loc[expected > spans["on_sessions"], ["ticker", "first", "last"]]
        # Few tickers: read only their prices; most of them: the whole table costs less than the filter.
        prices = (
            "(SELECT ticker, date FROM raw.prices_daily WHERE ticker IN (SELECT ticker FROM short_spans))"
            if len(short) < len(spans) / 2
            else "raw.prices_daily"
        )
        con.register("short_spans", short)
        try:
            return con.execute(f"""
                SELECT s.ticker, count(*) AS missing, min(c.date) AS first_missing, max(c.date) AS last_missing
                FROM short_spans AS s
                JOIN nyse_sessions AS c ON c.date BETWEEN s.first::DATE AND s.last::DATE
                ANTI JOIN {prices} AS p ON p.ticker = s.ticker AND p.date = c.date
                GROUP BY s.ticker ORDER BY missing DESC, s.ticker
            """).df()
        finally:
            con.unregister("short_spans")
    finally:
        con.unregister("nyse_sessions")


@dg.asset_check(
    asset=PRICES_KEY,
    description="Every NYSE session between a ticker's first and last date has a price. Covers the whole "
    "table: a gap is reported on every run until it is filled.",
)
def sessions_complete(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        found = missing_sessions(con)
    return _warning(found.empty, found, f"{len(found)} tickers miss sessions of the NYSE calendar")


@dg.asset_check(
    asset=PRICES_KEY,
    description="Each ticker's last price is from the last completed NYSE session. Covers every ticker.",
)
def prices_not_stale(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    expected = last_completed_session(datetime.now(NEW_YORK))
    with warehouse.get_connection() as con:
        found = con.execute(
            "SELECT ticker, max(date) AS last_date, any_value(source) AS source FROM raw.prices_daily "
            "GROUP BY ticker HAVING max(date) < ? ORDER BY last_date, ticker", [expected]
        ).df()
    return _warning(found.empty, found, f"{len(found)} tickers end before {expected}, the last completed session")


def implausible_moves(con) -> tuple[pd.DataFrame, str]:
    """Adjusted daily moves beyond +-MAX_DAILY_MOVE where the latest load wrote, and what was covered."""
    with prices_to_check(con) as (prices, scope):
        found = con.execute(f"""
            SELECT ticker, date, previous_price, price, price / previous_price - 1 AS move FROM (
                SELECT ticker, date, reported, coalesce(adj_close, close) AS price,
                       lag(coalesce(adj_close, close)) OVER (PARTITION BY ticker ORDER BY date) AS previous_price
                FROM ({prices}))
            WHERE reported AND abs(price / previous_price - 1) > ? ORDER BY abs(move) DESC, ticker, date
        """, [MAX_DAILY_MOVE]).df()
    return found, scope


def unrecorded_splits(con) -> tuple[pd.DataFrame, str]:
    """Split-sized jumps in close that adj_close repeats or lacks, where the latest load wrote, and what was covered."""
    with prices_to_check(con) as (prices, scope):
        found = con.execute(f"""
            SELECT ticker, date, previous_close, close, close / previous_close AS close_ratio,
                   adj_close / previous_adj_close AS adj_close_ratio
            FROM (
                SELECT ticker, date, reported, close, adj_close,
                       lag(close) OVER by_ticker AS previous_close, lag(adj_close) OVER by_ticker AS previous_adj_close
                FROM ({prices}) WINDOW by_ticker AS (PARTITION BY ticker ORDER BY date))
            WHERE reported
              AND (close / previous_close < ? OR close / previous_close > 1 / ?)
              AND (adj_close IS NULL OR previous_adj_close IS NULL
                   OR adj_close / previous_adj_close < ? OR adj_close / previous_adj_close > 1 / ?)
            ORDER BY ticker, date
        """, [SPLIT_LIKE_RATIO] * 4).df()
    return found, scope


@dg.asset_check(
    asset=PRICES_KEY,
    description=f"No adjusted daily move beyond +-{MAX_DAILY_MOVE:.0%}. {LATEST_LOAD_SCOPE}",
)
def daily_moves_plausible(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        found, scope = implausible_moves(con)
    return _warning(found.empty, found, f"{len(found)} daily moves beyond +-{MAX_DAILY_MOVE:.0%} ({scope})")


@dg.asset_check(
    asset=PRICES_KEY,
    description="A split-sized jump in close is matched by the adjusted close staying put; when adj_close jumps "
    f"with it (or is missing), the split is not recorded and returns would show a false move. {LATEST_LOAD_SCOPE}",
)
def splits_recorded(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        found, scope = unrecorded_splits(con)
    return _warning(found.empty, found, f"{len(found)} split-sized jumps in close not matched by adj_close ({scope})")



