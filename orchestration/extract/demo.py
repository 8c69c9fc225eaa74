"""A deterministic synthetic daily OHLCV market, so the whole pipeline runs without a network.

Every series is generated from fixed seeds: a market factor, one factor per Yahoo sector and a
small-cap factor are shared, and each ticker adds its own noise drawn from a generator seeded by
`zlib.crc32(ticker)`, so adding or removing a ticker never changes another ticker's series, and
moving the end date only appends sessions.

The calendar is the real NYSE one (holidays, special closures and early closes come from
`exchange_calendars`). Each January opens with a small-cap rotation: during the first
`rotation_sessions(year)` sessions of the year ^RUT beats ^GSPC every day, and it lags on the
last session of the previous year and on the session right after the window.

Returns are generated as total returns and define `adj_close`; `close` is the raw traded price
derived from them with quarterly dividends and stock splits, the way Yahoo reports both.
"""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pandas as pd

from orchestration.extract.base import PRICE_COLUMNS, PRICE_FIELDS, PriceBatch
from orchestration.trading_calendar import nyse_early_closes, nyse_sessions
from orchestration.universe import Universe, load_universe

ORIGIN = "demo"
DEMO_END_DATE = date(2026, 11, 20)
INDEX_START_DATE = date(1990, 1, 2)
OTHER_START_DATE = date(2015, 1, 2)

TRADING_DAYS_PER_YEAR = 252
BASE_SEED = 20_260_120

# --- early-year small-cap rotation -------------------------------------------------------------

ROTATION_MIN_SESSIONS = 3
ROTATION_MAX_SESSIONS = 12
# Years whose rotation is set by hand: 2026 is the one to find, 2011 and 2001 make
# "the longest since ..." questions have an answer.
ROTATION_OVERRIDES = {2001: 13, 2011: 15, 2026: 14}
# Margin (daily return) by which the small-cap factor is forced positive or negative.
ROTATION_MARGIN = 0.001


def rotation_sessions(year: int) -> int:
    """Number of sessions opening `year` during which small caps beat large caps every day."""
    if year in ROTATION_OVERRIDES:
        return ROTATION_OVERRIDES[year]
    span = ROTATION_MAX_SESSIONS - ROTATION_MIN_SESSIONS + 1
    return ROTATION_MIN_SESSIONS + zlib.crc32(f"rotation:{year}".encode()) % span


ROTATION_PLAN: dict[int, int] = {
    year: rotation_sessions(year) for year in range(INDEX_START_DATE.year, DEMO_END_DATE.year + 1)
}

# --- corporate actions -------------------------------------------------------------------------

# Real splits (ratio = new shares per old share); applied on the first session on/after the date.
SPLITS: dict[str, list[tuple[date, float]]] = {
    "NVDA": [(date(2021, 7, 20), 4.0), (date(2024, 6, 10), 10.0)],
    "AAPL": [(date(2020, 8, 31), 4.0)],
    "TSLA": [(date(2020, 8, 31), 5.0), (date(2022, 8, 25), 3.0)],
    "AMZN": [(date(2022, 6, 6), 20.0)],
    "GOOGL": [(date(2022, 7, 18), 20.0)],
}
NON_DIVIDEND_PAYERS = frozenset({"AMZN", "TSLA"})
DIVIDEND_YIELD_RANGE = (0.003, 0.03)  # annual

# --- factor and ticker parameters --------------------------------------------------------------

MARKET_DRIFT = 0.08 / TRADING_DAYS_PER_YEAR
MARKET_VOL = 0.01
SECTOR_VOL = 0.006
SMALL_CAP_VOL = 0.005
T_DF = 4.0
# Log-volatility AR(1) for volatility clustering.
VOL_PERSISTENCE = 0.98
VOL_OF_VOL = 0.1
EARLY_CLOSE_VOL_SCALE = 0.5
EARLY_CLOSE_VOLUME_SCALE = 0.5

SECTOR_BETAS = {
    "Technology": 1.2,
    "Financial Services": 1.1,
    "Healthcare": 0.8,
    "Consumer Cyclical": 1.1,
    "Consumer Defensive": 0.65,
    "Industrials": 1.0,
    "Energy": 0.9,
    "Utilities": 0.6,
    "Real Estate": 0.85,
    "Basic Materials": 1.0,
    "Communication Services": 1.05,
}

