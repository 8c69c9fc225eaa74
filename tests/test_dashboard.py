"""The Market Rotation dashboard, run headless by Streamlit's test harness on a demo snapshot; figures checked against the marts."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.serve.snapshot import current_duckdb_file, publish_snapshot

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def marts(serving: Path, sql: str, params: list | None = None) -> dict:
    with duckdb.connect(str(current_duckdb_file(serving)), read_only=True) as con:
        frame = con.execute(sql, params or []).df()
    return frame.iloc[0].to_dict()


def as_percent(value: float) -> str:
    return f"{value * 100:+.2f} %"


def run_app(serving: Path, monkeypatch, on: date | None = None) -> AppTest:
    monkeypatch.setenv("ROTATION_SERVING", str(serving))
    app = AppTest.from_file(APP, default_timeout=60).run()
    if on is not None:
        app.date_input(key="session").set_value(on).run()
    assert not app.exception, app.exception
    return app


def headline(app: AppTest) -> dict[str, str]:
    return app.table[0].value["Value"].to_dict()


def test_latest_session_figures_match_the_marts(demo_serving, monkeypatch):
    app = run_app(demo_serving, monkeypatch)
    s = marts(demo_serving, "SELECT * FROM marts.rotation_summary ORDER BY date DESC LIMIT 1")
    figures = headline(app)
    # the seeds' labels and tickers, in headline order (^RUT, ^GSPC, ^IXIC)
    assert list(figures)[1:7] == [f"{name} {period}" for period in ("YTD", "5-day") for name in
                                  ("Russell 2000 (^RUT)", "S&P 500 (^GSPC)", "NASDAQ Composite (^IXIC)")]
    assert figures["S&P 500 (^GSPC) YTD"] == as_percent(s["headline_index_2_return_ytd"])
    assert figures["Russell 2000 (^RUT) YTD"] == as_percent(s["headline_index_1_return_ytd"])
    assert figures["NASDAQ Composite (^IXIC) 5-day"] == as_percent(s["headline_index_3_return_5d"])
    assert figures["Magnificent 7 YTD, equal weight"] == as_percent(s["cohort_return_ytd_equal_weight"])
    assert figures["Best sector today"] == f"{s['top_sector']} {as_percent(s['top_sector_return_1d'])}"
    # the demo prices every ticker on every session: its last date is complete, nothing is ahead of it
    assert s["headline_complete"] and s["tickers_ahead"] == 0
    assert app.date_input(key="session").value == s["date"].date()
    assert "DEMO DATA" in app.caption[0].value
    assert not app.warning


def test_picking_a_date_shows_that_sessions_streak(demo_serving, monkeypatch):
    # The longest small-cap streak of January 2026 in the demo market, read from the mart.
    row = marts(demo_serving, "SELECT * FROM marts.fct_relative_streaks WHERE pair_id = 'russell2000_vs_sp500' "
                              "AND date BETWEEN '2026-01-01' AND '2026-01-31' ORDER BY streak_sessions DESC, date LIMIT 1")
    on = row["date"].date()
    app = run_app(demo_serving, monkeypatch, on)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Current streak (sessions)"] == str(row["streak_sessions"])
    assert metrics["Streak started"] == row["streak_start_date"].date().isoformat()
    assert metrics["Longest since"] == row["longest_since_date"].date().isoformat()
    s = marts(demo_serving, "SELECT * FROM marts.rotation_summary WHERE date = ?", [on])
    assert headline(app)["S&P 500 (^GSPC) YTD"] == as_percent(s["headline_index_2_return_ytd"])


def test_valuation_panels_show_the_marts_figures(demo_serving, monkeypatch):
    app = run_app(demo_serving, monkeypatch)
    assert not any("not available yet" in c.value for c in app.caption)
    tables = [frame.value for frame in app.dataframe]
    pe = next(t for t in tables if "forward_pe" in t.columns)
    latest = marts(demo_serving, "SELECT forward_pe, as_of_date FROM marts.fct_forward_pe WHERE universe = 'russell2000' "
                                 "ORDER BY as_of_date DESC LIMIT 1")
    assert pe.loc["russell2000", "forward_pe"] == pytest.approx(latest["forward_pe"])
    captions = [c.value for c in app.caption]
    assert f"As of {latest['as_of_date']:%Y-%m-%d}, the latest valuation on or before the session of" in " ".join(captions)
    guidance = next(t for t in tables if "negative_count" in t.columns)
    # the quarters whose count was known on the session shown
    counts = marts(demo_serving, "SELECT list(negative_count ORDER BY index_name, fiscal_quarter) AS n "
                                 "FROM marts.fct_guidance_counts WHERE available_date <= (SELECT max(date) FROM marts.rotation_summary)")
    assert guidance["negative_count"].tolist() == list(counts["n"])
    s = marts(demo_serving, "SELECT * FROM marts.rotation_summary ORDER BY date DESC LIMIT 1")
    assert (f"The quarters whose count was known on the session of {s['date']:%Y-%m-%d}; the S&P 500's latest, "
            f"{s['guidance_fiscal_quarter']}, as of {s['guidance_as_of_date']:%Y-%m-%d}.") in captions


def test_valuation_panels_wait_for_their_marts(demo_serving, monkeypatch, tmp_path):
    warehouse = tmp_path / "rotation.duckdb"
    shutil.copy(current_duckdb_file(demo_serving), warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE marts.fct_forward_pe")
        con.execute("DROP TABLE marts.fct_guidance_counts_asof")
    serving = tmp_path / "serving"
    publish_snapshot(warehouse, serving)
    notes = [c.value for c in run_app(serving, monkeypatch).caption]
    assert any(n.startswith("Forward P/E: not available yet") for n in notes)
    assert any(n.startswith("Guidance: not available yet") for n in notes)


def test_cohort_panel_shows_the_cohort_its_complement_and_the_index(demo_serving, monkeypatch):
    app = run_app(demo_serving, monkeypatch)
    assert any(h.value == "Magnificent 7 vs the rest of the S&P 500, year to date" for h in app.subheader)
    assert any(h.value == "Russell 2000 beating the S&P 500, sessions in a row" for h in app.subheader)
    with duckdb.connect(str(current_duckdb_file(demo_serving)), read_only=True) as con:
        from orchestration.serve import dashboard_queries as data

        s = data.summary_row(con, data.latest_complete_session(con))
        series = set(data.cohort_vs_market(con, s["date"].date(), s)["series"])
    # the complement's equal weight needs its members' prices, which the demo does not have
    assert series == {"Magnificent 7 (equal weight)", "Magnificent 7 (cap weight)",
                      "S&P 500 ex Magnificent 7 (cap weight)", "S&P 500 (^GSPC)"}


def test_claims_panel_shows_each_files_verdicts(demo_serving, monkeypatch, tmp_path):
    assert any(i.value.startswith("No claims checked yet") for i in run_app(demo_serving, monkeypatch).info)
    warehouse = tmp_path / "rotation.duckdb"
    shutil.copy(current_duckdb_file(demo_serving), warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("""INSERT INTO marts.fct_claim_checks (claim_file, claim_id, source, kind, as_of, stated_value,
                       computed_value, verdict, explanation) VALUES
                       ('note.yml', 'a', 'A note', 'return', DATE '2026-11-20', 0.01, 0.0101, 'true', 'holds'),
                       ('note.yml', 'b', 'A note', 'return', DATE '2026-11-20', 0.05, 0.0101, 'false', 'does not hold')""")
    serving = tmp_path / "serving"
    publish_snapshot(warehouse, serving)
    app = run_app(serving, monkeypatch)
    assert "note.yml (A note): 1 true, 0 near, 1 false, 0 uncheckable" in [c.value for c in app.caption]
    claims = app.dataframe[-1].value
    assert claims["claim_id"].tolist() == ["a", "b"] and claims["verdict"].tolist() == ["true", "false"]
