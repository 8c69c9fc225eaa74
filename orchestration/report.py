"""The one-screen report of a session's headline figures, read from marts.rotation_summary."""

from __future__ import annotations

from datetime import date

import duckdb
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

SUMMARY = "marts.rotation_summary"


class ReportError(Exception):
    pass


def pct(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value * 100:+.{digits}f} %"


def load_summary_row(con: duckdb.DuckDBPyConnection, on: date | None) -> dict:
    if on is None:
        row = con.execute(f"SELECT * FROM {SUMMARY} ORDER BY date DESC LIMIT 1")
    else:
        row = con.execute(f"SELECT * FROM {SUMMARY} WHERE date <= ? ORDER BY date DESC LIMIT 1", [on])
    names = [d[0] for d in row.description]
    values = row.fetchone()
    if values is None:
        raise ReportError(f"no session on or before {on} in {SUMMARY}" if on else f"{SUMMARY} is empty: run `rotation run` first")
    return dict(zip(names, values))


def _streak_text(s: dict) -> str:
    sessions = s["streak_sessions"]
    if sessions is None:
        return "n/a (the pair's tickers are not both loaded)"
    if sessions == 0:
        return f"no streak: the leader did not outperform ({pct(s['streak_spread_1d'])} vs the laggard)"
    text = f"{sessions} session{'s' if sessions != 1 else ''} in a row, since {s['streak_start_date']}"
    if s["streak_longest_since_date"] is None:
        return text + "; the longest in the data"
    return text + (
        f"; longest since the {s['streak_longest_since_sessions']}-session run that ended {s['streak_longest_since_date']}"
    )


def render_report(s: dict, requested: date | None) -> Group:
    parts = []
    if s["is_demo"]:
        parts.append(Text("DEMO DATA: synthetic prices from the built-in demo market, not real market figures.", style="bold yellow"))
    else:
        parts.append(Text(f"Source: {s['source']}"))
    heading = f"Market rotation, session of {s['date']}"
    if requested and requested != s["date"]:
        heading += f" (last session on or before {requested})"
    parts.append(Text(heading, style="bold"))

    table = Table(show_header=True, header_style="bold")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_row(f"Streak {s['streak_pair_id']}", _streak_text(s))
    for label, prefix in [("Russell 2000 (^RUT)", "russell2000"), ("S&P 500 (^GSPC)", "sp500"), ("NASDAQ Composite (^IXIC)", "nasdaq")]:
        table.add_row(f"{label} YTD / 5-day", f"{pct(s[f'{prefix}_return_ytd'])} / {pct(s[f'{prefix}_return_5d'])}")
    table.add_row(
        "Magnificent 7 YTD, equal weight",
        f"{pct(s['magnificent_7_return_ytd_equal_weight'])} ({s['magnificent_7_members'] or 0} of 7 members with data)",
    )
    if s["top_sector"] is not None:
        table.add_row("Best sector today", f"{s['top_sector']} {pct(s['top_sector_return_1d'])}")
        table.add_row("Worst sector today", f"{s['bottom_sector']} {pct(s['bottom_sector_return_1d'])}")
        table.add_row("Best minus worst", pct(s["sector_spread_1d"]))
    else:
        table.add_row("Sectors", "n/a (no sector ETF prices loaded)")
    parts.append(table)
    return Group(*parts)


def print_report(con: duckdb.DuckDBPyConnection, on: date | None, console: Console | None = None) -> None:
    (console or Console(width=100)).print(render_report(load_summary_row(con, on), on))
