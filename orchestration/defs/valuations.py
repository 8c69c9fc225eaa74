"""Ingest assets for valuations and guidance: index membership, valuation snapshots, imported P/E
history, and the guidance tables (demo events plus the files of the landing folder).

The valuation source follows the prices unless ROTATION_VALUATION_SOURCE says otherwise: demo
beside the demo market, else files (ROTATION_MEMBERSHIP_FILES, ROTATION_VALUATION_FILES).
`yahoo` downloads the iShares holdings and fetches yfinance's info for every member.
"""


from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration import config as settings
from orchestration.defs.prices import PRICES_KEY
from orchestration.extract import ishares
from orchestration.extract.demo_valuations import DemoValuations
from orchestration.extract.valuation_files import read_table_file
from orchestration.extract.yahoo_valuations import YahooInfoSource
from orchestration.land.guidance_landing import process_landing_folder
from orchestration.land.quarantine import quarantine_file
from orchestration.land.tables import ensure_raw_schema, now_utc
from orchestration.land.upsert import LoadCounts, MixedSourceError, upsert
from orchestration.universe import load_universe

MEMBERSHIP_KEY = dg.AssetKey(["raw", "index_membership"])
VALUATIONS_KEY = dg.AssetKey(["raw", "valuation_snapshots"])
HISTORY_KEY = dg.AssetKey(["raw", "index_valuation_history"])
EVENTS_KEY = dg.AssetKey(["raw", "guidance_events"])
COUNTS_KEY = dg.AssetKey(["raw", "guidance_counts"])


def resolve_valuation_source(con: duckdb.DuckDBPyConnection) -> str:
    configured = settings.valuation_source()
    if configured:
        return configured
    ensure_raw_schema(con)
    demo, real = con.execute(
        "SELECT count(*) FILTER (WHERE source = 'demo'), count(*) FILTER (WHERE source <> 'demo') FROM raw.prices_daily"
    ).fetchall()[0]
    return "demo" if demo and not real else "files"


def _demo_closes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Demo closes of the universe's indices and cohort members: what the demo valuations are priced on."""
    universe = load_universe()
    tickers = universe.index_tickers + universe.cohort_tickers
    return con.execute(
        "SELECT date, ticker, close FROM raw.prices_daily WHERE source = 'demo' AND list_contains(?, ticker)", [tickers]
    ).df()


def _load_files(con, paths: list[str], layout: str, table: str, log, load_id: str) -> tuple[LoadCounts, list[str]]:
    """Load each file of `paths` on its own; a bad file is quarantined and reported, the others land."""
    total, rejected = LoadCounts(), []
    for name in paths:
        path = Path(name)
        frame, problems = read_table_file(path, layout)
        if problems:
            for problem in problems:
                log.error(str(problem))
            target = quarantine_file(path, problems, settings.quarantine_folder(), now_utc())
            rejected.append(f"{path} -> {target}")
            continue
        total += upsert(con, table, frame.assign(source_file=path.name), "files", load_id=load_id)
    return total, rejected


