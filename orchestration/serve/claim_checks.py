"""`rotation check`'s output: the verdicts of claims files, and one claim's explanation with its evidence rows.

Both work on a frame with marts.fct_claim_checks' columns (claim_file, claim_id, kind, stated_value,
computed_value, verdict, explanation, holds_on, best_window, evidence), printed through sql_output's formats.
"""

from __future__ import annotations

import json

import click
import duckdb
import pandas as pd

from orchestration.serve.sql_output import render

MART = "marts.fct_claim_checks"
VERDICT_COLUMNS = ["claim_id", "kind", "stated", "computed", "verdict", "explanation", "holds_on", "best_window"]


class MartMissing(Exception):
    pass


def read_checks(con: duckdb.DuckDBPyConnection, claim_files: list[str]) -> pd.DataFrame:
    """The mart's rows of these claims files (by file name), in file and claim order."""
    present = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' AND table_name = 'fct_claim_checks'"
    ).fetchone()[0]
    if not present:
        raise MartMissing(f"{MART} is not in the serving snapshot: the claims were loaded, but the claim checks are "
                          "not built in this warehouse yet. Build the project's claim models (rotation run), then "
                          "check again.")
    return con.execute(f"SELECT * FROM {MART} WHERE list_contains(?, claim_file) ORDER BY claim_file, claim_id",
                       [claim_files]).df()


def _print(frame: pd.DataFrame, fmt: str) -> None:
    with duckdb.connect() as con:
        render(con.from_df(frame), fmt)


def verdict_table(checks: pd.DataFrame) -> pd.DataFrame:
    table = checks.rename(columns={"stated_value": "stated", "computed_value": "computed"})[VERDICT_COLUMNS]
    return table.astype(object).where(table.notna(), None)


def print_verdicts(checks: pd.DataFrame, fmt: str) -> None:
    """One row per claim; with several files, the file name first."""
    table = verdict_table(checks)
    if checks["claim_file"].nunique() > 1:
        table.insert(0, "claim_file", checks["claim_file"])
    _print(table, fmt)


def evidence_rows(checks: pd.DataFrame, claim_id: str) -> pd.DataFrame:
    """The evidence rows of the claim (every file that has it): one row per element of its evidence array."""
    rows = []
    for _, check in checks[checks["claim_id"] == claim_id].iterrows():
        for item in json.loads(check["evidence"] or "[]"):
            rows.append(item if isinstance(item, dict) else {"value": item})
    return pd.DataFrame(rows)


def print_explanation(checks: pd.DataFrame, claim_id: str, fmt: str) -> None:
    """The claim's verdict and explanation, then its evidence rows as a table."""
    mine = checks[checks["claim_id"] == claim_id]
    if mine.empty:
        raise click.ClickException(f"no claim {claim_id!r} in these files; their ids: {', '.join(checks['claim_id'])}")
    for _, check in mine.iterrows():
        click.echo(f"{check['claim_file']} {claim_id} ({check['kind']}): {check['verdict']}. {check['explanation']}")
    evidence = evidence_rows(checks, claim_id)
    if evidence.empty:
        click.echo("No evidence rows.")
        return
    _print(evidence.astype(object).where(evidence.notna(), None), fmt)
