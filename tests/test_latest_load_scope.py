"""`where: latest_load` data tests check the rows of the latest load of prices in raw.load_log; every row on --full-refresh."""

from __future__ import annotations

import pytest

from tests.conftest import load_prices, run_dbt


def test_latest_load_tests_see_the_latest_load_only_and_full_refresh_every_row(tmp_path):
    path = tmp_path / "rotation.duckdb"
    # An older load with a source the accepted_values test on stg_prices_daily.source (where: latest_load) rejects,
    # then a load of good rows: the latest load.
    load_prices(path, [("SPY", "2025-01-02", 100.0, 100.0)], source="bogus")
    load_prices(path, [("QQQ", "2025-01-02", 500.0, 500.0), ("QQQ", "2025-01-03", 501.0, 501.0)])
    run_dbt(path, "run", "--select", "stg_load_log", "stg_prices_daily")

    tested = run_dbt(path, "test", "--select", "stg_prices_daily", "--exclude", "test_type:singular")
    # five tests and the on-run-start hook (which registers the raw tables on Spark, nothing on DuckDB)
    assert "accepted_values_stg_prices_daily_source" in tested.stdout and "PASS=6" in tested.stdout

    with pytest.raises(AssertionError, match=r"Got 1 result, configured to fail if != 0"):
        run_dbt(path, "build", "--full-refresh", "--select", "stg_prices_daily", "--exclude", "test_type:singular")
