"""The sealed reader connection: the only way readers (rotation sql, the report, the dashboard) open a snapshot.

A read-only DuckDB connection still lets a query read or write any file the process can reach:
ATTACH another database file (read-write), COPY ... TO a path, read_csv/read_parquet/glob of any
path, INSTALL/LOAD extensions, and SET options back. So the snapshot's file is opened read-only with
external access disabled and the configuration locked, all three given when the database is opened
(DuckDB refuses a second connection to the same file, in one process, with other settings, so a
setting cannot be added after connecting). What remains is SQL on the tables of that one file, plus
session-local state that ends with the connection (USE, SET search_path, SET VARIABLE, temporary
tables and macros). The memory limit, when configured, is locked in with the rest.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from orchestration import config

SEAL = {"enable_external_access": "false", "lock_configuration": "true"}

REFUSED = "refused: rotation sql reads the published snapshot only (no files, no ATTACH, no writes, no settings)"

# DuckDB's words when the seal (not the query itself) stops a statement.
_SEAL_MESSAGES = ("the configuration has been locked", "read-only mode", "disabled by configuration",
                  "disabled through configuration")
# With external access off, `FROM 'some/file.csv'` is not read as a file but looked up as a table.
_MISSING_TABLE = re.compile(r"Table with name (.+?) does not exist")
_FILE_LIKE = re.compile(r"[/\\:]|\.(csv|tsv|txt|parquet|json|jsonl|ndjson|gz|zst|duckdb|db|arrow|xlsx?)$", re.IGNORECASE)


def connect_sealed(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the DuckDB file at path that can reach no other file and change no setting."""
    return duckdb.connect(str(path), read_only=True, config={**config.duckdb_settings(), **SEAL})


def refused_by_seal(error: duckdb.Error) -> bool:
    """Whether DuckDB refused the statement because of the seal (rather than an error in the SQL)."""
    if isinstance(error, duckdb.PermissionException):
        return True
    message = str(error)
    if any(words in message for words in _SEAL_MESSAGES):
        return True
    missing = _MISSING_TABLE.search(message)
    return bool(missing and _FILE_LIKE.search(missing.group(1)))
