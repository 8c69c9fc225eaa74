"""Copying the marts built on Spark into the DuckDB warehouse, with a stand-in for the Spark server."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from datetime import date, datetime

import pytest

from orchestration import spark_marts
from orchestration.spark_marts import SparkUnreachable, import_marts, mart_models


def model(name: str, materialized: str, columns: dict[str, str], schema: str = "marts") -> dict:
    return {"resource_type": "model", "schema": schema, "name": name, "alias": name, "original_file_path": f"models/{name}.sql",
            "config": {"materialized": materialized},
            "columns": {c: {"name": c, "data_type": t} for c, t in columns.items()}}


MANIFEST = {"nodes": {
    "model.rotation.fct_returns_daily": model("fct_returns_daily", "incremental",
                                              {"ticker": "string", "date": "date", "return_1d": "double", "ingested_at": "timestamp"}),
    "model.rotation.dim_tickers": model("dim_tickers", "table", {"ticker": "string", "is_index": "boolean", "rank": "integer"}),
    "model.rotation.stg_prices_daily": model("stg_prices_daily", "view", {"ticker": "string"}, schema="staging"),
    "model.rotation.recent_view": model("recent_view", "view", {"ticker": "string"}),
}}

# What the Thrift server returns for `select <contract columns> ...`: dates as text.
SPARK_ROWS = {
    "marts.fct_returns_daily": [("SPY", "2026-11-19", 0.0125, datetime(2026, 11, 19, 21, 30)), ("SPY", "2026-11-20", None, None)],
    "marts.dim_tickers": [("SPY", False, 1)],
}


class StandInCursor:
    def __init__(self):
        self.statements = []

    def execute(self, statement):
        self.statements.append(statement)
        self.relation = statement.rsplit(" from ", 1)[1]

    def fetchall(self):
        return SPARK_ROWS[self.relation]


@pytest.fixture
def spark(monkeypatch):
    cursor = StandInCursor()

    @contextmanager
    def stand_in():
        yield cursor

    monkeypatch.setattr(spark_marts, "spark_cursor", stand_in)
    return cursor


def test_the_marts_are_the_table_and_incremental_models_of_schema_marts():
    assert [(m.relation, list(m.columns)) for m in mart_models(MANIFEST)] == [
        ("marts.dim_tickers", ["ticker", "is_index", "rank"]),
        ("marts.fct_returns_daily", ["ticker", "date", "return_1d", "ingested_at"]),
    ]


def test_a_mart_column_without_a_type_is_refused():
    manifest = {"nodes": {"model.rotation.m": model("m", "table", {"ticker": "string", "note": ""})}}
    with pytest.raises(ValueError, match=r"mart m \(models/m.sql\): .* missing for note"):
        mart_models(manifest)


def test_the_marts_are_copied_with_their_contract_columns_and_types(con, spark):
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.dim_tickers AS SELECT 'old' AS ticker")
    assert import_marts(con, MANIFEST) == {"marts.dim_tickers": 1, "marts.fct_returns_daily": 2}
    # Only the contract's columns are asked for (a Spark mart may have more, e.g. partition_year).
    assert "select `ticker`, `date`, `return_1d`, `ingested_at` from marts.fct_returns_daily" in spark.statements
    assert con.execute("SELECT * FROM marts.fct_returns_daily ORDER BY date").fetchall() == [
        ("SPY", date(2026, 11, 19), 0.0125, datetime(2026, 11, 19, 21, 30)), ("SPY", date(2026, 11, 20), None, None)]
    assert con.execute("SELECT * FROM marts.dim_tickers").fetchall() == [("SPY", False, 1)]
    types = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'fct_returns_daily'").fetchall()
    assert types == [("ticker", "VARCHAR"), ("date", "DATE"), ("return_1d", "DOUBLE"), ("ingested_at", "TIMESTAMP")]


def test_a_failed_copy_leaves_the_warehouse_as_it_was(con, spark, monkeypatch):
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.dim_tickers AS SELECT 'old' AS ticker")
    monkeypatch.setitem(SPARK_ROWS, "marts.fct_returns_daily", [("SPY", "not a date", None, None)])
    with pytest.raises(Exception, match="not a date"):
        import_marts(con, MANIFEST)
    assert con.execute("SELECT * FROM marts.dim_tickers").fetchall() == [("old",)]


def test_an_unreachable_server_says_how_to_start_one(monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("ROTATION_SPARK_HOST", "127.0.0.1")
    monkeypatch.setenv("ROTATION_SPARK_PORT", str(port))
    unreachable = pytest.raises(SparkUnreachable, match=rf"127.0.0.1:{port} .*`make spark-up` or set ROTATION_SPARK_HOST/ROTATION_SPARK_PORT")
    with unreachable, spark_marts.spark_cursor():
        pass
