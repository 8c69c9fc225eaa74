"""A publish rewrites only the years (and small marts) that changed, and its snapshot equals one written from scratch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from orchestration.serve import snapshot as serving_module
from orchestration.serve.snapshot import SnapshotError, publish_snapshot

DAILY = "parquet/fct_daily/year={}/data_0.parquet"
DIM = "parquet/dim_names/data_0.parquet"


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """marts.fct_daily: tickers A and B on two dates in each of 2023, 2024, 2025; marts.dim_names: two rows, no date."""
    path = tmp_path / "rotation.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_daily (ticker VARCHAR, date DATE, value DOUBLE)")
        con.execute("INSERT INTO marts.fct_daily SELECT ticker, date::DATE, 1.5 FROM "
                    "(VALUES ('A'), ('B')) t(ticker), "
                    "(VALUES ('2023-01-03'), ('2023-06-01'), ('2024-01-02'), ('2024-06-03'), ('2025-01-02'), ('2025-06-02')) d(date)")
        con.execute("CREATE TABLE marts.dim_names AS SELECT * FROM (VALUES ('A', 'Alpha'), ('B', 'Beta')) t(ticker, name)")
    return path


def sql(warehouse: Path, statement: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(statement)


def manifest(folder: Path) -> dict:
    return json.loads((folder / "snapshot.json").read_text())


def inode(path: Path) -> int:
    return path.stat().st_ino


def assert_snapshot_is(folder: Path, warehouse: Path) -> None:
    """The snapshot's DuckDB tables and Parquet folders hold exactly the warehouse's marts, row for row and type for type."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
        con.execute(f"ATTACH '{folder / 'rotation_marts.duckdb'}' AS s (READ_ONLY)")
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'w' AND schema_name = 'marts' ORDER BY 1").fetchall()]
        in_snapshot = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 's' AND schema_name = 'marts' ORDER BY 1").fetchall()]
        assert in_snapshot == tables
        assert sorted(p.name for p in (folder / "parquet").iterdir()) == tables
        for table in tables:
            expected = con.execute(f"SELECT * FROM w.marts.{table} ORDER BY ALL").fetchall()
            assert con.execute(f"SELECT * FROM s.marts.{table} ORDER BY ALL").fetchall() == expected, table
            parquet = con.execute(f"SELECT * FROM read_parquet('{folder}/parquet/{table}/**/*.parquet', hive_partitioning = false) "
                                  "ORDER BY ALL").fetchall()
            assert parquet == expected, table
            types = [con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {db}.marts.{table})").fetchall() for db in ("w", "s")]
            assert types[0] == types[1], table
        counts = dict(con.execute("SELECT table_name, row_count FROM s.serving.snapshot_info").fetchall())
        assert counts == {t: con.execute(f"SELECT count(*) FROM w.marts.{t}").fetchone()[0] for t in tables}
        ids = {i for (i,) in con.execute("SELECT DISTINCT snapshot_id FROM s.serving.snapshot_info").fetchall()}
        assert ids == {folder.name} == {manifest(folder)["snapshot_id"]}
    # Every Parquet file carries the id of the snapshot that wrote it, as the manifest says.
    for table, entry in manifest(folder)["tables"].items():
        for key, partition in entry["partitions"].items():
            part = folder / "parquet" / table / (f"year={key}" if entry["by_year"] else "")
            files = sorted(part.glob("*.parquet"))
            assert files, part
            with duckdb.connect() as con:
                ids = {v.decode() for (v,) in con.execute(
                    "SELECT value FROM parquet_kv_metadata(?) WHERE key = 'snapshot_id'", [[str(f) for f in files]]).fetchall()}
            assert ids == {partition["written_by"]}, part


