"""Guidance files dropped in the landing folder: validated, loaded once each, or quarantined whole.

Two kinds of CSV file, told apart by their header:

- guidance events: ``ticker,announced_date,fiscal_quarter,eps_low,eps_high,consensus_eps_before``
  (a single-value guidance leaves one of eps_low/eps_high empty, or gives both the same value);
- published counts: ``index_name,fiscal_quarter,as_of_date,negative_count,positive_count,total_count``
  and optionally ``source_url`` (as_of_date may be empty when the publication gave none).

Each file is identified by the SHA-256 of its content and recorded in raw.landed_files in the same
transaction as its rows, so a file (even renamed or copied again) is processed once, and an
interrupted load leaves nothing behind. A file with any bad row loads nothing: it is moved to the
quarantine folder beside a reason file naming the rows and the fix. So is a file whose load fails
for any other reason, on its first failure, so that it never blocks the files after it or later runs.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.extract.files import CsvRecords
from orchestration.land.quarantine import quarantine_file
from orchestration.land.tables import ensure_raw_schema, now_utc
from orchestration.land.upsert import LoadCounts, upsert

SOURCE = "files"
EVENT_COLUMNS = ["ticker", "announced_date", "fiscal_quarter", "eps_low", "eps_high", "consensus_eps_before"]
COUNT_COLUMNS = ["index_name", "fiscal_quarter", "as_of_date", "negative_count", "positive_count", "total_count"]
QUARTER = re.compile(r"^\d{4}Q[1-4]$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The largest index counted has about 3,000 members; a count above this is a typing or unit error.
MAX_COUNT = 10_000


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.message}. {self.fix}"


@dataclass
class LandingReport:
    loaded: list[str] = field(default_factory=list)
    already_processed: list[str] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (original, quarantined path)
    problems: list[FileProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    events: LoadCounts = field(default_factory=LoadCounts)
    counts: LoadCounts = field(default_factory=LoadCounts)


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pending_files(folder: Path) -> list[Path]:
    """The CSV files in `folder` (not its sub-folders), by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


# --- parsing and validation --------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if pd.notna(value) and abs(value) != float("inf") else None


