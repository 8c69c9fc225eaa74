"""Landing membership, valuation snapshots, imported P/E history and the demo's guidance events.

The valuation source follows the prices unless ROTATION_VALUATION_SOURCE says otherwise: demo
beside the demo market, else files (ROTATION_MEMBERSHIP_FILES, ROTATION_VALUATION_FILES).
`yahoo` downloads the iShares holdings and fetches yfinance's info for every member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration import config as settings
from orchestration.extract import ishares
from orchestration.extract.demo_valuations import DemoValuations
from orchestration.extract.valuation_files import read_table_file
from orchestration.extract.yahoo_valuations import YahooInfoSource
from orchestration.land.quarantine import quarantine_file
from orchestration.land.tables import ensure_raw_schema, now_utc
from orchestration.land.upsert import LoadCounts, MixedSourceError, upsert
from orchestration.universe import load_universe


@dataclass
class ValuationLoad:
    """What one run landed per table, and what went wrong (a file rejected, a ticker not fetched)."""

    membership: LoadCounts = field(default_factory=LoadCounts)
    valuations: LoadCounts = field(default_factory=LoadCounts)
    history: LoadCounts = field(default_factory=LoadCounts)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def resolve_valuation_source(con: duckdb.DuckDBPyConnection) -> str:
    configured = settings.valuation_source()
    if configured:
        return configured
    ensure_raw_schema(con)
    demo, real = con.execute(
        "SELECT count(*) FILTER (WHERE source = 'demo'), count(*) FILTER (WHERE source <> 'demo') FROM raw.prices_daily"
    ).fetchall()[0]
    return "demo" if demo and not real else "files"


def demo_valuations(con: duckdb.DuckDBPyConnection) -> DemoValuations:
    """The demo generator, priced on the demo closes of the universe's indices and cohort members, ending on
    the demo market's last session (ROTATION_DEMO_END_DATE), as the demo prices do."""
    universe = load_universe()
    tickers = universe.index_tickers + universe.cohort_tickers
    closes = con.execute(
        "SELECT date, ticker, close FROM raw.prices_daily WHERE source = 'demo' AND list_contains(?, ticker)", [tickers]
    ).df()
    return DemoValuations(closes, end=settings.demo_end_date())


def load_files(con, paths: list[str], layout: str, table: str, load_id: str) -> tuple[LoadCounts, list[str]]:
    """Load each file of `paths` on its own; a bad file is quarantined (its problems returned), the others land."""
    total, problems = LoadCounts(), []
    for name in paths:
        path = Path(name)
        frame, file_problems = read_table_file(path, layout)
        if file_problems:
            target = quarantine_file(path, file_problems, settings.quarantine_folder(), now_utc())
            problems += [str(p) for p in file_problems] + [f"rejected {path} -> {target}"]
            continue
        total += upsert(con, table, frame.assign(source_file=path.name), "files", load_id=load_id)
    return total, problems


def _load_demo(con, load: ValuationLoad, load_id: str) -> None:
    demo = demo_valuations(con)
    snapshots = demo.valuations()
    load.valuations = upsert(con, "raw.valuation_snapshots", snapshots, "demo", load_id=load_id)
    load.membership = upsert(con, "raw.index_membership", demo.membership(snapshots), "demo", load_id=load_id)


def _load_yahoo(con, load: ValuationLoad, load_id: str) -> None:
    for index_name in ishares.FUNDS:
        try:
            load.membership += upsert(con, "raw.index_membership", ishares.download_holdings(index_name), ishares.SOURCE,
                                      load_id=load_id)
        except Exception as error:  # keep the other index and the valuations of stored members
            load.problems.append(f"{index_name} membership not downloaded: {error}")
    tickers = [t for (t,) in con.execute(
        "SELECT DISTINCT ticker FROM raw.index_membership WHERE as_of_date = "
        "(SELECT max(as_of_date) FROM raw.index_membership m2 WHERE m2.index_name = raw.index_membership.index_name) ORDER BY 1"
    ).fetchall()]
    cohorts = load_universe().cohort_tickers  # cohort members outside the downloaded indices too
    info = YahooInfoSource(tickers + [t for t in cohorts if t not in tickers], pause=settings.yahoo_info_pause())
    info.already_have = {t for (t,) in con.execute(
        "SELECT ticker FROM raw.valuation_snapshots WHERE as_of_date = ?", [info.as_of]).fetchall()}

    def store(chunk: pd.DataFrame) -> None:
        load.valuations += upsert(con, "raw.valuation_snapshots", chunk, "yahoo", load_id=load_id)

    report = info.fetch(store)
    load.problems += [f"{ticker}: {why}" for ticker, why in report.failed.items()]
    load.notes.append(f"yahoo info: {len(report.fetched)} fetched, {len(report.skipped)} already stored for {report.as_of_date}")


def load_demo_guidance(con: duckdb.DuckDBPyConnection, load_id: str) -> tuple[LoadCounts, list[str]]:
    """The demo's EPS guidance events, when the valuations follow the demo: what landed, and warnings."""
    if resolve_valuation_source(con) != "demo":
        return LoadCounts(), []
    events = demo_valuations(con).guidance_events().assign(source_file="demo")
    try:
        return upsert(con, "raw.guidance_events", events, "demo", load_id=load_id), []
    except MixedSourceError as error:
        return LoadCounts(), [f"demo guidance not loaded: {error}"]


def load_valuations(con: duckdb.DuckDBPyConnection, source: str, load_id: str) -> ValuationLoad:
    """Membership and snapshots from `source`, then the imported P/E history files (with any source)."""
    load = ValuationLoad()
    if source == "demo":
        try:
            _load_demo(con, load, load_id)
        except MixedSourceError as error:
            load.warnings.append(f"demo valuations not loaded: {error}")
    elif source == "yahoo":
        _load_yahoo(con, load, load_id)
    else:
        load.membership, rejected_m = load_files(con, settings.membership_files(), "membership", "raw.index_membership", load_id)
        load.valuations, rejected_v = load_files(con, settings.valuation_files(), "valuations", "raw.valuation_snapshots", load_id)
        load.problems += rejected_m + rejected_v
    load.history, rejected_h = load_files(con, settings.valuation_history_files(), "history", "raw.index_valuation_history", load_id)
    load.problems += rejected_h
    return load
