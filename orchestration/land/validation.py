"""Checks every price batch must pass before any of it is loaded.

A batch (one file, one generated market) is accepted or rejected as a whole: a rejected batch
loads nothing, and its errors name the origin, the row, the ticker, what is wrong and what to do.
A partial batch (a frame with only some of the value columns, e.g. adj_close) is checked on the
columns it carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd

from orchestration.extract.base import (
    PRICE_COLUMNS,
    PRICE_FIELDS,
    VALUE_COLUMNS,
    PriceBatch,
)
from orchestration.trading_calendar import nyse_sessions

MAX_ERRORS_SHOWN = 5
# Yahoo symbols: ^GSPC, BRK-B, EURUSD=X, 0700.HK. The longest in use are far below 20 characters.
MAX_TICKER_LENGTH = 20
TICKER_PATTERN = re.compile(rf"[A-Z0-9^.=-]{{1,{MAX_TICKER_LENGTH}}}")
TICKER_RULE = f"letters, digits, ^ . - = only, at most {MAX_TICKER_LENGTH} characters"
# No listed share or index trades near ten million per unit (Berkshire Hathaway A: under a million);
# a larger price is a unit or parsing error.
MAX_PRICE = 1e7
# Open and close must lie within [low, high]; this much relative slack absorbs float noise only.
RANGE_TOLERANCE = 1e-9
NEW_YORK = ZoneInfo("America/New_York")
# The calendar's sessions are asked for from here on; earlier dates are not NYSE sessions it knows.
CALENDAR_START = date(1885, 1, 1)


@dataclass
class PriceProblem:
    origin: str
    row: int | None
    ticker: str | None
    problem: str
    fix: str

    def __str__(self) -> str:
        where = self.origin
        if self.row is not None:
            where += f", row {self.row}"
        if self.ticker:
            where += f", ticker {self.ticker if self.ticker.isprintable() else repr(self.ticker)}"
        return f"{where}: {self.problem}. {self.fix}"


@dataclass
class ValidatedBatch:
    origin: str
    frame: pd.DataFrame | None  # None when rejected
    errors: list[PriceProblem] = field(default_factory=list)
    duplicate_rows_dropped: int = 0

    @property
    def accepted(self) -> bool:
        return not self.errors


def plausible_ticker(ticker: str) -> bool:
    """Whether `ticker` (upper-cased) can be a Yahoo symbol."""
    return TICKER_PATTERN.fullmatch(ticker) is not None


def new_york_today() -> date:
    return datetime.now(NEW_YORK).date()


@lru_cache(maxsize=4)
def _sessions_through(today: date) -> frozenset[date]:
    return frozenset(nyse_sessions(CALENDAR_START, today).date)


def row_problems(frame: pd.DataFrame, mask: pd.Series, origin: str, problem: str, fix: str) -> list[PriceProblem]:
    """One problem per offending row (the first few, then a count); `problem` may name the row's columns."""
    bad = frame[mask]
    return [
        PriceProblem(origin, int(row.row), row.ticker, problem.format(**row._asdict()), fix)
        for row in bad.head(MAX_ERRORS_SHOWN).itertuples(index=False)
    ] + (
        [PriceProblem(origin, None, None, f"{len(bad) - MAX_ERRORS_SHOWN} more rows with the same problem", fix)]
        if len(bad) > MAX_ERRORS_SHOWN
        else []
    )


def _as_date(value) -> date:
    """A batch's dates are date objects (files) or time stamps (generated frames)."""
    return value if type(value) is date else pd.Timestamp(value).date()


def _session_problems(frame: pd.DataFrame, origin: str, today: date) -> list[PriceProblem]:
    """Rows dated on a weekend, an NYSE holiday or closure, or after today in New York."""
    sessions = _sessions_through(today)
    not_sessions = [value for value in pd.unique(frame["date"]) if _as_date(value) not in sessions]
    if not not_sessions:
        return []
    outside = frame[frame["date"].isin(not_sessions)]
    days = [_as_date(value) for value in outside["date"]]
    why = [
        f"it is after today, {today} in New York" if day > today else f"a {day:%A}" if day.weekday() >= 5
        else "the exchange was closed that day"
        for day in days
    ]
    return row_problems(
        outside.assign(date=days, why=why), pd.Series(True, index=outside.index), origin,
        "date {date} is not an NYSE session ({why})",
        "Keep only NYSE trading days, dated in New York time (a UTC time stamp can move a bar to the next day).",
    )


def value_columns(frame: pd.DataFrame) -> list[str]:
    """The value columns a batch's frame carries: all of them, or a partial batch's subset."""
    return [c for c in VALUE_COLUMNS if c in frame.columns]


