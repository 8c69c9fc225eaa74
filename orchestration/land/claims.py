"""Claims files (YAML, one per article or note): validated, then loaded into raw.claims, or quarantined whole.

A file's claims replace the claims of the same file name in one transaction, so checking a corrected
file again leaves no stale claim behind. Each content is recorded in raw.landed_files (kind `claims`);
a file whose content already holds the claims of its name is skipped. A file with any bad claim loads
nothing: it is quarantined beside a reason file naming the claims, fields and fixes; the other files
still land. The layout is in the README ("Claim checks").
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from orchestration.land.quarantine import quarantine_file
from orchestration.land.tables import ensure_raw_schema, now_utc
from orchestration.universe import Universe, load_universe

WINDOW = re.compile(r"^(wtd|mtd|qtd|ytd|[1-9]\d*d)$")
QUARTER = re.compile(r"^\d{4}Q[1-4]$")
COMPARISONS = ("=", ">", "<", ">=", "<=")
COMMON_FIELDS = {"id", "kind", "text", "as_of", "tolerance", "comparison"}
# Per kind: the fields it needs, and those it may carry.
KINDS: dict[str, tuple[set[str], set[str]]] = {
    "streak": ({"pair", "sessions"}, {"longest_since"}),
    "return": ({"ticker", "window", "value"}, set()),
    "relative_return": ({"leader", "laggard", "window", "value"}, set()),
    "sector_return": ({"sector", "window", "value"}, {"method"}),
    "sector_spread": ({"value"}, {"window"}),
    "cohort_return": ({"cohort", "window", "value"}, {"weighting"}),
    "forward_pe": ({"universe", "value"}, {"matches_high_of"}),
    "guidance_count": ({"index", "fiscal_quarter", "negative"}, {"total", "lowest_since"}),
}
CHOICES = {"method": ("etf", "constituents"), "weighting": ("equal", "cap")}
COLUMNS = [
    "claim_file", "claim_id", "source", "as_of", "kind", "claim_text", "ticker", "leader", "laggard", "pair_id",
    "sector", "method", "cohort", "weighting", "universe", "index_name", "fiscal_quarter", "window_spec",
    "stated_value", "tolerance", "comparison", "sessions", "longest_since", "matches_high_of", "negative", "total",
    "lowest_since", "parameters", "content_sha256", "source_file", "ingested_at",
]


@dataclass(frozen=True)
class ClaimProblem:
    file: str
    claim_id: str | None
    field: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = self.file + (f", claim {self.claim_id}" if self.claim_id else "") + (f", field {self.field}" if self.field else "")
        return f"{where}: {self.message}. {self.fix}"


@dataclass
class ClaimsReport:
    loaded: list[str] = field(default_factory=list)
    already_processed: list[str] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (original, quarantined path)
    problems: list[ClaimProblem] = field(default_factory=list)
    claims_loaded: int = 0


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pending_files(folder: Path) -> list[Path]:
    """The YAML files in `folder` (not its sub-folders), by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yml", ".yaml"))


# --- validation --------------------------------------------------------------------------------


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _year(value: object) -> int | None:
    return value if _whole(value) is not None and 1800 <= value <= 2200 else None


class _Checker:
    """Collects the problems of one claim."""

    def __init__(self, name: str, claim_id: str | None, universe: Universe):
        self.name, self.claim_id, self.universe = name, claim_id, universe
        self.problems: list[ClaimProblem] = []

    def bad(self, field_name: str | None, message: str, fix: str) -> None:
        self.problems.append(ClaimProblem(self.name, self.claim_id, field_name, message, fix))

    def ticker(self, claim: dict, key: str) -> None:
        value = claim.get(key)
        if value is not None and str(value) not in set(self.universe.symbols):
            self.bad(key, f"ticker {value!r} is not in the universe",
                     "Use a ticker of dbt_project/seeds/universe_tickers.csv (Yahoo symbols, e.g. ^RUT), or add it there.")


