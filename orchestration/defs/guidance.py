"""Assets of the guidance tables: the demo's guidance events and the files of the landing folder."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration import config as settings
from orchestration.defs.valuations import VALUATIONS_KEY
from orchestration.land.guidance_landing import process_landing_folder
from orchestration.land.valuations import load_demo_guidance

EVENTS_KEY = dg.AssetKey(["raw", "guidance_events"])
COUNTS_KEY = dg.AssetKey(["raw", "guidance_counts"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(EVENTS_KEY, deps=[VALUATIONS_KEY], kinds={"python", "duckdb"},
                     description="EPS guidance events: demo events, plus the guidance-event files of the landing folder."),
        dg.AssetSpec(COUNTS_KEY, kinds={"python", "duckdb"},
                     description="Published guidance counts from the files of the landing folder."),
    ],
    group_name="ingest",
    can_subset=False,
    check_specs=[dg.AssetCheckSpec("guidance_files_valid", asset=EVENTS_KEY,
                                   description="No guidance file of the landing folder was quarantined in this run.")],
)
def raw_guidance(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    folder = settings.guidance_landing_folder()
    with warehouse.get_connection() as con:
        demo_events, warnings = load_demo_guidance(con, load_id=context.run_id)
        report = process_landing_folder(con, folder, settings.quarantine_folder(), load_id=context.run_id)
    for warning in [*warnings, *report.warnings]:
        context.log.warning(warning)
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
