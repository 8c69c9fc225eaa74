"""The one way rows land in a raw table: an upsert on the table's natural key, in one transaction.

Rows whose values did not change are left alone (their ingested_at too), so loading the same data
twice changes nothing; an interrupted upsert leaves the previous state. Demo and real data never mix:
real rows replace a table's demo rows, and demo rows refuse to land beside real ones. Every upsert
that inserts, changes or deletes something records itself in raw.load_log, in the same transaction.
A partial upsert carries some of the value columns only: it changes those columns of stored rows and
leaves their other values, and their source, as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime

import duckdb
import pandas as pd

from orchestration.land.tables import RAW_TABLES, RawTable, ensure_raw_schema, now_utc

DEMO = "demo"


class MixedSourceError(Exception):
    pass


@dataclass(frozen=True)
class LoadCounts:
    """What an upsert (or several, added with +) did to the rows it was given and the stored ones."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __add__(self, other: LoadCounts) -> LoadCounts:
        return LoadCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __str__(self) -> str:
        text = f"{self.inserted} rows inserted, {self.updated} updated, {self.unchanged} unchanged"
        return text + (f", {self.deleted} deleted" if self.deleted else "")


def new_load_id() -> str:
    return uuid.uuid4().hex


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    """Execute and consume the result, so the connection is free for the next statement."""
    return con.execute(sql, params or []).fetchall()


def _same_key(table: RawTable, left: str, right: str) -> str:
    return " AND ".join(
        f"{left}.{k} {'IS NOT DISTINCT FROM' if k in table.nullable_keys else '='} {right}.{k}" for k in table.keys
    )


def _date_range(table: RawTable, alias: str, first, last) -> str:
    """A filter on the stored rows that can match incoming rows dated first..last: it lets the scan skip
    the rest (a daily refresh compares a few sessions of prices, not the whole table)."""
    column = f"{alias}.{table.date_column}"
    bounds = f"{column} BETWEEN DATE '{first}' AND DATE '{last}'" if first is not None else "false"
    return f"({bounds} OR {column} IS NULL)" if table.date_column in table.nullable_keys else bounds


def upsert(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    frame: pd.DataFrame,
    source: str,
    *,
    ingested_at: datetime | None = None,
    load_id: str | None = None,
    replace: Collection[str] = (),
    in_transaction: bool = False,
    columns: Collection[str] | None = None,
) -> LoadCounts:
    """Upsert `frame` (the table's key and value columns; `source` is set to `source`, a missing
    `source_file` is left empty) into `table_name`, stamping inserted and changed rows `ingested_at`
    (default: now, UTC). For each partition value in `replace` (the table's partition column, e.g. a
    ticker), `frame` is its whole new content: stored rows of it that `frame` lacks are deleted.
    The upsert is recorded in raw.load_log under `load_id` (default: a load of its own).

    `columns` names the value columns `frame` carries when it is partial (default: all): a stored row
    is changed in those columns only and keeps its other values and its source; a new row gets the
    other columns empty (the table's NOT NULL constraints apply, so the caller leaves out rows that
    cannot exist without them).

    With `in_transaction` the caller owns BEGIN/COMMIT (to write several things atomically) and has
    called ensure_raw_schema before."""
    table = RAW_TABLES[table_name]
    if replace and table.partition is None:
        raise ValueError(f"{table.name} has no partition column: it cannot replace partitions")
    given = tuple(table.values) if columns is None else tuple(c for c in table.values if c in set(columns))
    if columns is not None and (set(columns) - set(table.values) or replace):
        raise ValueError(f"a partial upsert of {table.name} takes some of {', '.join(table.values)} and replaces nothing")
    if not in_transaction:
        ensure_raw_schema(con)
    frame = frame.assign(source=source)
    if "source_file" in given and "source_file" not in frame:
        frame = frame.assign(source_file=None)
    carried = [*table.keys, *dict.fromkeys([*given, "source"])]
    ingested_at = ingested_at or now_utc()
    if not in_transaction:
        con.execute("BEGIN TRANSACTION")
    try:
        counts = _upsert(con, table, frame[carried], given, source, ingested_at, load_id or new_load_id(), replace)
        if not in_transaction:
            con.execute("COMMIT")
    except BaseException:
        if not in_transaction:
            con.execute("ROLLBACK")
        raise
    return counts


