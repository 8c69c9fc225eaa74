"""The Superset recipe of docs/bi.md: duckdb-engine's SQLAlchemy URI, read-only, on the serving snapshot."""

from __future__ import annotations

import duckdb
import pytest
import sqlalchemy

from orchestration.serve.snapshot import current_duckdb_file


def test_sqlalchemy_read_only_uri_reads_the_snapshot(demo_serving):
    path = current_duckdb_file(demo_serving)
    with duckdb.connect(str(path), read_only=True) as con:
        expected = con.execute("SELECT count(*), max(date) FROM marts.rotation_summary").fetchall()[0]
    engine = sqlalchemy.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
    with engine.connect() as connection:
        assert tuple(connection.execute(sqlalchemy.text("SELECT count(*), max(date) FROM marts.rotation_summary")).one()) == expected
        assert "rotation_summary" in sqlalchemy.inspect(connection).get_table_names(schema="marts")
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
            connection.execute(sqlalchemy.text("DELETE FROM marts.dim_tickers"))
    engine.dispose()