def validate_claims(name: str, document: object, universe: Universe) -> tuple[list[dict], list[ClaimProblem]]:
    """(one dict per claim with raw.claims' parameter columns, problems) of a parsed claims file."""
    if not isinstance(document, dict):
        return [], [ClaimProblem(name, None, None, "the file is not a YAML mapping",
                                 "Start it with `source:`, `as_of:` and `claims:` (see the README, Claim checks).")]
    problems: list[ClaimProblem] = []
    unknown = sorted(set(document) - {"source", "as_of", "claims"})
    if unknown:
        problems.append(ClaimProblem(name, None, ", ".join(map(str, unknown)), "unknown top-level field",
                                     "A claims file has `source`, `as_of` and `claims`; move claim fields into a claim."))
    file_as_of = document.get("as_of")
    if file_as_of is not None and _day(file_as_of) is None:
        problems.append(ClaimProblem(name, None, "as_of", f"{file_as_of!r} is not a date", "Write it as YYYY-MM-DD."))
        file_as_of = None
    source = document.get("source")
    claims = document.get("claims")
    if not isinstance(claims, list) or not claims:
        problems.append(ClaimProblem(name, None, "claims", "the file has no list of claims",
                                     "List the claims under `claims:`, each starting with `- id:`."))
        return [], problems
    rows, seen = [], set()
    for position, claim in enumerate(claims, start=1):
        if not isinstance(claim, dict):
            problems.append(ClaimProblem(name, f"#{position}", None, "the claim is not a mapping",
                                         "Write each claim as `- id: ...` followed by its fields."))
            continue
        claim_id = claim.get("id")
        check = _Checker(name, str(claim_id) if claim_id is not None else f"#{position}", universe)
        if claim_id is None or str(claim_id).strip() == "":
            check.bad("id", "the claim has no id", "Give every claim a short id, unique in the file, e.g. r2k-5d.")
        elif str(claim_id) in seen:
            check.bad("id", "the id is used by an earlier claim of the file", "Give every claim its own id.")
        seen.add(str(claim_id))
        row = _claim_row(claim, file_as_of, check)
        problems += check.problems
        if not check.problems:
            rows.append({**row, "claim_id": str(claim_id), "source": None if source is None else str(source)})
    return rows, problems


def _claim_row(claim: dict, file_as_of: object, check: _Checker) -> dict:
    kind = claim.get("kind")
    if kind not in KINDS:
        check.bad("kind", f"unknown kind {kind!r}" if kind is not None else "the claim has no kind",
                  f"Use one of {', '.join(KINDS)}.")
        return {}
    required, optional = KINDS[kind]
    for missing in sorted(required - set(claim)):
        check.bad(missing, f"a {kind} claim needs `{missing}`", "Add it (see the README, Claim checks).")
    for extra in sorted(set(claim) - required - optional - COMMON_FIELDS):
        check.bad(str(extra), f"`{extra}` is not a field of a {kind} claim",
                  f"Use only {', '.join(sorted(required | optional | COMMON_FIELDS))}.")
    as_of = claim.get("as_of", file_as_of)
    if as_of is None:
        check.bad("as_of", "the claim has no as_of date", "Give `as_of: YYYY-MM-DD` to the file or to the claim.")
    elif _day(as_of) is None:
        check.bad("as_of", f"{as_of!r} is not a date", "Write it as YYYY-MM-DD.")
    for key in ("value", "tolerance"):
        if claim.get(key) is not None and _number(claim[key]) is None:
            check.bad(key, f"{claim[key]!r} is not a number", "Write a plain number; returns as decimal fractions, e.g. 0.0164.")
    if _number(claim.get("tolerance")) is not None and claim["tolerance"] < 0:
        check.bad("tolerance", "the tolerance is negative", "Give a tolerance of 0 or more, or leave it out.")
    comparison = claim.get("comparison", "=")
    if comparison not in COMPARISONS:
        check.bad("comparison", f"unknown comparison {comparison!r}", f"Use one of {' '.join(COMPARISONS)}.")
    window = claim.get("window")
    if window is not None and not WINDOW.match(str(window)):
        check.bad("window", f"window {window!r} is not understood", "Use 1d, 5d, <N>d (N sessions), wtd, mtd, qtd or ytd.")
    for key in ("ticker", "leader", "laggard"):
        check.ticker(claim, key)
    universe = check.universe
    if "pair" in claim and claim["pair"] not in set(universe.pairs["pair_id"]):
        check.bad("pair", f"pair {claim['pair']!r} is not in the universe seed",
                  "Use a pair_id of dbt_project/seeds/universe_pairs.csv, e.g. russell2000_vs_sp500.")
    if "sector" in claim and claim["sector"] not in set(universe.tickers["sector"].dropna()):
        check.bad("sector", f"sector {claim['sector']!r} is not a sector of the universe",
                  "Use a sector name of dbt_project/seeds/universe_tickers.csv, e.g. Utilities.")
    if "cohort" in claim and claim["cohort"] not in set(universe.cohorts["cohort"]):
        check.bad("cohort", f"cohort {claim['cohort']!r} is not in the universe seed",
                  "Use a cohort of dbt_project/seeds/universe_cohorts.csv, e.g. magnificent_7.")
    for key in ("universe", "index"):
        if key in claim and claim[key] not in set(universe.tickers["index_name"].dropna()):
            check.bad(key, f"index {claim[key]!r} is not an index of the universe", "Use an index_name of the universe, e.g. sp500.")
    for key, choices in CHOICES.items():
        if key in claim and claim[key] not in choices:
            check.bad(key, f"{claim[key]!r} is not a {key}", f"Use one of {', '.join(choices)}.")
    for key in ("sessions", "negative", "total"):
        if key in claim and _whole(claim[key]) is None:
            check.bad(key, f"{claim[key]!r} is not a whole number", "Give a count, 0 or more.")
    for key in ("fiscal_quarter", "lowest_since"):
        if key in claim and not QUARTER.match(str(claim[key])):
            check.bad(key, f"{claim[key]!r} is not a quarter", "Write it as YYYYQn, e.g. 2025Q4.")
    since = claim.get("longest_since")
    if since is not None and _year(since) is None and _day(since) is None:
        check.bad("longest_since", f"{since!r} is neither a year nor a date", "Write a year (1990) or a date (YYYY-MM-DD).")
    if claim.get("matches_high_of") is not None and _year(claim["matches_high_of"]) is None:
        check.bad("matches_high_of", f"{claim['matches_high_of']!r} is not a year", "Write a year, e.g. 2021.")
    if check.problems:
        return {}
    # The stated figure: the value, else the kind's count (streak sessions, negative guidance count).
    stated = claim.get("value", claim.get("sessions", claim.get("negative")))
    text = lambda key: None if claim.get(key) is None else str(claim[key])  # noqa: E731
    return {
        "as_of": _day(as_of), "kind": kind, "claim_text": text("text"), "ticker": text("ticker"),
        "leader": text("leader"), "laggard": text("laggard"), "pair_id": text("pair"), "sector": text("sector"),
        "method": claim.get("method", "etf" if kind == "sector_return" else None),
        "cohort": text("cohort"), "weighting": claim.get("weighting", "equal" if kind == "cohort_return" else None),
        "universe": text("universe"), "index_name": text("index"), "fiscal_quarter": text("fiscal_quarter"),
        "window_spec": claim.get("window", "1d" if kind == "sector_spread" else None),
        "stated_value": float(stated), "tolerance": _number(claim.get("tolerance")), "comparison": comparison,
        "sessions": claim.get("sessions"), "longest_since": text("longest_since"),
        "matches_high_of": claim.get("matches_high_of"), "negative": claim.get("negative"), "total": claim.get("total"),
        "lowest_since": text("lowest_since"),
        "parameters": json.dumps(claim, default=str, ensure_ascii=False),
    }


