"""The `rotation` command: run the pipeline, print the report, query the warehouse."""

from __future__ import annotations

import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click
import duckdb

from orchestration import config
from orchestration.serve.sql_output import FORMATS


def _prepare_dbt_manifest() -> None:
    """Definitions load the dbt manifest; build it when it is missing (make run always rebuilds it)."""
    from orchestration.defs.resources import dbt_project, dbt_resource

    if not dbt_project.manifest_path.exists():
        dbt_resource().cli(["parse"], raise_on_error=True).wait()


def _use_warehouse_instance() -> None:
    """Record runs in the Dagster instance of the warehouse (the project's for the default one, so the UI
    shows them; see config.dagster_home)."""
    home = config.dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    if home == config.PROJECT_ROOT:
        os.chdir(config.PROJECT_ROOT)  # dagster.yaml's storage folders are relative to it


def _open_read_only() -> duckdb.DuckDBPyConnection:
    """Readers use the published snapshot, never the writer's file, so they cannot block a run; the
    connection is sealed (serve/reader.py): it reads the snapshot's tables and nothing else."""
    from orchestration.serve.snapshot import SnapshotError, connect_snapshot

    try:
        return connect_snapshot(config.serving_folder())
    except SnapshotError as error:
        raise click.ClickException(str(error)) from error


