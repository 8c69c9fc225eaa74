"""The landing folders, watched: a run of the guidance (claims) job whenever the set of files of the guidance
(claims) folder changes."""

from __future__ import annotations

import hashlib

import dagster as dg

from orchestration import config as settings
from orchestration.defs.claims import CLAIMS_KEY
from orchestration.defs.guidance import COUNTS_KEY, EVENTS_KEY
from orchestration.defs.schedules import warehouse_tags
from orchestration.land import claims as claims_landing
from orchestration.land.guidance_landing import content_hash, pending_files

guidance_job = dg.define_asset_job(
    "guidance_job",
    selection=dg.AssetSelection.assets(EVENTS_KEY, COUNTS_KEY).downstream(),
    description="Load the guidance landing folder and rebuild what depends on it.",
    tags=warehouse_tags(),
)


@dg.sensor(job=guidance_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def guidance_landing_sensor(context: dg.SensorEvaluationContext):
    """Requests one run per distinct content of the folder (the run key is a hash of every file's
    name and content), so an unchanged folder never triggers twice; the load itself skips files
    whose content was already processed."""
    folder = settings.guidance_landing_folder()
    files = pending_files(folder)
    if not files:
        return dg.SkipReason(f"no CSV file in {folder}")
    fingerprint = hashlib.sha256("\n".join(f"{p.name}:{content_hash(p)}" for p in files).encode()).hexdigest()
    return dg.RunRequest(run_key=fingerprint, tags={"landing_files": ", ".join(p.name for p in files)[:200]})


claims_job = dg.define_asset_job(
    "claims_job",
    selection=dg.AssetSelection.assets(CLAIMS_KEY).downstream(),
    description="Load the claims files (landing folder and run config) and rebuild the claim checks and the snapshot.",
    tags=warehouse_tags(),
)


@dg.sensor(job=claims_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def claims_landing_sensor(context: dg.SensorEvaluationContext):
    """Like the guidance sensor: one run per distinct content of the claims landing folder."""
    folder = settings.claims_landing_folder()
    files = claims_landing.pending_files(folder)
    if not files:
        return dg.SkipReason(f"no YAML file in {folder}")
    fingerprint = hashlib.sha256("\n".join(f"{p.name}:{content_hash(p)}" for p in files).encode()).hexdigest()
    return dg.RunRequest(run_key=fingerprint, tags={"landing_files": ", ".join(p.name for p in files)[:200]})
