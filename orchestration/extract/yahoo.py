"""Daily prices from Yahoo Finance (the v8 chart API), read and parsed by yfinance.

Each ticker is fetched on its own and becomes its own PriceBatch (origin ``yahoo:<TICKER>``), so a
ticker Yahoo does not know, or one that keeps failing, is rejected alone while the others load.

How one ticker is fetched
-------------------------
yfinance's ``PriceHistory.history`` does the parsing (quotes, adjusted close, splits and
dividends, the exchange time zone). It reaches Yahoo through ``_ChartRequests``, a stand-in for
yfinance's ``YfData`` that forwards every request to it (so cookies, crumb and session stay
yfinance's), never serves a cached response, and classifies Yahoo's answer before yfinance parses
it: 429, 5xx, an unparsable (truncated) body and a timeout or network error are worth another
attempt; a 404 or Yahoo's "No data found, symbol may be delisted" is final.

Attempts are made with tenacity: up to ``max_attempts`` per ticker, exponential backoff with
jitter between them (``wait``; tests pass tiny waits). Note that yfinance itself re-sends a request
that got a 4xx/5xx answer once, after refreshing its cookie, so the server sees up to two chart
requests per attempt.

Empty answers: an answer without any bar is expected when the NYSE had no completed session in the
range (a weekend, a holiday, a start date of today): the ticker then gets an empty batch without
errors. When the NYSE did trade, an empty answer is suspicious (Yahoo hiccups this way): it is
retried, and if it persists the ticker's batch is rejected with an error saying so.

The contract shape: ``date`` is the exchange session date (the bar's time stamp in the exchange's
time zone, America/New_York for every US listing, never the UTC date), ``close`` is Yahoo's Close
(split-adjusted), ``adj_close`` Yahoo's Adj Close (split- and dividend-adjusted), ``volume`` Int64,
``source`` "yahoo" and ``row`` the position 0..n-1 in the ticker's frame. Bars whose close is empty
(Yahoo sometimes sends null bars) are dropped; ``last_null_bars_dropped`` counts them.

Pointing yfinance at another server
-----------------------------------
``yahoo_base_urls(base_url)`` sends every request yfinance makes to a Yahoo host to ``base_url``
instead; see its docstring. The tests use it with a local HTTP server.

yfinance keeps one process-wide session (its ``YfData`` singleton). A source given a ``session``
installs it for the duration of ``fetch`` and puts the previous one back afterwards; without one it
uses whatever session yfinance has (its own, or the one ``yahoo_base_urls`` installed). Two fetches
with different sessions must therefore not run at the same time in one process.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from curl_cffi import CurlError
from curl_cffi import requests as curl_requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError
from yfinance.scrapers.history import PriceHistory

from orchestration.extract.base import PRICE_COLUMNS, PRICE_FIELDS, PriceBatch
from orchestration.land.validation import PriceProblem
from orchestration.trading_calendar import nyse_sessions

log = logging.getLogger(__name__)

SOURCE = "yahoo"
EXCHANGE_TZ = "America/New_York"
# Backoff between attempts: 1 s, 2 s, 4 s ... (at most 60 s), plus up to 1 s of random jitter.
DEFAULT_WAIT = wait_exponential_jitter(max=60, exp_base=2, jitter=1)
DEFAULT_TIMEOUT = 30.0  # seconds per HTTP request; a long history is a large answer
DEFAULT_CHUNK_PAUSE = 1.0  # seconds between two chunks of tickers
# HTTP answers that say "not now" rather than "no": worth another attempt.
RETRYABLE_STATUSES = frozenset({401, 408, 425, 429})

_NEW_YORK = ZoneInfo(EXCHANGE_TZ)


# --- what can go wrong -------------------------------------------------------------------------


class YahooError(Exception):
    """A chart answer that cannot be used; `retryable` says whether another attempt may help."""

    retryable = False


class YahooUnavailable(YahooError):
    """A server error, a throttled request or a garbled (e.g. truncated) answer."""

    retryable = True


class UnknownTicker(YahooError):
    """Yahoo says it has no such symbol (HTTP 404, "No data found, symbol may be delisted")."""


class YahooRefused(YahooError):
    """Any other 4xx answer, e.g. a 400 for a range Yahoo has no data for."""


class NoPricesDespiteSessions(YahooError):
    """Yahoo answered without a single bar although the NYSE traded in the range."""

    retryable = True


class _NoBars(Exception):
    """The chart answer is well formed but holds no bars (no time stamps)."""


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed after `exc`."""
    if isinstance(exc, YahooError):
        return exc.retryable
    if isinstance(exc, YFRateLimitError):
        return True
    # curl_cffi's (and requests') timeouts and connection errors are OSErrors; CurlError covers
    # the remaining libcurl failures (e.g. a connection closed halfway through the answer).
    return isinstance(exc, (OSError, CurlError, TimeoutError))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, YFRateLimitError):
        return "rate limited by Yahoo (HTTP 429)"
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, (OSError, CurlError)) and not isinstance(exc, YahooError):
        return f"network error: {type(exc).__name__}: {text}"
    return text


