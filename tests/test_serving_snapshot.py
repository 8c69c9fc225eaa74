"""The serving snapshot: readers never block a run, always see one whole snapshot, and older DuckDB opens it."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.serve.snapshot import (
    SnapshotError,
    current_duckdb_file,
    current_parquet_folder,
    publish_snapshot,
)

SESSIONS = ["2024-12-30", "2024-12-31", "2025-01-02", "2025-01-03", "2025-01-06"]
OLD_DUCKDB = "1.1.3"  # the DuckDB line many BI drivers still bundle


def build_marts(warehouse: Path, sessions: list[str]) -> None:
    """What a run leaves for the publish: the marts the readers check, up to the last of `sessions`
    (they span two years, so the daily marts have two partitions)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        dates = "(SELECT unnest(?::DATE[]) AS date)"
        con.execute(f"CREATE OR REPLACE TABLE marts.fct_returns_daily AS SELECT ticker, date, 100.0 AS close "
                    f"FROM {dates}, (VALUES ('^GSPC'), ('^RUT')) t(ticker)", [sessions])
        con.execute(f"CREATE OR REPLACE TABLE marts.fct_relative_streaks AS SELECT 'russell2000_vs_sp500' AS pair_id, date FROM {dates}",
                    [sessions])
        con.execute(f"CREATE OR REPLACE TABLE marts.rotation_summary AS SELECT date, 'files' AS source FROM {dates}", [sessions])


def read_whole_snapshot(con: duckdb.DuckDBPyConnection, parquet: Path) -> tuple[str, str]:
    """Check one snapshot is internally whole; return its id and last session."""
    info = con.execute("SELECT snapshot_id, table_name, row_count FROM serving.snapshot_info").fetchall()
    ids = {snapshot_id for snapshot_id, _, _ in info}
    assert len(ids) == 1, f"one snapshot holds several ids: {ids}"
    for _, table, expected in info:
        assert con.execute(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0] == expected, table
    # Every mart carries the same last session, which changes with each run of this test.
    last = {con.execute(f"SELECT max(date)::VARCHAR FROM marts.{t}").fetchall()[0][0]
            for t in ("fct_returns_daily", "fct_relative_streaks", "rotation_summary")}
    assert len(last) == 1, f"marts of one snapshot disagree on the last session: {last}"
    if parquet is not None:
        # A Parquet file carries the id of the snapshot that wrote it (unchanged years are hard-linked
        # from an older snapshot); the snapshot's manifest names that id for each of its partitions.
        manifest = json.loads((parquet.parent / "snapshot.json").read_text())
        assert manifest["snapshot_id"] in ids
        expected = {}
        for table, entry in manifest["tables"].items():
            for key, partition in entry["partitions"].items():
                expected[f"{table}/year={key}" if entry["by_year"] else table] = partition["written_by"]
        found = {str(Path(name).parent.relative_to(parquet)): value.decode() for name, value in con.execute(
            "SELECT file_name, value FROM parquet_kv_metadata(?) WHERE key = 'snapshot_id'",
            [str(parquet / "**" / "*.parquet")]).fetchall()}
        assert found == expected, "the Parquet files are not the ones the manifest names"
        assert all(written_by <= manifest["snapshot_id"] for written_by in found.values())
    return ids.pop(), last.pop()


def test_a_reader_holding_the_snapshot_never_blocks_three_publishes(tmp_path):
    """The serving step of three runs publishes while one reader holds the first snapshot open and
    another opens the current one again and again."""
    warehouse = tmp_path / "rotation.duckdb"
    serving = tmp_path / "serving"
    build_marts(warehouse, SESSIONS[:2])
    publish_snapshot(warehouse, serving)

    held = duckdb.connect(str(current_duckdb_file(serving)), read_only=True)
    held_id, held_last = read_whole_snapshot(held, None)
    assert held_last == SESSIONS[1]

    seen: list[tuple[str, str]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def keep_reading() -> None:
        """A dashboard-like reader: a fresh connection to the current snapshot, again and again."""
        while not stop.is_set():
            try:
                resolved = (serving / "current").resolve()
                with duckdb.connect(str(resolved / "rotation_marts.duckdb"), read_only=True) as con:
                    seen.append(read_whole_snapshot(con, resolved / "parquet"))
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                failures.append(error)
                return

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        for run in range(1, 4):
            build_marts(warehouse, SESSIONS[: 2 + run])
            publish_snapshot(warehouse, serving)
            # The long-lived reader still sees the snapshot it opened, whole.
            assert read_whole_snapshot(held, None) == (held_id, held_last)
            time.sleep(0.2)  # the other reader opens the new snapshot before the next publish
    finally:
        stop.set()
        reader.join(timeout=60)
    held.close()

    assert not failures, failures[0]
    lasts = [last for _, last in seen]
    assert lasts == sorted(lasts), "a reader went back to an older snapshot"
    assert set(lasts) <= set(SESSIONS[1:]) and len({i for i, _ in seen}) >= 2
    with duckdb.connect(str(current_duckdb_file(serving)), read_only=True) as con:
        latest_id, latest_last = read_whole_snapshot(con, current_parquet_folder(serving))
    assert latest_last == SESSIONS[4] and latest_id != held_id
    # The previous snapshots stay for readers still holding them; older ones are pruned.
    assert len(list((serving / "snapshots").iterdir())) == 3


def one_mart_warehouse(tmp_path: Path) -> Path:
    """A warehouse whose only mart is one row of rotation_summary."""
    warehouse = tmp_path / "rotation.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.rotation_summary AS SELECT DATE '2025-01-02' AS date")
    return warehouse


