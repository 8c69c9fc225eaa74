"""The daily refresh: 18:00 New York time, after the close, on NYSE trading days only."""

import dagster as dg

from orchestration import config
from orchestration.trading_calendar import is_trading_day

# Every job writing the warehouse carries its path in this tag: dagster.yaml's run queue starts one run
# per value at a time (a run from `rotation run` counts too: it is recorded with the tag).
WAREHOUSE_TAG = "rotation/warehouse"


def warehouse_tags() -> dict[str, str]:
    return {WAREHOUSE_TAG: str(config.warehouse_path())}


rotation_job = dg.define_asset_job(
    "rotation_job",
    selection=dg.AssetSelection.all(),
    description="Ingest prices and build every dbt model and test.",
    tags=warehouse_tags(),
)

# The same graph with the ingest set to load history from a start date instead of refreshing. Its
# launchpad is filled in with a start a user can edit (and tickers to add); launching it again with
# the same start resumes where an interrupted or partly failed backfill stopped.
price_backfill_job = dg.define_asset_job(
    "price_backfill",
    selection=dg.AssetSelection.all(),
    description="Load price history from Yahoo from a start date (resumable), then build every model.",
    config={"ops": {"raw__prices_daily": {"config": {"source": "yahoo", "backfill_start": "1987-01-01"}}}},
    tags=warehouse_tags(),
)


@dg.schedule(
    job=rotation_job,
    cron_schedule="0 18 * * 1-5",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_after_close(context: dg.ScheduleEvaluationContext):
    day = context.scheduled_execution_time.date()
    if not is_trading_day(day):
        return dg.SkipReason(f"{day} is not an NYSE trading day")
    return dg.RunRequest(run_key=day.isoformat())
