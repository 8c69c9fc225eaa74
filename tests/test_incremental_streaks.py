"""The incremental fct_relative_streaks equals a rebuild from scratch, on hand-made prices.

Sessions d0..d10: 2024-12-26 27 30 31, 2025-01-02 03 06 07 08 10 13. ^GSPC and SPY close at 100
every session, so a leader outperforms exactly when it rises. First build on d0..d9:
  ^RUT  100 101 102 103 104 103 104 103 104 105   runs d1-d4 (4), d6 (1), d8-d9 (2, in progress)
  ^IXIC 100 101 102 103 102 103 102 101 102 103   runs d1-d3 (3), d5 (1), d8-d9 (2, in progress)
IWM repeats ^RUT and RSP repeats ^IXIC against SPY. Then, before the incremental build:
  d10 arrives: ^RUT 106 extends its run, ^IXIC 102 breaks its run;
  ^RUT's d6 close is restated to 102: d6 falls, so d7-d10 become one run of 4;
  SPY's d3 is deleted, as the ingest deletes (d3 is no longer a session of iwm_vs_spy or equal_vs_cap_weight);
  iwm_vs_spy's rows are removed from both tables, as for a pair just added to the seed.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from tests.conftest import delete_price, load_prices, query, run_dbt

DAYS = ["2024-12-26", "2024-12-27", "2024-12-30", "2024-12-31", "2025-01-02", "2025-01-03",
        "2025-01-06", "2025-01-07", "2025-01-08", "2025-01-10", "2025-01-13"]
RUT = [100, 101, 102, 103, 104, 103, 104, 103, 104, 105]
IXIC = [100, 101, 102, 103, 102, 103, 102, 101, 102, 103]
FIRST = DAYS[:10]


def closes(ticker: str, values: list[float], days: list[str]) -> list[tuple]:
    return [(ticker, day, float(value), float(value)) for day, value in zip(days, values)]


def streaks(path) -> pd.DataFrame:
    return query(path, "SELECT * FROM marts.fct_relative_streaks ORDER BY pair_id, date")


def pair_sessions(path) -> pd.DataFrame:
    return query(path, "SELECT * FROM intermediate.int_pair_sessions ORDER BY pair_id, date")


def row(frame: pd.DataFrame, pair_id: str, day: str) -> dict:
    match = frame[(frame["pair_id"] == pair_id) & (frame["date"] == pd.Timestamp(day))]
    assert len(match) == 1, f"expected one row of {pair_id} on {day}"
    return match.iloc[0].to_dict()


def test_incremental_streaks_match_a_full_rebuild(tmp_path):
    path = tmp_path / "rotation.duckdb"
    flat = [100] * 10
    load_prices(path, closes("^GSPC", flat, FIRST) + closes("SPY", flat, FIRST) + closes("^RUT", RUT, FIRST)
                + closes("^IXIC", IXIC, FIRST) + closes("IWM", RUT, FIRST) + closes("RSP", IXIC, FIRST))
    run_dbt(path, "build")
    before = streaks(path)
    assert row(before, "russell2000_vs_sp500", DAYS[9])["streak_sessions"] == 2

    load_prices(path, [("^GSPC", DAYS[10], 100.0, 100.0), ("^RUT", DAYS[10], 106.0, 106.0),
                       ("^IXIC", DAYS[10], 102.0, 102.0), ("^RUT", DAYS[6], 102.0, 102.0)])
    delete_price(path, "SPY", DAYS[3])
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM marts.fct_relative_streaks WHERE pair_id = 'iwm_vs_spy'")
        con.execute("DELETE FROM intermediate.int_pair_sessions WHERE pair_id = 'iwm_vs_spy'")
    run_dbt(path, "build", "--select", "int_pair_sessions", "fct_relative_streaks")
    incremental = streaks(path)
    incremental_sessions = pair_sessions(path)

    run_dbt(path, "build", "--full-refresh", "--select", "int_pair_sessions", "fct_relative_streaks")
    pd.testing.assert_frame_equal(incremental_sessions, pair_sessions(path))
    full = streaks(path)
    pd.testing.assert_frame_equal(incremental.drop(columns="ingested_at"), full.drop(columns="ingested_at"))

    # A new session extending a run whose earlier sessions were restated: 4 in a row since d7,
    # as long as the run that ended on d4 (a kept row).
    rut = row(incremental, "russell2000_vs_sp500", DAYS[10])
    assert rut["streak_sessions"] == 4 and rut["streak_start_date"] == pd.Timestamp(DAYS[7])
    assert rut["longest_since_date"] == pd.Timestamp(DAYS[4]) and rut["longest_since_sessions"] == 4
    assert row(incremental, "russell2000_vs_sp500", DAYS[6])["streak_sessions"] == 0
    assert row(incremental, "russell2000_vs_sp500", DAYS[7])["run_length"] == 4
    # A new session breaking a run: the run d8-d9 stays 2 long; its second row looks back to d5's run.
    assert row(incremental, "nasdaq_vs_sp500", DAYS[10])["streak_sessions"] == 0
    ixic = row(incremental, "nasdaq_vs_sp500", DAYS[9])
    assert ixic["streak_sessions"] == 2 and ixic["run_length"] == 2
    assert ixic["longest_since_date"] == pd.Timestamp(DAYS[3]) and ixic["longest_since_sessions"] == 3
    # The vanished SPY close and the pair new to the mart.
    for pair_id in ["iwm_vs_spy", "equal_vs_cap_weight"]:
        assert len(incremental[incremental["pair_id"] == pair_id]) == 9
    assert row(incremental, "iwm_vs_spy", DAYS[4])["streak_sessions"] == 3


def record(path) -> dict[str, list[tuple]]:
    """The record of runs the model keeps, per pair: (last_date, open_run_start, run_end_date, run_length) rows."""
    frame = query(path, "SELECT * FROM intermediate.streak_earlier_runs ORDER BY pair_id, run_end_date DESC")
    return {pair_id: [tuple(None if pd.isna(v) else str(v.date()) if isinstance(v, pd.Timestamp) else int(v)
                            for v in r[1:]) for r in rows.itertuples(index=False)]
            for pair_id, rows in frame.groupby("pair_id", sort=True)}


def test_the_record_of_runs_is_the_staircase_after_incremental_and_full_builds(tmp_path):
    path = tmp_path / "rotation.duckdb"
    flat = [100] * 10
    load_prices(path, closes("^GSPC", flat, FIRST) + closes("^RUT", RUT, FIRST) + closes("^IXIC", IXIC, FIRST))
    run_dbt(path, "build")
    # ^RUT: runs d1-d4 (4), d6 (1), d8-d9 (2, open): the completed runs d6 and d4, each longer than all later ones.
    # ^IXIC: runs d1-d3 (3), d5 (1), d8-d9 (2, open): d5 is kept (nothing completed after it), then d3.
    first = record(path)
    assert first["russell2000_vs_sp500"] == [(DAYS[9], DAYS[8], DAYS[6], 1), (DAYS[9], DAYS[8], DAYS[4], 4)]
    assert first["nasdaq_vs_sp500"] == [(DAYS[9], DAYS[8], DAYS[5], 1), (DAYS[9], DAYS[8], DAYS[3], 3)]

    # d10: ^RUT extends its open run to 3 sessions; ^IXIC ends its run, which becomes the latest completed run
    # (2 sessions) and hides d5's shorter one.
    load_prices(path, [("^GSPC", DAYS[10], 100.0, 100.0), ("^RUT", DAYS[10], 106.0, 106.0),
                       ("^IXIC", DAYS[10], 102.0, 102.0)])
    run_dbt(path, "build", "--select", "int_pair_sessions", "fct_relative_streaks")
    appended = record(path)
    assert appended["russell2000_vs_sp500"] == [(DAYS[10], DAYS[8], DAYS[6], 1), (DAYS[10], DAYS[8], DAYS[4], 4)]
    assert appended["nasdaq_vs_sp500"] == [(DAYS[10], None, DAYS[9], 2), (DAYS[10], None, DAYS[3], 3)]

    run_dbt(path, "build", "--full-refresh", "--select", "int_pair_sessions", "fct_relative_streaks")
    assert record(path) == appended


def test_a_refresh_appending_sessions_reads_the_record_not_the_kept_rows(tmp_path):
    path = tmp_path / "rotation.duckdb"
    flat = [100] * 10
    load_prices(path, closes("^GSPC", flat, FIRST) + closes("^RUT", RUT, FIRST))
    run_dbt(path, "build")
    # Spoil the kept rows of the completed runs: a build that looked them up would report 99-session runs.
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE marts.fct_relative_streaks SET run_length = 99 WHERE date <= ?", [DAYS[6]])
    # d10 extends the open run d8-d9 to 3 sessions: its rows 1 to 3 look back to the runs of 1 (d6) and 4 (d4).
    load_prices(path, [("^GSPC", DAYS[10], 100.0, 100.0), ("^RUT", DAYS[10], 106.0, 106.0)])
    run_dbt(path, "build", "--select", "int_pair_sessions", "fct_relative_streaks")
    rows = streaks(path)
    assert [(r["streak_sessions"], r["longest_since_sessions"]) for r in
            (row(rows, "russell2000_vs_sp500", day) for day in DAYS[8:11])] == [(1, 1), (2, 4), (3, 4)]
    assert row(rows, "russell2000_vs_sp500", DAYS[10])["longest_since_date"] == pd.Timestamp(DAYS[4])
    # The record was carried forward from the recomputed rows too, not read again from the spoiled ones.
    assert record(path)["russell2000_vs_sp500"] == [(DAYS[10], DAYS[8], DAYS[6], 1), (DAYS[10], DAYS[8], DAYS[4], 4)]
