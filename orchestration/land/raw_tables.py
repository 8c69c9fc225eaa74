"""Writing the valuation and guidance raw tables: an upsert on each table's natural key, in one transaction.

A key column that may be null (a published guidance count without its date) is compared
null-safely; the others with plain equality. Rows whose values did
not change are left alone, so loading the same data twice changes nothing. Demo and real data never
mix: real rows replace a table's demo rows, and demo rows refuse to land beside real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import pandas as pd

from orchestration.land.raw_prices import MixedSourceError, ensure_raw_schema

# table -> (key columns, value columns), in the DDL's order (raw_schema.sql).
RAW_TABLES: dict[str, tuple[list[str], list[str]]] = {
    "raw.index_membership": (["index_name", "ticker", "as_of_date"], ["weight", "sector", "source", "source_file"]),
    "raw.valuation_snapshots": (
        ["ticker", "as_of_date"],
        ["market_cap", "shares_outstanding", "forward_eps", "trailing_eps", "forward_pe", "trailing_pe",
         "sector", "industry", "source", "source_file"],
    ),
    "raw.index_valuation_history": (["index_name", "as_of_date"], ["forward_pe", "source", "source_file"]),
    "raw.guidance_events": (
        ["ticker", "announced_date", "fiscal_quarter"],
        ["eps_low", "eps_high", "consensus_eps_before", "source", "source_file"],
    ),
    "raw.guidance_counts": (
        ["index_name", "fiscal_quarter", "as_of_date"],
        ["negative_count", "positive_count", "total_count", "source_url", "source", "source_file"],
    ),
}


# Key columns that may be null (compared null-safely; the others with plain equality).
NULLABLE_KEYS = {("raw.guidance_counts", "as_of_date")}


def _same_key(table: str, left: str, right: str, keys: list[str], right_prefix: str | None = None) -> str:
    right_prefix = right_prefix or right
    return " AND ".join(
        f"{left}.{k} {'IS NOT DISTINCT FROM' if (table, k) in NULLABLE_KEYS else '='} {right_prefix}.{k}" for k in keys
    )


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    demo_rows_removed: int = 0

    def __str__(self) -> str:
        return f"{self.inserted} rows inserted, {self.updated} updated, {self.unchanged} unchanged"


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    """Execute and consume the (count) result, so the connection is free for the next statement."""
    con.execute(sql, params or []).fetchall()


def upsert_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, source: str,
                ingested_at: datetime | None = None, in_transaction: bool = False) -> Counts:
    """Upsert `frame` (the table's key and value columns; `source_file` may be absent) into `table`.

    With `in_transaction` the caller owns BEGIN/COMMIT (to write several tables atomically)."""
    ensure_raw_schema(con)
    keys, values = RAW_TABLES[table]
    frame = frame.copy()
    frame["source"] = source
    if "source_file" not in frame:
        frame["source_file"] = None
    columns = keys + values
    incoming = frame[columns]
    ingested_at = ingested_at or now_utc()
    if not in_transaction:
        con.execute("BEGIN TRANSACTION")
    try:
        counts = Counts()
        if source == "demo":
            real = _one(con, f"SELECT count(*) FROM {table} WHERE source <> 'demo'")
            if real:
                raise MixedSourceError(
                    f"{table} holds {real} rows of real data; demo rows would mix with them. "
                    "Point ROTATION_WAREHOUSE at another file to run the demo."
                )
        else:
            counts.demo_rows_removed = _one(con, f"SELECT count(*) FROM {table} WHERE source = 'demo'")
            _run(con, f"DELETE FROM {table} WHERE source = 'demo'")
        con.register("incoming_frame", incoming)
        schema, name = table.split(".")
        types = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall())
        casts = ", ".join(f"CAST({c} AS {types[c]}) AS {c}" for c in columns)
        _run(con, f"CREATE OR REPLACE TEMP TABLE incoming_rows AS SELECT {casts} FROM incoming_frame")
        con.unregister("incoming_frame")
        key_match = _same_key(table, "new_row", "stored", keys)
        changed = " OR ".join(f"new_row.{c} IS DISTINCT FROM stored.{c}" for c in values)
        _run(con, f"""
            CREATE OR REPLACE TEMP TABLE changed_rows AS
            SELECT new_row.*, stored.ingested_at IS NULL AS is_new
            FROM incoming_rows AS new_row LEFT JOIN {table} AS stored ON {key_match}
            WHERE stored.ingested_at IS NULL OR {changed}
        """)
        counts.inserted = _one(con, "SELECT count(*) FROM changed_rows WHERE is_new")
        counts.updated = _one(con, "SELECT count(*) FROM changed_rows WHERE NOT is_new")
        counts.unchanged = len(incoming) - counts.inserted - counts.updated
        delete_match = _same_key(table, "changed", table, keys)
        _run(con, f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM changed_rows AS changed WHERE NOT changed.is_new AND {delete_match})")
        _run(
            con,
            f"INSERT INTO {table} ({', '.join(columns)}, ingested_at) SELECT {', '.join(columns)}, ? FROM changed_rows",
            [ingested_at],
        )
        _run(con, "DROP TABLE changed_rows")
        _run(con, "DROP TABLE incoming_rows")
        if not in_transaction:
            con.execute("COMMIT")
    except BaseException:
        if not in_transaction:
            con.execute("ROLLBACK")
        raise
    return counts
