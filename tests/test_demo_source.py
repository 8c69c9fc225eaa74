"""The demo source: a deterministic synthetic market on the real NYSE calendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.extract.base import PRICE_COLUMNS
from orchestration.extract.demo import (
    DEMO_END_DATE,
    INDEX_START_DATE,
    OTHER_START_DATE,
    ROTATION_PLAN,
    DemoSource,
    rotation_sessions,
)
from orchestration.trading_calendar import nyse_early_closes, nyse_sessions
from orchestration.universe import load_universe


@pytest.fixture(scope="module")
def universe():
    return load_universe()


@pytest.fixture(scope="module")
def frame(universe):
    batches = DemoSource(universe).fetch()
    assert len(batches) == 1
    assert batches[0].origin == "demo"
    return batches[0].frame


def series(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    return frame[frame["ticker"] == ticker].set_index("date")


# --- determinism -------------------------------------------------------------------------------


def test_two_fetches_are_identical(universe, frame):
    again = DemoSource(universe).fetch()[0].frame
    pd.testing.assert_frame_equal(frame, again)


def test_dropping_a_ticker_leaves_the_others_unchanged(universe, frame):
    smaller = replace(universe, tickers=universe.tickers[universe.tickers["ticker"] != "XLK"])
    other = DemoSource(smaller).fetch()[0].frame
    assert "XLK" not in set(other["ticker"])
    expected = frame[frame["ticker"] != "XLK"].drop(columns="row").reset_index(drop=True)
    pd.testing.assert_frame_equal(other.drop(columns="row"), expected)


# --- shape -------------------------------------------------------------------------------------


def test_columns_and_dtypes(frame):
    assert list(frame.columns) == PRICE_COLUMNS + ["row"]
    assert frame["date"].dtype == object
    assert all(type(value) is date for value in frame["date"])
    assert pd.api.types.is_string_dtype(frame["ticker"])
    assert all(isinstance(value, str) for value in frame["ticker"])
    for column in ("open", "high", "low", "close", "adj_close"):
        assert frame[column].dtype == np.float64, column
    assert frame["volume"].dtype == np.int64
    assert (frame["volume"] > 0).all()
    assert (frame["source"] == "demo").all()
    assert frame["row"].tolist() == list(range(len(frame)))


def test_every_ticker_present_sorted_without_duplicates(universe, frame):
    assert set(frame["ticker"]) == set(universe.symbols)
    assert not frame.duplicated(["ticker", "date"]).any()
    ordered = frame.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, ordered)


def test_start_and_end_dates(universe, frame):
    bounds = frame.groupby("ticker")["date"].agg(["min", "max"])
    for ticker in universe.symbols:
        expected_start = INDEX_START_DATE if universe.asset_type(ticker) == "index" else OTHER_START_DATE
        assert bounds.at[ticker, "min"] == expected_start, ticker
        assert bounds.at[ticker, "max"] == DEMO_END_DATE, ticker
    assert date(1990, 1, 2) == INDEX_START_DATE
    assert date(2015, 1, 2) == OTHER_START_DATE
    assert date(2026, 11, 20) == DEMO_END_DATE


def test_end_date_is_configurable(universe):
    short = DemoSource(universe, end_date=date(2016, 1, 8)).fetch()[0].frame
    assert short["date"].max() == date(2016, 1, 8)
    assert (short.groupby("ticker")["date"].max() == date(2016, 1, 8)).all()


def test_a_later_end_date_only_appends_sessions(universe, frame):
    """A one-session refresh of the demo changes no stored price: the market ending a session earlier is the
    full one without its last session (closes and adjusted closes alike)."""
    shorter = DemoSource(universe, end_date=date(2026, 11, 19)).fetch()[0].frame
    assert shorter["date"].max() == date(2026, 11, 19)
    full = frame[frame["date"] <= date(2026, 11, 19)].reset_index(drop=True)
    pd.testing.assert_frame_equal(shorter.drop(columns="row"), full.drop(columns="row"))


# --- calendar ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "closed",
    [
        date(2025, 7, 4),  # Independence Day
        date(2025, 12, 25),  # Christmas
        date(2025, 1, 9),  # national day of mourning for President Carter
        date(2012, 10, 29),  # Hurricane Sandy
        date(2012, 10, 30),  # Hurricane Sandy, second day
        date(2025, 11, 22),  # a Saturday
        date(2025, 11, 23),  # a Sunday
    ],
)
def test_no_rows_when_the_exchange_is_closed(frame, closed):
    assert not (frame["date"] == closed).any()


@pytest.mark.parametrize("open_day", [date(2025, 11, 28), date(2024, 7, 3), date(2025, 1, 10)])
def test_rows_on_trading_days_including_early_closes(universe, frame, open_day):
    on_day = frame[frame["date"] == open_day]
    assert set(on_day["ticker"]) == set(universe.symbols)


def test_indices_trade_again_after_hurricane_sandy(universe, frame):
    on_day = frame[frame["date"] == date(2012, 10, 31)]
    indices = set(universe.tickers.query("asset_type == 'index'")["ticker"])
    assert set(on_day["ticker"]) == indices


def test_no_weekend_rows(frame):
    weekdays = pd.to_datetime(pd.Series(frame["date"].unique())).dt.day_of_week
    assert weekdays.max() <= 4


def test_index_rows_match_the_nyse_calendar(frame):
    sessions = nyse_sessions(INDEX_START_DATE, DEMO_END_DATE)
    gspc = series(frame, "^GSPC")
    assert len(gspc) == len(sessions)
    assert list(gspc.index) == list(sessions.date)
    assert len(series(frame, "SPY")) == len(nyse_sessions(OTHER_START_DATE, DEMO_END_DATE))


def test_early_closes_come_from_the_calendar():
    early = nyse_early_closes(date(2025, 1, 1), date(2025, 12, 31))
    assert pd.Timestamp(2025, 11, 28) in early  # day after Thanksgiving
    assert pd.Timestamp(2025, 12, 24) in early  # Christmas Eve
    assert pd.Timestamp(2025, 11, 26) not in early


def test_early_closes_trade_lighter(frame):
    # Volume is halved on early closes: the day after Thanksgiving trades below the days around it.
    gspc = series(frame, "^GSPC")["volume"]
    assert gspc[date(2025, 11, 28)] < gspc[date(2025, 12, 1)]
    early = {d.date() for d in nyse_early_closes(INDEX_START_DATE, DEMO_END_DATE)}
    is_early = gspc.index.map(lambda d: d in early)
    assert gspc[is_early].median() < 0.7 * gspc[~is_early].median()


# --- prices ------------------------------------------------------------------------------------


def test_ohlc_are_consistent_and_positive(frame):
    assert (frame[["open", "high", "low", "close", "adj_close"]] > 0).all().all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()


def test_nvda_ten_for_one_split(frame):
    nvda = series(frame, "NVDA")
    before, after = nvda.loc[date(2024, 6, 7)], nvda.loc[date(2024, 6, 10)]
    assert 0.08 < after["close"] / before["close"] < 0.12
    assert 0.8 < after["adj_close"] / before["adj_close"] < 1.2


def test_aapl_four_for_one_split(frame):
    aapl = series(frame, "AAPL")
    before, after = aapl.loc[date(2020, 8, 28)], aapl.loc[date(2020, 8, 31)]
    assert 0.2 < after["close"] / before["close"] < 0.3
    assert 0.8 < after["adj_close"] / before["adj_close"] < 1.2


def test_adj_close_equals_close_on_the_last_date(frame):
    last = frame.groupby("ticker").tail(1)
    assert (last["adj_close"] == last["close"]).all()


def test_indices_are_not_adjusted(universe, frame):
    indices = frame[frame["ticker"].isin(universe.tickers.query("asset_type == 'index'")["ticker"])]
    assert len(indices) > 0
    assert (indices["adj_close"] == indices["close"]).all()


def test_etfs_pay_dividends(frame):
    # Dividends make the adjusted history lower than the traded one, by a few percent a year.
    spy = series(frame, "SPY")
    first = spy.iloc[0]
    assert first["adj_close"] < first["close"]
    assert 0.6 < first["adj_close"] / first["close"] < 0.98


def test_starting_levels(frame):
    assert series(frame, "^GSPC").iloc[0]["close"] == 350.0
    assert series(frame, "^RUT").iloc[0]["close"] == 170.0
    assert series(frame, "SPY").iloc[0]["close"] == 200.0


# --- rotation ----------------------------------------------------------------------------------


def test_rotation_plan():
    assert rotation_sessions(2026) == 14
    assert ROTATION_PLAN[2026] == 14
    assert rotation_sessions(2011) == 15
    assert all(3 <= length <= 15 for length in ROTATION_PLAN.values())
    # 2026's rotation is the longest since 2011.
    assert max(ROTATION_PLAN[year] for year in range(2012, 2026)) < 14


@pytest.mark.parametrize("year", [2026, 2011, 2020, 1995])
def test_january_small_cap_rotation(frame, year):
    rut = series(frame, "^RUT")["adj_close"].pct_change()
    gspc = series(frame, "^GSPC")["adj_close"].pct_change()
    beats = (rut - gspc).dropna()
    days = pd.Series(beats.index, index=beats.index)
    in_year = beats[[d.year == year for d in days]]
    before = beats[[d.year == year - 1 for d in days]]
    length = rotation_sessions(year)

    assert (in_year.iloc[:length] > 0).all()
    assert in_year.iloc[length] < 0
    assert before.iloc[-1] < 0


def test_demo_valuations_of_a_shorter_market_are_the_full_ones_up_to_its_end(universe, frame):
    """Valuations, membership and guidance of a demo market ending a session earlier are the full demo's up to
    that session, so a one-session refresh only adds the last session's snapshots."""
    from orchestration.extract.demo_valuations import DemoValuations

    closes = frame.loc[frame["ticker"].isin(universe.index_tickers + universe.cohort_tickers), ["date", "ticker", "close"]]
    end = date(2026, 11, 19)
    short = DemoValuations(closes[closes["date"] <= end], end=end)
    full = DemoValuations(closes)
    short_valuations, full_valuations = short.valuations(), full.valuations()
    assert short_valuations["as_of_date"].max() == end
    pd.testing.assert_frame_equal(short_valuations, full_valuations[full_valuations["as_of_date"] <= end].reset_index(drop=True))
    full_membership = full.membership(full_valuations)
    pd.testing.assert_frame_equal(short.membership(short_valuations),
                                  full_membership[full_membership["as_of_date"] <= end].reset_index(drop=True))
    full_guidance = full.guidance_events()
    pd.testing.assert_frame_equal(short.guidance_events(),
                                  full_guidance[full_guidance["announced_date"] <= end].reset_index(drop=True))