def test_only_the_changed_years_are_rewritten(warehouse, tmp_path):
    serving = tmp_path / "serving"
    first = publish_snapshot(warehouse, serving)
    assert first.written == "full: no previous snapshot"
    assert first.row_counts == {"dim_names": 2, "fct_daily": 12}
    assert_snapshot_is(first.folder, warehouse)
    tables = manifest(first.folder)["tables"]
    assert tables["fct_daily"]["by_year"] and not tables["dim_names"]["by_year"]
    assert {k: p["rows"] for k, p in tables["fct_daily"]["partitions"].items()} == {"2023": 4, "2024": 4, "2025": 4}
    assert list(tables["dim_names"]["partitions"]) == ["all"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        hashes = dict(con.execute("SELECT year(date)::VARCHAR, sum(hash(row(ticker, date, value)))::VARCHAR "
                                  "FROM marts.fct_daily GROUP BY 1").fetchall())
    assert {k: p["hash"] for k, p in tables["fct_daily"]["partitions"].items()} == hashes

    # One value changes in 2024: only that year's Parquet file is new, the others are the first snapshot's files.
    sql(warehouse, "UPDATE marts.fct_daily SET value = 2.5 WHERE ticker = 'A' AND date = '2024-06-03'")
    second = publish_snapshot(warehouse, serving)
    assert second.written == "incremental: 1 of 4 partitions written"
    assert_snapshot_is(second.folder, warehouse)
    for year in (2023, 2025):
        assert inode(second.folder / DAILY.format(year)) == inode(first.folder / DAILY.format(year))
    assert inode(second.folder / DAILY.format(2024)) != inode(first.folder / DAILY.format(2024))
    assert inode(second.folder / DIM) == inode(first.folder / DIM)
    partitions = manifest(second.folder)["tables"]["fct_daily"]["partitions"]
    assert {k: p["written_by"] for k, p in partitions.items()} == {
        "2023": first.snapshot_id, "2024": second.snapshot_id, "2025": first.snapshot_id}
    assert partitions["2023"] == tables["fct_daily"]["partitions"]["2023"]
    assert partitions["2024"]["hash"] != tables["fct_daily"]["partitions"]["2024"]["hash"]

    # A row added in the last year, then a row deleted in the first one.
    sql(warehouse, "INSERT INTO marts.fct_daily VALUES ('A', '2025-06-03', 3.5)")
    third = publish_snapshot(warehouse, serving)
    assert third.written == "incremental: 1 of 4 partitions written" and third.row_counts["fct_daily"] == 13
    assert_snapshot_is(third.folder, warehouse)
    assert inode(third.folder / DAILY.format(2024)) == inode(second.folder / DAILY.format(2024))
    assert inode(third.folder / DAILY.format(2025)) != inode(second.folder / DAILY.format(2025))

    sql(warehouse, "DELETE FROM marts.fct_daily WHERE ticker = 'B' AND date = '2023-01-03'")
    fourth = publish_snapshot(warehouse, serving)
    assert fourth.written == "incremental: 1 of 4 partitions written" and fourth.row_counts["fct_daily"] == 12
    assert_snapshot_is(fourth.folder, warehouse)
    assert inode(fourth.folder / DAILY.format(2023)) != inode(third.folder / DAILY.format(2023))
    assert inode(fourth.folder / DAILY.format(2025)) == inode(third.folder / DAILY.format(2025))

    # A year that empties loses its folder; a new year gets one.
    sql(warehouse, "DELETE FROM marts.fct_daily WHERE year(date) = 2023; INSERT INTO marts.fct_daily VALUES ('B', '2026-01-02', 4.5)")
    fifth = publish_snapshot(warehouse, serving)
    assert fifth.written == "incremental: 1 of 4 partitions written"
    assert_snapshot_is(fifth.folder, warehouse)
    assert sorted(p.name for p in (fifth.folder / "parquet/fct_daily").iterdir()) == ["year=2024", "year=2025", "year=2026"]
    # The snapshots readers may still hold are untouched: the first one still has its 2023 rows.
    with duckdb.connect(str(fourth.folder / "rotation_marts.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_daily WHERE year(date) = 2023").fetchone()[0] == 3


def test_new_dropped_and_reshaped_marts(warehouse, tmp_path):
    serving = tmp_path / "serving"
    publish_snapshot(warehouse, serving)

    sql(warehouse, "CREATE TABLE marts.fct_other AS SELECT 'A' AS ticker, DATE '2025-03-03' AS date, 7 AS n")
    second = publish_snapshot(warehouse, serving)
    assert second.written == "incremental: 1 of 5 partitions written"
    assert_snapshot_is(second.folder, warehouse)
    assert (second.folder / "parquet/fct_other/year=2025/data_0.parquet").exists()

    sql(warehouse, "DROP TABLE marts.dim_names")
    third = publish_snapshot(warehouse, serving)
    assert third.written == "incremental: 0 of 4 partitions written"
    assert_snapshot_is(third.folder, warehouse)
    assert not (third.folder / "parquet/dim_names").exists()

    # A new column: the mart is rewritten whole, in the DuckDB file and in every year.
    sql(warehouse, "ALTER TABLE marts.fct_daily ADD COLUMN note VARCHAR DEFAULT 'n'")
    fourth = publish_snapshot(warehouse, serving)
    assert fourth.written == "incremental: 3 of 4 partitions written"
    assert_snapshot_is(fourth.folder, warehouse)
    assert all(inode(fourth.folder / DAILY.format(y)) != inode(third.folder / DAILY.format(y)) for y in (2023, 2024, 2025))

    # An undated mart is one partition: rewritten when any row changes, and the same from scratch.
    sql(warehouse, "CREATE TABLE marts.dim_names AS SELECT 'C' AS ticker, 'Gamma' AS name")
    publish_snapshot(warehouse, serving)
    sql(warehouse, "UPDATE marts.dim_names SET name = 'Gamma 2'")
    sixth = publish_snapshot(warehouse, serving)
    assert sixth.written == "incremental: 1 of 5 partitions written"
    assert_snapshot_is(sixth.folder, warehouse)

    fresh = publish_snapshot(warehouse, tmp_path / "fresh")
    assert fresh.written == "full: no previous snapshot"
    fingerprints = [{t: {k: (p["rows"], p["hash"]) for k, p in e["partitions"].items()} for t, e in manifest(f)["tables"].items()}
                    for f in (sixth.folder, fresh.folder)]
    assert fingerprints[0] == fingerprints[1]
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{sixth.folder / 'rotation_marts.duckdb'}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{fresh.folder / 'rotation_marts.duckdb'}' AS b (READ_ONLY)")
        for table in ("dim_names", "fct_daily", "fct_other"):
            a, b = (con.execute(f"SELECT * FROM {db}.marts.{table} ORDER BY ALL").fetchall() for db in "ab")
            assert a == b and a, table


def test_a_dated_mart_with_null_dates_or_no_rows_is_one_partition(tmp_path):
    warehouse = tmp_path / "rotation.duckdb"
    sql(warehouse, "CREATE SCHEMA marts; CREATE TABLE marts.empty (date DATE, x INT); "
                   "CREATE TABLE marts.nulls AS SELECT * FROM (VALUES (DATE '2025-01-02', 1), (NULL, 2)) t(date, x); "
                   "CREATE TABLE marts.has_year AS SELECT DATE '2025-01-02' AS date, 2025 AS year")
    snapshot = publish_snapshot(warehouse, tmp_path / "serving")
    assert_snapshot_is(snapshot.folder, warehouse)
    tables = manifest(snapshot.folder)["tables"]
    assert {t: (e["by_year"], list(e["partitions"])) for t, e in tables.items()} == {
        "empty": (False, ["all"]), "has_year": (False, ["all"]), "nulls": (False, ["all"])}
    with duckdb.connect() as con:  # the empty mart's file still carries its columns
        assert con.execute(f"DESCRIBE SELECT * FROM '{snapshot.folder}/parquet/empty/data_0.parquet'").fetchall()[0][:2] == ("date", "DATE")
    sql(warehouse, "UPDATE marts.nulls SET date = DATE '2024-05-01' WHERE x = 2; INSERT INTO marts.empty VALUES ('2025-01-02', 1)")
    again = publish_snapshot(warehouse, tmp_path / "serving")
    assert again.written == "incremental: 3 of 4 partitions written"  # the two marts now by year, has_year linked
    assert_snapshot_is(again.folder, warehouse)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_publish_failing_midway_keeps_the_current_snapshot_and_its_files(warehouse, tmp_path, monkeypatch):
    serving = tmp_path / "serving"
    good = publish_snapshot(warehouse, serving)
    before = digest(good.folder)
    sql(warehouse, "UPDATE marts.fct_daily SET value = 9 WHERE year(date) = 2025")

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # The DuckDB file is already updated when the Parquet files are written: fail there.
    monkeypatch.setattr(serving_module, "_update_parquet", no_space)
    with pytest.raises(OSError):
        publish_snapshot(warehouse, serving)
    assert (serving / "current").resolve() == good.folder
    assert [p.name for p in (serving / "snapshots").iterdir()] == [good.snapshot_id]
    assert digest(good.folder) == before  # the copy was changed, never the snapshot it came from
    monkeypatch.undo()
    assert publish_snapshot(warehouse, serving).written == "incremental: 1 of 4 partitions written"


def test_a_bad_mart_name_fails_before_writing(warehouse, tmp_path):
    serving = tmp_path / "serving"
    good = publish_snapshot(warehouse, serving)
    sql(warehouse, 'CREATE TABLE marts."bad/name" AS SELECT 1 AS x')
    with pytest.raises(SnapshotError, match="bad/name"):
        publish_snapshot(warehouse, serving)
    assert (serving / "current").resolve() == good.folder
    assert [p.name for p in (serving / "snapshots").iterdir()] == [good.snapshot_id]


def test_an_unusable_previous_snapshot_means_a_full_write(warehouse, tmp_path):
    serving = tmp_path / "serving"
    first = publish_snapshot(warehouse, serving)
    (first.folder / DAILY.format(2023)).unlink()  # e.g. removed by hand
    second = publish_snapshot(warehouse, serving)
    assert second.written == f"full: the previous snapshot has no Parquet file in {first.folder / 'parquet/fct_daily/year=2023'}"
    assert_snapshot_is(second.folder, warehouse)
    assert not list((serving / "snapshots").glob(".*"))

    (second.folder / "rotation_marts.duckdb").rename(tmp_path / "moved.duckdb")
    assert publish_snapshot(warehouse, serving).written == "full: the previous snapshot has no readable manifest or DuckDB file"
    second = publish_snapshot(warehouse, serving)

    older = manifest(second.folder)
    del older["tables"], older["layout"]  # a snapshot published before fingerprints
    (second.folder / "snapshot.json").write_text(json.dumps(older))
    third = publish_snapshot(warehouse, serving)
    assert third.written == "full: the previous snapshot has another layout (no fingerprints)"
    assert_snapshot_is(third.folder, warehouse)


def test_a_grown_duckdb_file_is_written_in_full_again(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(serving_module, "GROWTH_CHECKED_FROM_BYTES", 0)
    sql(warehouse, "CREATE TABLE marts.big AS SELECT range AS i, range * 0.5 AS x FROM range(300000)")
    serving = tmp_path / "serving"
    publish_snapshot(warehouse, serving)
    sql(warehouse, "DROP TABLE marts.big")
    # The copy drops the big table: its blocks stay in the file as free space...
    dropped = publish_snapshot(warehouse, serving)
    assert dropped.written.startswith("incremental")
    # ... so the next publish starts over.
    again = publish_snapshot(warehouse, serving)
    assert again.written.startswith("full: the previous DuckDB file is ") and again.written.endswith(
        "x its size per row at the last full write")
    assert_snapshot_is(again.folder, warehouse)
    assert (again.folder / "rotation_marts.duckdb").stat().st_size < (dropped.folder / "rotation_marts.duckdb").stat().st_size
