"""One writer per warehouse, and a clear word when something else holds its file.

Every run that writes a warehouse (from `rotation run`, the schedule, a sensor or the UI) holds
`<warehouse file>.lock` from its start to its end, so runs on one warehouse take turns instead of
failing inside dbt on DuckDB's own file lock. Whoever holds it is written to `<warehouse file>.writer`
(its run id and process), so the next writer can say what it is waiting for.

DuckDB lets one process open a file for writing, or many read it, never both: a DuckDB client or a BI
tool pointed at the warehouse file (rather than the serving snapshot) makes every run fail. That is
found before a run starts, and named with the process holding the file.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

# A run waiting for the writer lock says so here too, so a terminal running it in process can show it at once.
waiting_log = logging.getLogger("orchestration.writer")
DUCKDB_LOCK_HELD = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class WarehouseHeld(Exception):
    """A process other than a run of this project holds the warehouse file."""


def lock_file(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.lock")


def holder_file(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.writer")


def current_writer(warehouse: Path) -> str:
    """Who holds the warehouse's writer lock, in words."""
    try:
        holder = json.loads(holder_file(warehouse).read_text())
    except (OSError, ValueError):
        return "another run"
    return f"run {holder['run_id']} (process {holder['pid']}, started {holder['started']})"


def _acquire(warehouse: Path, on_wait: Callable[[str], None]) -> FileLock:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_file(warehouse))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        on_wait(f"{warehouse.name}: waiting for {current_writer(warehouse)} to finish (one writer at a time)")
        lock.acquire()
    return lock


@contextmanager
def exclusive_writer(warehouse: Path, run_id: str, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block, waiting for the current writer first (telling
    `on_wait` what it waits for); then make sure no foreign process holds the file (WarehouseHeld)."""
    lock = _acquire(warehouse, on_wait)
    try:
        holder_file(warehouse).write_text(json.dumps(
            {"run_id": run_id, "pid": os.getpid(), "started": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"}))
        check_not_held_elsewhere(warehouse)
        yield
    finally:
        holder_file(warehouse).unlink(missing_ok=True)
        lock.release()


def wait_until_writable(warehouse: Path, on_wait: Callable[[str], None]) -> None:
    """Return once no run holds the warehouse's writer lock (telling `on_wait` what it waits for) and no
    foreign process has the file open (else WarehouseHeld). The lock is not kept: the run takes it."""
    lock = _acquire(warehouse, on_wait)
    try:
        check_not_held_elsewhere(warehouse)
    finally:
        lock.release()


def check_not_held_elsewhere(warehouse: Path) -> None:
    """Raise WarehouseHeld, naming the process, when another process has the warehouse file open."""
    if not warehouse.exists():
        return
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as error:
        found = DUCKDB_LOCK_HELD.search(str(error))
        if not found:
            raise
        from orchestration import config
        from orchestration.serve.snapshot import current_duckdb_file

        raise WarehouseHeld(
            f"{warehouse} is open in another process ({found['program']}, PID {found['pid']}), so no run can "
            f"write it: close that program, and point DuckDB clients and BI tools at the serving snapshot "
            f"{current_duckdb_file(config.serving_folder())} (or use `rotation sql`), never at the warehouse file."
        ) from None
