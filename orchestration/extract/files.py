"""Price files, in these layouts, each file read as its own batch:

- long CSV:   date,ticker,open,high,low,close,adj_close,volume   (one row per ticker and date)
- Parquet:    the same columns
- partial long CSV or Parquet: date,ticker and some of the value columns, e.g. date,ticker,adj_close;
  it updates those columns of stored prices (the batch's frame holds only the columns it carries)
- Yahoo-style per-ticker CSV: Date,Open,High,Low,Close,Adj Close,Volume in a file named <TICKER>.csv
  (given one by one, or as a folder of such files)

adj_close, volume, open, high and low values may be empty; close may not. Dates are exchange trading
dates, YYYY-MM-DD (a time and UTC offset after the date, as pandas writes them, are ignored).

A CSV file is read record by record, so that a row with more or fewer fields than the header, or a
quoted value holding a line break, is named by the line it starts on instead of shifting the columns.
"""

from __future__ import annotations

import csv
from itertools import zip_longest
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from orchestration.extract.base import PRICE_COLUMNS, VALUE_COLUMNS, PriceBatch
from orchestration.land.validation import MAX_ERRORS_SHOWN, TICKER_RULE, PriceProblem, plausible_ticker, row_problems

LONG_LAYOUT = ["date", "ticker"] + VALUE_COLUMNS
YAHOO_LAYOUT = ["date"] + VALUE_COLUMNS  # after lower-casing the header
FIRST_DATA_LINE = 2  # line 1 is the header
DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2})(?:[ T].*)?$"
PRICE_FILE_SUFFIXES = (".csv", ".parquet")
EXPECTED_HEADER = (
    ",".join(LONG_LAYOUT) + " (or date,ticker and some of its value columns, e.g. date,ticker,adj_close; "
    "or Date,Open,High,Low,Close,Adj Close,Volume in a file named <TICKER>.csv)"
)


class CsvRecords:
    """A CSV file's header and its non-blank records, each with the line it starts on.

    `problems` holds (line, problem) for records whose shape is wrong: more or fewer fields than
    the header (empty fields after the last column are allowed, as some exports write them), or a
    value holding a line break. Raises ValueError (empty file), UnicodeDecodeError, csv.Error or
    OSError when the file cannot be read.
    """

    def __init__(self, path: Path):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, skipinitialspace=True)
            header = next(reader, None)
            if header is None:
                raise ValueError("the file is empty")
            while header and not header[-1].strip():
                header.pop()  # a trailing comma on the header line
            # utf-8-sig drops one byte-order mark; a file saved twice by a BOM-writing editor has two
            self.header = [name.strip() for name in [header[0].lstrip("\ufeff"), *header[1:]]] if header else []
            self.lines: list[int] = []
            self.rows: list[list[str]] = []
            self.problems: list[tuple[int, str]] = []
            start = reader.line_num + 1
            for fields in reader:
                if fields:
                    self._add(start, reader.line_num, fields)
                start = reader.line_num + 1

    def _add(self, line: int, last_line: int, fields: list[str]) -> None:
        width = len(self.header)
        if len(fields) != width and (len(fields) < width or any(value.strip() for value in fields[width:])):
            self.problems.append((line, f"the row has {len(fields)} fields where the header has {width}"))
            return
        if last_line != line:  # a quoted value went on over a line break
            broken = ((n, v) for n, v in zip_longest(self.header, fields, fillvalue="") if "\n" in v or "\r" in v)
            name, value = next(broken, ("", ""))
            self.problems.append((line, f"{name or 'a value'} {value!r} contains a line break, which no price, "
                                        "date or ticker does"))
            return
        self.lines.append(line)
        self.rows.append(fields[:width])


def _unreadable(origin: str, problems: list[PriceProblem]) -> PriceBatch:
    return PriceBatch(origin=origin, frame=pd.DataFrame(columns=PRICE_COLUMNS + ["row"]), read_errors=problems)