def _range_problems(frame: pd.DataFrame, origin: str, checked: pd.Series) -> list[PriceProblem]:
    """Open and close within the day's [low, high] (adj_close is exempt: dividends and splits move it)."""
    problems: list[PriceProblem] = []
    fix = "Check the row's values and column order (open and close lie between the day's low and high)."
    if "high" not in frame or "low" not in frame:
        return problems
    for column in ("open", "close"):
        if column not in frame:
            continue
        value = frame[column]
        above = checked & value.notna() & frame["high"].notna() & (value > frame["high"] * (1 + RANGE_TOLERANCE))
        below = checked & value.notna() & frame["low"].notna() & (value < frame["low"] * (1 - RANGE_TOLERANCE))
        problems += row_problems(frame, above, origin, f"{column} {{{column}}} is above the day's high {{high}}", fix)
        problems += row_problems(frame, below, origin, f"{column} {{{column}}} is below the day's low {{low}}", fix)
    return problems


def validate_batch(batch: PriceBatch, today: date | None = None) -> ValidatedBatch:
    """Accept or reject `batch` whole. Dates after `today` (default: today in New York) are refused."""
    origin, frame = batch.origin, batch.frame
    if batch.read_errors:
        return ValidatedBatch(origin, None, list(batch.read_errors))
    values = value_columns(frame)
    missing = [c for c in PRICE_COLUMNS + ["row"] if c not in frame.columns and c not in VALUE_COLUMNS]
    missing += [] if values else [f"any of {', '.join(VALUE_COLUMNS)}"]
    if missing:
        problem = PriceProblem(
            origin, None, None, f"missing columns {missing}",
            "Provide the key columns and every value column of the price layout (or, to update stored prices, some of them).",
        )
        return ValidatedBatch(origin, None, [problem])
    if frame.empty:
        return ValidatedBatch(origin, frame.reset_index(drop=True))

    errors: list[PriceProblem] = []
    empty_ticker = frame["ticker"].isna() | (frame["ticker"].astype(str).str.strip() == "")
    errors += row_problems(frame, empty_ticker, origin, "empty ticker", "Fill in the Yahoo symbol of the row or remove the row.")
    plausible = {ticker: plausible_ticker(str(ticker)) for ticker in pd.unique(frame["ticker"])}
    errors += row_problems(
        frame, ~empty_ticker & ~frame["ticker"].map(plausible).astype(bool), origin,
        f"ticker {{ticker!r}} is not a plausible Yahoo symbol ({TICKER_RULE})",
        "Write the Yahoo symbol, e.g. ^GSPC, BRK-B or SPY.",
    )
    errors += _session_problems(frame, origin, today or new_york_today())
    if "close" in frame:
        errors += row_problems(
            frame, frame["close"].isna(), origin, "close is empty", "Every row needs a close; remove the row or fill it in."
        )
    flagged = pd.Series(False, index=frame.index)
    for column in [c for c in PRICE_FIELDS if c in values]:
        not_positive = frame[column].notna() & (frame[column] <= 0)
        too_large = frame[column].notna() & (frame[column] >= MAX_PRICE)
        errors += row_problems(
            frame, not_positive, origin,
            f"{column} is {{{column}}}, prices must be positive", "Correct the price or remove the row.",
        )
        errors += row_problems(
            frame, too_large, origin, f"{column} is {{{column}}}, a price must be below {MAX_PRICE:,.0f}",
            "Correct the price (is it in the right unit?) or remove the row.",
        )
        flagged |= not_positive | too_large
    high_below_low = pd.Series(False, index=frame.index)
    if "high" in frame and "low" in frame:
        high_below_low = frame["high"].notna() & frame["low"].notna() & (frame["high"] < frame["low"])
        errors += row_problems(
            frame, high_below_low, origin, "high {high} is below low {low}", "Check the column order and the values of the row.",
        )
    errors += _range_problems(frame, origin, ~(flagged | high_below_low))
    if "volume" in frame:
        errors += row_problems(
            frame, frame["volume"].notna() & (frame["volume"] < 0), origin,
            "volume is {volume}, it cannot be negative", "Correct the volume or leave it empty.",
        )
    if errors:
        return ValidatedBatch(origin, None, errors)

    key = ["ticker", "date"]
    exact_duplicates = frame.duplicated(subset=key + values, keep="first")
    deduplicated = frame[~exact_duplicates]
    conflicting = deduplicated.duplicated(subset=key, keep=False)
    if conflicting.any():
        errors += row_problems(
            deduplicated, conflicting, origin,
            "{date} appears more than once for this ticker with different values",
            "Keep one row per ticker and date.",
        )
        return ValidatedBatch(origin, None, errors)
    return ValidatedBatch(origin, deduplicated.reset_index(drop=True), [], int(exact_duplicates.sum()))
