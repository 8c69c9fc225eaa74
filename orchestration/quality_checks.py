"""Data-quality checks on raw.prices_daily, shown in Dagster as asset checks (warnings: the data still lands)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.ingest_assets import PRICES_KEY
from orchestration.trading_calendar import nyse_sessions

MAX_DAILY_MOVE = 0.25  # an adjusted daily move beyond +-25 % is worth a look
SPLIT_LIKE_RATIO = 0.6  # a close that falls below 60 % (or rises above 1/0.6) of the previous one
NEW_YORK = ZoneInfo("America/New_York")
SHOWN = 20


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


@dg.asset_check(asset=PRICES_KEY, description="Each ticker's last price is from the last completed NYSE session.")
def prices_not_stale(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    expected = last_completed_session(datetime.now(NEW_YORK))
    with warehouse.get_connection() as con:
        found = con.execute(
            "SELECT ticker, max(date) AS last_date, any_value(source) AS source FROM raw.prices_daily "
            "GROUP BY ticker HAVING max(date) < ? ORDER BY last_date, ticker", [expected]
        ).df()
    return _warning(found.empty, found, f"{len(found)} tickers end before {expected}, the last completed session")


@dg.asset_check(asset=PRICES_KEY, description=f"No adjusted daily move beyond +-{MAX_DAILY_MOVE:.0%}.")
def daily_moves_plausible(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        found = con.execute("""
            SELECT ticker, date, previous_price, price, price / previous_price - 1 AS move FROM (
                SELECT ticker, date, coalesce(adj_close, close) AS price,
                       lag(coalesce(adj_close, close)) OVER (PARTITION BY ticker ORDER BY date) AS previous_price
                FROM raw.prices_daily)
            WHERE abs(price / previous_price - 1) > ? ORDER BY abs(move) DESC
        """, [MAX_DAILY_MOVE]).df()
    return _warning(found.empty, found, f"{len(found)} daily moves beyond +-{MAX_DAILY_MOVE:.0%}")


@dg.asset_check(
    asset=PRICES_KEY,
    description="A split-sized jump in close is matched by the adjusted close staying put; when adj_close jumps "
    "with it (or is missing), the split is not recorded and returns would show a false move.",
)
def splits_recorded(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        found = con.execute("""
            SELECT ticker, date, previous_close, close, close / previous_close AS close_ratio,
                   adj_close / previous_adj_close AS adj_close_ratio
            FROM (
                SELECT ticker, date, close, adj_close,
                       lag(close) OVER by_ticker AS previous_close, lag(adj_close) OVER by_ticker AS previous_adj_close
                FROM raw.prices_daily WINDOW by_ticker AS (PARTITION BY ticker ORDER BY date))
            WHERE (close / previous_close < ? OR close / previous_close > 1 / ?)
              AND (adj_close IS NULL OR previous_adj_close IS NULL
                   OR adj_close / previous_adj_close < ? OR adj_close / previous_adj_close > 1 / ?)
            ORDER BY ticker, date
        """, [SPLIT_LIKE_RATIO] * 4).df()
    return _warning(found.empty, found, f"{len(found)} split-sized jumps in close not matched by adj_close")


price_quality_checks = [sessions_complete, prices_not_stale, daily_moves_plausible, splits_recorded]
