"""User files for the valuation tables: index membership, valuation snapshots, imported P/E history.

Layouts (CSV with a header; extra columns are ignored):

- membership: ``index_name,ticker,as_of_date,weight,sector`` (weight a fraction, may be empty), or
  an iShares holdings download whose name starts with IVV (sp500) or IWM (russell2000);
- valuation snapshots: ``ticker,as_of_date,market_cap,shares_outstanding,forward_eps,trailing_eps,
  forward_pe,trailing_pe,sector,industry`` (numbers may be empty);
- imported valuation history: ``index_name,as_of_date,forward_pe`` (e.g. a vendor's monthly series).

A file with a bad row is rejected whole, with a message naming the file, the line and the fix.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.extract.ishares import FUNDS, HoldingsError, parse_holdings
from orchestration.land.guidance_landing import FileProblem

LAYOUTS = {
    "membership": (["index_name", "ticker", "as_of_date"], ["weight"], ["sector"]),
    "valuations": (
        ["ticker", "as_of_date"],
        ["market_cap", "shares_outstanding", "forward_eps", "trailing_eps", "forward_pe", "trailing_pe"],
        ["sector", "industry"],
    ),
    "history": (["index_name", "as_of_date", "forward_pe"], [], []),
}


def read_table_file(path: Path, layout: str) -> tuple[pd.DataFrame | None, list[FileProblem]]:
    required, numbers, texts = LAYOUTS[layout]
    name = str(path)
    if layout == "membership":
        fund = next((index for index, (fund, _) in FUNDS.items() if path.name.upper().startswith(fund)), None)
        if fund is not None:
            try:
                return parse_holdings(path.read_text(encoding="utf-8-sig"), fund, name), []
            except HoldingsError as error:
                return None, [FileProblem(name, None, str(error), "Load an unmodified iShares holdings download.")]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        return None, [FileProblem(name, None, f"cannot be read ({error})", "Give a comma-separated UTF-8 file with a header.")]
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]  # optional columns may be left out
    if missing:
        return None, [FileProblem(name, 1, f"the header lacks {', '.join(missing)}",
                                  f"The {layout} layout is {','.join(required + numbers + texts)}.")]
    problems = []
    out = pd.DataFrame({c: frame[c].str.strip() if c in frame else "" for c in required + numbers + texts})
    for column in required:
        empty = out.index[out[column] == ""]
        if len(empty):
            problems.append(FileProblem(name, int(empty[0]) + 2, f"{column} is empty ({len(empty)} rows)", f"Fill in {column}."))
    dates = pd.to_datetime(out["as_of_date"], format="%Y-%m-%d", errors="coerce")
    bad_dates = out.index[dates.isna() & (out["as_of_date"] != "")]
    if len(bad_dates):
        problems.append(FileProblem(name, int(bad_dates[0]) + 2, f"as_of_date {out.at[bad_dates[0], 'as_of_date']!r} is not a date",
                                    "Write dates as YYYY-MM-DD."))
    for column in numbers + (["forward_pe"] if layout == "history" else []):
        text = out[column]
        values = pd.to_numeric(text.replace("", None), errors="coerce")
        bad = out.index[values.isna() & (text != "")]
        if len(bad):
            problems.append(FileProblem(name, int(bad[0]) + 2, f"{column} {text[bad[0]]!r} is not a number",
                                        "Write plain decimal numbers (no thousands separators)."))
        out[column] = values
    if problems:
        return None, problems
    out["as_of_date"] = dates.dt.date
    for column in texts:
        out[column] = out[column].replace("", None)
    return out, []
