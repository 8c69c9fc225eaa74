"""The claims asset: the claims files of the landing folder, and files named in the run's config."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration import config as settings
from orchestration.land.claims import land_claims_files, pending_files

CLAIMS_KEY = dg.AssetKey(["raw", "claims"])


class ClaimsConfig(dg.Config):
    files: list[str] = []
    """Claims files to load besides the landing folder's (`rotation check` passes its files here); they
    are left in place, and copied to the quarantine folder when rejected."""


@dg.asset(
    key=CLAIMS_KEY,
    group_name="ingest",
    kinds={"python", "duckdb"},
    description="Claims of claims files (YAML): the landing folder's files and those given in the run config; "
    "a file's claims replace the earlier claims of the same file name.",
    check_specs=[dg.AssetCheckSpec("claims_files_valid", asset=CLAIMS_KEY,
                                   description="No claims file was rejected in this run.")],
)
def raw_claims(context: dg.AssetExecutionContext, config: ClaimsConfig, warehouse: DuckDBResource):
    folder = settings.claims_landing_folder()
    paths = [*pending_files(folder), *(Path(f).expanduser().resolve() for f in config.files)]
    with warehouse.get_connection() as con:
        report = land_claims_files(con, paths, settings.quarantine_folder(), owned_folder=folder)
    for problem in report.problems:
        context.log.error(str(problem))
    for original, target in report.quarantined:
        context.log.error(f"{original} was rejected whole; it is in {target} (reason beside it)")
    yield dg.MaterializeResult(metadata={
        "landing_folder": str(folder),
        "files_loaded": dg.MetadataValue.text("\n".join(report.loaded)),
        "files_already_processed": len(report.already_processed),
        "files_quarantined": dg.MetadataValue.text("\n".join(t for _, t in report.quarantined)),
        "claims_loaded": report.claims_loaded,
    })
    yield dg.AssetCheckResult(
        check_name="claims_files_valid", passed=not report.quarantined, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"summary": f"{len(report.quarantined)} file(s) rejected" if report.quarantined else "none rejected",
                  "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in report.problems) or "none")},
    )
