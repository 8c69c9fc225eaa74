"""Deterministic synthetic index membership, valuation snapshots and EPS guidance for the demo market.

Consistent with the demo prices: the Magnificent 7's market caps are their demo closes times their
share counts (share counts follow the demo's stock splits), and the other constituents' caps move
with the demo ^GSPC (S&P 500 members) or ^RUT (Russell 2000 members) level, so the index-level
story matches the price story.

The valuation story comes from the parameters below, not from any mart: each member's forward P/E
is a target multiple (EX_MAGNIFICENT_7_PE_PATH for the S&P 500's other members, that times
MAGNIFICENT_7_PE_PREMIUM for the Magnificent 7, times RUSSELL_RELATIVE_PE_PATH for the Russell 2000)
times a member-specific factor whose harmonic mean is one, so the cap-weighted
aggregate that dbt computes lands near the target path. Some members have negative forward EPS
(they drop out of the aggregate and lower its coverage).

Snapshots: the last session of every month from 2006 plus the last DAILY_SNAPSHOT_SESSIONS
sessions (a long monthly history and a recent daily one, instead of every member every day).
Membership snapshots: the last session of every quarter, the first snapshot date and the last one.
Guidance: S&P 500 members issue guidance for every fiscal quarter from GUIDANCE_FIRST_YEAR, about
GUIDANCE_ISSUERS_PER_QUARTER of them, announced in the weeks before and early in the quarter.

A demo market ending before DEMO_END_DATE (ROTATION_DEMO_END_DATE) gets the full demo's snapshots,
membership and guidance up to its end, as its prices are the full market's up to that end: the caps are
scaled to their end-of-demo values, so a shorter market's snapshots would otherwise all differ. Moving the
end date later then only adds snapshots, as a daily refresh does.
"""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pandas as pd

from orchestration.extract.demo import DEMO_END_DATE, SECTOR_BETAS, SPLITS
from orchestration.trading_calendar import nyse_sessions

ORIGIN = "demo"
SEED = 20_261_120
SNAPSHOT_START = date(2006, 1, 1)
DAILY_SNAPSHOT_SESSIONS = 20

SP500_SYNTHETIC_MEMBERS = 493  # plus the Magnificent 7
RUSSELL2000_MEMBERS = 2000
# Caps (USD) of the synthetic members together at the demo's last session.
SP500_OTHERS_TOTAL_CAP = 42e12
RUSSELL2000_TOTAL_CAP = 3.2e12

# Current share counts of the Magnificent 7 (before the splits are undone for earlier dates).
MAGNIFICENT_7_SHARES = {
    "AAPL": 14.9e9, "MSFT": 7.43e9, "GOOGL": 12.1e9, "AMZN": 10.6e9, "NVDA": 24.4e9, "META": 2.52e9, "TSLA": 3.22e9,
}
MAGNIFICENT_7_PE_PREMIUM = 1.3  # their forward multiple over the rest of the index

# Target aggregate forward P/E of the S&P 500 without the Magnificent 7 (anchor dates, linear in
# between); the Magnificent 7 trade at a premium on top, so the whole index has a 2021 peak near
# 22.5x that the end of the demo comes back to.
EX_MAGNIFICENT_7_PE_PATH = [
    ("2006-01-31", 15.0), ("2007-06-29", 15.6), ("2008-11-28", 10.4), ("2009-03-31", 11.0),
    ("2011-09-30", 11.4), ("2013-12-31", 15.0), ("2018-01-31", 17.6), ("2018-12-31", 13.6),
    ("2020-03-31", 13.2), ("2020-08-31", 19.0), ("2021-01-29", 19.8), ("2021-12-31", 18.5),
    ("2022-09-30", 14.4), ("2023-12-29", 18.0), ("2024-12-31", 19.6), ("2025-04-30", 17.0),
    ("2026-11-20", 20.0),
]
# Target Russell 2000 forward P/E relative to the path above: a long-run premium that has turned
# into a discount.
RUSSELL_RELATIVE_PE_PATH = [
    ("2006-01-31", 1.2), ("2010-06-30", 1.25), ("2016-06-30", 1.2), ("2019-06-28", 1.06),
    ("2021-03-31", 1.10), ("2022-12-30", 0.94), ("2024-06-28", 0.86), ("2026-11-20", 0.83),
]
MEMBER_PE_DISPERSION = 0.35  # standard deviation of the log of a member's multiple factor
NEGATIVE_EPS_SHARE = {"sp500": 0.04, "russell2000": 0.35}
TRAILING_TO_FORWARD_EPS = 0.9

