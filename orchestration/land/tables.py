"""The raw tables as the upsert sees them: one small spec per table.

The DDL itself (types, constraints) is declared once, in warehouse/raw_schema.sql; a spec says what
the upsert needs on top: the natural key, the values it compares, which key columns may be null, the
date column whose range a load log row reports, and the partition (if any) the log is kept per.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from orchestration.config import RAW_DDL_FILE


@dataclass(frozen=True)
class RawTable:
    name: str  # schema-qualified, e.g. raw.prices_daily
    keys: tuple[str, ...]
    values: tuple[str, ...]  # compared to tell a change; `source` and `source_file` included where the table has them
    date_column: str  # a key column: the load log reports the range of it a load changed or deleted
    nullable_keys: frozenset[str] = frozenset()  # compared null-safely (the others with plain equality)
    partition: str | None = None  # the load log has one row per value of it and load (None: one row per load)

    @property
    def columns(self) -> list[str]:
        return [*self.keys, *self.values]


PRICES = RawTable(
    "raw.prices_daily",
    keys=("ticker", "date"),
    values=("open", "high", "low", "close", "adj_close", "volume", "source"),
    date_column="date",
    partition="ticker",
)

RAW_TABLES: dict[str, RawTable] = {
    table.name: table
    for table in [
        PRICES,
        RawTable(
            "raw.index_membership",
            keys=("index_name", "ticker", "as_of_date"),
            values=("weight", "sector", "source", "source_file"),
            date_column="as_of_date",
        ),
        RawTable(
            "raw.valuation_snapshots",
            keys=("ticker", "as_of_date"),
            values=("market_cap", "shares_outstanding", "forward_eps", "trailing_eps", "forward_pe", "trailing_pe",
                    "sector", "industry", "source", "source_file"),
            date_column="as_of_date",
        ),
        RawTable(
            "raw.index_valuation_history",
            keys=("index_name", "as_of_date"),
            values=("forward_pe", "source", "source_file"),
            date_column="as_of_date",
        ),
        RawTable(
            "raw.guidance_events",
            keys=("ticker", "announced_date", "fiscal_quarter"),
            values=("eps_low", "eps_high", "consensus_eps_before", "source", "source_file"),
            date_column="announced_date",
        ),
        RawTable(
            "raw.guidance_counts",
            keys=("index_name", "fiscal_quarter", "as_of_date"),
            values=("negative_count", "positive_count", "total_count", "source_url", "source", "source_file"),
            date_column="as_of_date",
            nullable_keys=frozenset({"as_of_date"}),  # a published count may come without its date
        ),
    ]
}


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing of the raw layer; move an older warehouse's load records into raw.load_log.

    Not inside a transaction of the caller: the move has its own."""
    con.execute(RAW_DDL_FILE.read_text())
    _move_old_load_records(con)


def _move_old_load_records(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses from before raw.load_log recorded price deletions in raw.price_deletions and loads in
    raw.price_loads. Their history becomes rows of the log, then the two tables are dropped: per ticker
    and ingested_at stamp of the stored prices, the rows carrying it (as updated: the old records did
    not tell inserts from changes) and its date range; per ticker and deletion, what went. The load ids
    are raw.price_loads', else `before-load-log`. So the incremental marts see what they would have
    seen, and the latest load stays the latest."""
    old = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'raw' "
        "AND table_name IN ('price_loads', 'price_deletions')"
    ).fetchall()}
    if not old:
        return
    deleted = (
        "SELECT deleted_at AS ingested_at, ticker, sum(rows_deleted) AS rows, min(from_date) AS first_date, "
        "string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason FROM raw.price_deletions GROUP BY ALL"
        if "price_deletions" in old
        else "SELECT NULL::TIMESTAMP AS ingested_at, NULL::VARCHAR AS ticker, 0 AS rows, NULL::DATE AS first_date, "
        "NULL::VARCHAR AS reason WHERE false"
    )
    load_ids = (
        "SELECT ingested_at, any_value(load_id) AS load_id FROM raw.price_loads GROUP BY ingested_at"
        if "price_loads" in old
        else "SELECT NULL::TIMESTAMP AS ingested_at, NULL::VARCHAR AS load_id WHERE false"
    )
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"""
            INSERT INTO raw.load_log
            WITH written AS (
                SELECT ingested_at, ticker, count(*) AS rows, min(date) AS first_date, max(date) AS last_date
                FROM raw.prices_daily GROUP BY ALL
            ),
            deleted AS ({deleted}),
            load_ids AS ({load_ids})
            SELECT
                (SELECT coalesce(max(seq), 0) FROM raw.load_log) + dense_rank() OVER (ORDER BY ingested_at),
                coalesce(load_ids.load_id, 'before-load-log'), 'raw.prices_daily', ticker,
                0, coalesce(written.rows, 0), coalesce(deleted.rows, 0),
                written.first_date, written.last_date, deleted.first_date, NULL, deleted.reason, ingested_at
            FROM written FULL JOIN deleted USING (ingested_at, ticker)
            LEFT JOIN load_ids USING (ingested_at)
        """).fetchall()
        for name in sorted(old):
            con.execute(f"DROP TABLE raw.{name}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
