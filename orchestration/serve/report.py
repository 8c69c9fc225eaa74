"""The one-screen report of a session's headline figures, read from marts.rotation_summary."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from orchestration.serve.dashboard_queries import HEADLINE_POSITIONS, latest_complete_session, missing_tickers
from orchestration.serve.formatting import percent
from orchestration.serve.guidance_text import (
    QUARTERS_IN_5_YEARS,
    QUARTERS_IN_10_YEARS,
    average_text,
    lowest_since_text,
    vintage_text,
)

SUMMARY = "marts.rotation_summary"


class ReportError(Exception):
    pass


def load_summary_row(con: duckdb.DuckDBPyConnection, on: date | None) -> dict:
    """The row of the last session on or before `on`; without `on`, of the last headline-complete session."""
    on = on or latest_complete_session(con)
    if on is None:
        raise ReportError(f"{SUMMARY} is empty: run `rotation run` first")
    row = con.execute(f"SELECT * FROM {SUMMARY} WHERE date <= ? ORDER BY date DESC LIMIT 1", [on])
    names = [d[0] for d in row.description]
    values = row.fetchone()
    if values is None:
        raise ReportError(f"no session on or before {on} in {SUMMARY}")
    return dict(zip(names, values))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _day(value) -> str:
    return f"{value:%Y-%m-%d}"


def session_notes(s: dict, latest_complete: date | None) -> list[str]:
    """What a reader must know about the session's completeness: the headline tickers it lacks, and the
    tickers priced after it when it is the default session or later. Rows from duckdb or pandas alike."""
    notes = []
    session = pd.Timestamp(s["date"]).date()
    missing = missing_tickers(s)
    if missing:
        note = (f"{_plural(len(missing), 'headline ticker')} {'has' if len(missing) == 1 else 'have'} no price "
                f"on this date: {', '.join(missing)}")
        if latest_complete is not None:
            note += f" (the last session where every headline ticker is priced: {_day(latest_complete)})"
        notes.append(note)
    ahead = s["tickers_ahead"]
    if latest_complete is not None and session >= latest_complete and ahead > 0:
        note = (f"{_plural(int(ahead), 'ticker')} {'has' if ahead == 1 else 'have'} prices after this session, "
                f"through {_day(s['last_price_date'])}")
        if session == latest_complete:
            note += (": the headline figures are for the last session where the pair, the headline indices "
                     "and every sector proxy are priced")
        notes.append(note)
    return notes


def streak_unavailable(s: dict) -> str:
    """Why the summary row has no streak: the pair's legs without a price on the date."""
    legs = [s["streak_leader_ticker"], s["streak_laggard_ticker"]]
    unpriced = [leg for leg in legs if leg in missing_tickers(s)]
    if unpriced:
        return f"n/a (no price of {' or '.join(unpriced)} on this date)"
    return f"n/a ({' and '.join(str(leg) for leg in legs)} do not both have a price on this date)"


def sector_proxies_missing(s: dict) -> list[str]:
    """The missing headline tickers that are sector proxies (neither a leg of the pair nor a headline index)."""
    others = {s["streak_leader_ticker"], s["streak_laggard_ticker"], *(s[f"headline_index_{p}_ticker"] for p in HEADLINE_POSITIONS)}
    return [ticker for ticker in missing_tickers(s) if ticker not in others]


def sectors_unavailable(s: dict) -> str:
    """Why the summary row has no best and worst sector."""
    proxies = sector_proxies_missing(s)
    if proxies:
        return f"n/a (no price of {_plural(len(proxies), 'sector ETF')} on this date: {', '.join(proxies)})"
    return "n/a (no sector ETF prices on this date)"


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def _known(value) -> bool:
    """A figure of a summary row from duckdb (None when missing) or pandas (NaN, NaT)."""
    return value is not None and not pd.isna(value)


