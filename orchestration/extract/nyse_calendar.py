"""The NYSE session calendar as a dbt seed, so the data-quality tests count sessions in SQL.

Writes dbt_project/calendar/nyse_sessions.csv (one row per session: date, early_close) from
exchange_calendars. The file is committed; regenerate it when its range no longer covers the prices
(the dbt test `nyse_calendar_covers_prices` says so) or after upgrading exchange_calendars:

    python -m orchestration.extract.nyse_calendar [--start 1985-01-01] [--end 2030-12-31]
"""

from __future__ import annotations

import argparse
import csv
from datetime import date
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR
from orchestration.trading_calendar import nyse_early_closes, nyse_sessions

SEED_FILE = DBT_PROJECT_DIR / "calendar" / "nyse_sessions.csv"
FIRST_DAY = date(1985, 1, 1)
LAST_DAY = date(2030, 12, 31)


def session_rows(start: date = FIRST_DAY, end: date = LAST_DAY) -> list[tuple[str, str]]:
    """(date, early_close) of every NYSE session from `start` to `end`, as the seed writes them."""
    early = set(nyse_early_closes(start, end))
    return [(day.date().isoformat(), "true" if day in early else "false") for day in nyse_sessions(start, end)]


def write_seed(path: Path = SEED_FILE, start: date = FIRST_DAY, end: date = LAST_DAY) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = session_rows(start, end)
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["date", "early_close"])
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=date.fromisoformat, default=FIRST_DAY)
    parser.add_argument("--end", type=date.fromisoformat, default=LAST_DAY)
    arguments = parser.parse_args()
    count = write_seed(SEED_FILE, arguments.start, arguments.end)
    print(f"{SEED_FILE.relative_to(DBT_PROJECT_DIR.parent)}: {count} sessions, {arguments.start} to {arguments.end}")


if __name__ == "__main__":
    main()