def _choose_warehouse(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["ROTATION_WAREHOUSE"] = str(Path(value).expanduser().resolve())


def warehouse_option(command):
    """--warehouse on a command: the warehouse it runs on or reads the snapshot of (else ROTATION_WAREHOUSE)."""
    return click.option(
        "--warehouse", type=click.Path(dir_okay=False), callback=_choose_warehouse, expose_value=False, is_eager=True,
        help="The warehouse's DuckDB file. Default: ROTATION_WAREHOUSE, else warehouse/rotation.duckdb.",
    )(command)


@click.group()
def main() -> None:
    """Market-rotation warehouse: prices into DuckDB, figures from dbt."""


def execute_job(job_name: str, ingest_config: dict, headline: str, show_backfill_progress: bool = False,
                full_refresh: bool = False, resources: dict | None = None, ops_config: dict | None = None) -> None:
    """Run a job of the definitions in this process, recorded in the warehouse's Dagster instance; print
    the ingest counts, failed checks and the time taken; exit 1 when a step or an ERROR check failed.
    `resources` replace the definitions' own for this run; `ops_config` replaces the ops' config (for a job
    without the price ingest)."""
    import dagster as dg

    from orchestration.warehouse_writer import WarehouseHeld, wait_until_writable

    warehouse = config.warehouse_path()
    os.environ["ROTATION_WAREHOUSE"] = str(warehouse)  # absolute, before the working folder may change
    started = time.perf_counter()
    try:
        wait_until_writable(warehouse, lambda message: click.echo(message, err=True))
    except WarehouseHeld as held:
        raise click.ClickException(str(held)) from None
    _use_warehouse_instance()
    _prepare_dbt_manifest()
    from orchestration.definitions import load_definitions

    run_config = {
        "ops": ops_config if ops_config is not None else {
            "raw__prices_daily": {"config": ingest_config},
            "rotation_dbt_assets": {"config": {"full_refresh": full_refresh}}},
        # Dagster's own console lines carry tracebacks; the messages that matter are printed below, one per line.
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    click.echo(f"{headline} into {warehouse} ...")
    with dg.DagsterInstance.get() as instance, _backfill_progress_bar(show_backfill_progress), \
            _echo_waiting() as already_said:
        result = load_definitions().resolve_job_def(job_name).execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False, resources=resources
        )
        for entry in instance.all_logs(result.run_id):
            # (Dagster's "Dependencies for step ... Not executing." lines add nothing to the FAILED line below.)
            if entry.dagster_event is None and entry.level >= logging.WARNING and entry.user_message not in already_said \
                    and not entry.user_message.startswith("Dependencies for step"):
                click.echo(f"{logging.getLevelName(entry.level).lower()}: {entry.user_message}", err=True)
    elapsed = time.perf_counter() - started

    failed_checks = [
        e.asset_check_evaluation_data for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
    ]
    for check in failed_checks:
        severity = check.severity.value if check.severity else "ERROR"
        click.echo(f"check {severity}: {check.asset_key.to_user_string()} {check.check_name}{_check_detail(check)}", err=True)
    for materialization in result.asset_materializations_for_node("raw__prices_daily"):
        _echo_ingest_counts({key: value.value for key, value in materialization.metadata.items()})
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                failure = event.step_failure_data
                click.echo(f"FAILED {event.step_key}: {_failure_reason(failure.error, failure.user_failure_data)}", err=True)
            elif event.event_type_value == "RESOURCE_INIT_FAILURE":
                click.echo(f"FAILED before any step: {_failure_reason(event.engine_event_data.error)}", err=True)
        click.echo(f"Pipeline failed after {elapsed:.1f} s (run {result.run_id}).", err=True)
        sys.exit(1)
    click.echo(f"Pipeline finished in {elapsed:.1f} s (run {result.run_id}).")
    if any(c.severity is None or c.severity.value == "ERROR" for c in failed_checks):
        click.echo("Some checks failed: see the messages above; data that passed was loaded.", err=True)
        sys.exit(1)


def _failure_reason(error, user_failure=None) -> str:
    """A failure in one line: what the step said (dg.Failure), else the innermost error's own message."""
    if user_failure is not None and user_failure.description:
        return user_failure.description
    while error.cause is not None:
        error = error.cause
    message = error.message.strip().splitlines()[0]
    return message.removeprefix(f"{error.cls_name}: ").removeprefix(f"dagster._core.definitions.events.{error.cls_name}: ")


def _check_detail(check) -> str:
    """What a failed check found: the summary of a Python check, the failing row count of a dbt test."""
    summary = check.metadata.get("summary")
    if summary is not None:
        return f": {summary.value}"
    failed_rows = check.metadata.get("dagster_dbt/failed_row_count")
    if failed_rows is not None:
        count = failed_rows.value
        return f": {count} failing row{'' if count == 1 else 's'}"
    return ""


def _echo_ingest_counts(meta: dict) -> None:
    counts = f"{meta['rows_inserted']} rows inserted, {meta['rows_updated']} updated, {meta['rows_unchanged']} unchanged"
    if "backfill_start" in meta:
        click.echo(f"raw.prices_daily backfill from {meta['backfill_start']}: {counts}; tickers loaded now: "
                   f"{meta['tickers_loaded'] or 'none'}; already loaded by earlier runs: "
                   f"{meta['tickers_already_done'] or 'none'}; failed: {meta['tickers_failed'] or 'none'}")
        if meta["tickers_failed"]:
            click.echo("Run the same command again to retry the failed tickers only.", err=True)
        return
    click.echo(f"raw.prices_daily: {counts}; {meta['ticker_count']} tickers, {meta['first_date']} to {meta['last_date']}")
    if meta.get("tickers_refetched"):
        click.echo(f"whole history fetched again and replaced (the source rewrote past prices): {meta['tickers_refetched']}; "
                   f"{meta['rows_deleted']} stored rows the source no longer has were removed")


@contextmanager
def _echo_waiting():
    """Print at once that the run waits for the warehouse's current writer; yields the messages printed."""
    from orchestration.warehouse_writer import waiting_log

    said: list[str] = []

    class ToTerminal(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())
            click.echo(record.getMessage(), err=True)

    handler = ToTerminal()
    waiting_log.addHandler(handler)
    try:
        yield said
    finally:
        waiting_log.removeHandler(handler)


@contextmanager
def _backfill_progress_bar(enabled: bool):
    """A progress bar on the terminal fed by the backfill's progress messages."""
    if not enabled:
        yield
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from orchestration.defs.prices import progress_log

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=False) as bar:
        task = bar.add_task("backfill", total=None)

        class ToBar(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                progress = getattr(record, "backfill", None)
                if progress is not None:
                    bar.update(task, total=progress.total, completed=progress.done,
                               description=f"backfill from {progress.start} (last: {', '.join(progress.last_chunk)})")

        handler = ToBar()
        progress_log.addHandler(handler)
        progress_log.setLevel(logging.INFO)
        try:
            yield
        finally:
            progress_log.removeHandler(handler)


@main.command()
@warehouse_option
@click.option("--source", type=click.Choice(config.SOURCES), default=None,
              help="Price source. Default: ROTATION_SOURCE, else demo (files when --files is given).")
@click.option("--files", "files", multiple=True, type=click.Path(exists=True),
              help="Price file(s) or folder(s) (files source).")
@click.option("--full-refresh", is_flag=True,
              help="Rebuild the incremental models from scratch and test every row, e.g. after deleting prices by hand.")
@click.argument("more_files", nargs=-1, type=click.Path(exists=True))
def run(source: str | None, files: tuple[str, ...], full_refresh: bool, more_files: tuple[str, ...]) -> None:
    """Ingest prices and build every model, through the same Dagster job the schedule runs.

    Several files: --files a.csv b.csv c.csv
    """
    all_files = [os.path.abspath(f) for f in (*files, *more_files)]
    if all_files and source is None:
        source = "files"
    execute_job("rotation_job", {"source": source, "files": all_files or None},
             f"Building from the {source or config.source_name()} source", full_refresh=full_refresh)


@main.command()
@warehouse_option
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First date of the history to load (YYYY-MM-DD), e.g. 1987-01-01.")
@click.option("--tickers", multiple=True, help="Only these tickers (repeat the option or separate by commas). Default: the universe.")
@click.option("--restart", is_flag=True, help="Forget which tickers earlier runs of this backfill loaded; fetch all again.")
def backfill(start, tickers: tuple[str, ...], restart: bool) -> None:
    """Load price history from Yahoo from --start, then build every model.

    Resumable: each ticker is loaded and recorded on its own, and running the same command again
    skips the tickers already loaded (after an interruption, or to retry failed tickers). The
    same backfill can be launched from the Dagster UI: job `price_backfill`.
    """
    symbols = [t.strip().upper() for group in tickers for t in group.split(",") if t.strip()]
    execute_job(
        "price_backfill",
        {"source": "yahoo", "backfill_start": start.date().isoformat(), "tickers": symbols or None, "restart": restart},
        f"Backfilling prices from {start.date()}",
        show_backfill_progress=True,
    )


@main.command()
@warehouse_option
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Session to report (YYYY-MM-DD); the last one on or before it. "
                   "Default: the last session on which every headline ticker has a price.")
