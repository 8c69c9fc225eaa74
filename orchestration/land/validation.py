"""Checks every price batch must pass before any of it is loaded.

A batch (one file, one generated market) is accepted or rejected as a whole: a rejected batch
loads nothing, and its errors name the origin, the row, the ticker, what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from orchestration.extract.base import (
    PRICE_COLUMNS,
    PRICE_FIELDS,
    VALUE_COLUMNS,
    PriceBatch,
)

MAX_ERRORS_SHOWN = 5


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
            where += f", ticker {self.ticker}"
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


def validate_batch(batch: PriceBatch) -> ValidatedBatch:
    origin, frame = batch.origin, batch.frame
    if batch.read_errors:
        return ValidatedBatch(origin, None, list(batch.read_errors))
    missing = [c for c in PRICE_COLUMNS + ["row"] if c not in frame.columns]
    if missing:
        problem = PriceProblem(origin, None, None, f"missing columns {missing}", "Provide every column of the price layout.")
        return ValidatedBatch(origin, None, [problem])

    errors: list[PriceProblem] = []
    errors += row_problems(
        frame, frame["ticker"].isna() | (frame["ticker"].astype(str).str.strip() == ""), origin,
        "empty ticker", "Fill in the Yahoo symbol of the row or remove the row.",
    )
    errors += row_problems(
        frame, frame["close"].isna(), origin, "close is empty", "Every row needs a close; remove the row or fill it in."
    )
    for column in PRICE_FIELDS:
        errors += row_problems(
            frame, frame[column].notna() & (frame[column] <= 0), origin,
            f"{column} is {{{column}}}, prices must be positive", "Correct the price or remove the row.",
        )
    errors += row_problems(
        frame, frame["high"].notna() & frame["low"].notna() & (frame["high"] < frame["low"]), origin,
        "high {high} is below low {low}", "Check the column order and the values of the row.",
    )
    errors += row_problems(
        frame, frame["volume"].notna() & (frame["volume"] < 0), origin,
        "volume is {volume}, it cannot be negative", "Correct the volume or leave it empty.",
    )
    if errors:
        return ValidatedBatch(origin, None, errors)

    key = ["ticker", "date"]
    exact_duplicates = frame.duplicated(subset=key + VALUE_COLUMNS, keep="first")
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