START_LEVELS = {
    "^GSPC": 350.0,
    "^RUT": 170.0,
    "^IXIC": 450.0,
    "^DJI": 2700.0,
    "SPY": 200.0,
    "IWM": 120.0,
    "QQQ": 100.0,
    "RSP": 75.0,
}
BASE_VOLUME = {"index": 2.0e9, "etf": 2.0e7, "stock": 3.0e7}


# --- random helpers ----------------------------------------------------------------------------


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([BASE_SEED, zlib.crc32(name.encode())])


def _unit(name: str) -> float:
    """A deterministic number in [0, 1) derived from `name`."""
    return zlib.crc32(name.encode()) / 2**32


def _between(name: str, low: float, high: float) -> float:
    return low + (high - low) * _unit(name)


def _student_t(rng: np.random.Generator, n: int) -> np.ndarray:
    """Student-t draws scaled to unit variance."""
    return rng.standard_t(T_DF, n) / np.sqrt(T_DF / (T_DF - 2.0))


# --- the shared factors ------------------------------------------------------------------------


class _Factors:
    """Market, sector and small-cap daily returns on every session from INDEX_START_DATE."""

    def __init__(self, sessions: pd.DatetimeIndex, early_close: np.ndarray):
        self.sessions = sessions
        n = len(sessions)
        self.early_scale = np.where(early_close, EARLY_CLOSE_VOL_SCALE, 1.0)

        rng = _rng("factor:market")
        shocks = rng.standard_normal(n)
        log_vol = np.empty(n)
        stationary_sd = VOL_OF_VOL / np.sqrt(1.0 - VOL_PERSISTENCE**2)
        level = stationary_sd * shocks[0] if n else 0.0
        for i in range(n):  # a plain loop: ~10k steps, cheap
            if i:
                level = VOL_PERSISTENCE * level + VOL_OF_VOL * shocks[i]
            log_vol[i] = level
        # Normalise so the multiplier has unit mean square.
        self.vol_multiplier = np.exp(log_vol - stationary_sd**2)
        self.market = np.clip(
            MARKET_DRIFT + MARKET_VOL * self.vol_multiplier * self.early_scale * _student_t(rng, n), -0.2, 0.2
        )
        self.small_cap = self._small_cap(n)
        self._sectors: dict[str, np.ndarray] = {}

    def sector(self, name: str) -> np.ndarray:
        if name not in self._sectors:
            rng = _rng(f"factor:sector:{name}")
            noise = _student_t(rng, len(self.sessions))
            self._sectors[name] = np.clip(SECTOR_VOL * self.vol_multiplier * self.early_scale * noise, -0.15, 0.15)
        return self._sectors[name]

    def _small_cap(self, n: int) -> np.ndarray:
        rng = _rng("factor:small_cap")
        noise = np.clip(SMALL_CAP_VOL * self.vol_multiplier * _student_t(rng, n), -0.1, 0.1)
        factor = noise.copy()
        magnitude = np.abs(noise) + ROTATION_MARGIN
        years = self.sessions.year.to_numpy()
        if n == 0:
            return factor
        forced = np.zeros(n, dtype=bool)
        for year in np.unique(years):
            positions = np.flatnonzero(years == year)
            length = rotation_sessions(int(year))
            window = positions[:length]
            factor[window] = magnitude[window]
            forced[window] = True
            if len(positions) > length:  # the session right after the window
                factor[positions[length]] = -magnitude[positions[length]]
                forced[positions[length]] = True
            if positions[0] > 0:  # the last session of the previous year
                factor[positions[0] - 1] = -magnitude[positions[0] - 1]
                forced[positions[0] - 1] = True
        # Give back the net boost of the forced sessions over the ordinary sessions of the same year,
        # so small caps do not drift away from large caps in the long run.
        for year in np.unique(years):
            in_year = years == year
            ordinary = in_year & ~forced
            if ordinary.any():
                boost = (factor[in_year & forced] - noise[in_year & forced]).sum()
                factor[ordinary] -= boost / ordinary.sum()
        return factor


# --- one ticker --------------------------------------------------------------------------------