def test_a_failed_publish_keeps_the_current_snapshot(tmp_path):
    warehouse = one_mart_warehouse(tmp_path)
    serving = tmp_path / "serving"
    good = publish_snapshot(warehouse, serving)
    with duckdb.connect(str(warehouse)) as con:  # a mart whose rows cannot be read: the publish fails
        con.execute("CREATE VIEW marts.zz_broken AS SELECT error('broken mart') AS x")
    with pytest.raises(duckdb.Error, match="broken mart"):
        publish_snapshot(warehouse, serving)
    assert (serving / "current").resolve() == good.folder
    assert [p.name for p in (serving / "snapshots").iterdir()] == [good.snapshot_id]


def test_what_a_killed_publish_left_is_removed_by_the_next(tmp_path):
    warehouse = one_mart_warehouse(tmp_path)
    serving = tmp_path / "serving"
    publish_snapshot(warehouse, serving)
    half_written = serving / "snapshots" / ".building-20250102T000000000000Z-abcdef"
    half_written.mkdir()
    (half_written / "rotation_marts.duckdb").write_bytes(b"\0" * 1024)
    staged_link = serving / ".current-20250102T000000000000Z-abcdef"
    staged_link.symlink_to(Path("snapshots") / half_written.name)

    snapshot = publish_snapshot(warehouse, serving)
    assert not half_written.exists() and not staged_link.is_symlink()
    assert sorted(p.name for p in serving.iterdir()) == ["current", "snapshots"]
    assert (serving / "current").resolve() == snapshot.folder


def test_marts_that_are_all_empty_are_not_published_over_a_snapshot(tmp_path):
    warehouse = one_mart_warehouse(tmp_path)
    serving = tmp_path / "serving"
    good = publish_snapshot(warehouse, serving)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM marts.rotation_summary")
    with pytest.raises(SnapshotError, match="every mart of .* is empty: nothing was published"):
        publish_snapshot(warehouse, serving)
    assert (serving / "current").resolve() == good.folder


def test_an_older_duckdb_opens_the_snapshot(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: it fetches the older DuckDB this test reads the snapshot with")
    warehouse = tmp_path / "rotation.duckdb"
    rows = ("SELECT 'SPY' AS ticker, DATE '2025-01-02' + i::INT AS date, 0.001 * i AS return_1d, i % 2 = 0 AS up "
            "FROM range({}, {}) t(i)")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.fct_returns_daily AS " + rows.format(0, 900))
    publish_snapshot(warehouse, tmp_path / "serving")
    # The second snapshot is the first one's file, copied, with its 2027 rows deleted and written again.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("INSERT INTO marts.fct_returns_daily " + rows.format(900, 1000))
    snapshot = publish_snapshot(warehouse, tmp_path / "serving")
    assert snapshot.written == "incremental: 1 of 3 partitions written"
    script = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
              "print(duckdb.__version__, *con.execute('SELECT count(*), round(sum(return_1d), 6), count(*) FILTER (up), "
              "max(date) FROM marts.fct_returns_daily').fetchall()[0])")
    result = subprocess.run(
        [uv, "run", "--no-project", "--isolated", "--with", f"duckdb=={OLD_DUCKDB}", "python", "-c", script,
         str(snapshot.folder / "rotation_marts.duckdb")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    version, rows, total, up, last = result.stdout.split()
    assert (version, int(rows), float(total), int(up), last) == (OLD_DUCKDB, 1000, 499.5, 500, "2027-09-28")
