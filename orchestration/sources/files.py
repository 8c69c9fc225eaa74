"""Price files in the long layout: date,ticker,open,high,low,close,adj_close,volume (one row per ticker and date)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.sources.base import PRICE_COLUMNS, PriceBatch
from orchestration.sources.validation import PriceProblem, row_problems

LONG_LAYOUT = ["date", "ticker", "open", "high", "low", "close", "adj_close", "volume"]
FIRST_DATA_LINE = 2  # line 1 is the header


def _unreadable(origin: str, problems: list[PriceProblem]) -> PriceBatch:
    return PriceBatch(origin=origin, frame=pd.DataFrame(columns=PRICE_COLUMNS + ["row"]), read_errors=problems)


def read_long_csv(path: Path) -> PriceBatch:
    origin = str(path)
    if not path.is_file():
        return _unreadable(origin, [PriceProblem(origin, None, None, "file not found", "Check the path given to --files.")])
    try:
        text = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False, skip_blank_lines=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return _unreadable(origin, [PriceProblem(origin, None, None, f"not a readable CSV ({exc})", "Export it as UTF-8 CSV.")])
    text.columns = [str(c).strip().lower() for c in text.columns]
    missing = [c for c in LONG_LAYOUT if c not in text.columns]
    if missing:
        return _unreadable(origin, [PriceProblem(
            origin, 1, None, f"header lacks {', '.join(missing)}",
            f"The header must be {','.join(LONG_LAYOUT)} (adj_close and volume values may be empty).",
        )])

    # Row numbers are line numbers: count blank lines, then drop them.
    text = text[LONG_LAYOUT].fillna("").apply(lambda column: column.str.strip())
    text.insert(0, "row", range(FIRST_DATA_LINE, FIRST_DATA_LINE + len(text)))
    text = text[(text[LONG_LAYOUT] != "").any(axis=1)].reset_index(drop=True)
    text["ticker"] = text["ticker"].str.upper()

    frame = text[["row", "ticker"]].copy()
    problems: list[PriceProblem] = []
    dates = pd.to_datetime(text["date"], format="%Y-%m-%d", errors="coerce")
    problems += row_problems(
        text, dates.isna(), origin, "date {date!r} is not a date", "Write dates as YYYY-MM-DD (the exchange trading date)."
    )
    frame["date"] = dates.dt.date

    for column in ["open", "high", "low", "close", "adj_close", "volume"]:
        numbers = pd.to_numeric(text[column].replace("", None), errors="coerce").astype("float64")
        problems += row_problems(
            text, text[column].ne("") & ~np.isfinite(numbers), origin,
            f"{column} {{{column}!r}} is not a number", "Use plain decimal numbers, with '.' as the decimal mark.",
        )
        frame[column] = numbers

    volume = frame["volume"]
    problems += row_problems(
        text, volume.notna() & (volume % 1 != 0), origin,
        "volume {volume} is not a whole number of shares", "Round the volume or leave it empty.",
    )
    problems += row_problems(
        text, volume.notna() & (volume.abs() >= 2**63), origin,
        "volume {volume} is too large to be a share count", "Correct the volume or leave it empty.",
    )
    if problems:
        return _unreadable(origin, problems)

    frame["volume"] = frame["volume"].astype("Int64")
    frame["source"] = "files"
    return PriceBatch(origin=origin, frame=frame[PRICE_COLUMNS + ["row"]])


class FilesSource:
    """Reads each given file as its own batch, so one bad file does not stop the others."""

    name = "files"

    def __init__(self, paths: list[str]):
        if not paths:
            raise ValueError("the files source needs at least one file: pass --files PATH or set ROTATION_FILES")
        self.paths = [Path(p).expanduser() for p in paths]

    def fetch(self) -> list[PriceBatch]:
        return [read_long_csv(path) for path in self.paths]
