"""The comparison point: the three marts as an analyst would compute them in pandas.

Read the prices into one DataFrame, then groupby/shift/merge. Vectorised throughout (no Python
loop over tickers or pairs), so it is a fair, not a strawman, pandas implementation.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def load_prices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT ticker, date, close, adj_close FROM raw.prices_daily").df()


def returns_daily(prices: pd.DataFrame) -> pd.DataFrame:
    df = prices.sort_values(["ticker", "date"], ignore_index=True)
    df["price"] = df["adj_close"].fillna(df["close"])
    by_ticker = df.groupby("ticker", sort=False)["price"]
    df["return_1d"] = df["price"] / by_ticker.shift(1) - 1
    df["return_5d"] = df["price"] / by_ticker.shift(5) - 1

    df["month"] = df["date"].dt.to_period("M")
    df["year"] = df["date"].dt.year
    month_close = df.groupby(["ticker", "month"], as_index=False)["price"].last()
    month_close["month"] = month_close["month"] + 1  # the close that month-to-date returns of the next month use
    df = df.merge(month_close.rename(columns={"price": "month_base"}), on=["ticker", "month"], how="left")
    year_close = df.groupby(["ticker", "year"], as_index=False)["price"].last()
    year_close["year"] = year_close["year"] + 1
    df = df.merge(year_close.rename(columns={"price": "year_base"}), on=["ticker", "year"], how="left")
    df["return_mtd"] = df["price"] / df["month_base"] - 1
    df["return_ytd"] = df["price"] / df["year_base"] - 1
    return df[["ticker", "date", "close", "adj_close", "price", "return_1d", "return_5d", "return_mtd", "return_ytd"]]


def relative_streaks(returns: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    prices = returns[["ticker", "date", "price"]]
    legs = pairs[["pair_id", "leader_ticker", "laggard_ticker"]].merge(
        prices.rename(columns={"ticker": "leader_ticker", "price": "leader_price"}), on="leader_ticker"
    ).merge(
        prices.rename(columns={"ticker": "laggard_ticker", "price": "laggard_price"}), on=["laggard_ticker", "date"]
    )
    legs = legs.sort_values(["pair_id", "date"], ignore_index=True)
    by_pair = legs.groupby("pair_id", sort=False)
    legs["leader_return_1d"] = legs["leader_price"] / by_pair["leader_price"].shift(1) - 1
    legs["laggard_return_1d"] = legs["laggard_price"] / by_pair["laggard_price"].shift(1) - 1
    legs["spread_1d"] = legs["leader_return_1d"] - legs["laggard_return_1d"]
    won = legs["leader_return_1d"] > legs["laggard_return_1d"]  # NaN compares False
    legs["leader_outperformed"] = won

    # A run of wins is everything between two sessions the leader did not win.
    run = (~won).astype(int).groupby(legs["pair_id"]).cumsum()
    run_key = [legs["pair_id"], run]
    legs["streak_sessions"] = won.astype(int).groupby(run_key).cumsum()
    won_dates = legs["date"].where(won)
    legs["streak_start_date"] = won_dates.groupby(run_key).transform("min").where(won)
    run_end = won_dates.groupby(run_key).transform("max")
    run_length = won.astype(int).groupby(run_key).transform("sum")

    # The previous row with the same streak length belongs to the latest earlier run at least that long.
    same_length = [legs["pair_id"], legs["streak_sessions"]]
    legs["longest_since_date"] = run_end.groupby(same_length).shift(1).where(won)
    legs["longest_since_sessions"] = run_length.groupby(same_length).shift(1).where(won)
    return legs.drop(columns=["leader_price", "laggard_price"])


def sector_returns(returns: pd.DataFrame, tickers: pd.DataFrame) -> pd.DataFrame:
    proxies = tickers.loc[tickers["proxy_for_sector"].notna(), ["ticker", "proxy_for_sector"]]
    sectors = proxies.rename(columns={"proxy_for_sector": "sector"}).merge(returns, on="ticker")
    sectors = sectors.rename(columns={"ticker": "proxy_ticker"})
    sectors["method"] = "etf"
    sectors["rank_1d"] = sectors.groupby("date")["return_1d"].rank(method="min", ascending=False)
    return sectors[["sector", "date", "method", "proxy_ticker", "return_1d", "return_5d", "return_mtd", "return_ytd", "rank_1d"]]


def compute(con: duckdb.DuckDBPyConnection, seeds: Path) -> dict[str, pd.DataFrame]:
    read = lambda name: pd.read_csv(seeds / f"{name}.csv", dtype=str, keep_default_na=False).replace("", None)  # noqa: E731
    returns = returns_daily(load_prices(con))
    return {
        "returns_daily": returns,
        "relative_streaks": relative_streaks(returns, read("universe_pairs")),
        "sector_returns": sector_returns(returns, read("universe_tickers")),
    }
