"""Price files, in three layouts, each file read as its own batch:

- long CSV:   date,ticker,open,high,low,close,adj_close,volume   (one row per ticker and date)
- Parquet:    the same columns
- Yahoo-style per-ticker CSV: Date,Open,High,Low,Close,Adj Close,Volume in a file named <TICKER>.csv
  (given one by one, or as a folder of such files)

adj_close, volume, open, high and low values may be empty; close may not. Dates are exchange trading
dates, YYYY-MM-DD (a time and UTC offset after the date, as pandas writes them, are ignored).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.extract.base import PRICE_COLUMNS, VALUE_COLUMNS, PriceBatch
from orchestration.land.validation import PriceProblem, row_problems

LONG_LAYOUT = ["date", "ticker"] + VALUE_COLUMNS
YAHOO_LAYOUT = ["date"] + VALUE_COLUMNS  # after lower-casing the header
FIRST_DATA_LINE = 2  # line 1 is the header
DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2})(?:[ T].*)?$"


def _unreadable(origin: str, problems: list[PriceProblem]) -> PriceBatch:
    return PriceBatch(origin=origin, frame=pd.DataFrame(columns=PRICE_COLUMNS + ["row"]), read_errors=problems)


def _header_names(columns) -> list[str]:
    return [str(c).strip().lower().replace(" ", "_") for c in columns]


def _read_table(path: Path) -> pd.DataFrame:
    """The file as text cells, with a `row` column holding each row's line number (data row 1 = line 2)."""
    if path.suffix.lower() == ".parquet":
        table = pd.read_parquet(path)
        text = table.astype(object).where(table.notna(), "").astype(str)
    else:
        text = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False, skip_blank_lines=False
        )
    text.columns = _header_names(text.columns)
    text = text.fillna("")
    text.insert(0, "row", range(FIRST_DATA_LINE, FIRST_DATA_LINE + len(text)))
    return text


def _layout_of(path: Path, columns: list[str]) -> tuple[list[str], str | None]:
    """The expected columns and, for a per-ticker file, the ticker its name gives."""
    if "ticker" in columns or path.suffix.lower() == ".parquet":
        return LONG_LAYOUT, None
    return YAHOO_LAYOUT, path.stem.strip().upper()


def read_price_file(path: Path) -> PriceBatch:
    origin = str(path)
    if not path.is_file():
        return _unreadable(origin, [PriceProblem(origin, None, None, "file not found", "Check the path given to --files.")])
    try:
        text = _read_table(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        return _unreadable(origin, [PriceProblem(
            origin, None, None, f"not a readable price file ({exc})", "Export it as UTF-8 CSV or Parquet."
        )])

    layout, ticker_from_name = _layout_of(path, list(text.columns))
    missing = [c for c in layout if c not in text.columns]
    if missing:
        expected = ",".join(LONG_LAYOUT) + " (or Date,Open,High,Low,Close,Adj Close,Volume in a file named <TICKER>.csv)"
        return _unreadable(origin, [PriceProblem(
            origin, 1, None, f"header lacks {', '.join(missing)}", f"The header must be {expected}."
        )])
    if ticker_from_name is not None:
        text["ticker"] = ticker_from_name

    # Blank lines keep their line numbers but are not rows.
    text = text[["row"] + LONG_LAYOUT].copy()
    for column in LONG_LAYOUT:
        text[column] = text[column].astype(str).str.strip()
    text = text[(text[LONG_LAYOUT] != "").any(axis=1)].reset_index(drop=True)
    text["ticker"] = text["ticker"].str.upper()
    return _parse_rows(origin, text)


def _parse_rows(origin: str, text: pd.DataFrame) -> PriceBatch:
    frame = text[["row", "ticker"]].copy()
    problems: list[PriceProblem] = []
    day = text["date"].str.extract(DATE_PATTERN, expand=False)
    dates = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    problems += row_problems(
        text, dates.isna(), origin, "date {date!r} is not a date", "Write dates as YYYY-MM-DD (the exchange trading date)."
    )
    frame["date"] = dates.dt.date

    for column in VALUE_COLUMNS:
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


def expand_paths(paths: list[Path]) -> list[Path]:
    """A folder stands for the price files in it (CSV and Parquet), in name order."""
    expanded: list[Path] = []
    for path in paths:
        if path.is_dir():
            expanded += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))
        else:
            expanded.append(path)
    return expanded


class FilesSource:
    """Reads each given file as its own batch, so one bad file does not stop the others."""

    def __init__(self, paths: list[str]):
        if not paths:
            raise ValueError("the files source needs at least one file: pass --files PATH or set ROTATION_FILES")
        self.paths = expand_paths([Path(p).expanduser() for p in paths])

    def fetch(self) -> list[PriceBatch]:
        return [read_price_file(path) for path in self.paths]
