"""Price files in the long layout: date,ticker,open,high,low,close,adj_close,volume (one row per ticker and date)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.sources.base import PRICE_COLUMNS, PriceBatch
from orchestration.sources.validation import PriceProblem

LONG_LAYOUT = ["date", "ticker", "open", "high", "low", "close", "adj_close", "volume"]
FIRST_DATA_LINE = 2  # line 1 is the header


def _unreadable(origin: str, problems: list[PriceProblem]) -> PriceBatch:
    return PriceBatch(origin=origin, frame=pd.DataFrame(columns=PRICE_COLUMNS + ["row"]), read_errors=problems)


def read_long_csv(path: Path) -> PriceBatch:
    origin = str(path)
    if not path.is_file():
        return _unreadable(origin, [PriceProblem(origin, None, None, "file not found", "Check the path given to --files.")])
    try:
        text = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return _unreadable(origin, [PriceProblem(origin, None, None, f"not a readable CSV ({exc})", "Export it as UTF-8 CSV.")])
    text.columns = [c.strip().lower() for c in text.columns]
    missing = [c for c in LONG_LAYOUT if c not in text.columns]
    if missing:
        return _unreadable(origin, [PriceProblem(
            origin, 1, None, f"header lacks {', '.join(missing)}",
            f"The header must be {','.join(LONG_LAYOUT)} (adj_close and volume values may be empty).",
        )])

    frame = pd.DataFrame({"row": range(FIRST_DATA_LINE, FIRST_DATA_LINE + len(text))})
    frame["ticker"] = text["ticker"].str.strip().str.upper().to_numpy()
    problems: list[PriceProblem] = []

    dates = pd.to_datetime(text["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    for i in dates.index[dates.isna()][:5]:
        problems.append(PriceProblem(
            origin, int(frame.at[i, "row"]), frame.at[i, "ticker"],
            f"date {text.at[i, 'date']!r} is not a date", "Write dates as YYYY-MM-DD (the exchange trading date).",
        ))
    frame["date"] = dates.dt.date.to_numpy()

    for column in ["open", "high", "low", "close", "adj_close", "volume"]:
        raw = text[column].str.strip()
        numbers = pd.to_numeric(raw.replace("", None), errors="coerce")
        unparsable = raw.ne("") & numbers.isna()
        for i in raw.index[unparsable][:5]:
            problems.append(PriceProblem(
                origin, int(frame.at[i, "row"]), frame.at[i, "ticker"],
                f"{column} {raw[i]!r} is not a number", "Use plain decimal numbers, with '.' as the decimal mark.",
            ))
        frame[column] = numbers.astype("float64").to_numpy()

    fractional_volume = frame["volume"].notna() & (frame["volume"] % 1 != 0)
    for i in frame.index[fractional_volume][:5]:
        problems.append(PriceProblem(
            origin, int(frame.at[i, "row"]), frame.at[i, "ticker"],
            f"volume {frame.at[i, 'volume']} is not a whole number of shares", "Round the volume or leave it empty.",
        ))
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