GUIDANCE_FIRST_YEAR = 2013
GUIDANCE_ISSUERS_PER_QUARTER = 106

# Yahoo sectors and their shares of members.
SECTOR_SHARES = {
    "Technology": 0.14, "Financial Services": 0.14, "Healthcare": 0.12, "Consumer Cyclical": 0.11,
    "Consumer Defensive": 0.07, "Industrials": 0.15, "Energy": 0.05, "Utilities": 0.06,
    "Real Estate": 0.06, "Basic Materials": 0.05, "Communication Services": 0.05,
}
assert set(SECTOR_SHARES) == set(SECTOR_BETAS)

MAGNIFICENT_7_SECTORS = {
    "AAPL": "Technology", "MSFT": "Technology", "NVDA": "Technology", "GOOGL": "Communication Services",
    "META": "Communication Services", "AMZN": "Consumer Cyclical", "TSLA": "Consumer Cyclical",
}


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def _path(anchors: list[tuple[str, float]], dates: pd.DatetimeIndex) -> np.ndarray:
    x = pd.to_datetime([a for a, _ in anchors]).as_unit("s").asi8
    return np.interp(dates.as_unit("s").asi8, x, [v for _, v in anchors])


def snapshot_dates(end: date = DEMO_END_DATE) -> pd.DatetimeIndex:
    sessions = nyse_sessions(SNAPSHOT_START, end)
    month_ends = pd.Series(sessions).groupby(sessions.to_period("M")).max()
    return pd.DatetimeIndex(sorted(set(month_ends) | set(sessions[-DAILY_SNAPSHOT_SESSIONS:])))


def membership_dates(snapshots: pd.DatetimeIndex) -> pd.DatetimeIndex:
    quarter_ends = pd.Series(snapshots).groupby(snapshots.to_period("Q")).max()
    return pd.DatetimeIndex(sorted(set(quarter_ends) | {snapshots[0], snapshots[-1]}))


def _synthetic_members(index_name: str) -> pd.DataFrame:
    """Ticker, sector, size weight, multiple factor and sign of EPS of each synthetic member."""
    count, prefix = (SP500_SYNTHETIC_MEMBERS, "LC") if index_name == "sp500" else (RUSSELL2000_MEMBERS, "SC")
    rng = _rng(f"members:{index_name}")
    sizes = rng.pareto(1.3, count) + 1.0  # a few large members, many small ones
    sectors = rng.choice(list(SECTOR_SHARES), size=count, p=list(SECTOR_SHARES.values()))
    log_factor = rng.normal(MEMBER_PE_DISPERSION**2 / 2, MEMBER_PE_DISPERSION, count)  # E[1/factor] = 1
    negative = rng.random(count) < NEGATIVE_EPS_SHARE[index_name]
    weights = sizes / sizes.sum()
    factor = np.exp(log_factor)
    # Rescale so the cap-weighted harmonic mean over the positive-EPS members is exactly one.
    positive = ~negative
    factor *= (weights[positive] / factor[positive]).sum() / weights[positive].sum()
    return pd.DataFrame({
        "ticker": [f"{prefix}{i:04d}" for i in range(1, count + 1)],
        "sector": sectors,
        "weight": weights,
        "pe_factor": factor,
        "negative_eps": negative,
        "price_at_end": rng.uniform(15, 400, count),
    })


def _demo_closes_after(day: date, tickers: list[str]) -> pd.DataFrame:
    """The demo market's closes of `tickers` after `day`, up to DEMO_END_DATE."""
    from orchestration.extract.demo import DemoSource

    frame = DemoSource().fetch()[0].frame
    return frame.loc[(frame["date"] > day) & frame["ticker"].isin(tickers), ["date", "ticker", "close"]]


