"""The guidance landing folder: each file loaded once, a bad file quarantined whole, the sensor's run requests."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.sensors import guidance_landing_sensor
from orchestration.land.guidance_landing import process_landing_folder

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def landing(tmp_path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_each_file_is_processed_once(tmp_path, landing):
    shutil.copy(FIXTURES / "guidance_events_small.csv", landing / "events.csv")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        first = process_landing_folder(con, landing, tmp_path / "quarantine")
        assert first.loaded == [str(landing / "events.csv")] and first.events.inserted == 5
        # the same content again, also under another name: nothing is loaded twice
        shutil.copy(landing / "events.csv", landing / "events-copy.csv")
        second = process_landing_folder(con, landing, tmp_path / "quarantine")
        assert second.loaded == [] and len(second.already_processed) == 2
        assert _count(con, "raw.guidance_events") == 5
        assert con.execute("SELECT file_name, kind, status, row_count FROM raw.landed_files").fetchall() == [
            ("events.csv", "guidance_events", "loaded", 5)
        ]


def test_a_bad_file_is_quarantined_whole_and_the_others_land(tmp_path, landing):
    shutil.copy(FIXTURES / "guidance_counts_small.csv", landing / "counts.csv")
    (landing / "bad.csv").write_text(
        "ticker,announced_date,fiscal_quarter,eps_low,eps_high,consensus_eps_before\n"
        "AAA,2024-01-10,2024Q1,0.9,1.1,1.05\n"
        "BBB,2024-13-01,2024Q5,1.2,1.1,\n"
    )
    quarantine = tmp_path / "quarantine"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = process_landing_folder(con, landing, quarantine)
        assert report.loaded == [str(landing / "counts.csv")]
        assert _count(con, "raw.guidance_events") == 0  # not even the good first row
        assert _count(con, "raw.guidance_counts") == 7
    assert not (landing / "bad.csv").exists()
    reason = next(quarantine.glob("*bad.csv.reason.txt")).read_text()
    for expected in ("line 3", "announced_date '2024-13-01'", "fiscal_quarter '2024Q5'", "eps_low 1.2 is above eps_high 1.1",
                     "consensus_eps_before"):
        assert expected in reason


def test_unknown_header_is_rejected_with_both_layouts_named(tmp_path, landing):
    (landing / "other.csv").write_text("date,ticker,close\n2024-01-02,AAA,1\n")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = process_landing_folder(con, landing, tmp_path / "quarantine")
    assert len(report.quarantined) == 1
    assert "ticker,announced_date,fiscal_quarter" in str(report.problems[0])
    assert "index_name,fiscal_quarter,as_of_date" in str(report.problems[0])


def test_sensor_requests_one_run_per_folder_content(landing, monkeypatch):
    monkeypatch.setenv("ROTATION_GUIDANCE_LANDING", str(landing))
    assert isinstance(guidance_landing_sensor(dg.build_sensor_context()), dg.SkipReason)
    shutil.copy(FIXTURES / "guidance_events_small.csv", landing / "events.csv")
    first = guidance_landing_sensor(dg.build_sensor_context())
    again = guidance_landing_sensor(dg.build_sensor_context())
    assert isinstance(first, dg.RunRequest) and first.run_key == again.run_key  # Dagster runs a run key once
    (landing / "counts.csv").write_text((FIXTURES / "guidance_counts_small.csv").read_text())
    assert guidance_landing_sensor(dg.build_sensor_context()).run_key != first.run_key
