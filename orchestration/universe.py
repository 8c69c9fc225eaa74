"""The universe (tickers, cohorts, pairs) as declared by the dbt seeds: the single place that defines it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration import config


@dataclass(frozen=True)
class Universe:
    tickers: pd.DataFrame  # ticker, name, asset_type, sector, proxy_for_sector
    cohort_members: pd.DataFrame  # cohort, ticker
    pairs: pd.DataFrame  # pair_id, leader_ticker, laggard_ticker, description

    @property
    def symbols(self) -> list[str]:
        return list(self.tickers["ticker"])

    def asset_type(self, ticker: str) -> str:
        return self.tickers.set_index("ticker").at[ticker, "asset_type"]


def load_universe() -> Universe:
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(config.seeds_dir() / f"{name}.csv", dtype=str, keep_default_na=False).replace("", None)

    return Universe(
        tickers=read("universe_tickers"),
        cohort_members=read("universe_cohort_members"),
        pairs=read("universe_pairs"),
    )
