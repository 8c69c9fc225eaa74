"""`rotation sql` on a sealed snapshot: what it refuses (and that nothing on disk changes), its output
formats, and its prompt, on a tiny warehouse published without a pipeline run."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from orchestration.cli import main
from orchestration.serve.reader import REFUSED
from orchestration.serve.snapshot import connect_snapshot, current_duckdb_file, publish_snapshot
from orchestration.serve.sql_prompt import history_file, typed_statements

QUOTES = "SELECT date, ticker, close, volume FROM marts.quotes ORDER BY date"


@pytest.fixture
def published(tmp_path, monkeypatch) -> dict[str, Path]:
    """A warehouse with two small marts, its snapshot, and a file no query may read; cwd is tmp_path."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.quotes (date DATE, ticker VARCHAR, close DOUBLE, volume BIGINT)")
        con.execute("INSERT INTO marts.quotes VALUES ('2024-01-02', 'AAA', 1.5, 100), ('2024-01-03', 'BBB', 2.25, NULL)")
        con.execute("CREATE TABLE marts.tickers AS SELECT * FROM (VALUES ('AAA', 'Alpha'), ('BBB', 'Beta')) t(ticker, name)")
    serving = tmp_path / "serving"
    publish_snapshot(warehouse, serving)
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n1,2\n")
    monkeypatch.setenv("ROTATION_SERVING", str(serving))
    monkeypatch.delenv("ROTATION_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.chdir(tmp_path)
    parquet = next((serving / "current" / "parquet" / "tickers").glob("*.parquet"))
    return {"tmp": tmp_path, "warehouse": warehouse, "serving": serving, "secret": secret, "parquet": parquet}


def files(folder: Path) -> dict[str, str]:
    """Every file and symlink under folder, with a hash of its bytes (or its target)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(folder))] = "-> " + os.readlink(path)
        elif path.is_file():
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def rotation_sql(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["sql", *args], input=stdin)


FORBIDDEN = [
    "ATTACH '{warehouse}' AS w",
    "ATTACH '{warehouse}' AS w (READ_ONLY)",
    "COPY (SELECT 1) TO 'x.csv'",
    "COPY marts.tickers TO '{parquet}' (FORMAT parquet)",  # overwrite a published file
    "EXPORT DATABASE 'exported'",
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM read_text('{secret}')",
    "SELECT * FROM '{secret}'",
    "SELECT * FROM read_parquet('{parquet}')",
    "SELECT * FROM parquet_metadata('{parquet}')",
    "SELECT * FROM glob('{tmp}/*')",
    "SELECT * FROM sniff_csv('{secret}')",
    "SET memory_limit = '1GB'",
    "SET threads = 1",
    "RESET memory_limit",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "PRAGMA threads = 1",
    "CALL enable_logging()",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CREATE TABLE marts.t (a INTEGER)",
    "INSERT INTO marts.tickers VALUES ('CCC', 'Gamma')",
    "DELETE FROM marts.tickers",
    "UPDATE marts.tickers SET name = 'x'",
    "DROP TABLE marts.tickers",
]


@pytest.mark.parametrize("statement", FORBIDDEN)
def test_a_statement_reaching_past_the_snapshot_is_refused_and_changes_nothing(published, statement):
    before = files(published["tmp"])
    result = rotation_sql(statement.format(**published))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == REFUSED
    assert result.stderr.splitlines()[1].startswith("DuckDB: ")
    assert files(published["tmp"]) == before  # the writer's file, the snapshot, and no new file


def test_attaching_the_writers_file_is_refused_and_it_keeps_its_rows(published):
    result = rotation_sql(f"ATTACH '{published['warehouse']}' AS w; DELETE FROM w.marts.tickers")
    assert result.exit_code == 1 and REFUSED in result.stderr
    assert str(published["warehouse"]) in result.stderr  # DuckDB's reason names the file
    with duckdb.connect(str(published["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.tickers").fetchall() == [(2,)]


def test_copy_to_a_file_is_refused_and_writes_no_file(published):
    result = rotation_sql("COPY (SELECT 1) TO 'x.csv'")
    assert result.exit_code == 1 and REFUSED in result.stderr
    assert not (published["tmp"] / "x.csv").exists()


def test_an_error_in_the_sql_is_shown_as_an_error_not_a_refusal(published):
    for statement, reason in [("SELECT * FROM marts.nosuch", "Catalog Error"), ("SELECT 'a'::INTEGER", "Conversion Error")]:
        result = rotation_sql(statement)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: {reason}") and "refused" not in result.stderr


def test_the_connection_is_sealed_and_keeps_the_configured_memory_limit(published, monkeypatch):
    monkeypatch.setenv("ROTATION_DUCKDB_MEMORY_LIMIT", "100MB")
    with duckdb.connect(config={"memory_limit": "100MB"}) as plain:
        expected = plain.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    with connect_snapshot(published["serving"]) as con:
        settings = con.execute("SELECT current_setting('enable_external_access'), current_setting('lock_configuration'), "
                               "current_setting('memory_limit'), current_setting('access_mode')").fetchall()[0]
        assert settings == (False, True, expected, "read_only")
        assert con.execute("SELECT count(*) FROM marts.quotes").fetchall() == [(2,)]


def test_selects_and_session_local_statements_work(published):
    result = rotation_sql("USE marts; SELECT name FROM tickers WHERE ticker = 'BBB'", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "name\nBeta\n"


EXPECTED = {
    "table": (
        "┌────────────┬─────────┬────────┬────────┐\n"
        "│    date    │ ticker  │ close  │ volume │\n"
        "│    date    │ varchar │ double │ int64  │\n"
        "├────────────┼─────────┼────────┼────────┤\n"
        "│ 2024-01-02 │ AAA     │    1.5 │    100 │\n"
        "│ 2024-01-03 │ BBB     │   2.25 │   NULL │\n"
        "└────────────┴─────────┴────────┴────────┘\n"
        "\n"
    ),
    "csv": "date,ticker,close,volume\n2024-01-02,AAA,1.5,100\n2024-01-03,BBB,2.25,\n",
    "json": (
        "[\n"
        '  {\n    "date": "2024-01-02",\n    "ticker": "AAA",\n    "close": 1.5,\n    "volume": 100\n  },\n'
        '  {\n    "date": "2024-01-03",\n    "ticker": "BBB",\n    "close": 2.25,\n    "volume": null\n  }\n'
        "]\n"
    ),
    "markdown": (
        "| date       | ticker   |   close |   volume |\n"
        "|:-----------|:---------|--------:|---------:|\n"
        "| 2024-01-02 | AAA      |     1.5 |      100 |\n"
        "| 2024-01-03 | BBB      |    2.25 |     NULL |\n"
    ),
}


@pytest.mark.parametrize("fmt", EXPECTED)
def test_each_format_prints_exactly_the_rows(published, fmt):
    result = rotation_sql(QUOTES, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == EXPECTED[fmt]


def test_json_is_a_list_of_objects_with_iso_dates(published):
    rows = json.loads(rotation_sql(QUOTES, "--format", "json").stdout)
    assert rows == [{"date": "2024-01-02", "ticker": "AAA", "close": 1.5, "volume": 100},
                    {"date": "2024-01-03", "ticker": "BBB", "close": 2.25, "volume": None}]


def test_piped_prompt_runs_commands_and_multi_line_statements(published):
    stdin = (".mode csv\n"
             ".schema quotes\n"
             "SELECT ticker,\n"
             "       close\n"
             "FROM marts.quotes\n"
             "ORDER BY ticker DESC;\n"
             ".schema nosuch\n"
             "SELECT * FROM read_csv('secret.csv');\n"
             ".mode json\n"
             "SELECT name FROM marts.tickers WHERE ticker = 'AAA'\n")  # the last statement may lack its ';'
    result = rotation_sql(stdin=stdin)
    assert result.stdout == ("table,column,type\n"
                             "marts.quotes,date,DATE\n"
                             "marts.quotes,ticker,VARCHAR\n"
                             "marts.quotes,close,DOUBLE\n"
                             "marts.quotes,volume,BIGINT\n"
                             "ticker,close\n"
                             "BBB,2.25\n"
                             "AAA,1.5\n"
                             '[\n  {\n    "name": "Alpha"\n  }\n]\n')
    assert "Error: no table named 'nosuch' in the snapshot" in result.stderr
    assert REFUSED in result.stderr
    assert result.exit_code == 1  # two of the piped lines failed


def test_piped_prompt_starts_in_the_chosen_format_and_stops_at_quit(published):
    result = rotation_sql("--format", "csv", stdin="SELECT 1 AS one;\n.quit\nSELECT 2 AS two;\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "one\n1\n"


def test_typed_prompt_joins_lines_until_the_semicolon_and_keeps_a_private_history(tmp_path):
    history = tmp_path / "state" / "sql_history"
    with create_pipe_input() as keys:
        # Enter on an unfinished statement adds a line; Ctrl-C drops what is typed; Ctrl-D ends.
        keys.send_text("SELECT 1\r+ 2;\r.tables\rSELECT oops\x03SELECT 3;\r\x04")
        typed = list(typed_statements(history, input=keys, output=DummyOutput()))
    assert typed == ["SELECT 1\n+ 2;", ".tables", "SELECT 3;"]
    recorded = [line[1:] for line in history.read_text().splitlines() if line.startswith("+")]
    assert recorded == ["SELECT 1", "+ 2;", ".tables", "SELECT 3;"]
    assert stat.S_IMODE(history.stat().st_mode) == 0o600


def test_history_lives_in_the_users_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_file() == tmp_path / "rotation" / "sql_history"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert history_file() == Path.home() / ".local" / "state" / "rotation" / "sql_history"


def test_snapshot_file_is_the_one_read(published):
    """The sealed connection reads the published snapshot, not the writer's file."""
    with duckdb.connect(str(published["warehouse"])) as con:
        con.execute("DELETE FROM marts.tickers WHERE ticker = 'AAA'")
    assert current_duckdb_file(published["serving"]).exists()
    assert rotation_sql("SELECT count(*) AS n FROM marts.tickers", "--format", "csv").stdout == "n\n2\n"