def _whole(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d+", text) else None


def _valid_date(text: str) -> bool:
    if not DATE.match(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def read_guidance_file(path: Path) -> tuple[str | None, pd.DataFrame | None, list[FileProblem]]:
    """(kind, rows ready for the raw table, problems); kind is guidance_events or guidance_counts."""
    name = str(path)
    try:
        records = CsvRecords(path)
    except (csv.Error, UnicodeDecodeError, ValueError) as error:
        return None, None, [FileProblem(name, None, f"not a readable CSV file ({error})",
                                        "Save it as a comma-separated UTF-8 file with a header line.")]
    if records.problems:
        fix = "Every row needs one value per column of the header, on one line; check its commas and quotes."
        return None, None, [FileProblem(name, line, problem, fix) for line, problem in records.problems]
    header = [c.lower() for c in records.header]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        return None, None, [FileProblem(name, 1, f"the header names {', '.join(repeated)} more than once",
                                        "Name each column once.")]
    frame = pd.DataFrame(records.rows, columns=header, dtype=object).apply(lambda column: column.str.strip())
    frame.index = [line - 2 for line in records.lines]  # so that index + 2 is the row's line
    if set(EVENT_COLUMNS) <= set(frame.columns):
        return "guidance_events", *_events(name, frame)
    if set(COUNT_COLUMNS) <= set(frame.columns):
        return "guidance_counts", *_counts(name, frame)
    return None, None, [FileProblem(
        name, 1, f"the header ({', '.join(frame.columns)}) is neither a guidance-events nor a published-counts header",
        f"Use `{','.join(EVENT_COLUMNS)}` or `{','.join(COUNT_COLUMNS)}[,source_url]`.",
    )]


def _events(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame | None, list[FileProblem]]:
    problems, rows = [], []
    for position, row in zip(frame.index, frame.itertuples(index=False)):
        line = position + 2
        bad = lambda message, fix, line=line: problems.append(FileProblem(name, line, message, fix))  # noqa: E731
        if not row.ticker:
            bad("the ticker is empty", "Give the company's Yahoo symbol.")
        if not _valid_date(row.announced_date):
            bad(f"announced_date {row.announced_date!r} is not a date", "Write it as YYYY-MM-DD.")
        if not QUARTER.match(row.fiscal_quarter):
            bad(f"fiscal_quarter {row.fiscal_quarter!r} is not a quarter", "Write it as YYYYQn, e.g. 2025Q4.")
        low = _number(row.eps_low) if row.eps_low else None
        high = _number(row.eps_high) if row.eps_high else None
        consensus = _number(row.consensus_eps_before) if row.consensus_eps_before else None
        for label, text, value in [("eps_low", row.eps_low, low), ("eps_high", row.eps_high, high)]:
            if text and value is None:
                bad(f"{label} {text!r} is not a number", "Write EPS as a plain decimal number, e.g. 1.25.")
        if not row.eps_low and not row.eps_high:
            bad("both eps_low and eps_high are empty", "Give the guided EPS range, or the single value in one of them.")
        if low is not None and high is not None and low > high:
            bad(f"eps_low {low} is above eps_high {high}", "Swap the two values.")
        if consensus is None:
            bad(f"consensus_eps_before {row.consensus_eps_before!r} is not a number",
                "Give the mean EPS estimate of the day before the guidance.")
        rows.append((row.ticker, row.announced_date, row.fiscal_quarter, low, high, consensus))
    events = pd.DataFrame(rows, columns=EVENT_COLUMNS, index=frame.index)
    problems += _conflicting_duplicates(name, events, ["ticker", "announced_date", "fiscal_quarter"])
    if problems:
        return None, problems
    events["announced_date"] = pd.to_datetime(events["announced_date"]).dt.date
    return events.drop_duplicates().reset_index(drop=True), []


def _counts(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame | None, list[FileProblem]]:
    problems, rows = [], []
    has_url = "source_url" in frame.columns
    for position, row in zip(frame.index, frame.itertuples(index=False)):
        line = position + 2
        bad = lambda message, fix, line=line: problems.append(FileProblem(name, line, message, fix))  # noqa: E731
        if not re.fullmatch(r"[a-z0-9_]+", row.index_name):
            bad(f"index_name {row.index_name!r} is not an index name", "Use the warehouse's name, e.g. sp500.")
        if not QUARTER.match(row.fiscal_quarter):
            bad(f"fiscal_quarter {row.fiscal_quarter!r} is not a quarter", "Write it as YYYYQn, e.g. 2025Q4.")
        if row.as_of_date and not _valid_date(row.as_of_date):
            bad(f"as_of_date {row.as_of_date!r} is not a date", "Write it as YYYY-MM-DD, or leave it empty when unknown.")
        counts = {c: _whole(getattr(row, c)) for c in ("negative_count", "positive_count", "total_count")}
        for column, value in counts.items():
            if value is None:
                bad(f"{column} {getattr(row, column)!r} is not a whole number", "Give a count of companies (0 or more).")
            elif value > MAX_COUNT:
                bad(f"{column} {value} is not a plausible count of companies (at most {MAX_COUNT:,})",
                    "Give the number of companies, e.g. 112.")
                counts[column] = None
        if None not in counts.values() and counts["negative_count"] + counts["positive_count"] > counts["total_count"]:
            bad(f"negative_count + positive_count ({counts['negative_count'] + counts['positive_count']}) exceeds "
                f"total_count ({counts['total_count']})", "total_count counts every company that issued guidance.")
        rows.append((row.index_name, row.fiscal_quarter, row.as_of_date or None, *counts.values(),
                     (row.source_url or None) if has_url else None))
    published = pd.DataFrame(rows, columns=COUNT_COLUMNS + ["source_url"], index=frame.index)
    problems += _conflicting_duplicates(name, published, ["index_name", "fiscal_quarter", "as_of_date"])
    if problems:
        return None, problems
    published["as_of_date"] = pd.to_datetime(published["as_of_date"]).dt.date
    published["as_of_date"] = published["as_of_date"].astype(object).where(published["as_of_date"].notna(), None)
    return published.drop_duplicates().reset_index(drop=True), []


def _conflicting_duplicates(name: str, frame: pd.DataFrame, keys: list[str]) -> list[FileProblem]:
    distinct = frame.drop_duplicates()
    repeated = distinct[distinct.duplicated(keys, keep=False)]
    if repeated.empty:
        return []
    first = repeated.iloc[0]
    lines = [int(i) + 2 for i in frame.index[(frame[keys].astype(str) == first[keys].astype(str)).all(axis=1)]]
    return [FileProblem(name, lines[0], f"{', '.join(f'{k}={first[k]}' for k in keys)} appears with different values "
                                        f"on lines {', '.join(map(str, lines))}", "Keep one of those rows.")]


# --- loading -----------------------------------------------------------------------------------


def process_landing_folder(
    con: duckdb.DuckDBPyConnection, folder: Path, quarantine: Path, load_id: str | None = None
) -> LandingReport:
    """Load every not-yet-processed file of `folder`; quarantine the bad ones, and any file whose
    processing fails, so the others still land. The upserts are recorded in raw.load_log under
    `load_id` (default: one load per file)."""
    ensure_raw_schema(con)
    report = LandingReport()
    for path in pending_files(folder):
        try:
            problems = _land_file(con, path, load_id, report)
        except Exception as error:  # a file must never block the others or later runs, whatever went wrong
            problems = [FileProblem(str(path), None, f"loading it failed ({type(error).__name__}: {error})",
                                    "Check the file; if it looks right, report this error with the file.")]
        if problems:
            report.problems += problems
            _quarantine(path, problems, folder, quarantine, report)
    return report


def _quarantine(path: Path, problems: list[FileProblem], folder: Path, quarantine: Path, report: LandingReport) -> None:
    try:
        target = quarantine_file(path, problems, quarantine, now_utc(), owned_folder=folder)
    except OSError as error:
        report.problems.append(FileProblem(str(path), None, f"it could not be quarantined ({error})",
                                           f"Move it out of {folder} by hand."))
        return
    report.quarantined.append((str(path), str(target)))


def _land_file(con: duckdb.DuckDBPyConnection, path: Path, load_id: str | None, report: LandingReport) -> list[FileProblem]:
    """Load one file in one transaction with its record in raw.landed_files; its problems if it is bad."""
    digest = content_hash(path)
    if con.execute("SELECT 1 FROM raw.landed_files WHERE content_sha256 = ?", [digest]).fetchall():
        report.already_processed.append(str(path))
        return []
    kind, rows, problems = read_guidance_file(path)
    if problems:
        return problems
    when = now_utc()
    table = f"raw.{kind}"
    rows["source_file"] = path.name
    con.execute("BEGIN TRANSACTION")
    try:
        counts = upsert(con, table, rows, SOURCE, ingested_at=when, load_id=load_id, in_transaction=True)
        con.execute(
            "INSERT INTO raw.landed_files VALUES (?, ?, ?, 'loaded', ?, ?, ?)",
            [digest, path.name, kind, len(rows), str(counts), when],
        ).fetchall()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if kind == "guidance_events":
        report.events += counts
    else:
        report.counts += counts
    report.loaded.append(str(path))
    if rows.empty:
        report.warnings.append(f"{path}: the file has a header but no rows, so nothing was loaded from it (it is "
                               "recorded as processed). Drop the file again with its rows if the export was cut short.")
    return []