def report(on) -> None:
    """Print the headline figures of one session."""
    from orchestration.serve.report import ReportError, print_report

    with _open_read_only() as con:
        try:
            print_report(con, on.date() if on else None)
        except ReportError as error:
            raise click.ClickException(str(error)) from error


@main.command()
@warehouse_option
@click.argument("query", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="How results are printed (the prompt starts in it; .mode changes it).")
def sql(query: str | None, fmt: str) -> None:
    """Run SQL on the serving snapshot of the marts; without QUERY, a prompt (statements from stdin when
    it is not a terminal). The connection reads the snapshot's tables only: no files, no ATTACH, no
    writes, no settings. Exits 1 when a statement fails or is refused."""
    from orchestration.serve.sql_prompt import QueryError, run_prompt, run_sql

    if query is not None:
        with _open_read_only() as con:
            try:
                run_sql(con, query, fmt)
            except QueryError as error:
                click.echo(str(error), err=True)
                sys.exit(1)
        return
    if run_prompt(_open_read_only, fmt):
        sys.exit(1)


@main.command()
@warehouse_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="How the verdicts are printed.")
@click.option("--explain", "explain_id", default=None, metavar="ID",
              help="Print this claim's explanation and the rows its verdict used, instead of the verdict table.")
def check(files: tuple[str, ...], fmt: str, explain_id: str | None) -> None:
    """Check the claims of claims files (YAML) against the warehouse: load them, rebuild the claim checks,
    print each claim's verdict (true, near, false, uncheckable). Exits 0 whatever the verdicts; 1 when a
    file is rejected (the reasons are printed) or the run fails."""
    from orchestration.serve.claim_checks import MartMissing, print_explanation, print_verdicts, read_checks

    paths = [os.path.abspath(f) for f in files]
    execute_job("claims_job", {}, f"Checking {len(paths)} claims file(s)", ops_config={
        "raw__claims": {"config": {"files": paths}},
        "rotation_dbt_assets": {"config": {"full_refresh": False}},
    })
    with _open_read_only() as con:
        try:
            checks = read_checks(con, [Path(p).name for p in paths])
        except MartMissing as error:
            raise click.ClickException(str(error)) from error
    if explain_id:
        print_explanation(checks, explain_id, fmt)
    else:
        print_verdicts(checks, fmt)


if __name__ == "__main__":
    main()
