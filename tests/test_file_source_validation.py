"""Reading long-layout price files and validating each one as a whole batch."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.extract.base import PRICE_COLUMNS
from orchestration.extract.files import FilesSource, read_price_file
from orchestration.land.validation import ValidatedBatch, validate_batch

HEADER = "date,ticker,open,high,low,close,adj_close,volume"
GOOD_ROW = "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200"
SEVEN_SESSIONS = [2, 3, 6, 7, 8, 10, 13]  # NYSE sessions of January 2025 (closed on the 9th, a day of mourning)


def write_csv(tmp_path: Path, name: str, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def validate_file(path: Path) -> ValidatedBatch:
    return validate_batch(read_price_file(path))


def messages(path: Path) -> list[str]:
    """The errors of a rejected file, with its full path shortened to the file name."""
    result = validate_file(path)
    assert not result.accepted
    assert result.frame is None
    said = [str(error) for error in result.errors]
    assert all(line.startswith(f"{path}") for line in said), said
    return [line.replace(str(path), path.name, 1) for line in said]


# --- a good file -------------------------------------------------------------------------------


def test_good_file_is_read_with_values_dtypes_and_line_numbers(tmp_path):
    path = write_csv(
        tmp_path,
        "good.csv",
        "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,493729600.0000",
        "2025-01-03, xlk ,231.0,233.5,230.0,233.0,,",
        "2025-01-02,SPY,590.1,592.4,588.0,591.55,589.12,51000",
    )
    batch = read_price_file(path)
    assert batch.origin == str(path)
    assert batch.read_errors == []
    frame = batch.frame
    assert list(frame.columns) == PRICE_COLUMNS + ["row"]
    assert frame["row"].tolist() == [2, 3, 4]
    assert frame["date"].tolist() == [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 2)]
    assert all(type(value) is date for value in frame["date"])
    assert frame["ticker"].tolist() == ["XLK", "XLK", "SPY"]
    assert (frame["source"] == "files").all()
    for column in ("open", "high", "low", "close", "adj_close"):
        assert frame[column].dtype == np.float64, column
    assert frame["open"].tolist() == [230.5, 231.0, 590.1]
    assert frame["high"].tolist() == [232.0, 233.5, 592.4]
    assert frame["low"].tolist() == [229.75, 230.0, 588.0]
    assert frame["close"].tolist() == [231.25, 233.0, 591.55]
    assert frame.at[0, "adj_close"] == 230.9
    assert np.isnan(frame.at[1, "adj_close"])
    assert frame.at[2, "adj_close"] == 589.12
    assert frame["volume"].dtype == pd.Int64Dtype()
    assert frame.at[0, "volume"] == 493_729_600
    assert frame.at[1, "volume"] is pd.NA
    assert frame.at[2, "volume"] == 51_000

    result = validate_batch(batch)
    assert result.accepted
    assert result.errors == []
    assert result.duplicate_rows_dropped == 0
    assert result.frame["row"].tolist() == [2, 3, 4]


def test_files_source_reads_each_file_as_its_own_batch(tmp_path):
    good = write_csv(tmp_path, "good.csv", GOOD_ROW)
    missing = tmp_path / "missing.csv"
    batches = FilesSource([str(good), str(missing)]).fetch()
    assert [b.origin for b in batches] == [str(good), str(missing)]
    assert len(batches[0].frame) == 1 and batches[0].read_errors == []
    assert batches[1].frame.empty and len(batches[1].read_errors) == 1
    with pytest.raises(ValueError, match="at least one file"):
        FilesSource([])


def test_exact_duplicate_row_is_dropped_and_counted(tmp_path):
    path = write_csv(
        tmp_path,
        "dup.csv",
        GOOD_ROW,
        "2025-01-03,XLK,231.0,233.5,230.0,233.0,,",
        GOOD_ROW,
        "2025-01-03,XLK,231.0,233.5,230.0,233.0,,",
    )
    result = validate_file(path)
    assert result.accepted
    assert result.duplicate_rows_dropped == 2
    assert result.frame["row"].tolist() == [2, 3]
    assert result.frame["close"].tolist() == [231.25, 233.0]


# --- unreadable files --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert messages(tmp_path / "missing.csv") == ["missing.csv: file not found. Check the path given to --files."]


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    [line] = messages(path)
    assert line.startswith("empty.csv: not a readable price file (")
    assert line.endswith("). Export it as UTF-8 CSV or Parquet.")


def test_header_missing_date(tmp_path):
    # (a header lacking value columns only is a partial file: tests/test_partial_price_files.py)
    path = write_csv(
        tmp_path, "nodate.csv", "XLK,230.5,232.0,229.75,231.25,230.9,4200",
        header="ticker,open,high,low,close,adj_close,volume",
    )
    assert messages(path) == [
        "nodate.csv, row 1: header lacks date. The header must be "
        "date,ticker,open,high,low,close,adj_close,volume (or date,ticker and some of its value columns, "
        "e.g. date,ticker,adj_close; or Date,Open,High,Low,Close,Adj Close,Volume in a file named <TICKER>.csv)."
    ]


# --- bad values found while reading ------------------------------------------------------------


def test_unparsable_dates(tmp_path):
    path = write_csv(
        tmp_path, "dates.csv",
        GOOD_ROW,
        "2025-13-01,XLK,230.5,232.0,229.75,231.25,230.9,4200",
        "01/02/2025,SPY,590.1,592.4,588.0,591.55,589.12,51000",
    )
    fix = "Write dates as YYYY-MM-DD (the exchange trading date)."
    assert messages(path) == [
        f"dates.csv, row 3, ticker XLK: date '2025-13-01' is not a date. {fix}",
        f"dates.csv, row 4, ticker SPY: date '01/02/2025' is not a date. {fix}",
    ]


def test_non_numeric_close(tmp_path):
    path = write_csv(tmp_path, "abc.csv", GOOD_ROW, "2025-01-03,XLK,231.0,233.5,230.0,abc,233.0,100")
    assert messages(path) == [
        "abc.csv, row 3, ticker XLK: close 'abc' is not a number. "
        "Use plain decimal numbers, with '.' as the decimal mark."
    ]


def test_decimal_comma_in_quoted_field(tmp_path):
    path = write_csv(tmp_path, "comma.csv", '2025-01-02,XLK,1.4,1.6,1.3,"1,5",1.5,100')
    assert messages(path) == [
        "comma.csv, row 2, ticker XLK: close '1,5' is not a number. "
        "Use plain decimal numbers, with '.' as the decimal mark."
    ]


def test_fractional_volume(tmp_path):
    path = write_csv(tmp_path, "frac.csv", GOOD_ROW, "2025-01-03,XLK,231.0,233.5,230.0,233.0,233.0,12.5")
    assert messages(path) == [
        "frac.csv, row 3, ticker XLK: volume 12.5 is not a whole number of shares. Round the volume or leave it empty."
    ]


# --- bad values found by validation ------------------------------------------------------------


def test_zero_close(tmp_path):
    path = write_csv(tmp_path, "zero.csv", GOOD_ROW, "2025-01-03,XLK,231.0,233.5,230.0,0,233.0,100")
    assert messages(path) == [
        "zero.csv, row 3, ticker XLK: close is 0.0, prices must be positive. Correct the price or remove the row."
    ]


def test_negative_open(tmp_path):
    path = write_csv(tmp_path, "negopen.csv", "2025-01-02,SPY,-1,592.4,588.0,591.55,589.12,51000")
    assert messages(path) == [
        "negopen.csv, row 2, ticker SPY: open is -1.0, prices must be positive. Correct the price or remove the row."
    ]


def test_high_below_low(tmp_path):
    path = write_csv(tmp_path, "swapped.csv", GOOD_ROW, "2025-01-03,XLK,1.5,1.0,2.0,1.5,1.5,100")
    assert messages(path) == [
        "swapped.csv, row 3, ticker XLK: high 1.0 is below low 2.0. Check the column order and the values of the row."
    ]


def test_negative_volume(tmp_path):
    path = write_csv(tmp_path, "negvol.csv", "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,-5")
    assert messages(path) == [
        "negvol.csv, row 2, ticker XLK: volume is -5, it cannot be negative. Correct the volume or leave it empty."
    ]


def test_empty_ticker(tmp_path):
    path = write_csv(tmp_path, "noticker.csv", GOOD_ROW, "2025-01-03, ,231.0,233.5,230.0,233.0,233.0,100")
    assert messages(path) == [
        "noticker.csv, row 3: empty ticker. Fill in the Yahoo symbol of the row or remove the row."
    ]


def test_empty_close(tmp_path):
    path = write_csv(tmp_path, "noclose.csv", "2025-01-02,XLK,230.5,232.0,229.75,,230.9,4200")
    assert messages(path) == [
        "noclose.csv, row 2, ticker XLK: close is empty. Every row needs a close; remove the row or fill it in."
    ]


def test_conflicting_duplicate_names_both_rows(tmp_path):
    path = write_csv(
        tmp_path, "conflict.csv",
        GOOD_ROW,
        "2025-01-02,SPY,590.1,592.4,588.0,591.55,589.12,51000",
        "2025-01-02,XLK,230.5,232.0,229.75,231.5,230.9,4200",
    )
    problem = (
        "2025-01-02 appears more than once for this ticker with different values. Keep one row per ticker and date."
    )
    assert messages(path) == [
        f"conflict.csv, row 2, ticker XLK: {problem}",
        f"conflict.csv, row 4, ticker XLK: {problem}",
    ]


def test_more_than_five_bad_rows_are_summarised(tmp_path):
    rows = [f"2025-01-{day:02d},XLK,1.0,1.0,1.0,0,1.0,100" for day in SEVEN_SESSIONS]  # 7 zero closes
    path = write_csv(tmp_path, "many.csv", *rows)
    fix = "Correct the price or remove the row."
    assert messages(path) == [
        *[f"many.csv, row {row}, ticker XLK: close is 0.0, prices must be positive. {fix}" for row in range(2, 7)],
        f"many.csv: 2 more rows with the same problem. {fix}",
    ]


def test_one_row_with_several_problems_reports_each(tmp_path):
    path = write_csv(tmp_path, "several.csv", "2025-01-02,XLK,-2,1.0,3.0,1.5,1.5,-7")
    assert messages(path) == [
        "several.csv, row 2, ticker XLK: open is -2.0, prices must be positive. Correct the price or remove the row.",
        "several.csv, row 2, ticker XLK: high 1.0 is below low 3.0. Check the column order and the values of the row.",
        "several.csv, row 2, ticker XLK: volume is -7, it cannot be negative. Correct the volume or leave it empty.",
    ]


# --- known defects: each test states the expected behaviour ------------------------------------


def test_trailing_comma_on_every_row_does_not_crash(tmp_path):
    path = write_csv(tmp_path, "trailing.csv", GOOD_ROW + ",", "2025-01-03,XLK,231.0,233.5,230.0,233.0,233.0,100,")
    batch = read_price_file(path)
    if batch.read_errors:
        assert all(problem.origin == str(path) for problem in batch.read_errors)
    else:
        assert batch.frame["ticker"].tolist() == ["XLK", "XLK"]
        assert batch.frame["close"].tolist() == [231.25, 233.0]


def test_row_numbers_count_blank_lines(tmp_path):
    path = write_csv(tmp_path, "blank.csv", GOOD_ROW, "", "2025-01-03,XLK,231.0,233.5,230.0,abc,233.0,100")
    assert [line.split(":")[0] for line in messages(path)] == ["blank.csv, row 4, ticker XLK"]


def test_more_than_five_bad_dates_are_summarised(tmp_path):
    rows = [f"2025-01-{day:02d}x,XLK,1.0,1.0,1.0,1.0,1.0,100" for day in SEVEN_SESSIONS]
    said = messages(write_csv(tmp_path, "dates.csv", *rows))
    assert len(said) == 6
    assert said[-1].startswith("dates.csv: 2 more rows")


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_volume_too_large_for_int64_is_reported(tmp_path):
    said = messages(write_csv(tmp_path, "huge.csv", "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,1e20"))
    assert said == ["huge.csv, row 2, ticker XLK: volume 1e20 is too large to be a share count. Correct the volume or leave it empty."]


def test_infinite_close_is_rejected(tmp_path):
    said = messages(write_csv(tmp_path, "inf.csv", "2025-01-02,XLK,230.5,inf,229.75,inf,230.9,4200"))
    assert said[0] == "inf.csv, row 2, ticker XLK: high 'inf' is not a number. Use plain decimal numbers, with '.' as the decimal mark."
