"""Hostile price and guidance files: each is rejected (or warned about) by name, and the rest still lands."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.extract.files import FilesSource, read_price_file
from orchestration.land import guidance_landing
from orchestration.land.guidance_landing import MAX_COUNT, process_landing_folder
from orchestration.land.prices import ingest_price_batches
from orchestration.land.quarantine import quarantine_file
from orchestration.land.validation import MAX_PRICE, MAX_TICKER_LENGTH, PriceProblem, new_york_today, validate_batch

LONG = "date,ticker,open,high,low,close,adj_close,volume"
YAHOO = "Date,Open,High,Low,Close,Adj Close,Volume"
EVENTS = "ticker,announced_date,fiscal_quarter,eps_low,eps_high,consensus_eps_before"
COUNTS = "index_name,fiscal_quarter,as_of_date,negative_count,positive_count,total_count,source_url"
# The first ten NYSE sessions of 2025 (closed on Wednesday 1 January and Thursday 9 January).
SESSIONS = ["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07", "2025-01-08",
            "2025-01-10", "2025-01-13", "2025-01-14", "2025-01-15", "2025-01-16"]
SPY_ROW = "2025-01-02,SPY,590.1,592.4,588.0,591.55,589.12,51000"


def write(folder: Path, name: str, *lines: str, text: str | None = None) -> Path:
    path = folder / name
    path.write_text(text if text is not None else "\n".join(lines) + "\n", encoding="utf-8")
    return path


def ingest(con, paths: list[Path]):
    return ingest_price_batches(con, FilesSource([str(p) for p in paths]).fetch(), "files", ["SPY", "XLK", "BRK-B"])


def stored(con, ticker: str) -> list[tuple]:
    return con.execute(
        "SELECT date, close FROM raw.prices_daily WHERE ticker = ? ORDER BY date", [ticker]
    ).fetchall()


def said(report, path: Path) -> list[str]:
    """The problems of `path` in a report, with its full path shortened to its name."""
    return [str(p).replace(str(path), path.name) for p in report.problems if p.origin == str(path)]


# --- price files -------------------------------------------------------------------------------


def test_files_that_disagree_load_nothing_of_either(con, tmp_path):
    first = write(tmp_path, "a.csv", LONG, "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200",
                  "2025-01-03,XLK,231.0,233.5,230.0,233.0,232.6,3900")
    # agrees on the 2nd, disagrees on the 3rd's close
    second = write(tmp_path, "b.csv", LONG, "2025-01-02,XLK,230.5,232.0,229.75,231.25,230.9,4200",
                   "2025-01-03,XLK,231.0,233.5,230.0,233.4,232.6,3900")
    good = write(tmp_path, "spy.csv", LONG, SPY_ROW)
    report = ingest(con, [first, second, good])
    assert report.accepted_origins == [str(good)]
    assert [b.origin for b in report.rejected] == [str(first), str(second)]
    assert stored(con, "XLK") == []
    assert stored(con, "SPY") == [(date(2025, 1, 2), 591.55)]
    [about_second] = said(report, second)
    assert about_second.startswith(f"b.csv, row 3, ticker XLK: 2025-01-03 has different values in {first} ")


def test_a_quoted_line_break_rejects_the_file_naming_its_row(con, tmp_path):
    rows = [f"{day},XLK,1.0,2.0,1.0,1.5,1.5,10" for day in SESSIONS[:9]]
    rows.insert(4, '2025-01-17,"XL\nK",1.0,2.0,1.0,1.5,1.5,10')  # one record over lines 6 and 7
    path = write(tmp_path, "broken.csv", LONG, *rows)
    report = ingest(con, [path])
    assert report.accepted_origins == []
    assert said(report, path) == [
        "broken.csv, row 6: ticker 'XL\\nK' contains a line break, which no price, date or ticker does. "
        "Every row needs one value per column of the header, on one line; check the quotes of the row."
    ]
    assert con.execute("SELECT count(*) FROM raw.prices_daily").fetchone() == (0,)


def test_a_file_without_ticker_column_and_not_named_like_a_ticker_is_rejected_by_name(con, tmp_path):
    bad = write(tmp_path, "export 2025.csv", "date,open,close", "2025-01-02,1.0,1.5")
    good = write(tmp_path, "spy.csv", LONG, SPY_ROW)
    report = ingest(con, [bad, good])
    assert report.accepted_origins == [str(good)]
    [problem] = said(report, bad)
    assert problem.startswith("export 2025.csv, row 1: header lacks ticker, high, low, adj_close, volume "
                              "(a file without a ticker column holds one ticker and is named after it, <TICKER>.csv; "
                              "'export 2025' is not a plausible Yahoo symbol")
    assert stored(con, "SPY") == [(date(2025, 1, 2), 591.55)]


def test_a_header_naming_a_column_twice_is_rejected_not_a_crash(tmp_path):
    path = write(tmp_path, "twice.csv", LONG + ",Close", "2025-01-02,XLK,1.0,2.0,1.0,1.5,1.5,10,1.6")
    [problem] = validate_batch(read_price_file(path)).errors
    assert str(problem).startswith(f"{path}, row 1: the header names close more than once.")


def test_a_yahoo_file_lands_beside_a_bad_file(con, tmp_path):
    brk = write(tmp_path, "BRK-B.csv", YAHOO, *[f"{day},480.0,482.5,478.0,481.0,481.0,3000000" for day in SESSIONS])
    bad = write(tmp_path, "bad.csv", LONG + ",Close", "2025-01-02,XLK,1.0,2.0,1.0,1.5,1.5,10,1.6")
    report = ingest(con, [brk, bad])
    assert report.accepted_origins == [str(brk)]
    assert [b.origin for b in report.rejected] == [str(bad)]
    assert len(stored(con, "BRK-B")) == len(SESSIONS)


def test_a_header_only_file_is_accepted_with_a_warning_naming_it(con, tmp_path):
    empty = write(tmp_path, "empty.csv", LONG)
    good = write(tmp_path, "spy.csv", LONG, SPY_ROW)
    report = ingest(con, [empty, good])
    assert report.accepted_origins == [str(empty), str(good)] and report.rejected == []
    assert [str(w) for w in report.warnings] == [
        f"{empty}: the file has a header but no rows, so nothing was loaded from it. "
        "Check that the export finished; remove the file if it is meant to be empty."
    ]
    assert report.counts.inserted == 1


def test_dates_that_are_not_nyse_sessions_reject_their_file(con, tmp_path):
    fix = "Keep only NYSE trading days, dated in New York time (a UTC time stamp can move a bar to the next day)."
    weekend = write(tmp_path, "weekend.csv", LONG, "2025-01-04,XLK,1.0,2.0,1.0,1.5,1.5,10")
    holiday = write(tmp_path, "holiday.csv", LONG, "2025-01-02,XLK,1.0,2.0,1.0,1.5,1.5,10",
                    "2025-01-09,XLK,1.0,2.0,1.0,1.5,1.5,10")
    future = write(tmp_path, "future.csv", LONG, "2099-01-02,XLK,1.0,2.0,1.0,1.5,1.5,10")
    good = write(tmp_path, "spy.csv", LONG, SPY_ROW)
    report = ingest(con, [weekend, holiday, future, good])
    assert report.accepted_origins == [str(good)]
    assert said(report, weekend) == [f"weekend.csv, row 2, ticker XLK: date 2025-01-04 is not an NYSE session (a Saturday). {fix}"]
    assert said(report, holiday) == [
        f"holiday.csv, row 3, ticker XLK: date 2025-01-09 is not an NYSE session (the exchange was closed that day). {fix}"
    ]
    assert said(report, future) == [
        f"future.csv, row 2, ticker XLK: date 2099-01-02 is not an NYSE session "
        f"(it is after today, {new_york_today()} in New York). {fix}"
    ]
    assert stored(con, "XLK") == []


def test_a_session_after_today_is_refused(tmp_path):
    path = write(tmp_path, "late.csv", LONG, "2025-01-02,XLK,1.0,2.0,1.0,1.5,1.5,10", "2025-01-03,XLK,1.0,2.0,1.0,1.5,1.5,10")
    assert validate_batch(read_price_file(path), today=date(2025, 1, 3)).accepted
    [problem] = validate_batch(read_price_file(path), today=date(2025, 1, 2)).errors
    assert (problem.row, problem.problem) == (3, "date 2025-01-03 is not an NYSE session (it is after today, 2025-01-02 in New York)")


def test_a_generated_batch_with_time_stamp_dates_is_checked_the_same(tmp_path):
    # Generated markets (the benchmark's) hand over time stamps instead of dates.
    batch = read_price_file(write(tmp_path, "late.csv", LONG, "2025-01-03,XLK,1.0,2.0,1.0,1.5,1.5,10",
                                  "2025-01-04,XLK,1.0,2.0,1.0,1.5,1.5,10"))
    batch.frame["date"] = pd.to_datetime(batch.frame["date"])
    [problem] = validate_batch(batch).errors
    assert (problem.row, problem.problem) == (3, "date 2025-01-04 is not an NYSE session (a Saturday)")


def test_open_or_close_outside_the_days_range_rejects_the_file(con, tmp_path):
    fix = "Check the row's values and column order (open and close lie between the day's low and high)."
    path = write(tmp_path, "range.csv", LONG,
                 "2025-01-02,XLK,1.0,2.0,1.0,2.5,1.5,10",   # close above high
                 "2025-01-03,XLK,0.5,2.0,1.0,1.5,1.5,10",   # open below low
                 "2025-01-06,XLK,1.0,2.0,1.0,1.5,0.8,10")   # adj_close below low: adjusted, allowed
    report = ingest(con, [path])
    assert said(report, path) == [
        f"range.csv, row 3, ticker XLK: open 0.5 is below the day's low 1.0. {fix}",
        f"range.csv, row 2, ticker XLK: close 2.5 is above the day's high 2.0. {fix}",
    ]
    alone = write(tmp_path, "adjusted.csv", LONG, "2025-01-06,XLK,1.0,2.0,1.0,1.5,0.8,10")
    assert validate_batch(read_price_file(alone)).accepted


@pytest.mark.parametrize("ticker", ["X LK", "'XLK'", "DROP TABLE prices;--", "A" * (MAX_TICKER_LENGTH + 1), "XL\x07K"])
def test_an_implausible_ticker_rejects_its_file(con, tmp_path, ticker):
    quoted = '"' + ticker.replace('"', '""') + '"'
    path = write(tmp_path, "tickers.csv", LONG, SPY_ROW, f"2025-01-02,{quoted},1.0,2.0,1.0,1.5,1.5,10")
    report = ingest(con, [path])
    [problem] = report.problems
    assert (problem.row, problem.ticker) == (3, ticker.upper())
    assert problem.problem == (f"ticker {ticker.upper()!r} is not a plausible Yahoo symbol "
                               f"(letters, digits, ^ . - = only, at most {MAX_TICKER_LENGTH} characters)")
    assert stored(con, "SPY") == []


def test_prices_are_bounded(tmp_path):
    below = write(tmp_path, "below.csv", LONG, f"2025-01-02,XLK,1.0,{MAX_PRICE * 0.99},1.0,1.5,1.5,10")
    assert validate_batch(read_price_file(below)).accepted
    huge = write(tmp_path, "huge.csv", LONG, "2025-01-02,XLK,1.0,2.0,1.0,1e308,1.5,10")
    [problem] = validate_batch(read_price_file(huge)).errors
    assert str(problem) == (f"{huge}, row 2, ticker XLK: close is 1e+308, a price must be below {MAX_PRICE:,.0f}. "
                            "Correct the price (is it in the right unit?) or remove the row.")


def test_a_long_file_without_ticker_column_is_not_read_as_a_ticker_named_like_the_file(con, tmp_path):
    nameless = write(tmp_path, "missing_ticker_column.csv", "date,open,high,low,close,adj_close,volume",
                     "2025-01-02,1.0,2.0,1.0,1.5,1.5,10")
    newline = write(tmp_path, "newline.csv", LONG, '2025-01-02,"SP\nY",1.0,2.0,1.0,1.5,1.5,10')
    report = ingest(con, [nameless, newline])
    assert report.accepted_origins == []
    [problem] = said(report, nameless)
    assert problem.startswith("missing_ticker_column.csv, row 1: header lacks ticker (")
    assert "'missing_ticker_column' is not a plausible Yahoo symbol" in problem
    assert said(report, newline)[0].startswith("newline.csv, row 2: ticker 'SP\\nY' contains a line break")
    assert con.execute("SELECT count(*) FROM raw.prices_daily").fetchone() == (0,)


def test_quarantine_copies_outside_files_moves_its_own_and_never_overwrites(tmp_path, monkeypatch):
    warehouse_folder = tmp_path / "warehouse"
    monkeypatch.setenv("ROTATION_WAREHOUSE", str(warehouse_folder / "rotation.duckdb"))
    quarantine = warehouse_folder / "quarantine"
    when = datetime(2026, 1, 16, 23, 5, 0)
    problem = PriceProblem("x", 2, "SPY", "high 490.0 is below low 495.0", "Check the column order.")
    (tmp_path / "downloads").mkdir()
    (warehouse_folder / "landing").mkdir(parents=True)
    outside = write(tmp_path / "downloads", "prices.csv", LONG)
    inside = write(warehouse_folder / "landing", "prices.csv", LONG, SPY_ROW)

    copied = quarantine_file(outside, [problem], quarantine, when)
    moved = quarantine_file(inside, [problem], quarantine, when)
    assert outside.exists() and copied.read_text() == LONG + "\n"
    assert not inside.exists() and moved.read_text() == f"{LONG}\n{SPY_ROW}\n"
    assert (copied.name, moved.name) == ("20260116T230500-prices.csv", "20260116T230500-2-prices.csv")
    assert "left in place" in copied.with_name(copied.name + ".reason.txt").read_text()
    assert "moved here" in moved.with_name(moved.name + ".reason.txt").read_text()


def test_a_folder_reads_only_its_price_files_and_names_the_others(tmp_path):
    folder = tmp_path / "reference-data"
    folder.mkdir()
    prices = write(folder, "indices_daily.csv", LONG, SPY_ROW)
    yahoo = write(folder, "^GSPC.csv", YAHOO, "2025-01-02,5903.26,5935.09,5829.53,5868.55,5868.55,3621680000")
    parquet = folder / "stocks.parquet"
    pd.read_csv(prices).to_parquet(parquet)
    counts = write(folder, "published_guidance_counts.csv", COUNTS, "sp500,2025Q1,2025-03-14,110,45,220,")
    pe = write(folder, "sp500_forward_pe_history.csv", "index_name,as_of_date,forward_pe", "sp500,1990-06-29,14.08")
    write(folder, "README.md", "# notes")
    before = sorted(p.name for p in folder.iterdir())

    source = FilesSource([str(folder)])
    assert source.paths == [yahoo, prices, parquet]
    assert [(path, reason.split(" (")[0]) for path, reason in source.skipped] == [
        (counts, "its header"), (pe, "its header"),
    ]
    assert source.skipped[1][1].startswith("its header (index_name,as_of_date,forward_pe) is not a price layout")
    assert [len(batch.frame) for batch in source.fetch()] == [1, 1, 1]
    assert sorted(p.name for p in folder.iterdir()) == before
    # given by name, a file that is not a price file is still read and rejected
    [batch] = FilesSource([str(pe)]).fetch()
    assert batch.read_errors and "header lacks" in str(batch.read_errors[0])


# --- guidance files ----------------------------------------------------------------------------


@pytest.fixture
def landing(tmp_path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


def test_an_absurd_count_is_quarantined_with_a_reason_and_the_others_land(tmp_path, landing):
    write(landing, "absurd.csv", COUNTS, f"sp500,2025Q1,2025-03-14,{10**20},45,220,")
    write(landing, "events.csv", EVENTS, "AAA,2024-01-10,2024Q1,0.9,1.1,1.05")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = process_landing_folder(con, landing, tmp_path / "quarantine")
        assert report.loaded == [str(landing / "events.csv")]
        assert [str(p) for p in report.problems] == [
            f"{landing / 'absurd.csv'}, line 2: negative_count {10**20} is not a plausible count of companies "
            f"(at most {MAX_COUNT:,}). Give the number of companies, e.g. 112."
        ]
        assert not (landing / "absurd.csv").exists()
        again = process_landing_folder(con, landing, tmp_path / "quarantine")
        assert again.problems == [] and again.already_processed == [str(landing / "events.csv")]


def test_a_file_whose_load_fails_unexpectedly_is_quarantined_on_the_first_failure(tmp_path, landing, monkeypatch):
    write(landing, "counts.csv", COUNTS, "sp500,2025Q1,2025-03-14,110,45,220,")
    write(landing, "events.csv", EVENTS, "AAA,2024-01-10,2024Q1,0.9,1.1,1.05")
    real_upsert = guidance_landing.upsert

    def failing_for_counts(con, table, *args, **kwargs):
        if table == "raw.guidance_counts":
            raise duckdb.ConversionException("value out of range")
        return real_upsert(con, table, *args, **kwargs)

    monkeypatch.setattr(guidance_landing, "upsert", failing_for_counts)
    quarantine = tmp_path / "quarantine"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = process_landing_folder(con, landing, quarantine)
        assert report.loaded == [str(landing / "events.csv")] and report.events.inserted == 1
        assert [original for original, _ in report.quarantined] == [str(landing / "counts.csv")]
        assert con.execute("SELECT count(*) FROM raw.guidance_counts").fetchone() == (0,)
        assert sorted(p.name for p in landing.iterdir()) == ["events.csv"]
        reason = next(quarantine.glob("*counts.csv.reason.txt")).read_text()
        assert "loading it failed (ConversionException: value out of range)" in reason
        later = process_landing_folder(con, landing, quarantine)
        assert later.problems == [] and later.quarantined == []


def test_a_guidance_file_with_byte_order_marks_loads(tmp_path, landing):
    text = EVENTS + "\n{ticker},2024-01-10,2024Q1,0.9,1.1,1.05\n"
    (landing / "bom.csv").write_text("\ufeff" + text.format(ticker="AAA"), encoding="utf-8")
    # the same text saved again by an editor that writes a mark of its own: two marks
    (landing / "bom-twice.csv").write_text("\ufeff" + text.format(ticker="BBB"), encoding="utf-8-sig")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = process_landing_folder(con, landing, tmp_path / "quarantine")
        assert report.problems == [] and report.events.inserted == 2
        assert con.execute("SELECT ticker, eps_low FROM raw.guidance_events ORDER BY ticker").fetchall() == [
            ("AAA", 0.9), ("BBB", 0.9)
        ]


def test_a_header_only_guidance_file_is_loaded_with_a_warning_naming_it(tmp_path, landing):
    empty = write(landing, "empty.csv", EVENTS)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = process_landing_folder(con, landing, tmp_path / "quarantine")
    assert report.loaded == [str(empty)] and report.problems == []
    assert report.warnings == [
        f"{empty}: the file has a header but no rows, so nothing was loaded from it (it is recorded as processed). "
        "Drop the file again with its rows if the export was cut short."
    ]


def test_a_guidance_row_with_extra_fields_is_rejected_for_its_field_count(tmp_path, landing):
    write(landing, "extra.csv", EVENTS, "AAA,2024-01-10,2024Q1,0.9,1.1,1.05", "BBB,2024-01-11,2024Q1,1.6,1.8,1.7,oops")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = process_landing_folder(con, landing, tmp_path / "quarantine")
        assert con.execute("SELECT count(*) FROM raw.guidance_events").fetchone() == (0,)
    assert [str(p) for p in report.problems] == [
        f"{landing / 'extra.csv'}, line 3: the row has 7 fields where the header has 6. "
        "Every row needs one value per column of the header, on one line; check its commas and quotes."
    ]


def test_the_shared_layouts_of_a_trailing_comma_and_dividend_columns_still_load(tmp_path):
    """Exports that write an empty field after the last column, or a per-ticker file with yfinance's
    action columns, are price files."""
    trailing = write(tmp_path, "trailing.csv", LONG + ",", SPY_ROW + ",")
    actions = write(tmp_path, "SPY.csv", YAHOO + ",Dividends,Stock Splits", "2025-01-03,591.0,596.0,590.5,595.25,592.8,48000,0.0,0.0")
    assert validate_batch(read_price_file(trailing)).accepted
    assert validate_batch(read_price_file(actions)).accepted
    source = FilesSource([str(tmp_path)])
    assert source.paths == [actions, trailing] and source.skipped == []
