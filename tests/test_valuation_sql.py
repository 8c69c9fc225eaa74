"""fct_guidance_counts on the published guidance counts of the shared reference data.

The SQL logic of the valuation and guidance models (forward P/E aggregation, relative P/E and its
long-run average, prior peaks, guidance classification, counts, averages and lowest-since) is
tested by dbt unit tests on hand-made inputs (dbt_project/models/*/_unit_tests.yml, run by
tests/test_dbt_unit_tests.py).
"""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd

from orchestration.land.guidance_landing import process_landing_folder
from tests.conftest import query, run_dbt


def test_published_reference_counts(reference_data, tmp_path):
    path = tmp_path / "rotation.duckdb"
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(reference_data / "published_guidance_counts.csv", landing)
    with duckdb.connect(str(path)) as con:
        report = process_landing_folder(con, landing, tmp_path / "quarantine")
    assert report.loaded and not report.quarantined
    run_dbt(path, "build", "--exclude-resource-type", "unit_test", "--select", "+fct_guidance_counts",
            "--indirect-selection", "cautious")
    published = pd.read_csv(reference_data / "published_guidance_counts.csv")
    counts = query(path, "SELECT * FROM marts.fct_guidance_counts").set_index("fiscal_quarter")
    assert set(counts.index) == set(published["fiscal_quarter"])
    q4 = counts.loc["2025Q4"]
    expected = published.set_index("fiscal_quarter").loc["2025Q4"]
    assert (q4["negative_count"], q4["total_count"]) == (expected["negative_count"], expected["total_count"])
    # tie-aware: the most recent earlier quarter with strictly fewer negative guidances, then the equal ones after it
    earlier = published[published["fiscal_quarter"] < "2025Q4"]
    lower = earlier[earlier["negative_count"] < expected["negative_count"]]["fiscal_quarter"].max()
    ties = earlier[(earlier["fiscal_quarter"] > lower) & (earlier["negative_count"] == expected["negative_count"])]
    assert q4["negative_lowest_since_quarter"] == lower
    tied = None if pd.isna(q4["negative_tied_quarters"]) else q4["negative_tied_quarters"]
    assert tied == (",".join(sorted(ties["fiscal_quarter"])) or None)
    # the 5-year average covers the loaded quarters of the 20 before 2025Q4 (2020Q4..2025Q3): too few, so null
    covered = earlier[earlier["fiscal_quarter"] >= "2020Q4"]
    assert q4["avg_5y_quarters"] == len(covered) < 15 and pd.isna(q4["negative_avg_5y"])
