"""The demo market at scale: N tickers over Y years of NYSE sessions, generated with numpy in seconds.

For benchmarks (`make bench`) and anything that needs a warehouse the size of the whole US market.
The universe is generated too (`write_universe`): the index ^GSPC, the 11 Select Sector SPDRs as
sector proxies, and N - 12 synthetic stocks (SYN00001 ...) spread over the sectors; every ticker
but ^GSPC is paired with ^GSPC. Point ROTATION_SEEDS at that folder so ingest and dbt use it.

Every series is a whole matrix (sessions x tickers) drawn from one generator seeded by N and Y, so
the same N and Y always give the same market, and the session range is fixed by Y alone: moving
ROTATION_DEMO_END only reveals sessions, it never changes one. Stocks load on a market factor and
their sector's factor plus their own noise; each quarter they go ex-dividend, so `adj_close` (the
total-return series) and `close` (the traded price) differ. Rows are labelled `demo`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.extract.base import PRICE_COLUMNS, PriceBatch
from orchestration.trading_calendar import nyse_sessions

ORIGIN = "demo"
SCALE_END_DATE = date(2026, 11, 20)
INDEX_TICKER = "^GSPC"
SECTOR_PROXIES = {
    "XLK": "Technology",
    "XLF": "Financial Services",
    "XLV": "Healthcare",
    "XLY": "Consumer Cyclical",
    "XLP": "Consumer Defensive",
    "XLI": "Industrials",
    "XLE": "Energy",
    "XLU": "Utilities",
    "XLRE": "Real Estate",
    "XLB": "Basic Materials",
    "XLC": "Communication Services",
}
FIXED_TICKERS = 1 + len(SECTOR_PROXIES)
PAIR_SUFFIX = "_vs_sp500"

MARKET_DRIFT = 0.07 / 252
MARKET_VOL = 0.011
SECTOR_VOL = 0.006
STOCK_VOL = 0.018
QUARTERLY_DIVIDEND = 0.004  # of the price, on one session in every 63


@dataclass(frozen=True)
class ScaleSpec:
    tickers: int
    years: int

    def __post_init__(self):
        if self.tickers < FIXED_TICKERS or self.years < 1:
            raise ValueError(f"a scale market needs at least {FIXED_TICKERS} tickers and 1 year, got {self}")

    @property
    def symbols(self) -> list[str]:
        stocks = [f"SYN{i:05d}" for i in range(1, self.tickers - FIXED_TICKERS + 1)]
        return [INDEX_TICKER, *SECTOR_PROXIES, *stocks]

    @property
    def sectors(self) -> list[str | None]:
        """The sector of each symbol (None for the index); stocks take the sectors in turn."""
        names = list(SECTOR_PROXIES.values())
        stocks = [names[i % len(names)] for i in range(self.tickers - FIXED_TICKERS)]
        return [None, *names, *stocks]

    def sessions(self) -> pd.DatetimeIndex:
        start = date(SCALE_END_DATE.year - self.years, SCALE_END_DATE.month, SCALE_END_DATE.day) + timedelta(days=1)
        return nyse_sessions(start, SCALE_END_DATE)


def write_universe(spec: ScaleSpec, folder: Path) -> Path:
    """The universe seed files of the scale market, in `folder` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "universe_tickers.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ticker", "name", "asset_type", "sector", "proxy_for_sector", "index_name", "headline_order"])
        for ticker, sector in zip(spec.symbols, spec.sectors):
            if ticker == INDEX_TICKER:
                writer.writerow([ticker, "S&P 500", "index", "", "", "sp500", "1"])
            elif ticker in SECTOR_PROXIES:
                writer.writerow([ticker, f"{sector} Select Sector SPDR", "etf", "", sector, "", ""])
            else:
                writer.writerow([ticker, f"Synthetic {ticker}", "stock", sector, "", "", ""])
    with open(folder / "universe_cohorts.csv", "w", newline="") as out:
        csv.writer(out).writerows([["cohort", "label", "parent_index"], ["magnificent_7", "Magnificent 7", "sp500"]])
    with open(folder / "universe_cohort_members.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["cohort", "ticker"])
        for ticker in spec.symbols[FIXED_TICKERS:FIXED_TICKERS + 7]:
            writer.writerow(["magnificent_7", ticker])
    with open(folder / "universe_pairs.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["pair_id", "leader_ticker", "laggard_ticker", "description"])
        for ticker in spec.symbols[1:]:
            writer.writerow([f"{ticker}{PAIR_SUFFIX}", ticker, INDEX_TICKER, f"{ticker} vs the S&P 500"])
    return folder


@dataclass
class ScaleMarket:
    """The whole market as matrices: one row per session, one column per symbol."""

    sessions: pd.DatetimeIndex
    symbols: list[str]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    adj_close: np.ndarray
    volume: np.ndarray

    def frame(self, columns: slice = slice(None), rows: slice = slice(None)) -> pd.DataFrame:
        """Long price rows (ticker-major, dates ascending) of the selected symbols and sessions."""
        symbols = np.array(self.symbols, dtype=object)[columns]
        dates = self.sessions[rows]

        def long(matrix: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(matrix[rows, columns].T).ravel()

        frame = pd.DataFrame({
            "date": np.tile(dates.values, len(symbols)),
            "ticker": np.repeat(symbols, len(dates)),
            "open": long(self.open),
            "high": long(self.high),
            "low": long(self.low),
            "close": long(self.close),
            "adj_close": long(self.adj_close),
            "volume": long(self.volume),
        })
        frame["source"] = ORIGIN
        frame = frame[PRICE_COLUMNS]
        frame["row"] = np.arange(len(frame), dtype=np.int64)
        return frame


def generate(spec: ScaleSpec) -> ScaleMarket:
    sessions = spec.sessions()
    n_sessions, n_symbols = len(sessions), spec.tickers
    rng = np.random.default_rng([20_260_120, spec.tickers, spec.years])
    sector_names = list(SECTOR_PROXIES.values())

    market = MARKET_DRIFT + MARKET_VOL * rng.standard_normal(n_sessions)
    sector_factors = SECTOR_VOL * rng.standard_normal((n_sessions, len(sector_names)))
    sector_of = np.array([-1 if s is None else sector_names.index(s) for s in spec.sectors])
    beta = rng.uniform(0.7, 1.4, n_symbols)
    beta[0] = 1.0
    noise_vol = np.full(n_symbols, STOCK_VOL)
    noise_vol[0] = 0.0
    noise_vol[1:FIXED_TICKERS] = 0.001

    returns = rng.standard_normal((n_sessions, n_symbols))
    returns *= noise_vol
    returns += market[:, None] * beta
    has_sector = sector_of >= 0
    returns[:, has_sector] += sector_factors[:, sector_of[has_sector]]
    np.clip(returns, -0.5, 0.5, out=returns)
    returns[0] = 0.0

    # Ex-dividend sessions: every 63rd session, at an offset that depends on the symbol.
    offsets = rng.integers(0, 63, n_symbols)
    offsets[0] = -1  # the index pays none
    ex_dividend = (np.arange(n_sessions)[:, None] % 63) == offsets[None, :]
    ex_dividend[0] = False

    adj_close = np.exp(rng.uniform(np.log(20.0), np.log(400.0), n_symbols))[None, :] * np.cumprod(1.0 + returns, axis=0)
    # Traded price: drops by the dividend on ex-dates; adj_close = close x the factors of later ex-dates.
    later_factors = np.where(ex_dividend, 1.0 - QUARTERLY_DIVIDEND, 1.0)[::-1].cumprod(axis=0)[::-1]
    later_factors = np.vstack([later_factors[1:], np.ones((1, n_symbols))])
    close = adj_close / later_factors
    del later_factors

    previous = np.vstack([close[:1], close[:-1]])
    open_ = previous * (1.0 + 0.002 * rng.standard_normal((n_sessions, n_symbols)))
    del previous
    high = np.maximum(open_, close) * (1.0 + np.abs(0.006 * rng.standard_normal((n_sessions, n_symbols))))
    low = np.minimum(open_, close) * (1.0 - np.minimum(np.abs(0.006 * rng.standard_normal((n_sessions, n_symbols))), 0.5))
    volume = np.rint(np.exp(rng.normal(14.0, 0.4, (n_sessions, n_symbols)) + 10.0 * np.abs(returns))).astype(np.int64)
    del returns

    return ScaleMarket(
        sessions=sessions,
        symbols=spec.symbols,
        open=np.round(open_, 4),
        high=np.round(high, 4),
        low=np.maximum(np.round(low, 4), 0.0001),
        close=np.round(close, 4),
        adj_close=np.round(adj_close, 4),
        volume=volume,
    )


MATRICES = ["open", "high", "low", "close", "adj_close", "volume"]


def load_market(spec: ScaleSpec, cache: Path | None = None) -> ScaleMarket:
    """The scale market, generated, or read from `cache` where an earlier call kept it.

    The matrices are kept as .npy files and opened memory-mapped, so a run that needs the last
    session reads only that session's rows instead of generating decades again.
    """
    if cache is None:
        return generate(spec)
    folder = cache / f"{spec.tickers}x{spec.years}"
    if not (folder / "complete").exists():
        market = generate(spec)
        folder.mkdir(parents=True, exist_ok=True)
        for name in MATRICES:
            np.save(folder / f"{name}.npy", getattr(market, name))
        (folder / "complete").touch()  # written last: a folder without it is regenerated
        return market
    matrices = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in MATRICES}
    return ScaleMarket(sessions=spec.sessions(), symbols=spec.symbols, **matrices)


class ScaleMarketSource:
    """The scale market's sessions after `after` (exclusive) up to `end_date`, as one price batch.

    With `after` the last session already stored, a run adds just the new sessions, as a daily
    refresh from a vendor would.
    """

    def __init__(self, tickers: int, years: int, end_date: date | None = None, after: date | None = None,
                 cache: Path | None = None):
        self.spec = ScaleSpec(tickers, years)
        self.end_date = end_date or SCALE_END_DATE
        self.after = after
        self.cache = cache

    def fetch(self) -> list[PriceBatch]:
        market = load_market(self.spec, self.cache)
        dates = market.sessions.date
        first = 0 if self.after is None else int(np.searchsorted(dates, self.after, side="right"))
        last = int(np.searchsorted(dates, self.end_date, side="right"))
        return [PriceBatch(origin=f"demo at scale {self.spec.tickers}x{self.spec.years}", frame=market.frame(rows=slice(first, max(first, last))))]
