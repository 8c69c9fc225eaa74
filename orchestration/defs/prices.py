"""The price ingest asset `raw/prices_daily` (refresh or backfill) with its checks, and the load log's spec."""

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from orchestration import config as settings
from orchestration.defs.resources import PriceSources
from orchestration.extract.base import PriceFetch
from orchestration.extract.registry import resolve_source
from orchestration.land.backfill import BackfillProgress, backfill_prices
from orchestration.land.prices import ingest_price_batches
from orchestration.land.quarantine import quarantine_file
from orchestration.universe import load_universe

PRICES_KEY = dg.AssetKey(["raw", "prices_daily"])
# raw.load_log is written by every ingest asset, in the transaction of the rows it records; dbt reads it
# (staging/stg_load_log), so it is declared here for the lineage, with no step of its own.
raw_load_log = dg.AssetSpec(
    ["raw", "load_log"],
    group_name="ingest",
    kinds={"duckdb"},
    description="What every upsert of a raw table inserted, changed and deleted (per load, table, and ticker for "
    "prices). Written by the ingest assets along with their rows; read by the incremental dbt models and the "
    "latest-load tests and checks.",
)
# Backfill progress goes to this logger too, so a terminal can show it while the job runs in process.
progress_log = logging.getLogger("orchestration.backfill")


class PriceSourceConfig(dg.Config):
    source: str | None = Field(
        default=None, description="demo, files or yahoo. Default: the ROTATION_SOURCE variable, else demo."
    )
    files: list[str] | None = Field(
        default=None, description="Price files for the files source. Default: the ROTATION_FILES variable."
    )
    backfill_start: str | None = Field(
        default=None,
        description="YYYY-MM-DD: instead of the incremental refresh, load the history from this date (yahoo "
        "source; resumable: running it again with the same start skips the tickers already loaded).",
    )
    tickers: list[str] | None = Field(
        default=None, description="With backfill_start: these tickers only. Default: the whole universe."
    )
    restart: bool = Field(
        default=False, description="With backfill_start: forget which tickers earlier runs loaded and fetch all again."
    )


def _check(name: str, passed: bool, severity: dg.AssetCheckSeverity, **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=name, passed=passed, severity=severity, metadata=metadata)


@dg.asset(
    key=PRICES_KEY,
    group_name="ingest",
    kinds={"python", "duckdb"},
    description="Daily bars of the universe from the chosen price source, upserted on (ticker, date).",
    check_specs=[
        dg.AssetCheckSpec(
            "price_batches_valid",
            asset=PRICES_KEY,
            description="Every price file/batch of the run passed validation (rejected ones loaded nothing).",
        ),
        dg.AssetCheckSpec(
            "tickers_delivered",
            asset=PRICES_KEY,
            description="The source delivered every ticker it was asked for (Yahoo: failing or delisted "
            "tickers are listed with the reason; the others landed).",
        ),
    ],
)
def raw_prices_daily(
    context: dg.AssetExecutionContext, config: PriceSourceConfig, warehouse: DuckDBResource, price_sources: PriceSources
) -> dg.MaterializeResult:
    if config.backfill_start:
        return _backfill(context, config, warehouse)
    source, files = resolve_source(config.source, config.files)
    universe = load_universe()
    with warehouse.get_connection() as con:
        fetched = price_sources.fetch(con, source, files, universe)
        report = ingest_price_batches(
            con, fetched.batches, source, universe.symbols, list(fetched.refetched), load_id=context.run_id
        )

    for problem in report.problems:
        context.log.error(str(problem))
    for warning in report.warnings:
        context.log.warning(str(warning))
    for path, why in fetched.skipped:
        context.log.warning(f"{path} skipped, left where it is: {why}")
    for problem in fetched.failures.values():
        context.log.warning(str(problem))
    for ticker, why in fetched.refetched.items():
        context.log.warning(f"{ticker}: Yahoo rewrote its past prices ({why}); its whole history was fetched again and replaced")
    quarantined = []
    for batch in report.rejected:
        if Path(batch.origin).is_file():
            target = quarantine_file(Path(batch.origin), batch.errors, settings.quarantine_folder(), datetime.now(UTC))
            quarantined.append(str(target))
            context.log.error(f"{batch.origin} was rejected whole and quarantined as {target} (reason beside it)")
    if report.tickers_outside_universe:
        context.log.warning(
            f"loaded tickers that are not in the universe seed: {', '.join(report.tickers_outside_universe)} "
            "(they get returns but no sector, cohort or pair; add them to dbt_project/seeds/universe_tickers.csv)"
        )
    if not report.accepted_origins:
        raise dg.Failure(_nothing_landed(source, files, report.problems, fetched))
    counts = report.counts
    context.log.info(f"{source}: {counts}")
    return dg.MaterializeResult(
        metadata={
            "source": source,
            "rows_received": report.rows_received,
            "rows_inserted": counts.inserted,
            "rows_updated": counts.updated,
            "rows_unchanged": counts.unchanged,
            "rows_deleted": counts.deleted,
            "duplicate_rows_dropped": report.duplicate_rows_dropped,
            "first_date": str(report.first_date),
            "last_date": str(report.last_date),
            "tickers": dg.MetadataValue.text(", ".join(report.tickers)),
            "ticker_count": len(report.tickers),
            "tickers_outside_universe": dg.MetadataValue.text(", ".join(report.tickers_outside_universe)),
            "tickers_failed": dg.MetadataValue.text(", ".join(fetched.failures)),
            "tickers_refetched": dg.MetadataValue.text(", ".join(fetched.refetched)),
            "refetch_reasons": dg.MetadataValue.md(
                "\n".join(f"- {t}: {why}" for t, why in fetched.refetched.items()) or "none"
            ),
            "fetch_starts": dg.MetadataValue.json({t: str(d) for t, d in fetched.starts.items()}),
            "accepted": dg.MetadataValue.text("\n".join(report.accepted_origins)),
            "quarantined": dg.MetadataValue.text("\n".join(quarantined)),
        },
        check_results=[
            _check(
                "price_batches_valid", not report.rejected, dg.AssetCheckSeverity.ERROR,
                summary=_problems_summary(report.problems),
                rejected=dg.MetadataValue.text("\n".join(b.origin for b in report.rejected)),
                problems=dg.MetadataValue.md("\n".join(f"- {p}" for p in report.problems) or "none"),
            ),
            _failures_check(fetched.failures),
        ],
    )