def forward_pe_basis(s: dict) -> str:
    """What the laggard's forward P/E is computed from: an imported history has no constituents nor coverage."""
    if s["laggard_forward_pe_basis"] == "imported":
        return "imported history"
    coverage = s["laggard_forward_pe_coverage_pct"]
    return "constituents" + (f", {coverage * 100:.0f} % of market cap" if _known(coverage) else "")


def forward_pe_text(s: dict) -> str:
    """The laggard's forward P/E against its reference year's high, and since when it is the highest."""
    text = f"{s['laggard_forward_pe']:.2f}x"
    year = s["laggard_forward_pe_reference_year"]
    if _known(year):
        text += (f", {s['laggard_forward_pe_pct_of_reference_year_high'] * 100:.0f} % of the {int(year)} high "
                 f"({s['laggard_forward_pe_reference_year_high']:.2f}x on {_day(s['laggard_forward_pe_reference_year_high_date'])})")
    else:
        text += " (no earlier peak year in the data)"
    since = s["laggard_forward_pe_highest_since_date"]
    return text + (f"; highest since {_day(since)}" if _known(since) else "; the highest in the data")


def _valuation_rows(s: dict) -> list[tuple[str, str]]:
    laggard, leader = s["streak_laggard_label"], s["streak_leader_label"]
    if s.get("laggard_forward_pe") is None:
        return [("Forward P/E", f"n/a (no valuation snapshots nor imported history of the {laggard or 'laggard'} loaded)")]
    rows = [
        (f"{laggard} forward P/E (as of {s['forward_pe_as_of_date']})", forward_pe_text(s)),
        ("  basis", forward_pe_basis(s)),
        (f"{laggard} prior peak (over a year earlier)",
         f"{times(s['laggard_prior_peak_forward_pe'])} on {s['laggard_prior_peak_date']}" if s["laggard_prior_peak_date"] else "n/a"),
    ]
    cohort, rest, leader_pe = s["cohort_forward_pe"], s["cohort_complement_forward_pe"], s["leader_forward_pe"]
    no_snapshots = "n/a (no valuation snapshots on this date)"
    rows.append((f"{s['cohort_label']} / rest of the {s['cohort_parent_label']} forward P/E",
                 f"{times(cohort)} / {times(rest)}" if cohort is not None or rest is not None else no_snapshots))
    rows.append((f"{leader} forward P/E", times(leader_pe) if leader_pe is not None else no_snapshots))
    relative = s["leader_relative_pe"]
    if relative is not None:
        average = s["leader_relative_pe_long_run_avg"]
        discount = s["leader_discount_vs_long_run_pct"]
        rows.append((f"{leader} P/E relative to the {laggard}", f"{relative:.2f}"))
        rows.append((
            f"  vs its average since {s['leader_relative_pe_long_run_start_date']}",
            f"{average:.2f}: {abs(discount) * 100:.1f} % {'discount' if discount < 0 else 'premium'}",
        ))
    return rows


def _guidance_rows(s: dict) -> list[tuple[str, str]]:
    if s.get("guidance_fiscal_quarter") is None:
        return [("EPS guidance", "n/a (no guidance loaded)")]
    five, ten = s["guidance_avg_5y_quarters"], s["guidance_avg_10y_quarters"]
    return [
        (f"{s['guidance_index_label']} EPS guidance for {s['guidance_fiscal_quarter']}",
         f"{s['guidance_negative_count']} negative, {s['guidance_positive_count']} positive of "
         f"{s['guidance_total_count']} "
         f"({vintage_text(s['guidance_basis'], s['guidance_as_of_date'], s['guidance_available_date'])})"),
        ("  negative: 5-year / 10-year average",
         f"{average_text(s['guidance_negative_avg_5y'], five, QUARTERS_IN_5_YEARS)} / "
         f"{average_text(s['guidance_negative_avg_10y'], ten, QUARTERS_IN_10_YEARS)}"),
        ("  positive: 5-year / 10-year average",
         f"{average_text(s['guidance_positive_avg_5y'], five, QUARTERS_IN_5_YEARS)} / "
         f"{average_text(s['guidance_positive_avg_10y'], ten, QUARTERS_IN_10_YEARS)}"),
        ("  negative count", lowest_since_text(s["guidance_negative_count"], s["guidance_negative_lowest_since_quarter"],
                                               s["guidance_negative_lowest_since_count"],
                                               s["guidance_negative_tied_quarters"])),
    ]


