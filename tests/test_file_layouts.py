"""The files source's three layouts (long CSV, Parquet, Yahoo-style per-ticker CSV) and quarantine."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import pandas as pd
import pytest

from orchestration.extract.files import FilesSource, read_price_file
from orchestration.land.quarantine import quarantine_file
from orchestration.land.validation import PriceProblem, validate_batch

LONG = (
    "date,ticker,open,high,low,close,adj_close,volume\n"
    "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200\n"
    "2025-01-03,XLK,231.0,233.0,230.0,232.5,,\n"
)
YAHOO = (
    "Date,Open,High,Low,Close,Adj Close,Volume\n"
    "2025-01-02 00:00:00-05:00,5903.26,5935.09,5829.53,5868.55,5868.55,3621680000\n"
    "2025-01-03 00:00:00-05:00,5891.07,5949.34,5888.66,5942.47,5942.47,3667340000\n"
)


def test_parquet_reads_like_the_long_csv(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text(LONG)
    parquet = tmp_path / "prices.parquet"
    table = pd.read_csv(csv)
    table["date"] = pd.to_datetime(table["date"])
    table.to_parquet(parquet)
    from_csv, from_parquet = read_price_file(csv).frame, read_price_file(parquet).frame
    columns = ["date", "ticker", "open", "high", "low", "close", "adj_close", "volume", "source"]
    pd.testing.assert_frame_equal(from_csv[columns], from_parquet[columns])
    assert from_parquet["date"].tolist() == [date(2025, 1, 2), date(2025, 1, 3)]
    assert pd.isna(from_parquet.loc[1, "adj_close"]) and pd.isna(from_parquet.loc[1, "volume"])


def test_parquet_missing_the_ticker_column_is_refused(tmp_path):
    # with date and ticker, some value columns make a partial file (tests/test_partial_price_files.py)
    path = tmp_path / "bad.parquet"
    pd.DataFrame({"date": ["2025-01-02"], "close": [1.0]}).to_parquet(path)
    problems = read_price_file(path).read_errors
    assert len(problems) == 1 and "header lacks ticker, open, high, low, adj_close, volume" in str(problems[0])


def test_yahoo_style_file_takes_its_ticker_from_its_name(tmp_path):
    path = tmp_path / "^GSPC.csv"
    path.write_text(YAHOO)
    frame = validate_batch(read_price_file(path)).frame
    assert frame["ticker"].tolist() == ["^GSPC", "^GSPC"]
    assert frame["date"].tolist() == [date(2025, 1, 2), date(2025, 1, 3)]  # the session date, offset ignored
    assert frame.loc[1, "close"] == 5942.47 and frame.loc[1, "volume"] == 3667340000


def test_a_folder_stands_for_its_price_files(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "^GSPC.csv").write_text(YAHOO)
    (folder / "brk-b.csv").write_text(YAHOO.replace("5942.47", "480.1"))
    (folder / "notes.txt").write_text("not prices")
    batches = FilesSource([str(folder)]).fetch()
    assert [b.frame["ticker"].iloc[0] for b in batches] == ["^GSPC", "BRK-B"]


def test_yahoo_style_file_without_adj_close_column_is_refused(tmp_path):
    path = tmp_path / "SPY.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n2025-01-02,1,1,1,1,1\n")
    [problem] = read_price_file(path).read_errors
    assert str(problem).startswith(f"{path}, row 1: header lacks adj_close.")


def test_quarantine_moves_a_file_of_the_warehouse_folder_beside_its_reason(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,ticker\n")
    problem = PriceProblem(str(bad), 2, "SPY", "high 490.0 is below low 495.0", "Check the column order.")
    target = quarantine_file(bad, [problem], tmp_path / "quarantine", datetime(2026, 1, 16, 23, 5, 0), owned_folder=tmp_path)
    assert not bad.exists() and target == tmp_path / "quarantine" / "20260116T230500-bad.csv"
    reason = (tmp_path / "quarantine" / "20260116T230500-bad.csv.reason.txt").read_text()
    assert "nothing of it was loaded" in reason and "row 2, ticker SPY: high 490.0 is below low 495.0" in reason


def test_quarantine_copies_what_it_cannot_move(tmp_path, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,ticker\n")

    def refuse(*_args, **_kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(shutil, "move", refuse)
    target = quarantine_file(bad, [], tmp_path / "q", datetime(2026, 1, 16), owned_folder=tmp_path)
    assert bad.exists() and target.read_text() == "date,ticker\n"
    assert "copied here" in target.with_name(target.name + ".reason.txt").read_text()


@pytest.mark.parametrize("text", ["2025-1-2", "02/01/2025", "Jan 2 2025"])
def test_other_date_spellings_are_refused(tmp_path, text):
    path = tmp_path / "QQQ.csv"
    path.write_text(f"Date,Open,High,Low,Close,Adj Close,Volume\n{text},1,1,1,1,1,1\n")
    [problem] = read_price_file(path).read_errors
    assert f"row 2, ticker QQQ: date '{text}' is not a date" in str(problem)
