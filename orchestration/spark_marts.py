"""The marts built on Spark, copied into the DuckDB warehouse.

With ROTATION_ENGINE=spark, dbt builds the models on a Spark Thrift server. The serving snapshot, the
report and the dashboard read the DuckDB warehouse's `marts` schema, so after each Spark build every mart
table is copied back into it, with its contract's columns and types (taken from the dbt manifest) and
nothing else: a mart on Spark may hold more columns than its contract (the `partition_year` of the
incremental marts, which are partitioned by year there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from orchestration import config

MARTS_SCHEMA = "marts"
COPIED_MATERIALIZATIONS = ("table", "incremental")
# Spark's names of the contract types DuckDB spells otherwise; every other name means the same on both.
DUCKDB_TYPES = {"string": "VARCHAR", "timestamp_ntz": "TIMESTAMP", "int": "INTEGER", "long": "BIGINT", "float": "FLOAT"}
FETCH_BATCH_ROWS = 10_000


class SparkUnreachable(Exception):
    pass


@dataclass(frozen=True)
class Mart:
    schema: str
    name: str
    columns: dict[str, str]  # the contract's columns in declared order, with their declared data_type

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


def duckdb_type(data_type: str) -> str:
    return DUCKDB_TYPES.get(data_type.strip().lower(), data_type.strip().upper())


def mart_models(manifest: dict) -> list[Mart]:
    """Every mart table of the dbt project (schema marts, materialized as a table or incrementally)."""
    marts = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != MARTS_SCHEMA:
            continue
        if node["config"]["materialized"] not in COPIED_MATERIALIZATIONS:
            continue
        untyped = [c["name"] for c in node["columns"].values() if not c.get("data_type")]
        if not node["columns"] or untyped:
            raise ValueError(f"mart {node['name']} ({node['original_file_path']}): every column needs a data_type in its "
                             f"contract to be copied from Spark; missing for {', '.join(untyped) or 'all columns'}")
        columns = {c["name"]: c["data_type"] for c in node["columns"].values()}
        marts.append(Mart(node["schema"], node.get("alias") or node["name"], columns))
    return sorted(marts, key=lambda m: m.name)


@contextmanager
def spark_cursor() -> Iterator:
    """A cursor on the Spark Thrift server of the settings (ROTATION_SPARK_HOST/PORT/USER)."""
    from pyhive import hive

    settings = config.spark_connection_settings()
    try:
        connection = hive.connect(host=settings.host, port=settings.port, username=settings.user)
    except Exception as error:
        raise SparkUnreachable(
            f"cannot reach the Spark Thrift server at {settings.host}:{settings.port} ({error}); start it with "
            "`make spark-up` or set ROTATION_SPARK_HOST/ROTATION_SPARK_PORT"
        ) from None
    try:
        cursor = connection.cursor()
        cursor.arraysize = FETCH_BATCH_ROWS
        yield cursor
    finally:
        connection.close()


def typed(rows: list[tuple], columns: dict[str, str]) -> pa.Table:
    """Rows as the Thrift server returns them (dates as text) as an Arrow table of the contract's types."""
    names = list(columns)
    fetched = pa.table({f"c{i}": pa.array([row[i] for row in rows]) for i in range(len(names))})
    casts = ", ".join(f'CAST(c{i} AS {duckdb_type(kind)}) AS "{name}"' for i, (name, kind) in enumerate(columns.items()))
    with duckdb.connect() as con:
        con.register("fetched", fetched)
        return con.sql(f"SELECT {casts} FROM fetched").to_arrow_table()


def fetch(table: str, columns: dict[str, str], cursor=None) -> pa.Table:
    """`select <columns> from <table>` on Spark, typed as declared (column name -> data_type)."""
    if cursor is None:
        with spark_cursor() as own:
            return fetch(table, columns, own)
    cursor.execute(f"select {', '.join(f'`{name}`' for name in columns)} from {table}")
    return typed(cursor.fetchall(), columns)


def import_marts(con: duckdb.DuckDBPyConnection, manifest: dict) -> dict[str, int]:
    """Replace each mart of the DuckDB warehouse (`con`) by its copy from Spark, all in one transaction;
    return the rows copied per mart (schema.name)."""
    marts = mart_models(manifest)
    with spark_cursor() as cursor:
        tables = {mart.relation: fetch(mart.relation, mart.columns, cursor) for mart in marts}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {MARTS_SCHEMA}")
        for mart in marts:
            declared = ", ".join(f'"{name}" {duckdb_type(kind)}' for name, kind in mart.columns.items())
            con.execute(f"DROP TABLE IF EXISTS {mart.relation}")
            con.execute(f"CREATE TABLE {mart.relation} ({declared})")
            con.register("spark_rows", tables[mart.relation])
            con.execute(f"INSERT INTO {mart.relation} SELECT * FROM spark_rows")
            con.unregister("spark_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {relation: table.num_rows for relation, table in tables.items()}
