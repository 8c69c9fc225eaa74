"""The readers' snapshot: a read-only copy of the marts, published atomically after each build.

DuckDB lets one process write a file or many read it, never both, so readers (rotation sql, the
report, the dashboard, BI tools) never open the writer's warehouse. They open the snapshot:

    <serving>/current/rotation_marts.duckdb     every mart, same schema and names (marts.<table>)
    <serving>/current/parquet/<table>/          one folder per mart: year=<YYYY>/data_0.parquet for a
                                                mart with a DATE column `date`, else data_0.parquet
    <serving>/current/snapshot.json             snapshot id, build time, row counts, fingerprints

`current` is a symlink to `snapshots/<snapshot id>/`. A new snapshot is completed in a
hidden folder beside the others, then `current` is switched to it with one rename, so a reader
finds either the previous snapshot or the new one, complete. A reader holding a file of an older
snapshot open keeps reading it: its folder is removed only when it is KEEP_SNAPSHOTS old, and on
POSIX an open file stays readable after it is unlinked.

A publish writes about what changed (it still reads every mart once, to fingerprint it per year:
snapshot_fingerprints.py): it copies the previous snapshot's DuckDB file and replaces in the copy
only the years whose fingerprint changed, and hard-links the Parquet files of the unchanged years
(no file is modified once published, so two snapshots can share one). So a Parquet file carries, in
its key-value metadata, the id of the snapshot that wrote it, which may be older than the snapshot
it is in; snapshot.json names it for every partition (`written_by`). Without a usable previous
snapshot, or when in doubt, the snapshot is written in full.

The DuckDB file is written in the storage format of DuckDB 1.0, which older DuckDB builds
(e.g. the ones bundled in BI drivers) can open; a copied file keeps its storage format.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration import config
from orchestration.serve.fingerprints import (
    DATE_COLUMN,
    PARTITION_COLUMN,
    Mart,
    quote,
    read_marts,
    year_filter,
)
from orchestration.serve.reader import connect_sealed

STORAGE_VERSION = "v1.0.0"
LAYOUT = 2  # snapshot.json's layout; a previous snapshot of another layout is not reused
DUCKDB_FILE = "rotation_marts.duckdb"
PARQUET_FOLDER = "parquet"
PARQUET_FILE = "data_0.parquet"  # the name DuckDB gives the first file of a partition
MANIFEST_FILE = "snapshot.json"
CURRENT_LINK = "current"
SNAPSHOTS_FOLDER = "snapshots"
INFO_TABLE = "serving.snapshot_info"
KEEP_SNAPSHOTS = 3
MARTS_SCHEMA = "marts"
# Deleted rows and replaced tables leave dead space in a copied DuckDB file: once it is this much
# larger per row than at the last full write (and large enough for it to matter), write in full.
MAX_GROWTH = 1.5
GROWTH_CHECKED_FROM_BYTES = 64 * 2**20


class SnapshotError(Exception):
    pass


class _Fallback(Exception):
    """The previous snapshot cannot be reused: write this one in full."""


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    built_at: datetime
    folder: Path
    row_counts: dict[str, int]
    written: str  # "incremental: ..." or "full: <why>"


@dataclass(frozen=True)
class _Previous:
    folder: Path
    manifest: dict


def current_duckdb_file(serving: Path) -> Path:
    return serving / CURRENT_LINK / DUCKDB_FILE


def current_parquet_folder(serving: Path) -> Path:
    return serving / CURRENT_LINK / PARQUET_FOLDER


def _literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _partition_folder(table_folder: Path, mart: Mart, key: str) -> Path:
    return table_folder / f"{PARTITION_COLUMN}={key}" if mart.by_year else table_folder


def _previous(serving: Path) -> tuple[_Previous | None, str]:
    """The current snapshot if this publish can build on it, else why not."""
    if not (serving / CURRENT_LINK).exists():
        return None, "no previous snapshot"
    folder = (serving / CURRENT_LINK).resolve()
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        size = (folder / DUCKDB_FILE).stat().st_size
    except (OSError, ValueError):
        return None, "the previous snapshot has no readable manifest or DuckDB file"
    if manifest.get("layout") != LAYOUT:
        return None, "the previous snapshot has another layout (no fingerprints)"
    if manifest.get("storage_version") != STORAGE_VERSION:
        return None, "the previous snapshot has another storage version"
    if manifest.get("duckdb_version") != duckdb.__version__:
        return None, "the previous snapshot was fingerprinted by another DuckDB version"
    full = manifest["full_write"]
    growth = size / (full["duckdb_bytes"] * max(sum(manifest["row_counts"].values()), 1) / max(full["rows"], 1))
    if size >= GROWTH_CHECKED_FROM_BYTES and growth > MAX_GROWTH:
        return None, f"the previous DuckDB file is {growth:.2f}x its size per row at the last full write"
    return _Previous(folder, manifest), ""


def _check_copy(con: duckdb.DuckDBPyConnection, manifest: dict) -> None:
    ids = con.execute(f"SELECT DISTINCT snapshot_id FROM snapshot.{INFO_TABLE}").fetchall()
    if ids != [(manifest["snapshot_id"],)]:
        raise _Fallback("the previous DuckDB file does not match its manifest")


def _update_tables(con: duckdb.DuckDBPyConnection, marts: list[Mart], before: dict) -> None:
    """Bring snapshot.marts to the warehouse's marts, rewriting only the changed years where it can."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS snapshot.{MARTS_SCHEMA}")
    for gone in sorted(set(before) - {m.name for m in marts}):
        con.execute(f"DROP TABLE snapshot.{MARTS_SCHEMA}.{quote(gone)}")
    for mart in marts:
        target, source = (f"{db}.{MARTS_SCHEMA}.{quote(mart.name)}" for db in ("snapshot", "warehouse"))
        entry = before.get(mart.name)
        if mart.compatible_with(entry):
            changed = mart.changed_partitions(entry)
            if not changed:
                continue
            replaced = sum(entry["partitions"].get(k, {}).get("rows", 0) for k in changed)
            # Deleting most of a table costs more than rewriting it, and leaves the file mostly free blocks.
            if mart.by_year and 2 * replaced <= sum(p["rows"] for p in entry["partitions"].values()):
                con.execute(f"DELETE FROM {target} WHERE {year_filter(changed)}")
                con.execute(f"INSERT INTO {target} SELECT * FROM {source} WHERE {year_filter(changed)} ORDER BY {quote(DATE_COLUMN)}")
                continue
        # A dated mart is stored in date order, so that replacing a recent year touches only its blocks.
        order = f" ORDER BY {quote(DATE_COLUMN)}" if mart.by_year else ""
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}{order}")


