"""The NYSE trading calendar (holidays, special closures, early closes) from exchange_calendars."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import exchange_calendars
import pandas as pd

CALENDAR_NAME = "XNYS"


def _calendar(start: date, end: date) -> exchange_calendars.ExchangeCalendar:
    with warnings.catch_warnings():
        # exchange_calendars reads Series.values on tz-aware columns, which newer pandas flags as deprecated.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
        return exchange_calendars.get_calendar(CALENDAR_NAME, start=pd.Timestamp(start), end=pd.Timestamp(end))


def nyse_sessions(start: date, end: date) -> pd.DatetimeIndex:
    """NYSE trading sessions from `start` to `end` inclusive (naive midnight timestamps)."""
    return _calendar(start, end).sessions_in_range(pd.Timestamp(start), pd.Timestamp(end))


def nyse_early_closes(start: date, end: date) -> pd.DatetimeIndex:
    """NYSE sessions from `start` to `end` inclusive that close early (e.g. the day after Thanksgiving)."""
    early = _calendar(start, end).early_closes
    return early[(early >= pd.Timestamp(start)) & (early <= pd.Timestamp(end))]


def is_trading_day(day: date) -> bool:
    window = timedelta(days=7)  # the library needs a range that is longer than one day
    return _calendar(day - window, day + window).is_session(pd.Timestamp(day))
