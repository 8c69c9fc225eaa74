"""Loading validated price batches into raw.prices_daily: upsert, idempotence, demo/real separation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.extract.demo import DemoSource
from orchestration.extract.files import FilesSource
from orchestration.land import prices as price_ingest
from orchestration.land.load_log import latest_load_changes
from orchestration.land.prices import ingest_price_batches, last_session_per_ticker
from orchestration.land.tables import PRICES
from orchestration.land.upsert import LoadCounts, MixedSourceError, upsert
from orchestration.universe import load_universe
from tests.conftest import load_prices

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


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def clock(monkeypatch):
    """Makes ingest stamp rows with a chosen UTC time: call clock(naive_utc_datetime) before each run."""
    current: dict[str, datetime] = {}

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return current["now"].replace(tzinfo=timezone.utc).astimezone(tz) if tz else current["now"]

    monkeypatch.setattr(price_ingest, "datetime", FixedDatetime)

    def set_now(when: datetime) -> None:
        current["now"] = when

    return set_now


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


def test_second_file_disagreeing_with_first_is_rejected_whole(con, tmp_path, clock, symbols):
    first = write_csv(tmp_path, "first.csv", *XLK_FILE)
    second = write_csv(
        tmp_path, "second.csv",
        "2025-01-06,XLK,233.0,236.0,232.5,235.5,235.5,3900",
        "2025-01-03,XLK,231.0,233.5,230.0,233.1,,",
    )
    clock(FIRST_RUN)
    report = ingest_files(con, [first, second], symbols)
    assert report.accepted_origins == [str(first)]
    assert [b.origin for b in report.rejected] == [str(second)]
    [problem] = report.problems
    assert (problem.origin, problem.row, problem.ticker) == (str(second), 3, "XLK")
    assert str(first) in str(problem) and str(second) in str(problem)
    assert "2025-01-03" in problem.problem
    assert report.counts.inserted == 2
    assert raw_count(con, "date = DATE '2025-01-06'") == 0
    assert con.execute("SELECT close FROM raw.prices_daily WHERE date = DATE '2025-01-03'").fetchall() == [(233.0,)]


def test_empty_volume_against_filled_volume_is_a_conflict(con, tmp_path, clock, symbols):
    first = write_csv(tmp_path, "first.csv", "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,")
    second = write_csv(tmp_path, "second.csv", "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200")
    clock(FIRST_RUN)
    report = ingest_files(con, [first, second], symbols)
    assert report.accepted_origins == [str(first)]


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

