"""Ingest assets: one per raw table."""

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from orchestration import config as settings
from orchestration.price_ingest import ingest_price_batches
from orchestration.raw_prices import last_session_of_every_ticker
from orchestration.quarantine import quarantine_file
from orchestration.sources.registry import fetch_prices, resolve_source
from orchestration.universe import load_universe

PRICES_KEY = dg.AssetKey(["raw", "prices_daily"])


class PriceSourceConfig(dg.Config):
    source: Optional[str] = Field(
        default=None, description="demo, files or yahoo. Default: the ROTATION_SOURCE variable, else demo."
    )
    files: Optional[list[str]] = Field(
        default=None, description="Price files for the files source. Default: the ROTATION_FILES variable."
    )


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
        )
    ],
)
def raw_prices_daily(
    context: dg.AssetExecutionContext, config: PriceSourceConfig, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    source, files = resolve_source(config.source, config.files)
    universe = load_universe()
    with warehouse.get_connection() as con:
        last_stored = last_session_of_every_ticker(con, source, universe.symbols)
        batches = fetch_prices(source, files, universe, last_stored)
        report = ingest_price_batches(con, batches, source, universe.symbols)

    for problem in report.problems:
        context.log.error(str(problem))
    quarantined = []
    for batch in report.rejected:
        if Path(batch.origin).is_file():
            target = quarantine_file(Path(batch.origin), batch.errors, settings.quarantine_folder(), datetime.now(timezone.utc))
            quarantined.append(str(target))
            context.log.error(f"{batch.origin} was rejected whole and moved to {target} (reason beside it)")
    if report.tickers_outside_universe:
        context.log.warning(
            f"loaded tickers that are not in the universe seed: {', '.join(report.tickers_outside_universe)} "
            "(they get returns but no sector, cohort or pair; add them to dbt_project/seeds/universe_tickers.csv)"
        )
    counts = report.counts
    context.log.info(
        f"{source}: {counts.inserted} rows inserted, {counts.updated} updated, {counts.unchanged} unchanged"
    )
    return dg.MaterializeResult(
        metadata={
            "source": source,
            "rows_received": report.rows_received,
            "rows_inserted": counts.inserted,
            "rows_updated": counts.updated,
            "rows_unchanged": counts.unchanged,
            "demo_rows_removed": counts.demo_rows_removed,
            "duplicate_rows_dropped": report.duplicate_rows_dropped,
            "first_date": str(report.first_date),
            "last_date": str(report.last_date),
            "tickers": dg.MetadataValue.text(", ".join(report.tickers)),
            "ticker_count": len(report.tickers),
            "tickers_outside_universe": dg.MetadataValue.text(", ".join(report.tickers_outside_universe)),
            "accepted": dg.MetadataValue.text("\n".join(report.accepted_origins)),
            "quarantined": dg.MetadataValue.text("\n".join(quarantined)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="price_batches_valid",
                passed=not report.rejected,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "rejected": dg.MetadataValue.text("\n".join(b.origin for b in report.rejected)),
                    "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in report.problems) or "none"),
                },
            )
        ],
    )