def read_claims_file(path: Path, universe: Universe | None = None) -> tuple[pd.DataFrame | None, list[ClaimProblem]]:
    """The file's claims as raw.claims rows (without the load's columns), or its problems."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return None, [ClaimProblem(str(path), None, None, f"not a readable YAML file ({str(error).splitlines()[0]})",
                                   "Save it as UTF-8 YAML; check the indentation near the line named.")]
    rows, problems = validate_claims(str(path), document, universe or load_universe())
    if problems:
        return None, problems
    frame = pd.DataFrame(rows)
    frame["claim_file"] = path.name
    return frame, []


# --- loading -----------------------------------------------------------------------------------


def land_claims_files(
    con: duckdb.DuckDBPyConnection, paths: list[Path], quarantine: Path, owned_folder: Path | None = None
) -> ClaimsReport:
    """Load each file; quarantine the bad ones (moved when inside `owned_folder`, else copied), so the
    others still land."""
    ensure_raw_schema(con)
    report = ClaimsReport()
    universe = load_universe()
    for path in paths:
        try:
            problems = _land_file(con, path, universe, report)
        except Exception as error:  # a file must never block the others or later runs, whatever went wrong
            problems = [ClaimProblem(str(path), None, None, f"loading it failed ({type(error).__name__}: {error})",
                                     "Check the file; if it looks right, report this error with the file.")]
        if problems:
            report.problems += problems
            try:
                target = quarantine_file(path, problems, quarantine, now_utc(), owned_folder=owned_folder)
                report.quarantined.append((str(path), str(target)))
            except OSError as error:
                report.problems.append(ClaimProblem(str(path), None, None, f"it could not be quarantined ({error})",
                                                    "Move it out of the landing folder by hand."))
    return report


def _land_file(con: duckdb.DuckDBPyConnection, path: Path, universe: Universe, report: ClaimsReport) -> list[ClaimProblem]:
    digest = content_hash(path)
    if con.execute("SELECT 1 FROM raw.claims WHERE claim_file = ? AND content_sha256 = ? LIMIT 1",
                   [path.name, digest]).fetchall():
        report.already_processed.append(str(path))
        return []
    rows, problems = read_claims_file(path, universe)
    if problems:
        return problems
    when = now_utc()
    rows["content_sha256"] = digest
    rows["source_file"] = str(path)
    rows["ingested_at"] = when
    rows = rows.reindex(columns=COLUMNS).astype(object)
    rows = rows.where(rows.notna(), None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM raw.claims WHERE claim_file = ?", [path.name])
        con.register("claims_rows", rows)
        con.execute(f"INSERT INTO raw.claims ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM claims_rows")
        con.unregister("claims_rows")
        con.execute(
            "INSERT INTO raw.landed_files VALUES (?, ?, 'claims', 'loaded', ?, ?, ?) ON CONFLICT DO NOTHING",
            [digest, path.name, len(rows), f"{len(rows)} claims", when],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    report.loaded.append(str(path))
    report.claims_loaded += len(rows)
    return []