def _upsert(con, table: RawTable, incoming: pd.DataFrame, given: tuple[str, ...], source: str, ingested_at: datetime,
            load_id: str, replace: Collection[str]) -> LoadCounts:
    if source == DEMO:
        [(real,)] = _rows(con, f"SELECT count(*) FROM {table.name} WHERE source <> '{DEMO}'")
        if real:
            raise MixedSourceError(
                f"{table.name} holds {real} rows of real data; the demo's rows would mix with them. "
                "Point ROTATION_WAREHOUSE at another file to run the demo."
            )
    schema, name = table.name.split(".")
    types = dict(_rows(
        con,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [schema, name],
    ))
    casts = ", ".join(f"CAST({c} AS {types[c]}) AS {c}" for c in incoming.columns)
    con.register("incoming_frame", incoming)
    try:
        _rows(con, f"CREATE OR REPLACE TEMP TABLE incoming_rows AS SELECT {casts} FROM incoming_frame")
    finally:
        con.unregister("incoming_frame")
    partition = table.partition or "NULL::VARCHAR"
    # Per partition: rows deleted, their date range and why (one row per deleting statement).
    _rows(con, "CREATE OR REPLACE TEMP TABLE deleted_rows "
               "(partition_value VARCHAR, deleted BIGINT, first_date DATE, last_date DATE, reason VARCHAR)")

    def delete(where: str, params: list, reason: str) -> None:
        _rows(con, f"""
            INSERT INTO deleted_rows
            SELECT {partition}, count(*), min({table.date_column}), max({table.date_column}), ?
            FROM {table.name} AS stored WHERE {where} GROUP BY 1
        """, [reason, *params])
        _rows(con, f"DELETE FROM {table.name} AS stored WHERE {where}", params)

    if source != DEMO:
        delete(f"stored.source = '{DEMO}'", [], "demo data replaced by real data")

    [(first, last)] = _rows(con, f"SELECT min({table.date_column}), max({table.date_column}) FROM incoming_rows")
    stored_in_range = f"(SELECT * FROM {table.name} AS stored WHERE {_date_range(table, 'stored', first, last)})"
    changed = " OR ".join(f"new_row.{c} IS DISTINCT FROM stored.{c}" for c in given)
    # a column the rows do not carry keeps its stored value (a new row: empty; its source: the load's)
    kept = {c: f"stored.{c}" for c in table.values if c not in given}
    if "source" in kept:
        kept["source"] = "CASE WHEN stored.ingested_at IS NULL THEN new_row.source ELSE stored.source END"
    row = ", ".join([*(f"new_row.{k}" for k in table.keys), *(f"{kept.get(c, f'new_row.{c}')} AS {c}" for c in table.values)])
    _rows(con, f"""
        CREATE OR REPLACE TEMP TABLE changed_rows AS
        SELECT {row}, stored.ingested_at IS NULL AS is_new
        FROM incoming_rows AS new_row LEFT JOIN {stored_in_range} AS stored ON {_same_key(table, 'new_row', 'stored')}
        WHERE stored.ingested_at IS NULL OR {changed}
    """)
    [(inserted, updated)] = _rows(con, "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM changed_rows")
    if updated:
        _rows(con, f"""
            DELETE FROM {table.name} AS stored
            WHERE {_date_range(table, 'stored', first, last)}
              AND EXISTS (SELECT 1 FROM changed_rows AS changed WHERE NOT changed.is_new AND {_same_key(table, 'changed', 'stored')})
        """)
    columns = ", ".join(table.columns)
    _rows(con, f"INSERT INTO {table.name} ({columns}, ingested_at) SELECT {columns}, ? FROM changed_rows", [ingested_at])
    if replace:
        delete(
            f"list_contains(?, stored.{table.partition}) "
            f"AND NOT EXISTS (SELECT 1 FROM incoming_rows AS new_row WHERE {_same_key(table, 'new_row', 'stored')})",
            [list(replace)], "history rewritten by the source",
        )
    [(deleted,)] = _rows(con, "SELECT coalesce(sum(deleted), 0) FROM deleted_rows")
    if inserted or updated or deleted:
        _log(con, table, load_id, ingested_at)
    for temp in ("incoming_rows", "changed_rows", "deleted_rows"):
        _rows(con, f"DROP TABLE {temp}")
    return LoadCounts(inserted, updated, len(incoming) - inserted - updated, int(deleted))


def _log(con, table: RawTable, load_id: str, ingested_at: datetime) -> None:
    """One raw.load_log row per partition the upsert wrote or deleted (one row when the table has none)."""
    partition = table.partition or "NULL::VARCHAR"
    _rows(con, f"""
        INSERT INTO raw.load_log
        SELECT
            (SELECT coalesce(max(seq), 0) + 1 FROM raw.load_log), ?, ?,
            coalesce(written.partition_value, went.partition_value),
            coalesce(written.inserted, 0), coalesce(written.updated, 0), coalesce(went.deleted, 0),
            written.first_date, written.last_date, went.first_date, went.last_date, went.reason, ?
        FROM (
            SELECT {partition} AS partition_value, count(*) FILTER (WHERE is_new) AS inserted,
                   count(*) FILTER (WHERE NOT is_new) AS updated,
                   min({table.date_column}) AS first_date, max({table.date_column}) AS last_date
            FROM changed_rows GROUP BY 1
        ) AS written
        FULL JOIN (
            SELECT partition_value, sum(deleted) AS deleted, min(first_date) AS first_date, max(last_date) AS last_date,
                   string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason
            FROM deleted_rows GROUP BY 1
        ) AS went ON written.partition_value IS NOT DISTINCT FROM went.partition_value
    """, [load_id, table.name, ingested_at])

