"""Valuation snapshots from Yahoo Finance, through yfinance's ``Ticker.info`` (quoteSummary API).

One snapshot per ticker and session: ``as_of_date`` is the last NYSE session on or before today
(New York time). Thousands of tickers make this slow, so it is:

- resumable: tickers whose snapshot for that session is already stored are skipped (the caller
  passes them as ``already_have``), and rows are handed back in chunks (``on_chunk``) so the
  caller stores each chunk as it arrives: an interrupted run continues where it stopped;
- rate-limited: at least ``pause`` seconds between two tickers;
- isolated per ticker: a ticker that keeps failing (429, network error, an empty answer) after
  ``max_attempts`` tenacity attempts is reported by name and the others land.

Requests go through yfinance's own session (cookie, crumb, parsing); ``yahoo_base_urls`` from the
price source points it at a local server in tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import yfinance as yf
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from orchestration.extract.yahoo import is_retryable
from orchestration.trading_calendar import nyse_sessions

log = logging.getLogger(__name__)

SOURCE = "yahoo"
CHUNK = 50
# yfinance info field -> raw.valuation_snapshots column
FIELDS = {
    "marketCap": "market_cap",
    "sharesOutstanding": "shares_outstanding",
    "forwardEps": "forward_eps",
    "trailingEps": "trailing_eps",
    "forwardPE": "forward_pe",
    "trailingPE": "trailing_pe",
    "sector": "sector",
    "industry": "industry",
}
COLUMNS = ["ticker", "as_of_date", *FIELDS.values()]


class EmptyInfo(Exception):
    """Yahoo answered without any valuation field for the ticker (unknown symbol, or a hiccup)."""

    retryable = True


def snapshot_session(now: datetime | None = None) -> date:
    """The last NYSE session on or before today in New York."""
    today = (now or datetime.now(ZoneInfo("America/New_York"))).date()
    return nyse_sessions(today - timedelta(days=10), today)[-1].date()


@dataclass
class InfoReport:
    as_of_date: date
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def info_row(ticker: str, info: dict, as_of: date) -> dict:
    if not info or all(info.get(name) is None for name in ("marketCap", "forwardEps", "trailingEps")):
        raise EmptyInfo(f"no valuation fields in Yahoo's answer for {ticker} (unknown symbol, or try again later)")
    row = {"ticker": ticker, "as_of_date": as_of}
    for name, column in FIELDS.items():
        value = info.get(name)
        if column in ("sector", "industry"):
            row[column] = value or None
        else:
            row[column] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return row


class YahooInfoSource:
    def __init__(self, tickers: list[str], already_have: set[str] | None = None, pause: float = 0.5,
                 max_attempts: int = 4, wait=wait_exponential_jitter(max=60, exp_base=2, jitter=1),
                 as_of: date | None = None, chunk: int = CHUNK):
        self.tickers = list(dict.fromkeys(tickers))
        self.already_have = already_have or set()
        self.pause = pause
        self.max_attempts = max_attempts
        self.wait = wait
        self.as_of = as_of or snapshot_session()
        self.chunk = chunk

    def _fetch_one(self, ticker: str) -> dict:
        def attempt() -> dict:
            return info_row(ticker, yf.Ticker(ticker).info, self.as_of)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts), wait=self.wait, reraise=True,
            retry=retry_if_exception(lambda e: isinstance(e, EmptyInfo) or is_retryable(e)),
        )
        return retrying(attempt)

    def fetch(self, on_chunk: Callable[[pd.DataFrame], None]) -> InfoReport:
        report = InfoReport(self.as_of)
        todo = [t for t in self.tickers if t not in self.already_have]
        report.skipped = [t for t in self.tickers if t in self.already_have]
        rows: list[dict] = []
        last_request = 0.0
        for ticker in todo:
            delay = self.pause - (time.monotonic() - last_request)
            if delay > 0:
                time.sleep(delay)
            last_request = time.monotonic()
            try:
                rows.append(self._fetch_one(ticker))
                report.fetched.append(ticker)
            except Exception as error:  # one ticker's failure must not stop the others
                report.failed[ticker] = str(error).strip() or type(error).__name__
                log.warning("valuation of %s not fetched: %s", ticker, report.failed[ticker])
            if len(rows) >= self.chunk:
                on_chunk(pd.DataFrame(rows, columns=COLUMNS))
                rows = []
        if rows:
            on_chunk(pd.DataFrame(rows, columns=COLUMNS))
        return report
