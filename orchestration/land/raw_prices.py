"""Writing raw.prices_daily: an upsert on (ticker, date) in one transaction.

Rows whose values are unchanged are left alone (their ingested_at too), so loading the same data
twice changes nothing. Demo and real data never mix: real data replaces the demo market, and the
demo refuses to load into a warehouse that holds real data.

An upsert that changes something also records itself in raw.price_loads under its load (an ingest
run), with the ingested_at it stamped and the dates it removed, so that checks can find what the
latest load wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from orchestration.config import RAW_DDL_FILE
from orchestration.extract.base import VALUE_COLUMNS

# What an upsert compares and writes besides the key.
STORED_COLUMNS = VALUE_COLUMNS + ["source"]


class MixedSourceError(Exception):
    pass


@dataclass
class UpsertCounts:
    inserted: int
    updated: int
    unchanged: int
    demo_rows_removed: int
    replaced_rows_removed: int = 0


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL_FILE.read_text())


def last_session_per_ticker(con: duckdb.DuckDBPyConnection, source: str, tickers: list[str]) -> dict[str, date]:
    """The latest stored date of each of `tickers` from `source`; tickers without rows are left out."""
    ensure_raw_schema(con)
    found = con.execute(
        "SELECT ticker, max(date) FROM raw.prices_daily WHERE source = ? AND list_contains(?, ticker) GROUP BY ticker",
        [source, tickers],
    ).fetchall()
    return dict(found)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0])


def delete_logged(
    con: duckdb.DuckDBPyConnection, rows: str, parameters: list, reason: str, deleted_at: datetime
) -> list[tuple[str, date, int]]:
    """Delete `rows` (a FROM ... WHERE clause over raw.prices_daily AS r) and record them in raw.price_deletions;
    return (ticker, earliest deleted date, rows deleted) per ticker."""
    per_ticker = con.execute(
        f"INSERT INTO raw.price_deletions SELECT r.ticker, min(r.date), count(*), ?, ? {rows} GROUP BY r.ticker "
        "RETURNING ticker, from_date, rows_deleted",
        [reason, deleted_at, *parameters],
    ).fetchall()
    con.execute(f"DELETE {rows}", parameters)
    return sorted(per_ticker)


def new_load_id() -> str:
    return uuid.uuid4().hex


def _record_load(
    con: duckdb.DuckDBPyConnection, load_id: str, ingested_at: datetime, rows_written: int, removed: list[dict]
) -> None:
    con.execute(
        "INSERT INTO raw.price_loads "
        "SELECT coalesce(max(seq), 0) + 1, ?, ?, ?, ?::STRUCT(ticker VARCHAR, first_date DATE)[] FROM raw.price_loads",
        [load_id, ingested_at, rows_written, removed],
    )


def latest_load_changes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """For each ticker the latest load (that changed something) inserted, changed or removed rows of,
    the earliest such date: columns ticker, from_date. None when no load is recorded (prices loaded
    before loads were recorded)."""
    ensure_raw_schema(con)
    latest = con.execute("SELECT load_id FROM raw.price_loads ORDER BY seq DESC LIMIT 1").fetchall()
    if not latest:
        return None
    load_id = latest[0][0]
    first, last = con.execute(
        "SELECT min(ingested_at), max(ingested_at) FROM raw.price_loads WHERE load_id = ? AND rows_written > 0",
        [load_id],
    ).fetchall()[0]
    # The range lets the scan skip row groups written earlier; the stamps make it exact.
    return con.execute(
        """
        SELECT ticker, min(from_date) AS from_date FROM (
            SELECT ticker, min(date) AS from_date FROM raw.prices_daily
            WHERE ingested_at BETWEEN ? AND ?
              AND ingested_at IN (SELECT ingested_at FROM raw.price_loads WHERE load_id = ? AND rows_written > 0)
            GROUP BY ticker
            UNION ALL
            SELECT removed.ticker, removed.first_date
            FROM (SELECT unnest(removed) AS removed FROM raw.price_loads WHERE load_id = ?)
        )
        GROUP BY ticker ORDER BY ticker
        """,
        [first, last, load_id, load_id],
    ).df()


def upsert_prices(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    source: str,
    ingested_at: datetime,
    replace_tickers: Collection[str] = (),
    load_id: str | None = None,
) -> UpsertCounts:
    """Upsert `frame`; for each of `replace_tickers`, `frame` is its whole new history: stored rows of
    that ticker on dates `frame` lacks are deleted, in the same transaction. An upsert that changes
    something is recorded in raw.price_loads under `load_id` (default: a load of its own)."""
    ensure_raw_schema(con)
    if source == "demo":
        real_rows = _one(con, "SELECT count(*) FROM raw.prices_daily WHERE source <> 'demo'")
        if real_rows:
            raise MixedSourceError(
                f"the warehouse holds {real_rows} rows of real prices; the demo market would mix with them. "
                "Point ROTATION_WAREHOUSE at another file to run the demo."
            )

    incoming = frame[["ticker", "date"] + STORED_COLUMNS]
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("incoming_frame", incoming)
        con.execute("""
            CREATE OR REPLACE TEMP TABLE incoming_prices AS
            SELECT ticker::VARCHAR AS ticker, date::DATE AS date,
                   open::DOUBLE AS open, high::DOUBLE AS high, low::DOUBLE AS low,
                   close::DOUBLE AS close, adj_close::DOUBLE AS adj_close,
                   volume::BIGINT AS volume, source::VARCHAR AS source
            FROM incoming_frame
        """)
        con.unregister("incoming_frame")
        demo_rows_removed = 0
        if source != "demo":
            replaced_demo = delete_logged(
                con, "FROM raw.prices_daily AS r WHERE r.source = 'demo'", [], "demo market replaced by real data", ingested_at)
            demo_rows_removed = sum(count for _, _, count in replaced_demo)
        changes = "(" + " OR ".join(f"i.{c} IS DISTINCT FROM r.{c}" for c in STORED_COLUMNS) + ")"
        # Stored rows outside the incoming dates cannot match: the range filters the scan (a daily
        # refresh compares a few sessions, not the whole table).
        first, last = con.execute("SELECT min(date), max(date) FROM incoming_prices").fetchall()[0]
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE changed_prices AS
            SELECT i.*, r.ticker IS NULL AS is_new
            FROM incoming_prices i
            LEFT JOIN (SELECT * FROM raw.prices_daily WHERE date BETWEEN ? AND ?) r USING (ticker, date)
            WHERE r.ticker IS NULL OR {changes}
        """, [first, last])
        inserted = _one(con, "SELECT count(*) FROM changed_prices WHERE is_new")
        updated = _one(con, "SELECT count(*) FROM changed_prices WHERE NOT is_new")
        con.execute(
            f"""
            INSERT INTO raw.prices_daily (ticker, date, {', '.join(STORED_COLUMNS)}, ingested_at)
            SELECT ticker, date, {', '.join(STORED_COLUMNS)}, ? FROM changed_prices
            ON CONFLICT (ticker, date) DO UPDATE SET
                {', '.join(f'{c} = excluded.{c}' for c in STORED_COLUMNS)}, ingested_at = excluded.ingested_at
            """,
            [ingested_at],
        )
        replaced_rows_removed = 0
        removed = []
        if replace_tickers:
            gone = """
                FROM raw.prices_daily r
                WHERE list_contains(?, r.ticker)
                  AND NOT EXISTS (SELECT 1 FROM incoming_prices i WHERE i.ticker = r.ticker AND i.date = r.date)
            """
            per_ticker = delete_logged(con, gone, [list(replace_tickers)], "history rewritten by the source", ingested_at)
            replaced_rows_removed = sum(count for _, _, count in per_ticker)
            removed = [{"ticker": ticker, "first_date": first_date} for ticker, first_date, _ in per_ticker]
        if inserted or updated or removed:
            _record_load(con, load_id or new_load_id(), ingested_at, inserted + updated, removed)
        con.execute("DROP TABLE changed_prices")
        con.execute("DROP TABLE incoming_prices")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return UpsertCounts(inserted, updated, len(incoming) - inserted - updated, demo_rows_removed, replaced_rows_removed)
