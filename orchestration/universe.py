"""The universe (tickers, cohorts, pairs) as declared by the dbt seeds: the single place that defines it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration import config


@dataclass(frozen=True)
class Universe:
    tickers: pd.DataFrame  # ticker, name, asset_type, sector, proxy_for_sector, index_name, headline_order
    cohorts: pd.DataFrame  # cohort, label, parent_index
    cohort_members: pd.DataFrame  # cohort, ticker
    pairs: pd.DataFrame  # pair_id, leader_ticker, laggard_ticker, description

    @property
    def symbols(self) -> list[str]:
        return list(self.tickers["ticker"])

    @property
    def index_tickers(self) -> list[str]:
        """Tickers of the indices whose membership and valuations are loaded (index_name set)."""
        return list(self.tickers.loc[self.tickers["index_name"].notna(), "ticker"])

    @property
    def cohort_tickers(self) -> list[str]:
        """Every member of every cohort, each once."""
        return list(dict.fromkeys(self.cohort_members["ticker"]))

    def asset_type(self, ticker: str) -> str:
        return self.tickers.set_index("ticker").at[ticker, "asset_type"]


def load_universe() -> Universe:
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(config.seeds_dir() / f"{name}.csv", dtype=str, keep_default_na=False).replace("", None)

    return Universe(
        tickers=read("universe_tickers"),
        cohorts=read("universe_cohorts"),
        cohort_members=read("universe_cohort_members"),
        pairs=read("universe_pairs"),
    )
