"""The daily refresh: 18:00 New York time, after the close, on NYSE trading days only."""

import dagster as dg

from orchestration.trading_calendar import is_trading_day

rotation_job = dg.define_asset_job(
    "rotation_job",
    selection=dg.AssetSelection.all(),
    description="Ingest prices and build every dbt model and test.",
)

# The same graph with the ingest set to load history from a start date instead of refreshing. Its
# launchpad is filled in with a start a user can edit (and tickers to add); launching it again with
# the same start resumes where an interrupted or partly failed backfill stopped.
price_backfill_job = dg.define_asset_job(
    "price_backfill",
    selection=dg.AssetSelection.all(),
    description="Load price history from Yahoo from a start date (resumable), then build every model.",
    config={"ops": {"raw__prices_daily": {"config": {"source": "yahoo", "backfill_start": "1987-01-01"}}}},
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