class DemoValuations:
    """`closes`: date, ticker, close of the demo prices (^GSPC, ^RUT and the Magnificent 7 at least), up to
    `end`, the demo market's last session."""

    def __init__(self, closes: pd.DataFrame, end: date = DEMO_END_DATE):
        self.end = pd.Timestamp(end)
        self.snapshots = snapshot_dates(max(end, DEMO_END_DATE))
        if end < DEMO_END_DATE:
            kept = closes[pd.to_datetime(closes["date"]) <= pd.Timestamp(end)]
            closes = pd.concat([kept, _demo_closes_after(end, sorted(set(closes["ticker"])))], ignore_index=True)
        wide = closes.assign(date=pd.to_datetime(closes["date"])).pivot(index="date", columns="ticker", values="close")
        missing = {"^GSPC", "^RUT"} - set(wide.columns)
        if missing:
            raise ValueError(f"the demo valuations need demo closes of {', '.join(sorted(missing))}; load the demo prices first")
        self.closes = wide.reindex(self.snapshots)
        self.others_pe = _path(EX_MAGNIFICENT_7_PE_PATH, self.snapshots)
        self.russell_pe = self.others_pe * _path(RUSSELL_RELATIVE_PE_PATH, self.snapshots)
        self._members = {name: _synthetic_members(name) for name in ("sp500", "russell2000")}

    # --- valuations ----------------------------------------------------------------------------

    def _synthetic_valuations(self, index_name: str) -> pd.DataFrame:
        members = self._members[index_name]
        level = self.closes["^GSPC" if index_name == "sp500" else "^RUT"].to_numpy()
        total_at_end = SP500_OTHERS_TOTAL_CAP if index_name == "sp500" else RUSSELL2000_TOTAL_CAP
        n_dates, n_members = len(self.snapshots), len(members)
        rng = _rng(f"valuations:{index_name}")
        # Each member drifts around the index with a small random walk (per snapshot step).
        drift = np.cumsum(rng.normal(0, 0.01, (n_dates, n_members)), axis=0)
        drift -= drift[-1]  # the end-of-demo caps match the weights exactly
        caps = (total_at_end * level[:, None] / level[-1]) * members["weight"].to_numpy()[None, :] * np.exp(drift)
        shares = total_at_end * members["weight"].to_numpy() / members["price_at_end"].to_numpy()
        target = self.others_pe if index_name == "sp500" else self.russell_pe
        multiple = target[:, None] * members["pe_factor"].to_numpy()[None, :] * np.exp(
            rng.normal(0, 0.05, (n_dates, n_members))
        )
        eps = caps / shares[None, :] / multiple
        negative = members["negative_eps"].to_numpy()[None, :]
        eps = np.where(negative, -0.2 * np.abs(eps), eps)
        return self._frame(members["ticker"], members["sector"], caps, np.broadcast_to(shares, caps.shape), eps)

    def _magnificent_7_valuations(self) -> pd.DataFrame:
        tickers = [t for t in MAGNIFICENT_7_SHARES if t in self.closes.columns]
        closes = self.closes[tickers].to_numpy()
        shares = np.empty_like(closes)
        for j, ticker in enumerate(tickers):
            later_splits = np.ones(len(self.snapshots))
            for split_day, ratio in SPLITS.get(ticker, []):
                later_splits *= np.where(self.snapshots < pd.Timestamp(split_day), ratio, 1.0)
            shares[:, j] = MAGNIFICENT_7_SHARES[ticker] / later_splits
        caps = closes * shares
        rng = _rng("valuations:magnificent_7")
        multiple = (self.others_pe * MAGNIFICENT_7_PE_PREMIUM)[:, None] * np.exp(rng.normal(0, 0.15, (1, len(tickers))))
        eps = caps / shares / multiple
        frame = self._frame(pd.Series(tickers), pd.Series([MAGNIFICENT_7_SECTORS[t] for t in tickers]), caps, shares, eps)
        return frame[frame["market_cap"].notna()]

    def _frame(self, tickers: pd.Series, sectors: pd.Series, caps, shares, eps) -> pd.DataFrame:
        n_dates, n_members = caps.shape
        frame = pd.DataFrame({
            "ticker": np.tile(tickers.to_numpy(), n_dates),
            "as_of_date": np.repeat(self.snapshots.date, n_members),
            "market_cap": caps.ravel(),
            "shares_outstanding": np.asarray(shares).ravel(),
            "forward_eps": eps.ravel(),
            "trailing_eps": eps.ravel() * TRAILING_TO_FORWARD_EPS,
            "sector": np.tile(sectors.to_numpy(), n_dates),
        })
        price = frame["market_cap"] / frame["shares_outstanding"]
        frame["forward_pe"] = (price / frame["forward_eps"]).where(frame["forward_eps"] > 0)
        frame["trailing_pe"] = (price / frame["trailing_eps"]).where(frame["trailing_eps"] > 0)
        frame["industry"] = frame["sector"] + " (demo industry)"
        return frame

    def valuations(self) -> pd.DataFrame:
        parts = [self._magnificent_7_valuations(), self._synthetic_valuations("sp500"), self._synthetic_valuations("russell2000")]
        frame = pd.concat(parts, ignore_index=True)
        return frame[frame["as_of_date"] <= self.end.date()].reset_index(drop=True)

    # --- membership ----------------------------------------------------------------------------

    def membership(self, valuations: pd.DataFrame) -> pd.DataFrame:
        """Members of each index at each membership date, weighted by their cap that day."""
        on = set(membership_dates(self.snapshots).date)
        caps = valuations.loc[valuations["as_of_date"].isin(on), ["ticker", "as_of_date", "market_cap", "sector"]]
        index_of = {t: "sp500" for t in MAGNIFICENT_7_SHARES}
        index_of.update({t: name for name, m in self._members.items() for t in m["ticker"]})
        frame = caps.assign(index_name=caps["ticker"].map(index_of))
        frame["weight"] = frame["market_cap"] / frame.groupby(["index_name", "as_of_date"])["market_cap"].transform("sum")
        return frame[["index_name", "ticker", "as_of_date", "weight", "sector"]].reset_index(drop=True)

    # --- guidance ------------------------------------------------------------------------------

    def guidance_events(self) -> pd.DataFrame:
        """EPS guidance of S&P 500 members for every fiscal quarter from GUIDANCE_FIRST_YEAR on."""
        issuers = list(MAGNIFICENT_7_SHARES) + list(self._members["sp500"]["ticker"])
        end = self.snapshots[-1]
        rows = []
        for quarter in pd.period_range(f"{GUIDANCE_FIRST_YEAR}Q1", end.to_period("Q"), freq="Q"):
            rng = _rng(f"guidance:{quarter}")
            # The negative share swings with a slow cycle around 60 %.
            negative_share = 0.6 + 0.08 * np.sin(quarter.ordinal / 3.0) + rng.normal(0, 0.03)
            count = GUIDANCE_ISSUERS_PER_QUARTER + int(rng.integers(-8, 9))
            chosen = rng.choice(issuers, size=count, replace=False)
            window_start = (quarter.start_time - pd.Timedelta(days=30)).value
            window_end = (quarter.start_time + pd.Timedelta(days=45)).value
            for ticker in chosen:
                announced = pd.Timestamp(int(rng.integers(window_start, window_end))).normalize()
                if announced > end or announced > self.end:
                    continue
                consensus = round(float(rng.uniform(0.3, 4.0)), 2)
                draw = rng.random()
                direction = -1 if draw < negative_share else (0 if draw < negative_share + 0.05 else 1)
                midpoint = round(consensus * (1 + direction * float(rng.uniform(0.02, 0.15))), 2)
                if direction == 0:
                    midpoint = consensus
                if rng.random() < 0.6:  # a range around the midpoint
                    half = round(float(rng.uniform(0.01, 0.1)), 2)
                    low, high = midpoint - half, midpoint + half
                else:
                    low = high = midpoint
                rows.append((ticker, announced.date(), str(quarter), round(low, 2), round(high, 2), consensus))
        frame = pd.DataFrame(rows, columns=["ticker", "announced_date", "fiscal_quarter", "eps_low", "eps_high",
                                            "consensus_eps_before"])
        return frame.drop_duplicates(["ticker", "announced_date", "fiscal_quarter"]).reset_index(drop=True)

