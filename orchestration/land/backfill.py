"""`rotation backfill`: load the history of (some of) the universe from a start date, resumably.

Tickers are fetched from Yahoo a chunk at a time and each ticker is loaded in its own transaction;
once loaded it is recorded in raw.price_backfill_progress under the backfill's start date. A
backfill that was interrupted (or where some tickers failed) is resumed by running it again with
the same start: tickers already recorded are skipped. `restart` forgets the record first. All the
upserts of one call are one load in raw.load_log (`load_id`), which the quality checks cover.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date

import duckdb

from orchestration.extract.yahoo import SOURCE, YahooSource, yahoo_base_urls
from orchestration.extract.yahoo_incremental import ticker_of
from orchestration.land.prices import ingest_price_batches
from orchestration.land.tables import ensure_raw_schema, now_utc
from orchestration.land.upsert import LoadCounts, new_load_id
from orchestration.land.validation import PriceProblem

CHUNK_SIZE = 10


@dataclass
class BackfillProgress:
    start: date
    done: int  # tickers finished, in this run or before
    total: int
    failed: int
    last_chunk: list[str]

    def message(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"backfill from {self.start}: {self.done}/{self.total} tickers loaded{failed} (last: {', '.join(self.last_chunk)})"


@dataclass
class BackfillReport:
    start: date
    tickers: list[str]
    already_done: list[str] = field(default_factory=list)
    loaded: dict[str, int] = field(default_factory=dict)  # ticker -> rows delivered
    failures: dict[str, PriceProblem] = field(default_factory=dict)  # Yahoo delivered nothing usable
    rejected: dict[str, list[PriceProblem]] = field(default_factory=dict)  # delivered, but failed validation
    counts: LoadCounts = field(default_factory=LoadCounts)

    @property
    def remaining(self) -> list[str]:
        return [t for t in self.tickers if t not in self.loaded and t not in self.already_done]

    @property
    def not_loaded(self) -> int:
        return len(self.failures) + len(self.rejected)


def tickers_done(con: duckdb.DuckDBPyConnection, start: date) -> set[str]:
    ensure_raw_schema(con)
    rows = con.execute("SELECT ticker FROM raw.price_backfill_progress WHERE start_date = ?", [start]).fetchall()
    return {ticker for (ticker,) in rows}


def backfill_prices(
    con: duckdb.DuckDBPyConnection,
    tickers: list[str],
    start: date,
    universe_symbols: list[str],
    *,
    restart: bool = False,
    base_url: str | None = None,
    progress: Callable[[BackfillProgress], None] | None = None,
    load_id: str | None = None,
    **source_options,
) -> BackfillReport:
    ensure_raw_schema(con)
    load_id = load_id or new_load_id()
    if restart:
        con.execute("DELETE FROM raw.price_backfill_progress WHERE start_date = ?", [start])
    done_before = tickers_done(con, start)
    report = BackfillReport(start, list(tickers), already_done=[t for t in tickers if t in done_before])
    todo = [t for t in tickers if t not in done_before]
    with yahoo_base_urls(base_url) if base_url else nullcontext():
        for first in range(0, len(todo), CHUNK_SIZE):
            chunk = todo[first : first + CHUNK_SIZE]
            for batch in YahooSource(chunk, start=start, **source_options).fetch():
                _load_one(con, batch, report, universe_symbols, load_id)
            if progress:
                progress(BackfillProgress(start, len(report.already_done) + len(report.loaded), len(tickers),
                                          report.not_loaded, chunk))
    return report


def _load_one(
    con: duckdb.DuckDBPyConnection, batch, report: BackfillReport, universe_symbols: list[str], load_id: str
) -> None:
    ticker = ticker_of(batch)
    if batch.read_errors:
        report.failures[ticker] = batch.read_errors[0]
        return
    result = ingest_price_batches(con, [batch], SOURCE, universe_symbols, load_id=load_id)
    if result.rejected:
        report.rejected[ticker] = result.problems
        return
    con.execute(
        "INSERT OR REPLACE INTO raw.price_backfill_progress VALUES (?, ?, ?, ?)",
        [report.start, ticker, len(batch.frame), now_utc()],
    )
    report.loaded[ticker] = len(batch.frame)
    report.counts += result.counts
