"""The readers of the guidance counts: how the report and the dashboard word a vintage, an average with its
coverage and the tie-aware lowest-since, and the dashboard's point-in-time query. The SQL rules themselves
(vintage choice, coverage threshold, ties) are dbt unit tests in dbt_project/models/marts/_guidance_unit_tests.yml."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pandas as pd
import pytest

from orchestration.land.guidance_landing import process_landing_folder
from orchestration.serve import dashboard_queries as data
from orchestration.serve.guidance_text import average_text, lowest_since_text, vintage_text
from orchestration.serve.report import _guidance_rows
from orchestration.serve.snapshot import current_duckdb_file
from tests.conftest import run_dbt
from tests.test_dashboard import run_app


def test_a_vintage_says_its_basis_and_date():
    assert vintage_text("published", date(2025, 6, 30), date(2025, 6, 30)) == "published count, as of 2025-06-30"
    assert vintage_text("published", None, date(2026, 1, 14)) == "published count, undated, counted from 2026-01-14"
    assert vintage_text("published", pd.NaT, pd.Timestamp("2026-01-14")) == "published count, undated, counted from 2026-01-14"
    assert vintage_text("events", date(2026, 11, 14), date(2026, 11, 14)) == "classified events, to 2026-11-14"


def test_an_average_says_how_many_of_its_quarters_it_covers():
    assert average_text(61.25, 20, 20) == "61.2 (20 of 20 quarters)"
    assert average_text(None, 13, 20) == "n/a (13 of 20 quarters)"
    assert average_text(float("nan"), 16, 40) == "n/a (16 of 40 quarters)"
    assert average_text(None, None, 40) == "n/a (0 of 40 quarters)"


@pytest.mark.parametrize(("since", "since_count", "tied", "text"), [
    ("2021Q4", 56, None, "57, the lowest since 2021Q4 (56)"),
    ("2021Q4", 56, "2025Q3", "57, ties 2025Q3 for the lowest since 2021Q4 (56)"),
    ("2021Q4", 56, "2024Q3,2025Q3", "57, ties 2024Q3 and 2025Q3 for the lowest since 2021Q4 (56)"),
    ("2021Q4", 56, "2021Q1,2024Q3,2025Q3", "57, ties 2021Q1, 2024Q3 and 2025Q3 for the lowest since 2021Q4 (56)"),
    (None, None, None, "57, the lowest in the data"),
    (None, None, "2020Q1", "57, ties 2020Q1 for the lowest in the data"),
])
def test_lowest_since_is_worded_as_published_practice(since, since_count, tied, text):
    assert lowest_since_text(57, since, since_count, tied) == text


def summary_row(**changes) -> dict:
    row = {
        "guidance_index_label": "S&P 500", "guidance_fiscal_quarter": "2025Q4", "guidance_basis": "published",
        "guidance_as_of_date": None, "guidance_available_date": date(2026, 1, 14),
        "guidance_negative_count": 57, "guidance_positive_count": 50, "guidance_total_count": 107,
        "guidance_negative_avg_5y": None, "guidance_negative_avg_10y": None,
        "guidance_positive_avg_5y": None, "guidance_positive_avg_10y": None,
        "guidance_avg_5y_quarters": 13, "guidance_avg_10y_quarters": 16,
        "guidance_negative_lowest_since_quarter": "2021Q4", "guidance_negative_lowest_since_count": 56,
        "guidance_negative_tied_quarters": "2025Q3",
    }
    return {**row, **changes}


def test_the_report_rows_carry_the_vintage_the_coverage_and_the_ties():
    rows = dict(_guidance_rows(summary_row()))
    assert rows["S&P 500 EPS guidance for 2025Q4"] == (
        "57 negative, 50 positive of 107 (published count, undated, counted from 2026-01-14)")
    assert rows["  negative: 5-year / 10-year average"] == "n/a (13 of 20 quarters) / n/a (16 of 40 quarters)"
    assert rows["  negative count"] == "57, ties 2025Q3 for the lowest since 2021Q4 (56)"
    covered = dict(_guidance_rows(summary_row(guidance_positive_avg_5y=48.25, guidance_positive_avg_10y=45.0,
                                              guidance_avg_5y_quarters=20, guidance_avg_10y_quarters=31)))
    assert covered["  positive: 5-year / 10-year average"] == "48.2 (20 of 20 quarters) / 45.0 (31 of 40 quarters)"
    assert _guidance_rows({"guidance_fiscal_quarter": None}) == [("EPS guidance", "n/a (no guidance loaded)")]


ASOF_COLUMNS = ("index_name VARCHAR, fiscal_quarter VARCHAR, valid_from DATE, valid_to DATE, basis VARCHAR, "
                "as_of_date DATE, negative_count BIGINT, positive_count BIGINT, total_count BIGINT, negative_share DOUBLE, "
                "negative_avg_5y DOUBLE, negative_avg_10y DOUBLE, avg_5y_quarters INTEGER, avg_10y_quarters INTEGER, "
                "negative_lowest_since_quarter VARCHAR, negative_tied_quarters VARCHAR")


def test_the_dashboard_reads_the_counts_known_on_the_session():
    """2021Q4 published as 56 on 2022-01-07, restated to 53 on 2022-04-08; 2022Q1 known from 2022-04-14."""
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(f"CREATE TABLE marts.fct_guidance_counts_asof ({ASOF_COLUMNS})")
        con.execute("""INSERT INTO marts.fct_guidance_counts_asof (index_name, fiscal_quarter, valid_from, valid_to,
                           basis, as_of_date, negative_count) VALUES
            ('sp500', '2021Q4', '2022-01-07', '2022-04-08', 'published', '2022-01-07', 56),
            ('sp500', '2021Q4', '2022-04-08', '2022-04-14', 'published', '2022-04-08', 53),
            ('sp500', '2021Q4', '2022-04-14', NULL, 'published', '2022-04-08', 53),
            ('sp500', '2022Q1', '2022-04-14', NULL, 'published', NULL, 66)""")

        def known(on: date) -> list[tuple[str, int]]:
            frame = data.guidance_counts(con, on)
            return list(zip(frame["fiscal_quarter"], frame["negative_count"]))

        assert known(date(2022, 1, 6)) == []
        assert known(date(2022, 4, 7)) == [("2021Q4", 56)]
        assert known(date(2022, 4, 13)) == [("2021Q4", 53)]
        assert known(date(2022, 4, 14)) == [("2021Q4", 53), ("2022Q1", 66)]
        con.execute("DROP TABLE marts.fct_guidance_counts_asof")
        assert data.guidance_counts(con, date(2022, 4, 14)) is None


def test_published_counts_point_in_time(reference_data, tmp_path):
    """On the shared published counts: 2025Q4's count has no date, so it counts from 2025-12-31 + 14 days; the
    session before sees 2025Q2 (published 2025-06-30) as the latest quarter."""
    path = tmp_path / "rotation.duckdb"
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(reference_data / "published_guidance_counts.csv", landing)
    with duckdb.connect(str(path)) as con:
        assert process_landing_folder(con, landing, tmp_path / "quarantine").loaded
    run_dbt(path, "build", "--select", "+fct_guidance_counts_asof", "--indirect-selection", "cautious")
    published = pd.read_csv(reference_data / "published_guidance_counts.csv", parse_dates=["as_of_date"])
    quarter_ends = published["fiscal_quarter"].map(lambda q: pd.Period(q, "Q").end_time.normalize())
    published["known_from"] = published["as_of_date"].fillna(quarter_ends + pd.Timedelta(days=14))
    with duckdb.connect(str(path), read_only=True) as con:
        for on in (date(2026, 1, 13), date(2026, 1, 14), date(2022, 4, 13), date(2022, 4, 14)):
            known = published[published["known_from"] <= pd.Timestamp(on)]
            assert sorted(data.guidance_counts(con, on)["fiscal_quarter"]) == sorted(known["fiscal_quarter"]), on
        latest = data.guidance_counts(con, date(2026, 1, 14)).set_index("fiscal_quarter")
    # 2025Q4 is undated: known from 2026-01-14, not on the session before
    assert "2025Q4" not in set(published[published["known_from"] <= "2026-01-13"]["fiscal_quarter"])
    expected = published.set_index("fiscal_quarter").loc["2025Q4"]
    assert pd.isna(latest.loc["2025Q4", "as_of_date"]) and latest.loc["2025Q4", "negative_count"] == expected["negative_count"]


def test_the_dashboard_panel_says_coverage_and_lowest_since(demo_serving, monkeypatch):
    app = run_app(demo_serving, monkeypatch)
    with duckdb.connect(str(current_duckdb_file(demo_serving)), read_only=True) as con:
        s = con.execute("SELECT * FROM marts.rotation_summary WHERE date = ?", [data.latest_complete_session(con)]).df().iloc[0]
    lowest = lowest_since_text(s["guidance_negative_count"], s["guidance_negative_lowest_since_quarter"],
                               s["guidance_negative_lowest_since_count"], s["guidance_negative_tied_quarters"])
    expected = (f"Negative guidance: {lowest}; 5-year average {s['guidance_negative_avg_5y']:.1f} "
                f"({s['guidance_avg_5y_quarters']} of 20 quarters), 10-year {s['guidance_negative_avg_10y']:.1f} "
                f"({s['guidance_avg_10y_quarters']} of 40 quarters).")
    assert expected in [c.value for c in app.caption]
    table = next(frame.value for frame in app.dataframe if "avg_5y_quarters" in frame.value.columns)
    assert table.loc[("sp500", s["guidance_fiscal_quarter"]), "avg_5y_quarters"] == s["guidance_avg_5y_quarters"]
