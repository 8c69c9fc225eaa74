"""The engine settings: ROTATION_ENGINE, the raw Parquet folder, the Spark server, the demo's end date."""

from __future__ import annotations

import os
from datetime import date

import pytest

from orchestration import config

VARIABLES = ("ROTATION_ENGINE", "ROTATION_SPARK_RAW", "ROTATION_SPARK_HOST", "ROTATION_SPARK_PORT", "ROTATION_SPARK_USER",
             "ROTATION_DEMO_END_DATE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROTATION_WAREHOUSE", str(tmp_path / "w.duckdb"))


def test_the_engine_defaults_to_duckdb(monkeypatch):
    assert config.engine() == "duckdb"
    monkeypatch.setenv("ROTATION_ENGINE", "spark")
    assert config.engine() == "spark"


def test_an_unknown_engine_is_refused_with_the_known_ones(monkeypatch):
    monkeypatch.setenv("ROTATION_ENGINE", "postgres")
    with pytest.raises(ValueError, match=r"ROTATION_ENGINE='postgres' is not a known engine; use one of duckdb, spark"):
        config.engine()


def test_one_dbt_target_folder_per_engine(monkeypatch, tmp_path):
    assert config.dbt_target_folder() == tmp_path / "w.duckdb.dbt"
    monkeypatch.setenv("ROTATION_ENGINE", "spark")
    assert config.dbt_target_folder() == tmp_path / "w.duckdb.dbt-spark"


def test_the_raw_parquet_folder_is_absolute(monkeypatch, tmp_path):
    assert config.spark_raw_folder() == str(tmp_path / "spark" / "w" / "raw")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROTATION_SPARK_RAW", "elsewhere")
    assert config.spark_raw_folder() == str(tmp_path / "elsewhere")
    monkeypatch.setenv("ROTATION_SPARK_RAW", "hdfs://cluster/raw")
    assert config.spark_raw_folder() == "hdfs://cluster/raw"


def test_dbt_sees_the_raw_parquet_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("ROTATION_SPARK_RAW", str(tmp_path / "parquet"))
    config.export_warehouse_for_dbt()
    assert os.environ["ROTATION_SPARK_RAW"] == str(tmp_path / "parquet")


def test_spark_connection_settings(monkeypatch):
    assert config.spark_connection_settings() == config.SparkConnection("127.0.0.1", 10001, "rotation")
    monkeypatch.setenv("ROTATION_SPARK_PORT", "10002")
    assert config.spark_connection_settings().port == 10002
    monkeypatch.setenv("ROTATION_SPARK_PORT", "ten")
    with pytest.raises(ValueError, match="ROTATION_SPARK_PORT='ten' is not a port number"):
        config.spark_connection_settings()


def test_the_demo_end_date(monkeypatch):
    assert config.demo_end_date() == date(2026, 11, 20)
    monkeypatch.setenv("ROTATION_DEMO_END_DATE", "2026-11-19")
    assert config.demo_end_date() == date(2026, 11, 19)
    monkeypatch.setenv("ROTATION_DEMO_END_DATE", "19/11/2026")
    with pytest.raises(ValueError, match="ROTATION_DEMO_END_DATE='19/11/2026' is not a date; use YYYY-MM-DD"):
        config.demo_end_date()