# --- the chart request -------------------------------------------------------------------------


def _check_chart_answer(response) -> None:
    """Raise the matching YahooError (or _NoBars) unless `response` is a chart answer with bars."""
    status = response.status_code
    if status == 429:
        raise YFRateLimitError()
    try:
        payload = json.loads(response.content)
    except ValueError:
        payload = None
    chart = payload.get("chart") if isinstance(payload, dict) else None
    chart = chart if isinstance(chart, dict) else None
    error = chart.get("error") if chart else None
    description = (error.get("description") if isinstance(error, dict) else None) or ""
    code = (error.get("code") if isinstance(error, dict) else None) or ""

    if status >= 500 or status in RETRYABLE_STATUSES:
        raise YahooUnavailable(f"HTTP {status}" + (f": {description}" if description else ""))
    if status == 404 or code == "Not Found":
        raise UnknownTicker(description or f"HTTP {status}")
    if status >= 400 or error:
        raise YahooRefused(f"HTTP {status}" + (f": {description}" if description else ""))
    if chart is None:
        raise YahooUnavailable(f"the answer is not chart JSON (truncated or garbled, {len(response.content)} bytes)")
    result = chart.get("result")
    if not isinstance(result, list) or not result or not isinstance(result[0], dict):
        raise YahooUnavailable("the chart answer has neither a result nor an error")
    if not result[0].get("timestamp"):
        raise _NoBars()


class _ChartRequests:
    """What PriceHistory calls to reach Yahoo, in place of yfinance's YfData.

    Every request goes through YfData (so yfinance's session, cookie and crumb handling apply),
    but `cache_get` is not cached: yfinance caches responses of past date ranges in memory, which
    would hand a retry the very answer that failed. Each chart answer is checked before yfinance
    parses it, so a failure surfaces as an exception that says whether to try again.
    """

    def __init__(self, data: YfData):
        self._data = data

    def get(self, url, params=None, timeout=30):
        response = self._data.get(url, params=params, timeout=timeout)
        _check_chart_answer(response)
        return response

    cache_get = get


# --- pointing yfinance at another server -------------------------------------------------------


def _is_yahoo_host(host: str) -> bool:
    return host == "yahoo.com" or host.endswith(".yahoo.com")


class RedirectedSession(curl_requests.Session):
    """A curl_cffi session that sends every request for a ``*.yahoo.com`` host to `target`.

    The path and query string are kept and only scheme, host and port change, so
    ``https://query2.finance.yahoo.com/v8/finance/chart/^GSPC?period1=...`` becomes
    ``<target>/v8/finance/chart/^GSPC?period1=...``. A request for any other host than Yahoo's or
    the target's is refused (ValueError), so nothing can reach the internet through it.
    Environment proxies are ignored (``trust_env=False``) so the target is contacted directly.
    """

    def __init__(self, target: str, **kwargs):
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"target must be an http(s) URL, got {target!r}")
        self.target = target.rstrip("/")
        self._target_origin = (parts.scheme, parts.hostname, parts.port)
        kwargs.setdefault("trust_env", False)
        super().__init__(**kwargs)

    def redirect(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if _is_yahoo_host(host):
            return self.target + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if (parts.scheme, host, parts.port) == self._target_origin:
            return url
        raise ValueError(f"refusing to contact {host or url}: this session only talks to {self.target}")

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.redirect(url), *args, **kwargs)


