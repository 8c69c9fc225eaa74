"""The daily schedule runs after the close on NYSE sessions and skips the days the exchange is closed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.defs.schedules import daily_after_close

NEW_YORK = ZoneInfo("America/New_York")


def evaluate(day: str):
    at = datetime.fromisoformat(f"{day}T18:00:00").replace(tzinfo=NEW_YORK)
    return daily_after_close(dg.build_schedule_context(scheduled_execution_time=at))


def test_schedule_is_daily_at_six_pm_new_york():
    assert daily_after_close.cron_schedule == "0 18 * * 1-5"
    assert daily_after_close.execution_timezone == "America/New_York"
    assert daily_after_close.job_name == "rotation_job"


def test_runs_on_a_trading_day_including_an_early_close():
    for day in ["2026-01-16", "2025-11-28"]:
        request = evaluate(day)
        assert isinstance(request, dg.RunRequest) and request.run_key == day


def test_skips_holidays_and_special_closures():
    for day in ["2025-12-25", "2025-07-04", "2025-01-09", "2026-11-26"]:
        result = evaluate(day)
        assert isinstance(result, dg.SkipReason) and "not an NYSE trading day" in result.skip_message
