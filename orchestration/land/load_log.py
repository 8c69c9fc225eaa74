"""Reading raw.load_log, the record every upsert writes of what it inserted, changed and deleted."""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.land.tables import PRICES, ensure_raw_schema


def latest_load_changes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """For each ticker the latest load that changed prices inserted, changed or deleted rows of, the
    earliest such date: columns ticker, from_date. None when no load of prices is recorded."""
    ensure_raw_schema(con)
    latest = con.execute(
        "SELECT load_id FROM raw.load_log WHERE table_name = ? ORDER BY seq DESC LIMIT 1", [PRICES.name]
    ).fetchall()
    if not latest:
        return None
    return con.execute(
        """
        SELECT partition_value AS ticker, min(least(changed_from, deleted_from)) AS from_date
        FROM raw.load_log WHERE table_name = ? AND load_id = ?
        GROUP BY ticker ORDER BY ticker
        """,
        [PRICES.name, latest[0][0]],
    ).df()