def _streak_text(s: dict) -> str:
    sessions = s["streak_sessions"]
    if sessions is None:
        return streak_unavailable(s)
    if sessions == 0:
        return f"no streak: the leader did not outperform ({percent(s['streak_spread_1d'])} vs the laggard)"
    text = f"{sessions} session{'s' if sessions != 1 else ''} in a row, since {s['streak_start_date']}"
    if s["streak_longest_since_date"] is None:
        return text + "; the longest in the data"
    return text + (
        f"; longest since the {s['streak_longest_since_sessions']}-session run that ended {s['streak_longest_since_date']}"
    )


def render_report(s: dict, requested: date | None, latest_complete: date | None) -> Group:
    """The report of summary row `s`; `requested` is the date asked for (None without --date), `latest_complete`
    the last headline-complete session."""
    parts = []
    if s["is_demo"]:
        parts.append(Text("DEMO DATA: synthetic prices from the built-in demo market, not real market figures.", style="bold yellow"))
    else:
        parts.append(Text(f"Source: {s['source']}"))
    heading = f"Market rotation, session of {s['date']}"
    if requested and requested != s["date"]:
        heading += f" (last session on or before {requested})"
    parts.append(Text(heading, style="bold"))
    for note in session_notes(s, latest_complete):
        parts.append(Text(note + ".", style="yellow"))

    table = Table(show_header=True, header_style="bold")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_row(f"Streak {s['streak_pair_id']}", _streak_text(s))
    for position in HEADLINE_POSITIONS:
        ticker = s[f"headline_index_{position}_ticker"]
        if ticker is None:
            continue
        value = (f"{percent(s[f'headline_index_{position}_return_ytd'])} / {percent(s[f'headline_index_{position}_return_5d'])}"
                 if ticker not in missing_tickers(s) else "n/a (no price on this date)")
        table.add_row(f"{s[f'headline_index_{position}_label']} ({ticker}) YTD / 5-day", value)
    cohort = s["cohort_label"]
    table.add_row(
        f"{cohort} YTD, equal weight",
        f"{percent(s['cohort_return_ytd_equal_weight'])} ({s['cohort_members'] or 0} of {s['cohort_size']} members with data)",
    )
    if s["top_sector"] is not None:
        table.add_row("Best sector today", f"{s['top_sector']} {percent(s['top_sector_return_1d'])}")
        table.add_row("Worst sector today", f"{s['bottom_sector']} {percent(s['bottom_sector_return_1d'])}")
        spread = percent(s["sector_spread_1d"])
        proxies = sector_proxies_missing(s)
        if proxies:
            spread += f" (without {', '.join(proxies)}: no price on this date)"
        table.add_row("Best minus worst", spread)
    else:
        table.add_row("Sectors", sectors_unavailable(s))
    cap_weight = s.get("cohort_return_ytd_cap_weight")
    if cap_weight is not None:
        table.add_row(f"{cohort} YTD, cap weight", percent(cap_weight))
    rest = s.get("cohort_complement_return_ytd_cap_weight")
    if rest is not None:
        table.add_row(f"{s['cohort_complement_label']} YTD, cap weight", percent(rest))
    for label, value in _valuation_rows(s) + _guidance_rows(s):
        table.add_row(label, value)
    parts.append(table)
    return Group(*parts)


def print_report(con: duckdb.DuckDBPyConnection, on: date | None, console: Console | None = None) -> None:
    (console or Console(width=100)).print(render_report(load_summary_row(con, on), on, latest_complete_session(con)))
