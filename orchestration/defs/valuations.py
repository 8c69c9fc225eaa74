"""Assets of the valuation tables: index membership, valuation snapshots, imported P/E history."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.prices import PRICES_KEY
from orchestration.land.valuations import load_valuations, resolve_valuation_source

MEMBERSHIP_KEY = dg.AssetKey(["raw", "index_membership"])
VALUATIONS_KEY = dg.AssetKey(["raw", "valuation_snapshots"])
HISTORY_KEY = dg.AssetKey(["raw", "index_valuation_history"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(MEMBERSHIP_KEY, deps=[PRICES_KEY], kinds={"python", "duckdb"},
                     description="Index constituents (sp500, russell2000) per snapshot date: weight and sector."),
        dg.AssetSpec(VALUATIONS_KEY, deps=[PRICES_KEY, MEMBERSHIP_KEY], kinds={"python", "duckdb"},
                     description="Per ticker and session: market cap, shares, forward and trailing EPS and P/E, "
                     "sector, industry. Snapshots accumulate."),
        dg.AssetSpec(HISTORY_KEY, kinds={"python", "duckdb"},
                     description="Imported index forward P/E history (e.g. a vendor's monthly series) for long-run averages."),
    ],
    group_name="ingest",
    can_subset=False,
    check_specs=[dg.AssetCheckSpec("valuation_files_valid", asset=VALUATIONS_KEY,
                                   description="Every membership, valuation and history file and every ticker of the run landed.")],
)
def raw_valuations(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    with warehouse.get_connection() as con:
        source = resolve_valuation_source(con)
        load = load_valuations(con, source, load_id=context.run_id)
    for warning in load.warnings:
        context.log.warning(warning)
    for problem in load.problems:
        context.log.error(problem)
    for note in load.notes:
        context.log.info(note)
    for key, counts in [(MEMBERSHIP_KEY, load.membership), (VALUATIONS_KEY, load.valuations), (HISTORY_KEY, load.history)]:
        context.log.info(f"{key.to_user_string()} ({source}): {counts}")
        yield dg.MaterializeResult(asset_key=key, metadata={
            "source": source, "rows_inserted": counts.inserted, "rows_updated": counts.updated, "rows_unchanged": counts.unchanged,
        })
    yield dg.AssetCheckResult(
        asset_key=VALUATIONS_KEY, check_name="valuation_files_valid", passed=not load.problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in load.problems) or "none")},
    )
