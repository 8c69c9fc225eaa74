"""Fingerprints of the marts, per calendar year: what lets a snapshot rewrite only what changed.

A mart with a DATE column named `date` is split by year(date) into partitions; any other mart (or
one with a NULL date, or no rows, or a column named `year`, the partition key's name in the Parquet
paths) is one partition, `all`. A partition's fingerprint is its row count and the sum of a 64-bit
hash of every row (all columns, in order): equal fingerprints mean the same rows, up to a hash
collision (and values that compare equal hash equal: 0.0 and -0.0). The fingerprints are stored in the
snapshot's manifest, so the next publish compares the
warehouse against them without reading the previous snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

DATE_COLUMN = "date"
PARTITION_COLUMN = "year"
WHOLE = "all"


@dataclass(frozen=True)
class Mart:
    name: str
    columns: list[list[str]]  # [name, type], in order
    by_year: bool
    partitions: dict[str, dict]  # key ("1997" or "all") -> {"rows": int, "hash": str}

    @property
    def rows(self) -> int:
        return sum(p["rows"] for p in self.partitions.values())

    def compatible_with(self, entry: dict | None) -> bool:
        """Same columns and the same partitioning as a table of a previous manifest."""
        return entry is not None and entry.get("columns") == self.columns and entry.get("by_year") == self.by_year

    def changed_partitions(self, entry: dict) -> list[str]:
        """Keys of the partitions that differ from the previous manifest's entry, vanished ones included."""
        before = entry["partitions"]
        keys = sorted(set(self.partitions) | set(before))
        return [k for k in keys if _fingerprint(self.partitions.get(k)) != _fingerprint(before.get(k))]


def _fingerprint(partition: dict | None) -> tuple | None:
    return None if partition is None else (partition["rows"], partition["hash"])


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def year_filter(keys: list[str]) -> str:
    """SQL condition selecting the rows of these year partitions, as date ranges (one per run of consecutive
    years): a range lets DuckDB skip the blocks of a date-ordered table that hold other years."""
    years = sorted({int(k) for k in keys})
    ranges, first = [], years[0]
    for year, following in zip(years, years[1:] + [None]):
        if following != year + 1:
            ranges.append(f"({quote(DATE_COLUMN)} >= DATE '{first:04d}-01-01' AND {quote(DATE_COLUMN)} < DATE '{year + 1:04d}-01-01')")
            first = following
    return " OR ".join(ranges)


def read_marts(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[Mart]:
    """Every table of catalog.schema with its columns and per-partition fingerprints (one scan per table)."""
    rows = con.execute(
        "SELECT table_name, list([column_name, data_type] ORDER BY ordinal_position) FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? GROUP BY table_name ORDER BY table_name",
        [catalog, schema],
    ).fetchall()
    return [_fingerprinted(con, f"{catalog}.{schema}.{quote(name)}", name, columns) for name, columns in rows]


def _fingerprinted(con: duckdb.DuckDBPyConnection, source: str, name: str, columns: list[list[str]]) -> Mart:
    names = [column for column, _ in columns]
    row_hash = f"hash(row({', '.join(quote(c) for c in names)}))"
    dated = [DATE_COLUMN, "DATE"] in columns and PARTITION_COLUMN not in (c.lower() for c in names)
    key = f"year({quote(DATE_COLUMN)})" if dated else "NULL"
    groups = con.execute(f"SELECT {key} AS k, count(*), sum({row_hash}) FROM {source} GROUP BY k").fetchall()
    if dated and groups and all(k is not None for k, _, _ in groups):
        partitions = {str(k): {"rows": n, "hash": str(h)} for k, n, h in groups}
    else:  # no date, no rows (no partition would carry the schema) or NULL dates (no year): one partition
        dated = False
        partitions = {WHOLE: {"rows": sum(n for _, n, _ in groups), "hash": str(sum(h or 0 for _, _, h in groups))}}
    return Mart(name, [list(c) for c in columns], dated, dict(sorted(partitions.items())))