def _link_partition(source: Path, target: Path) -> None:
    files = sorted(source.glob("*.parquet"))
    if not files:
        raise _Fallback(f"the previous snapshot has no Parquet file in {source}")
    target.mkdir(exist_ok=True)
    for file in files:
        try:
            os.link(file, target / file.name)
        except OSError:  # a file system without hard links
            shutil.copyfile(file, target / file.name)


def _update_parquet(con: duckdb.DuckDBPyConnection, mart: Mart, folder: Path, previous: _Previous | None,
                    kv_metadata: str, snapshot_id: str) -> dict[str, dict]:
    """Write the mart's changed partitions, hard-link the others; return the partitions for the manifest."""
    table_folder = folder / PARQUET_FOLDER / mart.name
    table_folder.mkdir()
    entry = previous.manifest["tables"].get(mart.name) if previous else None
    changed = set(mart.changed_partitions(entry)) if mart.compatible_with(entry) else set(mart.partitions)
    partitions = {}
    for key, fingerprint in mart.partitions.items():
        if key in changed:
            partitions[key] = {**fingerprint, "written_by": snapshot_id}
        else:
            old_folder = _partition_folder(previous.folder / PARQUET_FOLDER / mart.name, mart, key)
            _link_partition(old_folder, _partition_folder(table_folder, mart, key))
            partitions[key] = {**fingerprint, "written_by": entry["partitions"][key]["written_by"]}
    to_write = [key for key in mart.partitions if key in changed]
    source = f"warehouse.{MARTS_SCHEMA}.{quote(mart.name)}"
    options = f"FORMAT parquet, KV_METADATA {kv_metadata}"
    if to_write and not mart.by_year:
        con.execute(f"COPY {source} TO {_literal(table_folder / PARQUET_FILE)} ({options})")
    elif to_write:
        staging = folder / ".staging" / mart.name
        staging.parent.mkdir(exist_ok=True)
        con.execute(
            f"COPY (SELECT *, year({quote(DATE_COLUMN)}) AS {PARTITION_COLUMN} FROM {source} WHERE {year_filter(to_write)}) "
            f"TO {_literal(staging)} ({options}, PARTITION_BY ({PARTITION_COLUMN}))"
        )
        for key in to_write:
            (staging / f"{PARTITION_COLUMN}={key}").rename(_partition_folder(table_folder, mart, key))
        shutil.rmtree(staging.parent)
    return partitions


