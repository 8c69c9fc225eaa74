"""The interactive prompt of `rotation sql`: statements end with `;`, results print as tables.

The session keeps the snapshot it opened (so its answers agree with each other while runs publish
new ones); `.refresh` switches to the latest snapshot.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import duckdb

HELP = (
    "End each statement with ';'. Commands: .tables (the marts), .refresh (switch to the latest snapshot), "
    ".quit (or Ctrl-D)."
)


def _describe(con: duckdb.DuckDBPyConnection) -> str:
    snapshot_id, built_at = con.execute(
        "SELECT any_value(snapshot_id), any_value(built_at) FROM serving.snapshot_info"
    ).fetchall()[0]
    return f"snapshot {snapshot_id}, built {built_at:%Y-%m-%d %H:%M:%S %Z}"


def _run(con: duckdb.DuckDBPyConnection, statement: str) -> None:
    try:
        relation = con.sql(statement)
    except duckdb.Error as error:
        click.echo(f"Error: {error}", err=True)
        return
    if relation is not None:
        relation.show(max_rows=200)


def run_prompt(open_snapshot: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    con = open_snapshot()
    click.echo(f"rotation sql, read-only, on {_describe(con)}. {HELP}")
    buffer: list[str] = []
    try:
        while True:
            try:
                line = input("rotation> " if not buffer else "      ...> ")
            except EOFError:
                click.echo()
                break
            command = line.strip()
            if not buffer and command.startswith("."):
                if command in (".quit", ".exit"):
                    break
                if command == ".refresh":
                    con.close()
                    con = open_snapshot()
                    click.echo(f"now on {_describe(con)}")
                elif command == ".tables":
                    _run(con, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL")
                else:
                    click.echo(HELP)
                continue
            buffer.append(line)
            if command.endswith(";"):
                _run(con, "\n".join(buffer))
                buffer = []
    finally:
        con.close()