def _stored_today(con: duckdb.DuckDBPyConnection, as_of) -> set[str]:
    return {t for (t,) in con.execute("SELECT ticker FROM raw.valuation_snapshots WHERE as_of_date = ?", [as_of]).fetchall()}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(MEMBERSHIP_KEY, deps=[PRICES_KEY], description="Index constituents (sp500, russell2000) per snapshot date: weight and sector."),
        dg.AssetSpec(VALUATIONS_KEY, deps=[PRICES_KEY, MEMBERSHIP_KEY], description="Per ticker and session: market cap, shares, forward and trailing EPS and P/E, sector, industry. Snapshots accumulate."),
        dg.AssetSpec(HISTORY_KEY, description="Imported index forward P/E history (e.g. a vendor's monthly series) for long-run averages."),
    ],
    group_name="ingest",
    can_subset=False,
    check_specs=[dg.AssetCheckSpec("valuation_files_valid", asset=VALUATIONS_KEY,
                                   description="Every membership, valuation and history file and every ticker of the run landed.")],
)
def raw_valuations(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    problems: list[str] = []
    with warehouse.get_connection() as con:
        source = resolve_valuation_source(con)
        membership = valuations = LoadCounts()
        if source == "demo":
            demo = DemoValuations(_demo_closes(con))
            snapshots = demo.valuations()
            try:
                valuations = upsert(con, "raw.valuation_snapshots", snapshots, "demo", load_id=context.run_id)
                membership = upsert(con, "raw.index_membership", demo.membership(snapshots), "demo", load_id=context.run_id)
            except MixedSourceError as error:
                context.log.warning(f"demo valuations not loaded: {error}")
        elif source == "yahoo":
            for index_name in ishares.FUNDS:
                try:
                    membership += upsert(con, "raw.index_membership", ishares.download_holdings(index_name), ishares.SOURCE,
                                         load_id=context.run_id)
                except Exception as error:  # keep the other index and the valuations of stored members
                    problems.append(f"{index_name} membership not downloaded: {error}")
            tickers = [t for (t,) in con.execute(
                "SELECT DISTINCT ticker FROM raw.index_membership WHERE as_of_date = "
                "(SELECT max(as_of_date) FROM raw.index_membership m2 WHERE m2.index_name = raw.index_membership.index_name) ORDER BY 1"
            ).fetchall()]
            cohorts = load_universe().cohort_tickers  # cohort members outside the downloaded indices too
            info = YahooInfoSource(tickers + [t for t in cohorts if t not in tickers], pause=settings.yahoo_info_pause())
            info.already_have = _stored_today(con, info.as_of)
            stored = []

            def store(chunk: pd.DataFrame) -> None:
                stored.append(upsert(con, "raw.valuation_snapshots", chunk, "yahoo", load_id=context.run_id))

            report = info.fetch(store)
            valuations = sum(stored, LoadCounts())
            problems += [f"{ticker}: {why}" for ticker, why in report.failed.items()]
            context.log.info(f"yahoo info: {len(report.fetched)} fetched, {len(report.skipped)} already stored for {report.as_of_date}")
        else:
            membership, rejected_m = _load_files(con, settings.membership_files(), "membership", "raw.index_membership", context.log, context.run_id)
            valuations, rejected_v = _load_files(con, settings.valuation_files(), "valuations", "raw.valuation_snapshots", context.log, context.run_id)
            problems += [f"rejected {r}" for r in rejected_m + rejected_v]
        history, rejected_h = _load_files(con, settings.valuation_history_files(), "history", "raw.index_valuation_history", context.log, context.run_id)
        problems += [f"rejected {r}" for r in rejected_h]

    for problem in problems:
        context.log.error(problem)
    for key, counts in [(MEMBERSHIP_KEY, membership), (VALUATIONS_KEY, valuations), (HISTORY_KEY, history)]:
        context.log.info(f"{key.to_user_string()} ({source}): {counts}")
        yield dg.MaterializeResult(asset_key=key, metadata={
            "source": source, "rows_inserted": counts.inserted, "rows_updated": counts.updated, "rows_unchanged": counts.unchanged,
        })
    yield dg.AssetCheckResult(
        asset_key=VALUATIONS_KEY, check_name="valuation_files_valid", passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none")},
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(EVENTS_KEY, deps=[VALUATIONS_KEY], description="EPS guidance events: demo events, plus the guidance-event files of the landing folder."),
        dg.AssetSpec(COUNTS_KEY, description="Published guidance counts from the files of the landing folder."),
    ],
    group_name="ingest",
    can_subset=False,
    check_specs=[dg.AssetCheckSpec("guidance_files_valid", asset=EVENTS_KEY,
                                   description="No guidance file of the landing folder was quarantined in this run.")],
)
def raw_guidance(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    folder = settings.guidance_landing_folder()
    demo_events = LoadCounts()
    with warehouse.get_connection() as con:
        if resolve_valuation_source(con) == "demo":
            demo = DemoValuations(_demo_closes(con))
            try:
                demo_events = upsert(con, "raw.guidance_events", demo.guidance_events().assign(source_file="demo"), "demo",
                                     load_id=context.run_id)
            except MixedSourceError as error:
                context.log.warning(f"demo guidance not loaded: {error}")
        report = process_landing_folder(con, folder, settings.quarantine_folder(), load_id=context.run_id)
    for problem in report.problems:
        context.log.error(str(problem))
    for original, target in report.quarantined:
        context.log.error(f"{original} was rejected whole and moved to {target} (reason beside it)")
    landing = {
        "landing_folder": str(folder),
        "files_loaded": dg.MetadataValue.text("\n".join(report.loaded)),
        "files_already_processed": len(report.already_processed),
        "files_quarantined": dg.MetadataValue.text("\n".join(t for _, t in report.quarantined)),
    }
    yield dg.MaterializeResult(asset_key=EVENTS_KEY, metadata={
        **landing, "demo_rows_inserted": demo_events.inserted,
        "file_rows_inserted": report.events.inserted, "file_rows_updated": report.events.updated,
    })
    yield dg.MaterializeResult(asset_key=COUNTS_KEY, metadata={
        **landing, "rows_inserted": report.counts.inserted, "rows_updated": report.counts.updated,
    })
    yield dg.AssetCheckResult(
        asset_key=EVENTS_KEY, check_name="guidance_files_valid", passed=not report.quarantined,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in report.problems) or "none")},
    )