def _header_names(columns) -> list[str]:
    return [str(c).strip().lower().replace(" ", "_") for c in columns]


def _read_table(path: Path, origin: str) -> tuple[pd.DataFrame | None, list[PriceProblem]]:
    """The file as text cells with a `row` column (its line number; data row 1 = line 2), or its problems."""
    if path.suffix.lower() == ".parquet":
        table = pd.read_parquet(path)
        text = table.astype(object).where(table.notna(), "").astype(str)
        text.insert(0, "row", range(FIRST_DATA_LINE, FIRST_DATA_LINE + len(text)))
    else:
        records = CsvRecords(path)
        if records.problems:
            fix = "Every row needs one value per column of the header, on one line; check the quotes of the row."
            shown = [PriceProblem(origin, line, None, problem, fix) for line, problem in records.problems[:MAX_ERRORS_SHOWN]]
            more = len(records.problems) - len(shown)
            if more:
                shown.append(PriceProblem(origin, None, None, f"{more} more rows with the same kind of problem", fix))
            return None, shown
        text = pd.DataFrame(records.rows, columns=range(len(records.header)), dtype=object)
        text.columns = records.header
        text.insert(0, "row", records.lines)
    text.columns = ["row"] + _header_names(text.columns[1:])
    repeated = sorted({name for name in text.columns if list(text.columns).count(name) > 1})
    if repeated:
        return None, [PriceProblem(
            origin, 1, None, f"the header names {', '.join(repeated)} more than once", f"The header must be {EXPECTED_HEADER}."
        )]
    return text.fillna(""), []


def partial_value_columns(columns: list[str]) -> list[str] | None:
    """The value columns of a partial long layout (date, ticker and some but not all value columns),
    or None when `columns` is not one."""
    present = [c for c in VALUE_COLUMNS if c in columns]
    if "date" in columns and "ticker" in columns and present and len(present) < len(VALUE_COLUMNS):
        return present
    return None


def _layout_of(path: Path, columns: list[str]) -> tuple[list[str], str | None]:
    """The expected columns and, for a per-ticker file, the ticker its name gives."""
    ticker = path.stem.strip().upper()
    partial = partial_value_columns(columns)
    if partial is not None:
        return ["date", "ticker"] + partial, None
    if "ticker" in columns or path.suffix.lower() == ".parquet" or not plausible_ticker(ticker):
        return LONG_LAYOUT, None
    return YAHOO_LAYOUT, ticker


def _header_problem(path: Path, origin: str, missing: list[str]) -> PriceProblem:
    problem = f"header lacks {', '.join(missing)}"
    if "ticker" in missing and path.suffix.lower() != ".parquet":
        problem += (
            f" (a file without a ticker column holds one ticker and is named after it, <TICKER>.csv; "
            f"{path.stem!r} is not a plausible Yahoo symbol: {TICKER_RULE})"
        )
    return PriceProblem(origin, 1, None, problem, f"The header must be {EXPECTED_HEADER}.")


def read_price_file(path: Path) -> PriceBatch:
    origin = str(path)
    if not path.is_file():
        return _unreadable(origin, [PriceProblem(origin, None, None, "file not found", "Check the path given to --files.")])
    try:
        text, problems = _read_table(path, origin)
    except (csv.Error, UnicodeDecodeError, OSError, ValueError) as exc:
        return _unreadable(origin, [PriceProblem(
            origin, None, None, f"not a readable price file ({exc})", "Export it as UTF-8 CSV or Parquet."
        )])
    if problems:
        return _unreadable(origin, problems)

    layout, ticker_from_name = _layout_of(path, list(text.columns))
    missing = [c for c in layout if c not in text.columns]
    if missing:
        return _unreadable(origin, [_header_problem(path, origin, missing)])
    if ticker_from_name is not None:
        text["ticker"] = ticker_from_name

    kept = [c for c in LONG_LAYOUT if c in layout or c == "ticker"]
    text = text[["row"] + kept].copy()
    for column in kept:
        text[column] = text[column].astype(str).str.strip()
    text = text[(text[kept] != "").any(axis=1)].reset_index(drop=True)
    text["ticker"] = text["ticker"].str.upper()
    batch = _parse_rows(origin, text)
    if text.empty:
        batch.warnings.append(PriceProblem(
            origin, None, None, "the file has a header but no rows, so nothing was loaded from it",
            "Check that the export finished; remove the file if it is meant to be empty.",
        ))
    return batch


