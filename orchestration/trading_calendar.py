"""The NYSE trading calendar (holidays, special closures, early closes) from exchange_calendars."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import exchange_calendars
import pandas as pd

CALENDAR_NAME = "XNYS"
# The library wants its range's ends to be sessions; build a wider calendar and cut it down.
PADDING = timedelta(days=10)


def _calendar(start: date, end: date) -> exchange_calendars.ExchangeCalendar:
    with warnings.catch_warnings():
        # exchange_calendars reads Series.values on tz-aware columns, which newer pandas flags as deprecated.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
        return exchange_calendars.get_calendar(CALENDAR_NAME, start=pd.Timestamp(start), end=pd.Timestamp(end))


def nyse_sessions(start: date, end: date) -> pd.DatetimeIndex:
    """NYSE trading sessions from `start` to `end` inclusive (naive midnight timestamps)."""
    sessions = _calendar(start - PADDING, end + PADDING).sessions
    return sessions[(sessions >= pd.Timestamp(start)) & (sessions <= pd.Timestamp(end))]


def nyse_early_closes(start: date, end: date) -> pd.DatetimeIndex:
    """NYSE sessions from `start` to `end` inclusive that close early (e.g. the day after Thanksgiving)."""
    early = _calendar(start - PADDING, end + PADDING).early_closes
    return early[(early >= pd.Timestamp(start)) & (early <= pd.Timestamp(end))]


def is_trading_day(day: date) -> bool:
    return len(nyse_sessions(day, day)) == 1