_session_lock = threading.Lock()


def _install_session(session):
    """Make `session` yfinance's process-wide session; return the one it replaces.

    The cookie and crumb yfinance holds belong to the old session, so they are forgotten.
    """
    data = YfData()
    with _session_lock:
        previous = data._session
        if session is not previous:
            data._set_session(session)
            with data._cookie_lock:
                data._cookie = None
                data._crumb = None
    return previous


@contextmanager
def yahoo_base_urls(base_url: str) -> Iterator[RedirectedSession]:
    """Send every request yfinance makes to a Yahoo host to `base_url` while the block runs.

    yfinance reaches Yahoo through one process-wide session (its ``YfData`` singleton) and builds
    its URLs from fixed strings: the chart API (``query2.finance.yahoo.com/v8/finance/chart/<T>``),
    and for its cookie and crumb ``fc.yahoo.com/``, ``query1|query2.finance.yahoo.com/v1/test/getcrumb``
    and, after a refused request, the consent pages ``guce.yahoo.com/consent`` and
    ``consent.yahoo.com/v2/collectConsent``. Patching URL constants cannot catch all of these
    (some are literals inside functions, and modules copy ``_BASE_URL_`` when imported), so this
    installs a RedirectedSession as yfinance's session instead: every request keeps its path and
    query and goes to `base_url`; requests for any other host fail. The previous session is put
    back on exit. A server standing in for Yahoo serves those paths: ``/`` (any 200, may set a
    cookie), ``/v1/test/getcrumb`` (the crumb as plain text), ``/consent`` (any page; without a
    csrfToken form yfinance falls back to the cookie above) and ``/v8/finance/chart/<TICKER>``.

    Yields the session, which can also be passed to ``YahooSource(session=...)``.
    """
    session = RedirectedSession(base_url)
    previous = _install_session(session)
    try:
        yield session
    finally:
        _install_session(previous)
        session.close()


# --- the frame ---------------------------------------------------------------------------------


def empty_price_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype=object),
            "ticker": pd.Series([], dtype=str),
            **{name: pd.Series([], dtype="float64") for name in PRICE_FIELDS},
            "volume": pd.Series([], dtype="Int64"),
            "source": pd.Series([], dtype=str),
            "row": pd.Series([], dtype="int64"),
        }
    )


def session_dates(index: pd.DatetimeIndex, tz: str = EXCHANGE_TZ) -> np.ndarray:
    """The exchange session date of each time stamp: its calendar date in `tz`, never in UTC.

    Naive time stamps are taken as already being in `tz`.
    """
    local = index.tz_localize(tz) if index.tz is None else index.tz_convert(tz)
    return np.array(local.date, dtype=object)


def to_price_frame(ticker: str, history: pd.DataFrame | None, tz: str = EXCHANGE_TZ) -> tuple[pd.DataFrame, int]:
    """yfinance's history (auto_adjust=False) in the contract shape, and the number of null bars dropped."""
    if history is None or history.empty:
        return empty_price_frame(), 0
    history = history.sort_index()
    frame = pd.DataFrame(
        {
            "date": pd.Series(session_dates(history.index, tz), dtype=object),
            "ticker": pd.Series([ticker] * len(history), dtype=str),
            "open": history["Open"].to_numpy(dtype="float64"),
            "high": history["High"].to_numpy(dtype="float64"),
            "low": history["Low"].to_numpy(dtype="float64"),
            "close": history["Close"].to_numpy(dtype="float64"),
            "adj_close": history["Adj Close"].to_numpy(dtype="float64"),
            "volume": pd.array(history["Volume"].to_numpy(), dtype="Int64"),
        }
    )
    frame["source"] = SOURCE
    has_close = frame["close"].notna()
    frame = frame[has_close].reset_index(drop=True)
    frame["row"] = np.arange(len(frame), dtype=np.int64)
    return frame[PRICE_COLUMNS + ["row"]], int((~has_close).sum())


