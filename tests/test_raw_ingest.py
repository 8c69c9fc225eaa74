"""Loading validated price batches into raw.prices_daily: upsert, idempotence, demo/real separation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.extract.demo import DemoSource
from orchestration.extract.files import FilesSource
from orchestration.land.prices import ingest_price_batches, last_session_per_ticker
from orchestration.land.tables import PRICES
from orchestration.land.upsert import LoadCounts, MixedSourceError, upsert
from orchestration.universe import load_universe
from tests.conftest import latest_load_changes, load_prices

HEADER = "date,ticker,open,high,low,close,adj_close,volume"
FIRST_RUN = datetime(2025, 1, 6, 21, 0, 0)
SECOND_RUN = datetime(2025, 1, 7, 21, 0, 0)

XLK_FILE = [
    "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200",
    "2025-01-03,XLK,231.0,233.5,230.0,233.0,,",
]
SPY_FILE = [
    "2025-01-02,SPY,590.1,592.4,588.0,591.55,589.12,51000",
    "2025-01-03,SPY,591.0,596.0,590.5,595.25,592.8,48000",
]


def write_csv(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def snapshot(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT * FROM raw.prices_daily ORDER BY ticker, date").fetchall()


def raw_count(con: duckdb.DuckDBPyConnection, where: str = "true") -> int:
    return con.execute(f"SELECT count(*) FROM raw.prices_daily WHERE {where}").fetchone()[0]


def temp_objects(con: duckdb.DuckDBPyConnection) -> list[str]:
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()
    return sorted(name for (name,) in tables + views)


@pytest.fixture(scope="module")
def symbols():
    return load_universe().symbols


def ingest_files(con, paths: list[Path], symbols: list[str]):
    return ingest_price_batches(con, FilesSource([str(p) for p in paths]).fetch(), "files", symbols)


# --- idempotence and updates -------------------------------------------------------------------


def test_same_files_twice_change_nothing(con, tmp_path, clock, symbols):
    paths = [write_csv(tmp_path, "xlk.csv", *XLK_FILE), write_csv(tmp_path, "spy.csv", *SPY_FILE)]
    clock(FIRST_RUN)
    first = ingest_files(con, paths, symbols)
    assert first.counts == LoadCounts(inserted=4)
    assert first.accepted_origins == [str(p) for p in paths]
    assert first.rejected == [] and first.problems == []
    assert (first.first_date, first.last_date) == (date(2025, 1, 2), date(2025, 1, 3))
    assert first.tickers == ["SPY", "XLK"]
    before = snapshot(con)
    assert before == [
        ("SPY", date(2025, 1, 2), 590.1, 592.4, 588.0, 591.55, 589.12, 51000, "files", FIRST_RUN),
        ("SPY", date(2025, 1, 3), 591.0, 596.0, 590.5, 595.25, 592.8, 48000, "files", FIRST_RUN),
        ("XLK", date(2025, 1, 2), 230.5, 232.0, 229.75, 231.25, 230.9, 4200, "files", FIRST_RUN),
        ("XLK", date(2025, 1, 3), 231.0, 233.5, 230.0, 233.0, None, None, "files", FIRST_RUN),
    ]

    clock(SECOND_RUN)
    second = ingest_files(con, paths, symbols)
    assert second.counts == LoadCounts(unchanged=4)
    assert snapshot(con) == before


def test_changed_close_updates_only_that_row(con, tmp_path, clock, symbols):
    path = write_csv(tmp_path, "xlk.csv", *XLK_FILE)
    clock(FIRST_RUN)
    ingest_files(con, [path], symbols)
    before = snapshot(con)

    write_csv(tmp_path, "xlk.csv", XLK_FILE[0].replace(",231.25,", ",231.40,"), XLK_FILE[1])
    clock(SECOND_RUN)
    report = ingest_files(con, [path], symbols)
    assert report.counts == LoadCounts(updated=1, unchanged=1)
    after = snapshot(con)
    assert after[0] == ("XLK", date(2025, 1, 2), 230.5, 232.0, 229.75, 231.4, 230.9, 4200, "files", SECOND_RUN)
    assert after[1] == before[1]
    assert after[1][-1] == FIRST_RUN


def test_every_upsert_is_recorded_under_its_load(con, tmp_path, clock, symbols):
    path = write_csv(tmp_path, "xlk.csv", *XLK_FILE)
    clock(FIRST_RUN)
    ingest_price_batches(con, FilesSource([str(path)]).fetch(), "files", symbols, load_id="run-1")
    write_csv(tmp_path, "xlk.csv", XLK_FILE[0], XLK_FILE[1].replace(",233.0,", ",233.2,"))
    clock(SECOND_RUN)
    ingest_price_batches(con, FilesSource([str(path)]).fetch(), "files", symbols, load_id="run-2")
    ingest_files(con, [path], symbols)  # the same file again: it changes nothing, so nothing is recorded
    assert con.execute(
        "SELECT seq, load_id, table_name, partition_value, inserted, updated, deleted, changed_from, changed_to, "
        "deleted_from, ingested_at FROM raw.load_log ORDER BY seq"
    ).fetchall() == [
        (1, "run-1", "raw.prices_daily", "XLK", 2, 0, 0, date(2025, 1, 2), date(2025, 1, 3), None, FIRST_RUN),
        (2, "run-2", "raw.prices_daily", "XLK", 0, 1, 0, date(2025, 1, 3), date(2025, 1, 3), None, SECOND_RUN),
    ]
    changes = latest_load_changes(con)
    assert [(t, d.date()) for t, d in changes.itertuples(index=False)] == [("XLK", date(2025, 1, 3))]

    # run-2 goes on (a backfill writes a ticker per transaction): its rows of both times are its own.
    clock(datetime(2025, 1, 8, 21, 0, 0))
    spy = write_csv(tmp_path, "spy.csv", *SPY_FILE)
    ingest_price_batches(con, FilesSource([str(spy)]).fetch(), "files", symbols, load_id="run-2")
    changes = latest_load_changes(con)
    assert [(t, d.date()) for t, d in changes.itertuples(index=False)] == [("SPY", date(2025, 1, 2)), ("XLK", date(2025, 1, 3))]


# --- several files in one run ------------------------------------------------------------------


def test_bad_file_loads_nothing_and_good_file_loads_everything(con, tmp_path, clock, symbols):
    good = write_csv(tmp_path, "good.csv", *XLK_FILE)
    bad = write_csv(tmp_path, "bad.csv", SPY_FILE[0], "2025-01-03,SPY,591.0,596.0,590.5,0,592.8,48000")
    clock(FIRST_RUN)
    report = ingest_files(con, [good, bad], symbols)
    assert report.counts == LoadCounts(inserted=2)
    assert report.accepted_origins == [str(good)]
    assert [b.origin for b in report.rejected] == [str(bad)]
    assert [str(p) for p in report.problems] == [
        f"{bad}, row 3, ticker SPY: close is 0.0, prices must be positive. Correct the price or remove the row."
    ]
    assert raw_count(con) == 2
    assert raw_count(con, "ticker = 'XLK'") == 2
    assert raw_count(con, "ticker = 'SPY'") == 0


def test_only_bad_files_load_nothing(con, tmp_path, clock, symbols):
    clock(FIRST_RUN)
    report = ingest_files(con, [tmp_path / "missing.csv"], symbols)
    assert report.counts == LoadCounts()
    assert report.accepted_origins == []
    missing = tmp_path / "missing.csv"
    assert [str(p) for p in report.problems] == [f"{missing}: file not found. Check the path given to --files."]
    assert (report.first_date, report.last_date) == (None, None)
    assert raw_count(con) == 0


def test_files_agreeing_on_an_overlap_are_both_accepted(con, tmp_path, clock, symbols):
    first = write_csv(tmp_path, "first.csv", *XLK_FILE)
    second = write_csv(tmp_path, "second.csv", XLK_FILE[1], "2025-01-06,XLK,233.0,236.0,232.5,235.5,235.5,3900")
    clock(FIRST_RUN)
    report = ingest_files(con, [first, second], symbols)
    assert report.accepted_origins == [str(first), str(second)]
    assert report.counts == LoadCounts(inserted=3)
    assert raw_count(con) == 3


def test_files_disagreeing_with_each_other_are_both_rejected_whole(con, tmp_path, clock, symbols):
    first = write_csv(tmp_path, "first.csv", *XLK_FILE)
    second = write_csv(
        tmp_path, "second.csv",
        "2025-01-06,XLK,233.0,236.0,232.5,235.5,235.5,3900",
        "2025-01-03,XLK,231.0,233.5,230.0,233.1,,",
    )
    good = write_csv(tmp_path, "spy.csv", *SPY_FILE)
    clock(FIRST_RUN)
    report = ingest_files(con, [first, second, good], symbols)
    assert report.accepted_origins == [str(good)]
    assert [b.origin for b in report.rejected] == [str(first), str(second)]
    # Each names the row of the disputed date and the other file.
    by_origin = {p.origin: p for p in report.problems}
    assert (by_origin[str(first)].row, by_origin[str(first)].ticker) == (3, "XLK")
    assert (by_origin[str(second)].row, by_origin[str(second)].ticker) == (3, "XLK")
    assert str(second) in by_origin[str(first)].problem and str(first) in by_origin[str(second)].problem
    assert all("2025-01-03" in p.problem for p in report.problems)
    assert report.counts == LoadCounts(inserted=2)
    assert raw_count(con, "ticker = 'XLK'") == 0


def test_empty_volume_against_filled_volume_is_a_conflict(con, tmp_path, clock, symbols):
    first = write_csv(tmp_path, "first.csv", "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,")
    second = write_csv(tmp_path, "second.csv", "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200")
    clock(FIRST_RUN)
    report = ingest_files(con, [first, second], symbols)
    assert report.accepted_origins == []
    assert [b.origin for b in report.rejected] == [str(first), str(second)]


def test_tickers_outside_universe_are_loaded_and_listed(con, tmp_path, clock, symbols):
    assert "XLK" in symbols and "ZZZZ" not in symbols and "ABCD" not in symbols
    path = write_csv(
        tmp_path, "mixed.csv",
        XLK_FILE[0],
        "2025-01-02,ZZZZ,10.0,11.0,9.5,10.5,10.5,100",
        "2025-01-02,ABCD,20.0,21.0,19.5,20.5,,",
    )
    clock(FIRST_RUN)
    report = ingest_files(con, [path], symbols)
    assert report.tickers == ["ABCD", "XLK", "ZZZZ"]
    assert report.tickers_outside_universe == ["ABCD", "ZZZZ"]
    assert report.counts.inserted == 3
    assert con.execute("SELECT ticker FROM raw.prices_daily ORDER BY ticker").fetchall() == [
        ("ABCD",), ("XLK",), ("ZZZZ",)
    ]


# --- demo and real data never mix --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_batches():
    """^GSPC and SPY up to 1990-01-12: nine ^GSPC sessions (SPY starts in 2015)."""
    universe = load_universe()
    small = replace(universe, tickers=universe.tickers[universe.tickers["ticker"].isin(["^GSPC", "SPY"])])
    return DemoSource(small, end_date=date(1990, 1, 12)).fetch()


def test_files_replace_the_demo_market(con, tmp_path, clock, symbols, demo_batches):
    clock(FIRST_RUN)
    demo = ingest_price_batches(con, demo_batches, "demo", symbols)
    assert demo.counts == LoadCounts(inserted=9)
    assert raw_count(con, "source = 'demo'") == 9

    clock(SECOND_RUN)
    report = ingest_files(con, [write_csv(tmp_path, "spy.csv", *SPY_FILE)], symbols)
    assert report.counts == LoadCounts(inserted=2, deleted=9)
    assert raw_count(con, "source = 'demo'") == 0
    # The incremental marts learn of the deletion from the load log: ^GSPC's 9 rows from its first date on.
    assert con.execute(
        "SELECT partition_value, inserted, deleted, changed_from, deleted_from, deleted_to, deleted_reason "
        "FROM raw.load_log WHERE ingested_at = ? ORDER BY partition_value", [SECOND_RUN]
    ).fetchall() == [
        ("SPY", 2, 0, date(2025, 1, 2), None, None, None),
        ("^GSPC", 0, 9, None, date(1990, 1, 2), date(1990, 1, 12), "demo data replaced by real data"),
    ]
    assert con.execute("SELECT ticker, date, source FROM raw.prices_daily ORDER BY date").fetchall() == [
        ("SPY", date(2025, 1, 2), "files"),
        ("SPY", date(2025, 1, 3), "files"),
    ]


def test_demo_refuses_to_load_over_real_prices(con, tmp_path, clock, symbols, demo_batches):
    clock(FIRST_RUN)
    ingest_files(con, [write_csv(tmp_path, "spy.csv", *SPY_FILE)], symbols)
    before = snapshot(con)
    clock(SECOND_RUN)
    with pytest.raises(MixedSourceError, match="raw.prices_daily holds 2 rows of real data"):
        ingest_price_batches(con, demo_batches, "demo", symbols)
    assert snapshot(con) == before
    assert temp_objects(con) == []


# --- the upsert is one transaction -------------------------------------------------------------


def frame_of(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["ticker", "date", "open", "high", "low", "close", "adj_close", "volume", "source"]
    )
    frame["volume"] = frame["volume"].astype("Int64")
    return frame


def test_failed_upsert_leaves_raw_as_it_was(con):
    demo = frame_of([
        ("^GSPC", date(1990, 1, 2), 350.0, 351.0, 349.0, 350.5, 350.5, 100, "demo"),
        ("^GSPC", date(1990, 1, 3), 350.5, 352.0, 350.0, 351.5, 351.5, 200, "demo"),
    ])
    assert upsert(con, PRICES.name, demo, "demo", ingested_at=FIRST_RUN) == LoadCounts(inserted=2)
    before = snapshot(con)

    # The first row alone would load (and the demo rows would be deleted); the NULL close fails the INSERT.
    broken = frame_of([
        ("SPY", date(2025, 1, 2), 590.1, 592.4, 588.0, 591.55, 589.12, 51000, "files"),
        ("SPY", date(2025, 1, 3), 591.0, 596.0, 590.5, None, 592.8, 48000, "files"),
    ])
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        upsert(con, PRICES.name, broken, "files", ingested_at=SECOND_RUN)
    assert snapshot(con) == before
    assert temp_objects(con) == []

    # The connection is not left inside a transaction: the next upsert commits normally.
    assert upsert(con, PRICES.name, broken.iloc[:1], "files", ingested_at=SECOND_RUN) == LoadCounts(inserted=1, deleted=2)
    assert con.execute("SELECT ticker, source, ingested_at FROM raw.prices_daily").fetchall() == [
        ("SPY", "files", SECOND_RUN)
    ]


def test_each_ticker_starts_where_its_own_history_ends(tmp_path):
    from orchestration.extract.yahoo_incremental import incremental_starts
    path = tmp_path / "last.duckdb"
    load_prices(path, [("SPY", "2025-01-02", 1.0, 1.0), ("SPY", "2025-01-06", 1.0, 1.0), ("QQQ", "2025-01-03", 1.0, 1.0)], source="yahoo")
    with duckdb.connect(str(path)) as con:
        stored = last_session_per_ticker(con, "yahoo", ["SPY", "QQQ", "IWM"])
        assert stored == {"SPY": date(2025, 1, 6), "QQQ": date(2025, 1, 3)}  # IWM has nothing yet
        assert last_session_per_ticker(con, "files", ["SPY"]) == {}
    # 14 calendar days of overlap before each ticker's last session; a ticker without history from 1985.
    assert incremental_starts(stored, ["SPY", "QQQ", "IWM"]) == {
        "SPY": date(2024, 12, 23), "QQQ": date(2024, 12, 20), "IWM": date(1985, 1, 1),
    }


# --- the one upsert on the other raw tables, and the load log ----------------------------------

COUNTS_COLUMNS = ["index_name", "fiscal_quarter", "as_of_date", "negative_count", "positive_count", "total_count", "source_url"]


def published(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COUNTS_COLUMNS)


def log_rows(con) -> list[tuple]:
    return con.execute(
        "SELECT seq, load_id, table_name, partition_value, inserted, updated, deleted, changed_from, changed_to, "
        "deleted_from, deleted_to, deleted_reason, ingested_at FROM raw.load_log ORDER BY seq, partition_value"
    ).fetchall()


def test_upsert_of_a_table_with_a_nullable_key(con):
    q4, undated = ("sp500", "2024Q4", date(2024, 12, 20), 100, 50, 200, None), ("sp500", "2024Q4", None, 90, 40, 180, None)
    first = upsert(con, "raw.guidance_counts", published([q4, undated]), "files", ingested_at=FIRST_RUN, load_id="a")
    assert first == LoadCounts(inserted=2)

    # The undated count is revised (a null key matches the stored null), Q1 is new, Q4 is as stored.
    revised = (*undated[:3], 91, *undated[4:])
    q1 = ("sp500", "2025Q1", date(2025, 3, 14), 110, 45, 220, "https://example.org/q1")
    second = upsert(con, "raw.guidance_counts", published([q4, revised, q1]), "files", ingested_at=SECOND_RUN, load_id="b")
    assert second == LoadCounts(inserted=1, updated=1, unchanged=1)
    assert str(second) == "1 rows inserted, 1 updated, 1 unchanged"
    stored = con.execute(
        "SELECT fiscal_quarter, as_of_date, negative_count, source_url, source, ingested_at FROM raw.guidance_counts "
        "ORDER BY fiscal_quarter, as_of_date NULLS FIRST"
    ).fetchall()
    assert stored == [
        ("2024Q4", None, 91, None, "files", SECOND_RUN),
        ("2024Q4", date(2024, 12, 20), 100, None, "files", FIRST_RUN),  # unchanged: its stamp stays
        ("2025Q1", date(2025, 3, 14), 110, "https://example.org/q1", "files", SECOND_RUN),
    ]

    # The same load again changes nothing and records nothing.
    assert upsert(con, "raw.guidance_counts", published([q4, revised, q1]), "files", load_id="c") == LoadCounts(unchanged=3)
    # A table without a partition has one log row per upsert; the date range leaves the undated row out.
    assert log_rows(con) == [
        (1, "a", "raw.guidance_counts", None, 2, 0, 0, date(2024, 12, 20), date(2024, 12, 20), None, None, None, FIRST_RUN),
        (2, "b", "raw.guidance_counts", None, 1, 1, 0, date(2025, 3, 14), date(2025, 3, 14), None, None, None, SECOND_RUN),
    ]


def test_real_rows_replace_a_tables_demo_rows_and_the_demo_refuses_real_ones(con):
    def snapshot_rows(*rows):
        return pd.DataFrame(rows, columns=["ticker", "as_of_date", "market_cap", "shares_outstanding", "forward_eps",
                                           "trailing_eps", "forward_pe", "trailing_pe", "sector", "industry"])

    demo = snapshot_rows(("LC001", date(2025, 1, 31), 1e9, 1e7, 5.0, 4.0, 20.0, 25.0, "Technology", "Software"),
                         ("LC002", date(2025, 2, 28), 2e9, 2e7, 5.0, 4.0, 20.0, 25.0, "Energy", "Oil"))
    assert upsert(con, "raw.valuation_snapshots", demo, "demo", ingested_at=FIRST_RUN) == LoadCounts(inserted=2)
    real = snapshot_rows(("AAPL", date(2025, 3, 31), 3e12, 1.5e10, 7.0, 6.0, 30.0, 35.0, "Technology", "Hardware"))
    counts = upsert(con, "raw.valuation_snapshots", real.assign(source_file="v.csv"), "files", ingested_at=SECOND_RUN)
    assert counts == LoadCounts(inserted=1, deleted=2)
    assert con.execute("SELECT ticker, source, source_file FROM raw.valuation_snapshots").fetchall() == [
        ("AAPL", "files", "v.csv")
    ]
    # Writes and deletions of one upsert of an unpartitioned table are one log row.
    assert log_rows(con)[-1][2:] == (
        "raw.valuation_snapshots", None, 1, 0, 2, date(2025, 3, 31), date(2025, 3, 31), date(2025, 1, 31),
        date(2025, 2, 28), "demo data replaced by real data", SECOND_RUN,
    )
    with pytest.raises(MixedSourceError, match="raw.valuation_snapshots holds 1 rows of real data"):
        upsert(con, "raw.valuation_snapshots", demo, "demo")
    with pytest.raises(ValueError, match="no partition column"):
        upsert(con, "raw.valuation_snapshots", real, "files", replace=["AAPL"])


def test_the_log_has_a_row_per_ticker_with_what_each_inserted_changed_and_deleted(con):
    prices = frame_of([
        ("SPY", date(2025, 1, 2), 1, 1, 1, 100.0, 100.0, 10, "files"),
        ("SPY", date(2025, 1, 3), 1, 1, 1, 101.0, 101.0, 10, "files"),
        ("SPY", date(2025, 1, 6), 1, 1, 1, 102.0, 102.0, 10, "files"),
        ("QQQ", date(2025, 1, 3), 1, 1, 1, 500.0, 500.0, 10, "files"),
    ])
    upsert(con, PRICES.name, prices, "files", ingested_at=FIRST_RUN, load_id="first")
    # SPY's new history: 01-02 gone, 01-03 revised, 01-06 as stored, 01-07 new. QQQ: one new session.
    second = frame_of([
        ("SPY", date(2025, 1, 3), 1, 1, 1, 101.5, 101.5, 10, "files"),
        ("SPY", date(2025, 1, 6), 1, 1, 1, 102.0, 102.0, 10, "files"),
        ("SPY", date(2025, 1, 7), 1, 1, 1, 103.0, 103.0, 10, "files"),
        ("QQQ", date(2025, 1, 6), 1, 1, 1, 505.0, 505.0, 10, "files"),
    ])
    counts = upsert(con, PRICES.name, second, "files", ingested_at=SECOND_RUN, load_id="second", replace=["SPY"])
    assert counts == LoadCounts(inserted=2, updated=1, unchanged=1, deleted=1)
    assert counts + LoadCounts(inserted=1, unchanged=2) == LoadCounts(inserted=3, updated=1, unchanged=3, deleted=1)
    assert log_rows(con) == [
        (1, "first", "raw.prices_daily", "QQQ", 1, 0, 0, date(2025, 1, 3), date(2025, 1, 3), None, None, None, FIRST_RUN),
        (1, "first", "raw.prices_daily", "SPY", 3, 0, 0, date(2025, 1, 2), date(2025, 1, 6), None, None, None, FIRST_RUN),
        (2, "second", "raw.prices_daily", "QQQ", 1, 0, 0, date(2025, 1, 6), date(2025, 1, 6), None, None, None, SECOND_RUN),
        (2, "second", "raw.prices_daily", "SPY", 1, 1, 1, date(2025, 1, 3), date(2025, 1, 7), date(2025, 1, 2),
         date(2025, 1, 2), "history rewritten by the source", SECOND_RUN),
    ]
    changes = latest_load_changes(con)
    assert [(t, d.date()) for t, d in changes.itertuples(index=False)] == [("QQQ", date(2025, 1, 6)), ("SPY", date(2025, 1, 2))]


def test_an_older_warehouses_load_records_move_into_the_log(con):
    """raw.price_loads and raw.price_deletions (before the load log) become log rows once, then go."""
    prices = frame_of([
        ("SPY", date(2025, 1, 2), 1, 1, 1, 100.0, 100.0, 10, "files"),
        ("SPY", date(2025, 1, 3), 1, 1, 1, 101.0, 101.0, 10, "files"),
        ("QQQ", date(2025, 1, 3), 1, 1, 1, 500.0, 500.0, 10, "files"),
    ])
    upsert(con, PRICES.name, prices, "files", ingested_at=FIRST_RUN)
    con.execute("DELETE FROM raw.load_log")
    con.execute("UPDATE raw.prices_daily SET ingested_at = ? WHERE ticker = 'QQQ'", [SECOND_RUN])
    con.execute("""
        CREATE TABLE raw.price_deletions (ticker VARCHAR, from_date DATE, rows_deleted BIGINT, reason VARCHAR, deleted_at TIMESTAMP);
        CREATE TABLE raw.price_loads (seq BIGINT, load_id VARCHAR, ingested_at TIMESTAMP, rows_written BIGINT,
                                      removed STRUCT(ticker VARCHAR, first_date DATE)[]);
    """)
    con.execute("INSERT INTO raw.price_deletions VALUES ('IWM', '2024-12-30', 4, 'history rewritten by the source', ?)", [SECOND_RUN])
    con.execute("INSERT INTO raw.price_loads VALUES (1, 'run-2', ?, 1, [{'ticker': 'IWM', 'first_date': DATE '2024-12-30'}])",
                [SECOND_RUN])

    last_session_per_ticker(con, "files", ["SPY"])  # any use of the raw layer moves them
    last_session_per_ticker(con, "files", ["SPY"])  # ... once
    assert log_rows(con) == [
        (1, "before-load-log", "raw.prices_daily", "SPY", 0, 2, 0, date(2025, 1, 2), date(2025, 1, 3), None, None, None,
         FIRST_RUN),
        (2, "run-2", "raw.prices_daily", "IWM", 0, 0, 4, None, None, date(2024, 12, 30), None,
         "history rewritten by the source", SECOND_RUN),
        (2, "run-2", "raw.prices_daily", "QQQ", 0, 1, 0, date(2025, 1, 3), date(2025, 1, 3), None, None, None, SECOND_RUN),
    ]
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('price_loads', 'price_deletions')").fetchone() == (0,)
    changes = latest_load_changes(con)
    assert [(t, d.date()) for t, d in changes.itertuples(index=False)] == [("IWM", date(2024, 12, 30)), ("QQQ", date(2025, 1, 3))]
