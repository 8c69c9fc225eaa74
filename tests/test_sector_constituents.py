"""The constituents sector method on the demo market, recomputed here from the staged membership, caps and returns."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.extract.demo_valuations import MAGNIFICENT_7_SECTORS
from tests.conftest import query


@pytest.fixture(scope="module")
def demo(demo_run):
    return demo_run[0]


def expected_sector_returns(warehouse, on: str) -> pd.DataFrame:
    """Each sector's cap-weighted return_1d on `on` over the S&P 500 members of the membership vintage in force
    at the previous session, each weighted by its latest cap on or before that session."""
    previous = query(warehouse, "SELECT max(date) AS d FROM staging.nyse_sessions WHERE date < ?", [on])["d"][0]
    members = query(warehouse, """
        SELECT ticker, sector FROM staging.stg_index_membership
        WHERE index_name = 'sp500'
          AND as_of_date = (SELECT max(as_of_date) FROM staging.stg_index_membership
                            WHERE index_name = 'sp500' AND as_of_date <= ?)""", [previous])
    caps = query(warehouse, """
        SELECT ticker, arg_max(market_cap, as_of_date) AS cap FROM staging.stg_valuation_snapshots
        WHERE market_cap > 0 AND as_of_date <= ? GROUP BY ticker""", [previous])
    returns = query(warehouse, "SELECT ticker, return_1d FROM marts.fct_returns_daily WHERE date = ?", [on])
    sectors = members.merge(caps, on="ticker", how="left")
    priced = sectors.merge(returns.dropna(), on="ticker").dropna(subset=["cap"])
    priced["weighted"] = priced["cap"] * priced["return_1d"]
    grouped = priced.groupby("sector").agg(members=("ticker", "size"), cap=("cap", "sum"), weighted=("weighted", "sum"))
    grouped["return_1d"] = grouped["weighted"] / grouped["cap"]
    grouped["coverage_pct"] = grouped["cap"] / sectors.groupby("sector")["cap"].sum().reindex(grouped.index)
    grouped["sector_members"] = sectors.groupby("sector").size().reindex(grouped.index)
    return grouped


# The demo's last session (caps of the session before) and one mid-March (caps of the last February session,
# membership of the 2019 year-end).
@pytest.mark.parametrize("on", ["last", "2020-03-16"])
def test_demo_constituents_match_a_recomputation(demo, on):
    if on == "last":
        on = str(query(demo, "SELECT max(date) AS d FROM marts.fct_sector_returns WHERE method = 'constituents'")["d"][0])
    rows = query(demo, """
        SELECT sector, members, sector_members, return_1d, coverage_pct FROM marts.fct_sector_returns
        WHERE method = 'constituents' AND date = ? ORDER BY sector""", [on]).set_index("sector")
    # the demo prices only the Magnificent 7 among the members: their sectors are the ones measured
    assert set(rows.index) == set(MAGNIFICENT_7_SECTORS.values())
    assert rows.loc["Technology", "members"] == sum(s == "Technology" for s in MAGNIFICENT_7_SECTORS.values())
    expected = expected_sector_returns(demo, on)
    for sector, row in rows.iterrows():
        assert row["return_1d"] == pytest.approx(expected.loc[sector, "return_1d"], rel=1e-9), sector
        assert row["coverage_pct"] == pytest.approx(expected.loc[sector, "coverage_pct"], rel=1e-9), sector
        assert row["members"] == expected.loc[sector, "members"]
        assert row["sector_members"] == expected.loc[sector, "sector_members"]
        assert 0 < row["coverage_pct"] < 1  # the other members have caps but no prices


def test_dispersion_covers_both_methods(demo):
    methods = query(demo, """
        SELECT method, count(*) AS days, max(sectors) AS sectors FROM marts.fct_sector_dispersion GROUP BY method""")
    by_method = methods.set_index("method")
    assert set(by_method.index) == {"etf", "constituents"}
    assert by_method.loc["constituents", "sectors"] == len(set(MAGNIFICENT_7_SECTORS.values()))
    assert by_method.loc["etf", "sectors"] == 11
