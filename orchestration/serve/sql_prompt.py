"""`rotation sql`: one query, or a prompt of statements ending with `;` and dot commands.

The session keeps the snapshot it opened (so its answers agree with each other while runs publish
new ones); `.refresh` switches to the latest snapshot. At a terminal the prompt edits lines and keeps
a history (prompt_toolkit); Enter on a statement not yet ended by `;` starts a new line of it, and Up
recalls whole statements. Otherwise (a pipe, a file, a test) statements are read line by line, with
no banner and no prompt, so the output is the results only.

The history is kept per user, in $XDG_STATE_HOME/rotation/sql_history (~/.local/state/... by
default): readers may not be allowed to write the serving folder, and one user's queries are
nobody else's business. When that file cannot be written the history lasts the session.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import click
import duckdb

from orchestration.serve.reader import REFUSED, refused_by_seal
from orchestration.serve.sql_output import FORMATS, render

HELP = """End each statement with ';' (it may span lines). Commands:
  .tables            the tables of the snapshot
  .schema [TABLE]    the columns and types of TABLE (marts.x or x), or of every table
  .mode [FORMAT]     print results as table, csv, json or markdown (without FORMAT: the current one)
  .refresh           switch to the latest snapshot
  .help              this text
  .quit              leave (or Ctrl-D)"""

SCHEMA_SQL = """
SELECT table_schema || '.' || table_name AS "table", column_name AS "column", data_type AS "type"
FROM information_schema.columns
WHERE $name IS NULL OR table_name = $name OR table_schema || '.' || table_name = $name
ORDER BY table_schema, table_name, ordinal_position"""


class QueryError(Exception):
    """What to print when a statement fails: DuckDB's error, or the seal's refusal and DuckDB's reason."""


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, params: dict | None = None) -> None:
    """Run the statement(s) and print the last one's result, if any, in fmt."""
    try:
        relation = con.sql(sql, params=params)
        if relation is not None:
            render(relation, fmt)
    except duckdb.Error as error:
        if refused_by_seal(error):
            raise QueryError(f"{REFUSED}\nDuckDB: {error}") from error
        raise QueryError(f"Error: {error}") from error


def _describe(con: duckdb.DuckDBPyConnection) -> str:
    snapshot_id, built_at = con.execute(
        "SELECT any_value(snapshot_id), any_value(built_at) FROM serving.snapshot_info"
    ).fetchall()[0]
    return f"snapshot {snapshot_id}, built {built_at:%Y-%m-%d %H:%M:%S %Z}"


class _Session:
    def __init__(self, open_snapshot: Callable[[], duckdb.DuckDBPyConnection], fmt: str) -> None:
        self.open_snapshot = open_snapshot
        self.con = open_snapshot()
        self.mode = fmt

    def command(self, line: str) -> None:
        """Carry out a dot command; raise QueryError when it fails."""
        name, _, argument = line.rstrip(";").strip().partition(" ")
        argument = argument.strip()
        if name == ".tables":
            run_sql(self.con, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL", self.mode)
        elif name == ".schema":
            table = argument or None
            if table and not self.con.execute(f"SELECT count(*) FROM ({SCHEMA_SQL})", {"name": table}).fetchall()[0][0]:
                raise QueryError(f"Error: no table named {table!r} in the snapshot: .tables lists them")
            run_sql(self.con, SCHEMA_SQL, self.mode, {"name": table})
        elif name == ".mode":
            if argument and argument not in FORMATS:
                raise QueryError(f"Error: no output format {argument!r}: use one of {', '.join(FORMATS)}")
            self.mode = argument or self.mode
            click.echo(f"mode {self.mode}", err=True)
        elif name == ".refresh":
            self.con.close()
            self.con = self.open_snapshot()
            click.echo(f"now on {_describe(self.con)}", err=True)
        elif name == ".help":
            click.echo(HELP, err=True)
        else:
            raise QueryError(f"Error: unknown command {name!r}\n{HELP}")


def piped_statements(stream: TextIO) -> Iterator[str]:
    """Dot commands (one line each) and statements (up to a line ending with ';') read from stream."""
    buffer: list[str] = []
    for line in stream:
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith(".")):
            if stripped:
                yield stripped
            continue
        buffer.append(line.rstrip("\n"))
        if stripped.endswith(";"):
            yield "\n".join(buffer)
            buffer = []
    if any(line.strip() for line in buffer):  # a last statement without its ';'
        yield "\n".join(buffer)


def history_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "rotation" / "sql_history"


def _history(path: Path):
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))  # queries are private
    except OSError as error:
        click.echo(f"no history file ({error}); the history lasts this session", err=True)
        return InMemoryHistory()
    return FileHistory(str(path))


def typed_statements(history_path: Path, input=None, output=None) -> Iterator[str]:  # noqa: A002
    """Dot commands and statements typed at the prompt, with line editing and history."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event) -> None:
        buffer = event.current_buffer
        text = buffer.text.strip()
        if not text or text.startswith(".") or text.endswith(";"):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    session = PromptSession(history=_history(history_path), multiline=True, key_bindings=bindings,
                            prompt_continuation=lambda width, *_: "...> ".rjust(width), input=input, output=output)
    while True:
        try:
            text = session.prompt("rotation> ")
        except KeyboardInterrupt:  # Ctrl-C drops the statement being typed
            continue
        except EOFError:
            return
        if text.strip():
            yield text.strip()


def run_prompt(open_snapshot: Callable[[], duckdb.DuckDBPyConnection], fmt: str = "table",
               statements: Iterable[str] | None = None) -> int:
    """Run statements and dot commands until `.quit` or their end; return how many failed.
    Without statements, read them at the terminal if stdin is one, else from stdin."""
    session = _Session(open_snapshot, fmt)
    if statements is None and sys.stdin.isatty():
        click.echo(f"rotation sql, read-only, on {_describe(session.con)}.\n{HELP}")
        statements = typed_statements(history_file())
    elif statements is None:
        statements = piped_statements(sys.stdin)
    failures = 0
    try:
        for text in statements:
            if text.rstrip(";").strip() in (".quit", ".exit"):
                break
            try:
                if text.startswith("."):
                    session.command(text)
                else:
                    run_sql(session.con, text, session.mode)
            except QueryError as error:
                click.echo(str(error), err=True)
                failures += 1
    finally:
        session.con.close()
    return failures