def _check_tables(con: duckdb.DuckDBPyConnection, marts: list[Mart]) -> None:
    """The snapshot holds exactly the marts, each with the warehouse's row count."""
    tables = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'snapshot' AND schema_name = ?", [MARTS_SCHEMA]).fetchall()}
    if tables != {m.name for m in marts}:
        raise _Fallback(f"the snapshot's tables {sorted(tables)} are not the marts")
    for mart in marts:
        rows = con.execute(f"SELECT count(*) FROM snapshot.{MARTS_SCHEMA}.{quote(mart.name)}").fetchone()[0]
        if rows != mart.rows:
            raise _Fallback(f"{mart.name} has {rows} rows in the snapshot, {mart.rows} in the warehouse")


def _write(con: duckdb.DuckDBPyConnection, marts: list[Mart], folder: Path, snapshot_id: str, built_at: datetime,
           previous: _Previous | None, why_full: str) -> dict:
    """Write the snapshot into folder, building on the previous one if given; return its manifest."""
    (folder / PARQUET_FOLDER).mkdir(parents=True)
    built = built_at.isoformat()
    if previous:
        shutil.copyfile(previous.folder / DUCKDB_FILE, folder / DUCKDB_FILE)
    con.execute(f"ATTACH {_literal(folder / DUCKDB_FILE)} AS snapshot (STORAGE_VERSION '{STORAGE_VERSION}')")
    if previous:
        _check_copy(con, previous.manifest)
    _update_tables(con, marts, previous.manifest["tables"] if previous else {})
    kv_metadata = f"{{snapshot_id: {_literal(snapshot_id)}, built_at: {_literal(built)}}}"
    tables = {m.name: {"columns": m.columns, "by_year": m.by_year,
                       "partitions": _update_parquet(con, m, folder, previous, kv_metadata, snapshot_id)} for m in marts}
    con.execute("CREATE SCHEMA IF NOT EXISTS snapshot.serving")
    con.execute(f"CREATE OR REPLACE TABLE snapshot.{INFO_TABLE} "
                "(snapshot_id VARCHAR, built_at TIMESTAMPTZ, table_name VARCHAR, row_count BIGINT)")
    con.executemany(f"INSERT INTO snapshot.{INFO_TABLE} VALUES (?, ?, ?, ?)",
                    [[snapshot_id, built_at, m.name, m.rows] for m in marts])
    _check_tables(con, marts)
    con.execute("DETACH snapshot")  # checkpoints: the file is complete and has no WAL beside it
    partitions = [p for t in tables.values() for p in t["partitions"].values()]
    written = sum(p["written_by"] == snapshot_id for p in partitions)
    row_counts = {m.name: m.rows for m in marts}
    full_write = previous.manifest["full_write"] if previous else {
        "snapshot_id": snapshot_id, "duckdb_bytes": (folder / DUCKDB_FILE).stat().st_size, "rows": sum(row_counts.values())}
    return {"snapshot_id": snapshot_id, "built_at": built, "layout": LAYOUT, "storage_version": STORAGE_VERSION,
            "duckdb_version": duckdb.__version__, "duckdb_file": DUCKDB_FILE, "parquet_folder": PARQUET_FOLDER,
            "written": f"incremental: {written} of {len(partitions)} partitions written" if previous else f"full: {why_full}",
            "full_write": full_write, "row_counts": row_counts, "tables": tables}