def _total_returns(ticker: str, asset_type: str, sector: str | None, f: _Factors, sl: slice) -> np.ndarray:
    """Daily total returns of `ticker` on the factor sessions selected by `sl`."""
    rng = _rng(f"ticker:{ticker}")
    market, small = f.market[sl], f.small_cap[sl]
    n = len(market)
    early = f.early_scale[sl]

    def noise(vol: float) -> np.ndarray:
        return vol * early * rng.standard_normal(n)

    if asset_type == "index":
        if ticker == "^GSPC":
            return market.copy()
        if ticker == "^RUT":
            return market + small
        if ticker == "^IXIC":
            return market + 0.6 * f.sector("Technology")[sl]
        if ticker == "^DJI":
            return 0.95 * market + noise(0.002)
        return market + noise(0.002)

    if asset_type == "etf":
        carry = _dividend_yield(ticker, asset_type) / TRADING_DAYS_PER_YEAR
        tracking = noise(0.0002)
        if ticker == "SPY":
            return market + carry + tracking
        if ticker == "IWM":
            return market + small + carry + tracking
        if ticker == "QQQ":
            return market + 0.6 * f.sector("Technology")[sl] + carry + tracking
        if ticker == "RSP":
            return market + 0.4 * small + carry + noise(0.001)
        if sector is not None:
            beta = SECTOR_BETAS.get(sector, 1.0)
            return beta * market + f.sector(sector)[sl] + carry + noise(0.001)
        return market + carry + noise(0.001)

    beta = _between(f"beta:{ticker}", 0.8, 1.5)
    loading = _between(f"loading:{ticker}", 0.6, 1.2)
    idio_vol = _between(f"idio:{ticker}", 0.015, 0.025)
    drift = (_between(f"drift:{ticker}", 0.02, 0.22) + _split_drift(ticker)) / TRADING_DAYS_PER_YEAR
    sector_part = loading * f.sector(sector)[sl] if sector is not None else 0.0
    idio = idio_vol * early * _student_t(rng, n)
    returns = beta * (market - MARKET_DRIFT) + sector_part + idio + drift
    return np.clip(returns, -0.5, 0.5)


def _split_drift(ticker: str) -> float:
    """Extra annual log growth of a ticker that splits, so its traded price stays in a plausible band.

    A stock splits because its price ran up: spread the log of its total split ratio over the span
    from OTHER_START_DATE to DEMO_END_DATE (a constant, so the series does not depend on end_date).
    """
    total = float(np.prod([ratio for when, ratio in SPLITS.get(ticker, []) if when >= OTHER_START_DATE]))
    years = (DEMO_END_DATE - OTHER_START_DATE).days / 365.25
    return float(np.log(total)) / years


def _dividend_yield(ticker: str, asset_type: str) -> float:
    if asset_type == "index" or ticker in NON_DIVIDEND_PAYERS:
        return 0.0
    return _between(f"dividend:{ticker}", *DIVIDEND_YIELD_RANGE)