def _parse_rows(origin: str, text: pd.DataFrame) -> PriceBatch:
    """The typed rows; a partial file's frame has only the value columns it carries."""
    value_columns = [c for c in VALUE_COLUMNS if c in text.columns]
    frame = text[["row", "ticker"]].copy()
    problems: list[PriceProblem] = []
    day = text["date"].str.extract(DATE_PATTERN, expand=False)
    dates = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    problems += row_problems(
        text, dates.isna(), origin, "date {date!r} is not a date", "Write dates as YYYY-MM-DD (the exchange trading date)."
    )
    frame["date"] = dates.dt.date

    for column in value_columns:
        numbers = pd.to_numeric(text[column].replace("", None), errors="coerce").astype("float64")
        problems += row_problems(
            text, text[column].ne("") & ~np.isfinite(numbers), origin,
            f"{column} {{{column}!r}} is not a number", "Use plain decimal numbers, with '.' as the decimal mark.",
        )
        frame[column] = numbers

    if "volume" in frame:
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

    if "volume" in frame:
        frame["volume"] = frame["volume"].astype("Int64")
    frame["source"] = "files"
    return PriceBatch(origin=origin, frame=frame[[c for c in PRICE_COLUMNS if c in frame] + ["row"]])


# --- which files a folder stands for -----------------------------------------------------------


def _header_of(path: Path) -> list[str]:
    """The file's column names (lower-cased, spaces as underscores); raises when it cannot be read."""
    if path.suffix.lower() == ".parquet":
        return _header_names(pq.read_schema(path).names)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return _header_names(name.lstrip("\ufeff") for name in next(csv.reader(handle, skipinitialspace=True), []))


def price_layout_problem(path: Path) -> str | None:
    """Why the file in a folder is not a price file, or None when its header is a price layout."""
    try:
        columns = _header_of(path)
    except Exception as exc:  # any file may sit in a folder; an unreadable one is skipped, not fatal
        return f"its header cannot be read ({exc})"
    if set(LONG_LAYOUT) <= set(columns) or partial_value_columns(columns) is not None:
        return None
    if path.suffix.lower() == ".csv" and set(YAHOO_LAYOUT) <= set(columns):
        return None
    shown = ",".join(columns) or "empty"
    return f"its header ({shown}) is not a price layout, which is {EXPECTED_HEADER}"


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files to read, and the files of the folders that were skipped with the reason.

    A folder stands for the price files in it (CSV and Parquet whose header is a price layout), in
    name order; other files in it are left alone. A file given by name is always read."""
    expanded: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for path in paths:
        if not path.is_dir():
            expanded.append(path)
            continue
        for candidate in sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PRICE_FILE_SUFFIXES):
            why = price_layout_problem(candidate)
            if why is None:
                expanded.append(candidate)
            else:
                skipped.append((candidate, why))
    return expanded, skipped


class FilesSource:
    """Reads each given file as its own batch, so one bad file does not stop the others.

    `skipped` lists the (path, reason) of the files of a given folder that are not price files;
    they are neither read nor moved."""

    def __init__(self, paths: list[str]):
        if not paths:
            raise ValueError("the files source needs at least one file: pass --files PATH or set ROTATION_FILES")
        self.paths, self.skipped = expand_paths([Path(p).expanduser() for p in paths])

    def fetch(self) -> list[PriceBatch]:
        return [read_price_file(path) for path in self.paths]
