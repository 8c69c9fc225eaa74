"""Price files with the key and some of the value columns (e.g. date,ticker,adj_close): they update
those columns of stored prices; rows with no stored close are named in a warning and not loaded."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from orchestration.extract.files import FilesSource, read_price_file
from orchestration.land.prices import ingest_price_batches
from orchestration.land.upsert import LoadCounts
from orchestration.universe import load_universe

FULL = "date,ticker,open,high,low,close,adj_close,volume"
FIRST_RUN = datetime(2025, 1, 6, 21, 0, 0)
SECOND_RUN = datetime(2025, 1, 7, 21, 0, 0)
THIRD_RUN = datetime(2025, 1, 8, 21, 0, 0)
# XLK on Jan 2 and 3 (no adjusted close on the 3rd), SPY on Jan 2 only
STORED = [
    "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200",
    "2025-01-03,XLK,231.0,233.5,230.0,233.0,,3900",
    "2025-01-02,SPY,590.1,592.4,588.0,591.55,,51000",
]


def write(tmp_path: Path, name: str, header: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def symbols():
    return load_universe().symbols


def ingest(con, paths: list[Path], symbols: list[str], source: str = "files"):
    return ingest_price_batches(con, FilesSource([str(p) for p in paths]).fetch(), source, symbols)


def stored(con) -> list[tuple]:
    return con.execute(
        "SELECT ticker, date, open, close, adj_close, volume, source, ingested_at FROM raw.prices_daily ORDER BY ticker, date"
    ).fetchall()


def log_rows(con) -> list[tuple]:
    return con.execute(
        "SELECT partition_value, inserted, updated, deleted, changed_from, changed_to, ingested_at "
        "FROM raw.load_log ORDER BY seq, partition_value"
    ).fetchall()


@pytest.fixture
def with_stored_prices(con, tmp_path, clock, symbols):
    """STORED loaded on FIRST_RUN, by the yahoo source (so that a partial file's update shows it keeps the source)."""
    clock(FIRST_RUN)
    report = ingest(con, [write(tmp_path, "full.csv", FULL, *STORED)], symbols, source="yahoo")
    assert report.counts == LoadCounts(inserted=3)


def test_a_partial_file_is_read_with_its_own_columns(tmp_path):
    path = write(tmp_path, "adj.csv", "date,ticker,adj_close", "2025-01-02,xlk,231.0", "2025-01-03,XLK,")
    batch = read_price_file(path)
    assert batch.read_errors == []
    assert list(batch.frame.columns) == ["date", "ticker", "adj_close", "source", "row"]
    assert batch.frame["ticker"].tolist() == ["XLK", "XLK"]
    assert batch.frame["adj_close"].iloc[0] == 231.0 and batch.frame["adj_close"].isna().iloc[1]


def test_a_folder_reads_a_partial_file(tmp_path):
    folder = tmp_path / "prices"
    folder.mkdir()
    adj = write(folder, "adj.csv", "date,ticker,adj_close", "2025-01-02,XLK,231.0")
    keys_only = write(folder, "keys.csv", "date,ticker", "2025-01-02,XLK")
    source = FilesSource([str(folder)])
    assert source.paths == [adj]
    assert [path for path, _ in source.skipped] == [keys_only]


def test_adjusted_closes_update_stored_rows_and_name_the_rows_without_a_close(
    con, tmp_path, clock, symbols, with_stored_prices
):
    adj = write(
        tmp_path, "adj.csv", "date,ticker,adj_close",
        "2025-01-02,XLK,231.0",  # changes 230.9
        "2025-01-03,XLK,232.5",  # fills an empty one
        "2025-01-02,SPY,589.12",  # fills an empty one
        "2025-01-03,SPY,592.8",  # no stored SPY price on Jan 3: not loaded
        "2025-01-06,QQQ,515.0",  # no stored QQQ price at all
    )
    clock(SECOND_RUN)
    report = ingest(con, [adj], symbols)
    assert report.accepted_origins == [str(adj)] and report.problems == []
    assert report.counts == LoadCounts(updated=3)
    [warning] = report.warnings
    assert str(warning).startswith(
        f"{adj}: 2 rows not loaded: they give adj_close of prices that have no stored close: "
        "QQQ 1 rows (2025-01-06); SPY 1 rows (2025-01-03). Load the prices of those dates with a close first"
    )
    # only adj_close changed; open, close, volume and the source (yahoo) stay as stored
    assert stored(con) == [
        ("SPY", date(2025, 1, 2), 590.1, 591.55, 589.12, 51000, "yahoo", SECOND_RUN),
        ("XLK", date(2025, 1, 2), 230.5, 231.25, 231.0, 4200, "yahoo", SECOND_RUN),
        ("XLK", date(2025, 1, 3), 231.0, 233.0, 232.5, 3900, "yahoo", SECOND_RUN),
    ]
    # the load log records updates, per ticker, with the dates they changed
    assert log_rows(con)[-2:] == [
        ("SPY", 0, 1, 0, date(2025, 1, 2), date(2025, 1, 2), SECOND_RUN),
        ("XLK", 0, 2, 0, date(2025, 1, 2), date(2025, 1, 3), SECOND_RUN),
    ]
    assert report.tickers == ["SPY", "XLK"]

    # the same file again changes nothing and logs nothing
    before, logged = stored(con), log_rows(con)
    clock(THIRD_RUN)
    again = ingest(con, [adj], symbols)
    assert again.counts == LoadCounts(unchanged=3)
    assert stored(con) == before and log_rows(con) == logged


def test_a_partial_file_with_a_close_adds_new_prices_and_changes_only_its_columns(
    con, tmp_path, clock, symbols, with_stored_prices
):
    path = write(
        tmp_path, "closes.csv", "date,ticker,close,volume",
        "2025-01-03,XLK,233.2,4000",  # a stored row: close and volume change, open and adj_close stay
        "2025-01-03,SPY,595.25,48000",  # a new row: the columns the file lacks are empty
    )
    clock(SECOND_RUN)
    report = ingest(con, [path], symbols)
    assert report.counts == LoadCounts(inserted=1, updated=1) and report.warnings == []
    assert stored(con)[1:] == [
        ("SPY", date(2025, 1, 3), None, 595.25, None, 48000, "files", SECOND_RUN),
        ("XLK", date(2025, 1, 2), 230.5, 231.25, 230.9, 4200, "yahoo", FIRST_RUN),
        ("XLK", date(2025, 1, 3), 231.0, 233.2, None, 4000, "yahoo", SECOND_RUN),
    ]


def test_a_partial_file_is_validated_on_its_columns(con, tmp_path, clock, symbols, with_stored_prices):
    bad = write(tmp_path, "bad.csv", "date,ticker,adj_close", "2025-01-02,XLK,231.0", "2025-01-03,XLK,-1")
    weekend = write(tmp_path, "weekend.csv", "date,ticker,adj_close", "2025-01-04,XLK,231.0")
    good = write(tmp_path, "good.csv", "date,ticker,adj_close", "2025-01-02,SPY,589.12")
    clock(SECOND_RUN)
    report = ingest(con, [bad, weekend, good], symbols)
    assert report.accepted_origins == [str(good)]
    assert [str(p) for p in report.problems] == [
        f"{bad}, row 3, ticker XLK: adj_close is -1.0, prices must be positive. Correct the price or remove the row.",
        f"{weekend}, row 2, ticker XLK: date 2025-01-04 is not an NYSE session (a Saturday). "
        "Keep only NYSE trading days, dated in New York time (a UTC time stamp can move a bar to the next day).",
    ]
    assert report.counts == LoadCounts(updated=1)
    assert [row[4] for row in stored(con)] == [589.12, 230.9, None]


def test_adjusted_closes_fill_in_a_full_file_of_the_same_run(con, tmp_path, clock, symbols):
    full = write(tmp_path, "full.csv", FULL, *STORED[:2])
    adj = write(tmp_path, "adj.csv", "date,ticker,adj_close", "2025-01-03,XLK,232.5")
    clock(FIRST_RUN)
    report = ingest(con, [adj, full], symbols)
    # the full file's empty adj_close is filled in; the rows are inserted once, with it
    assert report.counts == LoadCounts(inserted=2) and report.warnings == []
    assert [row[4] for row in stored(con)] == [230.9, 232.5]
    assert log_rows(con) == [("XLK", 2, 0, 0, date(2025, 1, 2), date(2025, 1, 3), FIRST_RUN)]


def test_adjusted_closes_disagreeing_with_a_full_file_of_the_same_run_reject_both(con, tmp_path, clock, symbols):
    full = write(tmp_path, "full.csv", FULL, *STORED[:2])
    adj = write(tmp_path, "adj.csv", "date,ticker,adj_close", "2025-01-02,XLK,231.0")  # the full file says 230.9
    clock(FIRST_RUN)
    report = ingest(con, [full, adj], symbols)
    assert report.accepted_origins == []
    assert [str(p).split(" (")[0] for p in report.problems] == [
        f"{full}, row 2, ticker XLK: 2025-01-02 has different values in {adj}",
        f"{adj}, row 2, ticker XLK: 2025-01-02 has different values in {full}",
    ]
    assert stored(con) == []


def test_the_warning_names_each_span_of_rows_without_a_close(con, tmp_path, clock, symbols, with_stored_prices):
    # XLK is stored on Jan 2 and 3 only: the file's rows before and after are two spans
    adj = write(
        tmp_path, "adj.csv", "date,ticker,adj_close",
        "2024-12-31,XLK,229.0", "2025-01-02,XLK,230.9", "2025-01-03,XLK,232.5", "2025-01-06,XLK,234.0",
        "2025-01-07,XLK,233.0",
    )
    clock(SECOND_RUN)
    report = ingest(con, [adj], symbols)
    assert report.counts == LoadCounts(updated=1, unchanged=1)
    [warning] = report.warnings
    assert warning.problem == (
        "3 rows not loaded: they give adj_close of prices that have no stored close: "
        "XLK 3 rows (2024-12-31, 2025-01-06 .. 2025-01-07)"
    )