# --- the source --------------------------------------------------------------------------------


class YahooSource:
    """Daily prices of `tickers` from `start` to `end` (both inclusive; `end` None means up to now).

    `starts` may give some tickers a start of their own (an incremental run starts each ticker
    where its stored history ends); the others start at `start`.

    `fetch()` returns one PriceBatch per ticker, in the order given. Afterwards `last_failures`
    maps each rejected ticker to the reason, `last_attempts` counts the attempts made per ticker
    and `last_null_bars_dropped` the bars dropped for an empty close.

    Tickers are fetched `chunk_size` at a time, `max_workers` in parallel, with `chunk_pause`
    seconds between chunks. `wait` is the tenacity wait strategy between attempts and `timeout`
    the limit in seconds of each HTTP request.
    """

    name = SOURCE

    def __init__(
        self,
        tickers: list[str],
        start: date,
        end: date | None = None,
        chunk_size: int = 20,
        max_workers: int = 4,
        max_attempts: int = 5,
        session=None,
        *,
        starts: dict[str, date] | None = None,
        wait: wait_base = DEFAULT_WAIT,
        timeout: float = DEFAULT_TIMEOUT,
        chunk_pause: float = DEFAULT_CHUNK_PAUSE,
    ):
        symbols = list(dict.fromkeys(t.strip().upper() for t in tickers if t and t.strip()))
        if not symbols:
            raise ValueError("the yahoo source needs at least one ticker")
        own_starts = {t.strip().upper(): d for t, d in (starts or {}).items()}
        if end is not None and min([start, *own_starts.values()]) > end:
            raise ValueError(f"end {end} is before every start")
        if chunk_size < 1 or max_workers < 1 or max_attempts < 1:
            raise ValueError("chunk_size, max_workers and max_attempts must be at least 1")
        self.tickers = symbols
        self.start = start
        self.starts = own_starts
        self.end = end
        self.chunk_size = chunk_size
        self.max_workers = max_workers
        self.max_attempts = max_attempts
        self.session = session
        self.wait = wait
        self.timeout = timeout
        self.chunk_pause = chunk_pause
        self.last_failures: dict[str, str] = {}
        self.last_attempts: dict[str, int] = {}
        self.last_null_bars_dropped: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- public ---------------------------------------------------------------------------------

    def fetch(self) -> list[PriceBatch]:
        self.last_failures, self.last_attempts, self.last_null_bars_dropped = {}, {}, {}
        previous = _install_session(self.session) if self.session is not None else None
        try:
            batches: dict[str, PriceBatch] = {}
            chunks = [self.tickers[i : i + self.chunk_size] for i in range(0, len(self.tickers), self.chunk_size)]
            for number, chunk in enumerate(chunks):
                if number and self.chunk_pause > 0:
                    time.sleep(self.chunk_pause)
                with ThreadPoolExecutor(max_workers=min(self.max_workers, len(chunk))) as pool:
                    for ticker, batch in zip(chunk, pool.map(self._fetch_ticker, chunk)):
                        batches[ticker] = batch
        finally:
            if previous is not None:
                _install_session(previous)
        if self.last_failures:
            log.warning("yahoo: %d of %d tickers failed: %s", len(self.last_failures), len(self.tickers),
                        ", ".join(sorted(self.last_failures)))
        return [batches[ticker] for ticker in self.tickers]

    def start_of(self, ticker: str) -> date:
        return self.starts.get(ticker, self.start)

    def expected_sessions(self, ticker: str) -> int:
        """Completed NYSE sessions in the ticker's range: when there are none, no bars is a valid answer."""
        first = self.start_of(ticker)
        yesterday = datetime.now(_NEW_YORK).date() - timedelta(days=1)
        last = min(self.end, yesterday) if self.end is not None else yesterday
        if last < first:
            return 0
        try:
            return len(nyse_sessions(first, last))
        except Exception:  # outside the calendar's range: assume weekdays trade
            return int(np.busday_count(first, last + timedelta(days=1)))

    # -- one ticker -----------------------------------------------------------------------------

    def _origin(self, ticker: str) -> str:
        return f"{SOURCE}:{ticker}"

    def _fetch_ticker(self, ticker: str) -> PriceBatch:
        attempts = 0

        def attempt() -> tuple[pd.DataFrame, int]:
            nonlocal attempts
            attempts += 1
            return self._fetch_once(ticker)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self.wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=lambda state: self._log_retry(ticker, state),
            reraise=True,
        )
        try:
            frame, dropped = retrying(attempt)
        except Exception as exc:  # isolate the ticker, whatever went wrong
            if not (isinstance(exc, YahooError) or is_retryable(exc)):
                log.exception("yahoo: unexpected failure for %s", ticker)
            return self._failed(ticker, exc, attempts)
        finally:
            with self._lock:
                self.last_attempts[ticker] = attempts
        if dropped:
            log.warning("yahoo: dropped %d bar(s) of %s without a close", dropped, ticker)
        with self._lock:
            self.last_null_bars_dropped[ticker] = dropped
        return PriceBatch(origin=self._origin(ticker), frame=frame)

    def _fetch_once(self, ticker: str) -> tuple[pd.DataFrame, int]:
        history = PriceHistory(_ChartRequests(YfData()), ticker, EXCHANGE_TZ)
        end = self.end + timedelta(days=1) if self.end is not None else None  # yfinance's end is exclusive
        try:
            raw = history.history(
                start=self.start_of(ticker), end=end, interval="1d", auto_adjust=False, actions=True,
                keepna=True, repair=False, timeout=self.timeout, raise_errors=True,
            )
        except _NoBars:
            raw = None
        tz = (history._history_metadata or {}).get("exchangeTimezoneName") or EXCHANGE_TZ
        frame, dropped = to_price_frame(ticker, raw, tz)
        if frame.empty:
            expected = self.expected_sessions(ticker)
            if expected:
                raise NoPricesDespiteSessions(f"no prices although the NYSE traded {expected} session(s) in the range")
        return frame, dropped

    def _log_retry(self, ticker: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        pause = state.next_action.sleep if state.next_action else 0.0
        log.warning("yahoo: %s attempt %d failed (%s), next in %.2fs", ticker, state.attempt_number,
                    _describe(exc) if exc else "?", pause)

    def _failed(self, ticker: str, exc: BaseException, attempts: int) -> PriceBatch:
        origin = self._origin(ticker)
        span = f"{self.start_of(ticker)} to {self.end if self.end is not None else 'today'}"
        reason = _describe(exc)
        if isinstance(exc, UnknownTicker):
            problem = f"Yahoo does not know the symbol {ticker} ({reason})"
            fix = ("Check the symbol on finance.yahoo.com (indices start with ^, e.g. ^GSPC; share classes use '-', "
                   "e.g. BRK-B) and correct or remove it in the universe.")
        elif isinstance(exc, NoPricesDespiteSessions):
            problem = f"Yahoo returned no prices for {ticker} from {span} after {attempts} attempt(s), {reason}"
            fix = ("Check that the symbol is still listed and traded before the end date (delisted or renamed "
                   "symbols return nothing); if it is, run the ingest again later.")
        elif isinstance(exc, YahooRefused):
            problem = f"Yahoo refused the request for {ticker} ({span}): {reason}"
            fix = "Check the symbol and the date range; Yahoo has no daily prices for this request."
        elif is_retryable(exc):
            problem = f"Yahoo did not deliver prices for {ticker} after {attempts} attempt(s): {reason}"
            fix = ("This is usually temporary (throttling or an outage): run the ingest again later; if it keeps "
                   "failing, check the network connection to query2.finance.yahoo.com.")
        else:
            problem = f"the Yahoo answer for {ticker} could not be read: {reason}"
            fix = "Run the ingest again; if it persists, report it with the log of this run."
        with self._lock:
            self.last_failures[ticker] = problem
        return PriceBatch(
            origin=origin, frame=empty_price_frame(), read_errors=[PriceProblem(origin, None, ticker, problem, fix)]
        )