def _problems_summary(problems: list) -> str:
    if not problems:
        return "every batch passed"
    more = f" (and {len(problems) - 1} more problem(s): see the run's log)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"


def _nothing_landed(source: str, files: list[str], problems: list, fetched: PriceFetch) -> str:
    """One line saying why a run landed no prices at all: such a run fails, so nothing is built or published."""
    if problems:
        why = _problems_summary(problems)
    elif fetched.failures:
        why = _problems_summary(list(fetched.failures.values()))
    elif source == "files":
        why = f"no price files found in {', '.join(files)} (a folder stands for the CSV and Parquet price files in it)"
        if fetched.skipped:
            why += f"; skipped: {', '.join(f'{path.name} ({reason})' for path, reason in fetched.skipped)}"
    else:
        why = f"the {source} source delivered no prices"
    return f"no prices landed, so nothing was built or published: {why}"


def _failures_check(failures: dict) -> dg.AssetCheckResult:
    summary = f"{len(failures)} ticker(s) not delivered: {', '.join(failures)}" if failures else "every ticker delivered"
    return _check(
        "tickers_delivered", not failures, dg.AssetCheckSeverity.WARN,
        summary=summary,
        failures=dg.MetadataValue.md("\n".join(f"- {p}" for p in failures.values()) or "none"),
    )


def _backfill(context: dg.AssetExecutionContext, config: PriceSourceConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    source, _ = resolve_source(config.source or "yahoo", None)
    if source != "yahoo":
        raise dg.Failure(f"a backfill fetches from Yahoo; source {source!r} has no history to fetch (use the yahoo source)")
    try:
        start = date.fromisoformat(config.backfill_start)
    except ValueError:
        raise dg.Failure(
            f"backfill_start {config.backfill_start!r} is not a date: write it as YYYY-MM-DD, e.g. 1987-01-01"
        ) from None
    universe = load_universe()
    tickers = [t.strip().upper() for t in config.tickers] if config.tickers else universe.symbols

    def report_progress(progress: BackfillProgress) -> None:
        context.log.info(progress.message())
        progress_log.info(progress.message(), extra={"backfill": progress})

    with warehouse.get_connection() as con:
        report = backfill_prices(con, tickers, start, universe.symbols, restart=config.restart,
                                 base_url=settings.yahoo_base_url(), progress=report_progress, load_id=context.run_id)
    for problem in report.failures.values():
        context.log.warning(str(problem))
    rejected = [problem for problems in report.rejected.values() for problem in problems]
    for problem in rejected:
        context.log.error(str(problem))
    if report.already_done:
        context.log.info(f"skipped {len(report.already_done)} ticker(s) an earlier run of this backfill loaded")
    return dg.MaterializeResult(
        metadata={
            "source": source,
            "backfill_start": str(start),
            "rows_inserted": report.counts.inserted,
            "rows_updated": report.counts.updated,
            "rows_unchanged": report.counts.unchanged,
            "tickers_loaded": dg.MetadataValue.text(", ".join(report.loaded)),
            "tickers_already_done": dg.MetadataValue.text(", ".join(report.already_done)),
            "tickers_failed": dg.MetadataValue.text(", ".join([*report.failures, *report.rejected])),
            "tickers_remaining": len(report.remaining),
        },
        check_results=[
            _check(
                "price_batches_valid", not rejected, dg.AssetCheckSeverity.ERROR,
                rejected=dg.MetadataValue.text("\n".join(report.rejected)),
                problems=dg.MetadataValue.md("\n".join(f"- {p}" for p in rejected) or "none"),
            ),
            _failures_check(report.failures),
        ],
    )
