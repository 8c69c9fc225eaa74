"""The raw tables exported as Parquet for the Spark engine: round trip, empty tables, atomic replacement."""

from __future__ import annotations

import os
from datetime import date, datetime

import duckdb
import pytest

from orchestration.land import raw_parquet
from orchestration.land.raw_parquet import export_raw_tables, local_folder
from orchestration.land.tables import ensure_raw_schema

PRICE = ("SPY", date(2026, 11, 19), 1.0, 2.0, 0.5, 1.5, 1.4, 1000, "demo", datetime(2026, 11, 19, 21, 30, 15))


@pytest.fixture
def raw(con):
    ensure_raw_schema(con)
    con.execute("INSERT INTO raw.prices_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(PRICE))
    return con


def read(path) -> list[tuple]:
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()


def test_every_raw_table_round_trips(raw, tmp_path):
    written = export_raw_tables(raw, tmp_path / "raw")
    assert written["prices_daily"] == 1
    assert set(written) == set(raw_parquet.raw_tables(raw))
    assert read(tmp_path / "raw" / "prices_daily" / "data.parquet") == [PRICE]
    types = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path / 'raw' / 'prices_daily' / 'data.parquet'}')").fetchall()
    assert {name: kind for name, kind, *_ in types}["ingested_at"] == "TIMESTAMP"  # no time zone: Spark's TIMESTAMP_NTZ
    assert {name: kind for name, kind, *_ in types}["date"] == "DATE"


def test_an_empty_table_gets_a_file_with_its_columns(raw, tmp_path):
    written = export_raw_tables(raw, tmp_path)
    assert written["guidance_events"] == 0
    path = tmp_path / "guidance_events" / "data.parquet"
    assert read(path) == []
    columns = [row[0] for row in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
    assert columns[:3] == ["ticker", "announced_date", "fiscal_quarter"]


def test_a_new_export_replaces_the_file_and_leaves_no_temporary_file(raw, tmp_path):
    export_raw_tables(raw, tmp_path)
    raw.execute("UPDATE raw.prices_daily SET close = 9.0")
    export_raw_tables(raw, tmp_path)
    assert read(tmp_path / "prices_daily" / "data.parquet")[0][5] == 9.0
    assert os.listdir(tmp_path / "prices_daily") == ["data.parquet"]


def test_a_failed_export_keeps_the_previous_file(raw, tmp_path, monkeypatch):
    export_raw_tables(raw, tmp_path)
    raw.execute("UPDATE raw.prices_daily SET close = 9.0")

    def fail(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(raw_parquet.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        export_raw_tables(raw, tmp_path)
    assert read(tmp_path / "prices_daily" / "data.parquet") == [PRICE]
    assert os.listdir(tmp_path / "prices_daily") == ["data.parquet"]


def test_the_folder_may_be_a_file_uri_but_no_other_uri(tmp_path):
    assert local_folder(f"file://{tmp_path}") == tmp_path
    assert local_folder(tmp_path) == tmp_path
    with pytest.raises(ValueError, match="ROTATION_SPARK_RAW='s3://bucket/raw'.*local folder"):
        local_folder("s3://bucket/raw")
