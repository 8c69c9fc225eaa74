"""The readers' snapshot: a read-only copy of the marts, published atomically after each build.

DuckDB lets one process write a file or many read it, never both, so readers (rotation sql, the
report, the dashboard, BI tools) never open the writer's warehouse. They open the snapshot:

    <serving>/current/rotation_marts.duckdb            every mart, same schema and names (marts.<table>)
    <serving>/current/parquet/<table>.parquet one Parquet file per mart
    <serving>/current/snapshot.json           snapshot id, build time, row counts

`current` is a symlink to `snapshots/<snapshot id>/`. A new snapshot is written in full into a
hidden folder beside the others, then `current` is switched to it with one rename, so a reader
finds either the previous snapshot or the new one, complete. A reader holding a file of an older
snapshot open keeps reading it: its folder is removed only when it is KEEP_SNAPSHOTS old, and on
POSIX an open file stays readable after it is unlinked.

The DuckDB file is written in the storage format of DuckDB 1.0, which older DuckDB builds
(e.g. the ones bundled in BI drivers) can open.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

STORAGE_VERSION = "v1.0.0"
DUCKDB_FILE = "rotation_marts.duckdb"
PARQUET_FOLDER = "parquet"
MANIFEST_FILE = "snapshot.json"
CURRENT_LINK = "current"
SNAPSHOTS_FOLDER = "snapshots"
INFO_TABLE = "serving.snapshot_info"
KEEP_SNAPSHOTS = 3
MARTS_SCHEMA = "marts"


class SnapshotError(Exception):
    pass


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    built_at: datetime
    folder: Path
    row_counts: dict[str, int]


def current_duckdb_file(serving: Path) -> Path:
    return serving / CURRENT_LINK / DUCKDB_FILE


def current_parquet_folder(serving: Path) -> Path:
    return serving / CURRENT_LINK / PARQUET_FOLDER


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = 'warehouse' AND table_schema = ? ORDER BY table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def _write_snapshot(warehouse: Path, folder: Path, snapshot_id: str, built_at: datetime) -> dict[str, int]:
    """Copy every mart into folder/rotation_marts.duckdb and folder/parquet/<table>.parquet; return the row counts."""
    (folder / PARQUET_FOLDER).mkdir(parents=True)
    built = built_at.isoformat()
    with duckdb.connect() as con:
        con.execute(f"ATTACH {_literal(str(warehouse))} AS warehouse (READ_ONLY)")
        tables = _mart_tables(con)
        if not tables:
            raise SnapshotError(f"{warehouse} has no tables in the {MARTS_SCHEMA} schema: build the dbt models first (rotation run)")
        con.execute(f"ATTACH {_literal(str(folder / DUCKDB_FILE))} AS snapshot (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute(f"CREATE SCHEMA snapshot.{MARTS_SCHEMA}")
        con.execute("CREATE SCHEMA snapshot.serving")
        row_counts = {}
        for table in tables:
            name = _quote(table)
            con.execute(f"CREATE TABLE snapshot.{MARTS_SCHEMA}.{name} AS SELECT * FROM warehouse.{MARTS_SCHEMA}.{name}")
            row_counts[table] = con.execute(f"SELECT count(*) FROM snapshot.{MARTS_SCHEMA}.{name}").fetchall()[0][0]
            parquet = folder / PARQUET_FOLDER / f"{table}.parquet"
            con.execute(
                f"COPY snapshot.{MARTS_SCHEMA}.{name} TO {_literal(str(parquet))} (FORMAT parquet, "
                f"KV_METADATA {{snapshot_id: {_literal(snapshot_id)}, built_at: {_literal(built)}}})"
            )
        con.execute(
            f"CREATE TABLE snapshot.{INFO_TABLE} (snapshot_id VARCHAR, built_at TIMESTAMPTZ, table_name VARCHAR, row_count BIGINT)"
        )
        con.executemany(
            f"INSERT INTO snapshot.{INFO_TABLE} VALUES (?, ?, ?, ?)",
            [[snapshot_id, built_at, table, count] for table, count in row_counts.items()],
        )
        con.execute("DETACH snapshot")  # checkpoints: the file is complete and has no WAL beside it
    manifest = {"snapshot_id": snapshot_id, "built_at": built, "storage_version": STORAGE_VERSION,
                "duckdb_file": DUCKDB_FILE, "parquet_folder": PARQUET_FOLDER, "row_counts": row_counts}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return row_counts


def _switch_current(serving: Path, snapshot_folder: Path) -> None:
    """Point serving/current at the snapshot folder in one atomic rename."""
    link = serving / CURRENT_LINK
    staged_link = serving / f".{CURRENT_LINK}-{snapshot_folder.name}"
    staged_link.symlink_to(Path(SNAPSHOTS_FOLDER) / snapshot_folder.name, target_is_directory=True)
    os.replace(staged_link, link)


def _prune(snapshots: Path, keep: int) -> None:
    finished = sorted(p for p in snapshots.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in finished[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def publish_snapshot(warehouse: Path, serving: Path) -> Snapshot:
    """Write a new snapshot of the warehouse's marts and make it the current one."""
    if not warehouse.exists():
        raise SnapshotError(f"no warehouse at {warehouse}: run `rotation run` first (or set ROTATION_WAREHOUSE)")
    if (serving / CURRENT_LINK).exists() and not (serving / CURRENT_LINK).is_symlink():
        raise SnapshotError(f"{serving / CURRENT_LINK} exists and is not a symlink: move it away, the snapshot publisher owns that name")
    built_at = datetime.now(timezone.utc)
    snapshot_id = f"{built_at:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"
    snapshots = serving / SNAPSHOTS_FOLDER
    snapshots.mkdir(parents=True, exist_ok=True)
    building = snapshots / f".building-{snapshot_id}"
    try:
        row_counts = _write_snapshot(warehouse, building, snapshot_id, built_at)
        folder = snapshots / snapshot_id
        building.rename(folder)
    finally:
        shutil.rmtree(building, ignore_errors=True)  # only left when writing failed
    _switch_current(serving, folder)
    _prune(snapshots, KEEP_SNAPSHOTS)
    return Snapshot(snapshot_id, built_at, folder, row_counts)


def connect_snapshot(serving: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current snapshot."""
    path = current_duckdb_file(serving)
    if not path.exists():
        raise SnapshotError(f"no snapshot at {path}: run `rotation run` first (it publishes one after each build)")
    return duckdb.connect(str(path), read_only=True)