def _write_snapshot(warehouse: Path, folder: Path, snapshot_id: str, built_at: datetime,
                    previous: _Previous | None, why_full: str) -> dict:
    with duckdb.connect(config=config.duckdb_settings()) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH {_literal(warehouse)} AS warehouse (READ_ONLY)")
        marts = read_marts(con, "warehouse", MARTS_SCHEMA)
        if not marts:
            raise SnapshotError(f"{warehouse} has no tables in the {MARTS_SCHEMA} schema: build the dbt models first (rotation run)")
        if not any(mart.rows for mart in marts):
            raise SnapshotError(f"every mart of {warehouse} is empty: nothing was published, the current snapshot "
                                "stays (load prices first, e.g. rotation run)")
        for mart in marts:
            if mart.name.startswith(".") or any(c in mart.name for c in "/\\\0"):
                raise SnapshotError(f"the mart {mart.name!r} cannot name a Parquet folder: rename it")
        manifest = None
        if previous:
            try:
                manifest = _write(con, marts, folder, snapshot_id, built_at, previous, "")
            except _Fallback as reason:
                why_full = str(reason)
                con.execute("DETACH DATABASE IF EXISTS snapshot")
                shutil.rmtree(folder)
        if manifest is None:
            try:
                manifest = _write(con, marts, folder, snapshot_id, built_at, None, why_full)
            except _Fallback as reason:
                raise SnapshotError(str(reason)) from None
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _switch_current(serving: Path, snapshot_folder: Path) -> None:
    """Point serving/current at the snapshot folder in one atomic rename."""
    link = serving / CURRENT_LINK
    staged_link = serving / f".{CURRENT_LINK}-{snapshot_folder.name}"
    staged_link.symlink_to(Path(SNAPSHOTS_FOLDER) / snapshot_folder.name, target_is_directory=True)
    os.replace(staged_link, link)


def _remove_unfinished(serving: Path) -> None:
    """What a publish killed midway left: its half-written folder and its staged link. Only one run writes
    a warehouse at a time (warehouse_writer.py), so none of them belongs to a publish still going."""
    for leftover in (serving / SNAPSHOTS_FOLDER).glob(".building-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for staged_link in serving.glob(f".{CURRENT_LINK}-*"):
        staged_link.unlink(missing_ok=True)


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
    built_at = datetime.now(UTC)
    snapshot_id = f"{built_at:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"
    snapshots = serving / SNAPSHOTS_FOLDER
    snapshots.mkdir(parents=True, exist_ok=True)
    _remove_unfinished(serving)
    building = snapshots / f".building-{snapshot_id}"
    try:
        manifest = _write_snapshot(warehouse, building, snapshot_id, built_at, *_previous(serving))
        folder = snapshots / snapshot_id
        building.rename(folder)
    finally:
        shutil.rmtree(building, ignore_errors=True)  # only left when writing failed
    _switch_current(serving, folder)
    _prune(snapshots, KEEP_SNAPSHOTS)
    return Snapshot(snapshot_id, built_at, folder, manifest["row_counts"], manifest["written"])


def connect_snapshot(serving: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A sealed read-only connection to the current snapshot (of the configured serving folder by
    default): it reads the snapshot's tables and nothing else (serve/reader.py)."""
    serving = serving or config.serving_folder()
    path = current_duckdb_file(serving)
    if not path.exists():
        raise SnapshotError(f"no snapshot at {path}: run `rotation run` first (it publishes one after each build)")
    return connect_sealed(path)