def _ex_dividend_positions(ticker: str, sessions: pd.DatetimeIndex) -> np.ndarray:
    """Quarterly ex-dividend sessions: a ticker-specific month of each quarter and day of that month."""
    if len(sessions) == 0:
        return np.array([], dtype=int)
    key = zlib.crc32(f"exdate:{ticker}".encode())
    month_offset, day = key % 3, 5 + (key // 3) % 20
    targets = [
        pd.Timestamp(year, quarter_month + month_offset, day)
        for year in range(sessions[0].year, sessions[-1].year + 1)
        for quarter_month in (1, 4, 7, 10)
    ]
    positions = sessions.searchsorted(pd.DatetimeIndex(targets))
    return np.unique(positions[(positions > 0) & (positions < len(sessions))])


def _split_ratios(ticker: str, sessions: pd.DatetimeIndex) -> np.ndarray:
    ratios = np.ones(len(sessions))
    for when, ratio in SPLITS.get(ticker, []):
        position = sessions.searchsorted(pd.Timestamp(when))
        if 0 < position < len(sessions):
            ratios[position] = ratio
    return ratios


def _start_level(ticker: str) -> float:
    if ticker in START_LEVELS:
        return START_LEVELS[ticker]
    return float(np.exp(_between(f"level:{ticker}", np.log(20.0), np.log(500.0))))


def _ticker_frame(
    ticker: str, asset_type: str, sector: str | None, f: _Factors, dates: np.ndarray
) -> dict[str, np.ndarray]:
    start = INDEX_START_DATE if asset_type == "index" else OTHER_START_DATE
    first = f.sessions.searchsorted(pd.Timestamp(start))
    sl = slice(first, len(f.sessions))
    sessions = f.sessions[sl]
    n = len(sessions)

    returns = _total_returns(ticker, asset_type, sector, f, sl)
    returns[:1] = 0.0

    # Dividends (as a fraction of the previous close, paid on ex-dates) and splits.
    dividend = np.zeros(n)
    quarterly_yield = _dividend_yield(ticker, asset_type) / 4.0
    if quarterly_yield:
        dividend[_ex_dividend_positions(ticker, sessions)] = quarterly_yield
    split = _split_ratios(ticker, sessions)

    price_growth = (1.0 + returns - dividend) / split
    close = _start_level(ticker) * np.cumprod(price_growth)
    # Yahoo-style adjustment: adj_close_t = close_t * product of the factors of later events, so
    # adj_close equals close on the last date, and exactly equals close without events.
    factor = np.ones(n)
    events = (dividend != 0.0) | (split != 1.0)
    factor[events] = price_growth[events] / (1.0 + returns[events])
    later = np.append(np.cumprod(factor[::-1])[::-1][1:], 1.0) if n else factor
    adj_close = close * later

    rng = _rng(f"ohlcv:{ticker}")
    early = f.early_scale[sl]
    gap_vol = 0.0005 if asset_type == "index" else 0.0015
    range_vol = 0.003 if asset_type == "index" else 0.006
    previous_close = np.empty(n)
    previous_close[:1] = close[:1]
    previous_close[1:] = close[:-1] * (1.0 - dividend[1:]) / split[1:]
    open_ = previous_close * (1.0 + np.clip(gap_vol * early * rng.standard_normal(n), -0.2, 0.2))
    high = np.maximum(open_, close) * (1.0 + np.abs(range_vol * early * rng.standard_normal(n)))
    low = np.minimum(open_, close) * (1.0 - np.minimum(np.abs(range_vol * early * rng.standard_normal(n)), 0.5))

    base = BASE_VOLUME.get(asset_type, BASE_VOLUME["stock"]) * _between(f"volume:{ticker}", 0.5, 2.0)
    log_volume = np.log(base) + 0.25 * rng.standard_normal(n) + 15.0 * np.abs(returns)
    volume = np.exp(log_volume) * np.where(early < 1.0, EARLY_CLOSE_VOLUME_SCALE, 1.0)

    low_rounded = np.round(low, 4)
    return {
        "date": dates[sl],
        "ticker": np.full(n, ticker, dtype=object),
        "open": np.round(open_, 4),
        "high": np.round(high, 4),
        "low": np.where(low_rounded > 0.0, low_rounded, 0.0001),
        "close": np.round(close, 4),
        "adj_close": np.round(adj_close, 4),
        "volume": np.maximum(np.rint(volume), 1.0).astype(np.int64),
    }


# --- the source --------------------------------------------------------------------------------


class DemoSource:
    """Generates the synthetic market for every ticker of the universe, up to `end_date`."""

    def __init__(self, universe: Universe | None = None, end_date: date = DEMO_END_DATE):
        self.universe = universe if universe is not None else load_universe()
        self.end_date = end_date

    def fetch(self) -> list[PriceBatch]:
        # The market is generated up to DEMO_END_DATE at least, then cut at end_date: the factors' random
        # draws and yearly adjustments depend on the number of sessions, so a market generated up to an
        # earlier end would differ from the full one before that end, not just lack its last sessions.
        generated_to = max(self.end_date, DEMO_END_DATE)
        sessions = nyse_sessions(INDEX_START_DATE, generated_to)
        early_close = sessions.isin(nyse_early_closes(INDEX_START_DATE, generated_to))
        factors = _Factors(sessions, early_close)
        dates = np.array(sessions.date, dtype=object)

        rows = self.universe.tickers.sort_values("ticker", kind="stable")
        parts = [
            _ticker_frame(
                row.ticker,
                row.asset_type,
                None if pd.isna(row.sector) else row.sector,
                factors,
                dates,
            )
            for row in rows.itertuples(index=False)
        ]
        columns = {
            name: np.concatenate([part[name] for part in parts]) if parts else np.array([])
            for name in PRICE_COLUMNS
            if name != "source"
        }
        frame = pd.DataFrame(
            {
                "date": pd.Series(columns["date"], dtype=object),
                "ticker": pd.Series(columns["ticker"], dtype=str),
                **{name: pd.Series(columns[name], dtype="float64") for name in PRICE_FIELDS},
                "volume": pd.Series(columns["volume"], dtype="int64"),
            }
        )
        frame["source"] = ORIGIN
        frame = frame.loc[frame["date"] <= self.end_date, PRICE_COLUMNS].reset_index(drop=True)
        frame["row"] = np.arange(len(frame), dtype=np.int64)
        return [PriceBatch(origin=ORIGIN, frame=frame)]
