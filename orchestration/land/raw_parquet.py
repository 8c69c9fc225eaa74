"""The raw tables as Parquet, for the Spark engine: dbt on Spark reads the raw layer from these files.

Every table of the DuckDB warehouse's `raw` schema is written to `<folder>/<table>/data.parquet`, where
dbt's on-run-start macro (register_raw_tables) registers it as `raw.<table>`. Each file is written under a
hidden name in its table's folder and then renamed over the previous one, so a reader sees the old file or
the new one, never half a file (Spark skips names that start with '.' or '_'). An empty table still gets a
file, which carries the table's columns. DuckDB's TIMESTAMP is written without a time zone, which Spark
reads as TIMESTAMP_NTZ: the same wall-clock values as in DuckDB.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import duckdb

RAW_SCHEMA = "raw"
FILE_NAME = "data.parquet"


def local_folder(location: str | Path) -> Path:
    """The local folder of ROTATION_SPARK_RAW: a path, or a file:// URI (the ingest writes local files only)."""
    text = str(location)
    if "://" not in text:
        return Path(text)
    parsed = urlparse(text)
    if parsed.scheme != "file":
        raise ValueError(
            f"ROTATION_SPARK_RAW={text!r}: the raw tables can only be written to a local folder or a file:// URI; "
            "mount the storage the Spark server reads and name its local path"
        )
    return Path(parsed.path)


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [name for (name,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' "
        "ORDER BY table_name", [RAW_SCHEMA]
    ).fetchall()]


def export_raw_tables(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, int]:
    """Write every raw table to `<folder>/<table>/data.parquet`; return the rows written per table."""
    root = local_folder(folder)
    written = {}
    for table in raw_tables(con):
        target = root / table
        target.mkdir(parents=True, exist_ok=True)
        temporary = target / f".{FILE_NAME}.{os.getpid()}.tmp"
        try:
            quoted = str(temporary).replace("'", "''")
            (rows,) = con.execute(f"COPY {RAW_SCHEMA}.\"{table}\" TO '{quoted}' (FORMAT parquet)").fetchone()
            os.replace(temporary, target / FILE_NAME)
        finally:
            temporary.unlink(missing_ok=True)
        written[table] = rows
    return written
