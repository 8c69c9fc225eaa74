"""What a Yahoo run fetches: each ticker from where its stored history ends, minus an overlap, and
the whole history again for a ticker whose past Yahoo has rewritten since it was stored.

Why the overlap: Yahoo corrects recent bars now and then, and the overlap is also how a rewrite is
noticed. A dividend or split makes Yahoo restate the adjusted close of every earlier session (and a
split the close too). If the overlap's sessions before the last stored one disagree with what is
stored, stored and fresh rows no longer share one basis, so upserting the overlap alone would leave
a jump in the ticker's returns. That ticker is then fetched again from the start of its history and
its stored rows are replaced by the answer, in the same transaction as the rest of the run. A
difference on the last stored session alone is an ordinary correction and is simply upserted.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, timedelta

import duckdb
import pandas as pd

from orchestration.extract.base import PriceBatch, PriceFetch
from orchestration.extract.yahoo import SOURCE, YahooSource, yahoo_base_urls
from orchestration.land.prices import last_session_per_ticker
from orchestration.land.validation import PriceProblem

# Yahoo's daily history of the universe's indices starts no earlier; a ticker's first fetch starts here.
HISTORY_START = date(1985, 1, 1)
# Each run refetches this many calendar days before a ticker's last stored session.
OVERLAP = timedelta(days=14)
# Relative difference below which a fresh price equals the stored one (float noise in Yahoo's answers).
TOLERANCE = 1e-6


def ticker_of(batch: PriceBatch) -> str:
    return batch.origin.removeprefix(f"{SOURCE}:")


def incremental_starts(stored_last: dict[str, date], tickers: list[str]) -> dict[str, date]:
    return {t: stored_last[t] - OVERLAP if t in stored_last else HISTORY_START for t in tickers}


def rewritten_histories(
    con: duckdb.DuckDBPyConnection, batches: list[PriceBatch], stored_last: dict[str, date]
) -> dict[str, str]:
    """Tickers whose fresh prices disagree with stored ones before their last stored session."""
    frames = [b.frame[["ticker", "date", "close", "adj_close"]] for b in batches if ticker_of(b) in stored_last]
    if not frames:
        return {}
    fresh = pd.concat(frames, ignore_index=True)
    fresh["last_stored"] = fresh["ticker"].map(stored_last)
    con.register("fresh_overlap", fresh)
    try:
        rows = con.execute(
            """
            WITH compared AS (
                SELECT f.ticker, f.date,
                       r.close AS stored_close, f.close AS fresh_close,
                       r.adj_close AS stored_adj, f.adj_close AS fresh_adj,
                       abs(f.close - r.close) > ? * abs(r.close) AS close_differs,
                       (f.adj_close IS NULL) <> (r.adj_close IS NULL)
                           OR abs(f.adj_close - r.adj_close) > ? * abs(r.adj_close) AS adj_differs
                FROM fresh_overlap f
                JOIN raw.prices_daily r ON r.ticker = f.ticker AND r.date = f.date::DATE AND r.source = ?
                WHERE f.date::DATE < f.last_stored::DATE
            )
            SELECT ticker, count(*) AS sessions, arg_min(date, date), arg_min(stored_close, date),
                   arg_min(fresh_close, date), arg_min(stored_adj, date), arg_min(fresh_adj, date)
            FROM compared
            WHERE close_differs OR adj_differs
            GROUP BY ticker
            ORDER BY ticker
            """,
            [TOLERANCE, TOLERANCE, SOURCE],
        ).fetchall()
    finally:
        con.unregister("fresh_overlap")
    return {
        ticker: (
            f"{sessions} stored session(s) differ, first {first}: close {stored_close} -> {fresh_close}, "
            f"adj_close {stored_adj} -> {fresh_adj}"
        )
        for ticker, sessions, first, stored_close, fresh_close, stored_adj, fresh_adj in rows
    }


def _failures(batches: list[PriceBatch]) -> dict[str, PriceProblem]:
    return {ticker_of(b): b.read_errors[0] for b in batches if b.read_errors}


def fetch_yahoo(
    con: duckdb.DuckDBPyConnection, tickers: list[str], base_url: str | None = None, **source_options
) -> PriceFetch:
    """Fetch `tickers` incrementally; `base_url` sends yfinance's requests to a stand-in for Yahoo."""
    with yahoo_base_urls(base_url) if base_url else nullcontext():
        stored_last = last_session_per_ticker(con, SOURCE, tickers)
        starts = incremental_starts(stored_last, tickers)
        batches = YahooSource(tickers, start=HISTORY_START, starts=starts, **source_options).fetch()
        failures = _failures(batches)
        delivered = {ticker_of(b): b for b in batches if ticker_of(b) not in failures}
        refetched = rewritten_histories(con, list(delivered.values()), stored_last)
        if refetched:
            for batch in YahooSource(list(refetched), start=HISTORY_START, **source_options).fetch():
                ticker = ticker_of(batch)
                del delivered[ticker]
                if batch.read_errors:
                    problem = batch.read_errors[0]
                    failures[ticker] = PriceProblem(
                        problem.origin, None, ticker,
                        f"its stored history disagrees with Yahoo's ({refetched[ticker]}) and refetching the whole "
                        f"history failed ({problem.problem}); nothing of it was loaded, the stored rows stay",
                        problem.fix,
                    )
                else:
                    delivered[ticker] = batch
                    starts[ticker] = HISTORY_START
        return PriceFetch(
            batches=[delivered[t] for t in tickers if t in delivered],
            failures=failures,
            starts=starts,
            refetched={t: why for t, why in refetched.items() if t in delivered},
        )
