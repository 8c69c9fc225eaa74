"""Market Rotation dashboard (`make dashboard`): reads the serving snapshot, never the writer's warehouse."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from orchestration.serve import dashboard_queries as data
from orchestration.serve.formatting import percent
from orchestration.serve.guidance_text import QUARTERS_IN_5_YEARS, QUARTERS_IN_10_YEARS, average_text, lowest_since_text
from orchestration.serve.report import (
    forward_pe_basis,
    forward_pe_text,
    sector_proxies_missing,
    sectors_unavailable,
    session_notes,
    streak_unavailable,
)
from orchestration.serve.snapshot import SnapshotError, connect_snapshot

LOOKBACKS = {"3 months": 92, "1 year": 366, "3 years": 3 * 366, "10 years": 10 * 366, "all": None}


def line_chart(frame: pd.DataFrame, y: str, color: str, y_title: str, y_format: str = ".1%") -> alt.Chart:
    return alt.Chart(frame).mark_line().encode(
        x=alt.X("date:T", title=None),
        y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
        color=alt.Color(f"{color}:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("date:T"), alt.Tooltip(f"{color}:N"), alt.Tooltip(f"{y}:Q", format=".2%")],
    )


def headline_table(s: dict) -> pd.DataFrame:
    sessions = s["streak_sessions"]
    streak = streak_unavailable(s) if pd.isna(sessions) else f"{int(sessions)} session{'' if sessions == 1 else 's'}"
    if not pd.isna(s["streak_sessions"]) and s["streak_sessions"] > 0:
        streak += f" since {s['streak_start_date']:%Y-%m-%d}"
        streak += ("; longest in the data" if pd.isna(s["streak_longest_since_date"])
                   else f"; longest since {s['streak_longest_since_date']:%Y-%m-%d}")
    indices = [p for p in data.HEADLINE_POSITIONS if isinstance(s[f"headline_index_{p}_ticker"], str)]
    name = {p: f"{s[f'headline_index_{p}_label']} ({s[f'headline_index_{p}_ticker']})" for p in indices}
    missing = data.missing_tickers(s)

    def index_figure(p: int, column: str) -> str:
        return "n/a (no price on this date)" if s[f"headline_index_{p}_ticker"] in missing else percent(s[column])

    no_sectors = sectors_unavailable(s)
    spread = percent(s["sector_spread_1d"]) if s["top_sector"] else no_sectors
    if s["top_sector"] and sector_proxies_missing(s):
        spread += f" (without {', '.join(sector_proxies_missing(s))}: no price on this date)"
    rows = [
        (f"Streak {s['streak_pair_id']}", streak),
        *[(f"{name[p]} YTD", index_figure(p, f"headline_index_{p}_return_ytd")) for p in indices],
        *[(f"{name[p]} 5-day", index_figure(p, f"headline_index_{p}_return_5d")) for p in indices],
        (f"{s['cohort_label']} YTD, equal weight", percent(s["cohort_return_ytd_equal_weight"])),
        ("Best sector today", f"{s['top_sector']} {percent(s['top_sector_return_1d'])}" if s["top_sector"] else no_sectors),
        ("Worst sector today", f"{s['bottom_sector']} {percent(s['bottom_sector_return_1d'])}" if s["bottom_sector"] else no_sectors),
        ("Best minus worst sector", spread),
    ]
    return pd.DataFrame(rows, columns=["Figure", "Value"]).set_index("Figure")


def streak_panel(con, start: date, on: date, s: dict) -> None:
    st.subheader(f"{s['streak_leader_label']} beating the {s['streak_laggard_label']}, sessions in a row")
    sessions = s["streak_sessions"]
    as_of = f"On the session of {on:%Y-%m-%d}" if not pd.isna(sessions) else f"On {on:%Y-%m-%d}: {streak_unavailable(s)}"
    st.caption(f"{s['streak_pair_label']}. {as_of}." if s["streak_pair_label"] else f"{as_of}.")
    history = data.streak_history(con, start, on, s["streak_pair_id"])
    cols = st.columns(3)
    cols[0].metric("Current streak (sessions)", "n/a" if pd.isna(sessions) else int(sessions))
    cols[1].metric("Streak started", "n/a" if pd.isna(s["streak_start_date"]) else f"{s['streak_start_date']:%Y-%m-%d}")
    if pd.isna(sessions) or sessions == 0:
        longest = "no streak"
    elif pd.isna(s["streak_longest_since_date"]):
        longest = "longest in the data"
    else:
        longest = f"{s['streak_longest_since_date']:%Y-%m-%d}"
    cols[2].metric("Longest since", longest,
                   help="Last session of the most recent earlier run at least this long "
                        f"({'' if pd.isna(s['streak_longest_since_sessions']) else int(s['streak_longest_since_sessions'])} sessions).")
    if history.empty:
        st.info("No sessions of the pair in this window.")
        return
    last = history["date"].max()
    if last.date() != on:
        st.caption(f"The pair's last session in the chart: {last:%Y-%m-%d}.")
    st.altair_chart(
        alt.Chart(history).mark_bar().encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("streak_sessions:Q", title="sessions in a row"),
            tooltip=["date:T", "streak_sessions:Q", "streak_start_date:T", "longest_since_date:T", "longest_since_sessions:Q"],
        ),
        width="stretch",
    )


def ytd_panel(con, on: date, s: dict) -> None:
    indices = data.headline_indices(s)
    st.subheader(f"Year to date {on.year}: {', '.join(indices.values())}")
    lines = data.ytd_lines(con, on, list(indices))
    if lines.empty:
        st.info("No index prices in this year.")
        return
    lines["index"] = lines["ticker"].map(lambda t: f"{indices[t]} ({t})")
    st.altair_chart(line_chart(lines, "return_ytd", "index", "return YTD"), width="stretch")
    last = lines.groupby("ticker")["date"].max()
    behind = [f"{ticker} {day:%Y-%m-%d}" for ticker, day in last.items() if day.date() != on]
    unpriced = [ticker for ticker in indices if ticker not in last.index]
    note = f"Through the session of {on:%Y-%m-%d}"
    if behind:
        note += f"; last price before it: {', '.join(behind)}"
    if unpriced:
        note += f"; no price this year: {', '.join(unpriced)}"
    st.caption(note + ".")


def sector_panel(con, start: date, on: date) -> None:
    st.subheader("Sectors (Select Sector SPDRs)")
    left, right = st.columns(2)
    sectors = data.sector_returns(con, on)
    if sectors.empty:
        left.info(f"No sector ETF prices on or before {on:%Y-%m-%d}.")
    else:
        returns_of = sectors["date"].iloc[0].date()
        if returns_of == on:
            left.caption(f"Return by sector on the session of {on:%Y-%m-%d}")
        else:
            left.warning(f"Returns of {returns_of:%Y-%m-%d}: the last sector ETF prices on or before the session of "
                         f"{on:%Y-%m-%d}, which has none.")
        left.altair_chart(
            alt.Chart(sectors).mark_bar().encode(
                x=alt.X("return_1d:Q", title="1-day return", axis=alt.Axis(format=".1%")),
                y=alt.Y("sector:N", sort="-x", title=None),
                color=alt.condition("datum.return_1d >= 0", alt.value("#2e7d32"), alt.value("#c62828")),
                tooltip=["sector:N", "proxy_ticker:N", alt.Tooltip("return_1d:Q", format=".2%"),
                         alt.Tooltip("return_ytd:Q", format=".2%"), "rank_1d:Q"],
            ),
            width="stretch",
        )
        table = sectors.set_index("sector")[["proxy_ticker", "return_1d", "return_5d", "return_mtd", "return_ytd"]]
        left.dataframe(table.style.format({c: percent for c in ["return_1d", "return_5d", "return_mtd", "return_ytd"]}))
    dispersion = data.sector_dispersion(con, start, on)
    if dispersion.empty:
        right.info("No sector dispersion in this window.")
    else:
        last = dispersion["date"].max()
        right.caption("Dispersion: best minus worst sector, 1-day"
                      + ("" if last.date() == on else f" (last: {last:%Y-%m-%d})"))
        dispersion["series"] = "best minus worst"
        right.altair_chart(line_chart(dispersion, "spread_1d", "series", "spread"), width="stretch")


def cohort_panel(con, on: date, s: dict) -> None:
    st.subheader(f"{s['cohort_label']} vs the rest of the {s['cohort_parent_label']}, year to date")
    frame = data.cohort_vs_market(con, on, s)
    if frame.empty:
        st.info("No cohort returns in this year.")
        return
    st.altair_chart(line_chart(frame, "return_ytd", "series", "return YTD"), width="stretch")
    if s["cohort_complement_label"]:
        members = s["cohort_complement_members"]
        st.caption(f"{s['cohort_complement_label']}: cap weight derived from the index and the {s['cohort_label']}'s "
                   f"share of its market cap; {0 if pd.isna(members) else int(members)} of its members have prices "
                   "on the session (the equal weight needs them).")


def valuation_panels(con, on: date, s: dict) -> None:
    st.subheader("Forward P/E")
    pe = data.forward_pe(con, on)
    if pe is None:
        st.caption("Forward P/E: not available yet (the marts.fct_forward_pe mart is not in this snapshot).")
    elif pe.empty:
        st.caption("Forward P/E: no valuations on or before this date.")
    else:
        pe = pe.rename(columns={"as_of_date": "date"})
        st.caption(f"As of {pe['date'].max():%Y-%m-%d}, the latest valuation on or before the session of {on:%Y-%m-%d} "
                   "(each universe's own date in the table).")
        if not pd.isna(s["laggard_forward_pe"]):
            st.caption(f"{s['streak_laggard_label']}: {forward_pe_text(s)} ({forward_pe_basis(s)}).")
        st.altair_chart(line_chart(pe, "forward_pe", "universe", "forward P/E", ".1f"), width="stretch")
        latest = pe.sort_values("date").groupby("universe").tail(1).set_index("universe")
        # An imported history has no coverage: its cells stay empty, its basis says why.
        st.dataframe(latest[["date", "basis", "forward_pe", "coverage_pct", "highest_since_date", "reference_year",
                             "pct_of_reference_year_high", "relative_pe_vs_sp500", "discount_vs_long_run_pct"]]
                     .style.format({"forward_pe": "{:.2f}", "relative_pe_vs_sp500": "{:.2f}", "reference_year": "{:.0f}",
                                    "pct_of_reference_year_high": lambda v: "n/a" if pd.isna(v) else f"{v * 100:.0f} %",
                                    "discount_vs_long_run_pct": percent, "coverage_pct": lambda v: percent(v, 1)},
                                   na_rep="n/a"))
    st.subheader("Earnings guidance")
    guidance = data.guidance_counts(con, on)
    if guidance is None:
        st.caption("Guidance: not available yet (the marts.fct_guidance_counts_asof mart is not in this snapshot).")
    elif guidance.empty:
        st.caption(f"Guidance: no quarter's count known on {on:%Y-%m-%d}.")
    else:
        note = f"The quarters whose count was known on the session of {on:%Y-%m-%d}"
        if isinstance(s["guidance_fiscal_quarter"], str):
            as_of = (f"undated, counted from {s['guidance_available_date']:%Y-%m-%d}" if pd.isna(s["guidance_as_of_date"])
                     else f"as of {s['guidance_as_of_date']:%Y-%m-%d}")
            note += f"; the {s['guidance_index_label']}'s latest, {s['guidance_fiscal_quarter']}, {as_of}"
        st.caption(note + ".")
        if isinstance(s["guidance_fiscal_quarter"], str):
            st.caption(guidance_headline(s) + ".")
        long = guidance.melt(id_vars=["index_name", "fiscal_quarter"], value_vars=["negative_count", "positive_count"],
                             var_name="guidance", value_name="companies")
        st.altair_chart(
            alt.Chart(long).mark_bar().encode(
                x=alt.X("fiscal_quarter:N", title=None), y=alt.Y("companies:Q"),
                color=alt.Color("guidance:N", legend=alt.Legend(orient="bottom")), xOffset="guidance:N",
                tooltip=["index_name:N", "fiscal_quarter:N", "guidance:N", "companies:Q"],
            ),
            width="stretch",
        )
        st.dataframe(guidance.set_index(["index_name", "fiscal_quarter"])
                     .style.format({"negative_share": lambda v: percent(v, 1), "negative_avg_5y": "{:.1f}",
                                    "negative_avg_10y": "{:.1f}"}, na_rep="n/a"))


def claims_panel(con) -> None:
    st.subheader("Claims checked")
    checks = data.claim_checks(con)
    if checks is None or checks.empty:
        st.info("No claims checked yet: `rotation check FILE.yml`, or drop claims files in the claims landing folder.")
        return
    for claim_file, claims in checks.groupby("claim_file", sort=True):
        verdicts = claims["verdict"].value_counts()
        st.caption(f"{claim_file} ({claims['source'].iloc[0]}): "
                   + ", ".join(f"{verdicts.get(v, 0)} {v}" for v in ("true", "near", "false", "uncheckable")))
        st.dataframe(claims.drop(columns=["claim_file", "source"]), hide_index=True)


def guidance_headline(s) -> str:
    """The headlined quarter's averages with their coverage and its tie-aware lowest-since, as the report words them."""
    five, ten = s["guidance_avg_5y_quarters"], s["guidance_avg_10y_quarters"]
    lowest = lowest_since_text(s["guidance_negative_count"], s["guidance_negative_lowest_since_quarter"],
                               s["guidance_negative_lowest_since_count"], s["guidance_negative_tied_quarters"])
    return (f"Negative guidance: {lowest}; "
            f"5-year average {average_text(s['guidance_negative_avg_5y'], five, QUARTERS_IN_5_YEARS)}, "
            f"10-year {average_text(s['guidance_negative_avg_10y'], ten, QUARTERS_IN_10_YEARS)}")


def main() -> None:
    st.set_page_config(page_title="Market Rotation", layout="wide")
    st.title("Market Rotation")
    try:
        con = connect_snapshot()
    except SnapshotError as error:
        st.error(str(error))
        return
    with con:
        first, last = data.session_range(con)
        if last is None:
            st.error("marts.rotation_summary is empty: run `rotation run` first.")
            return
        complete = data.latest_complete_session(con)
        picker, window = st.columns([1, 1])
        picked = picker.date_input("Session", value=complete or last, min_value=first, max_value=last, key="session",
                                   help="Default: the last session on which the pair, the headline indices and every "
                                        "sector proxy have a price.")
        lookback = window.selectbox("Charts cover", list(LOOKBACKS), index=1, key="lookback")
        s = data.summary_row(con, picked)
        if s is None:
            st.warning(f"No session on or before {picked}.")
            return
        on = s["date"].date()  # every panel is for the session shown, the last one on or before the date picked
        days = LOOKBACKS[lookback]
        start = first if days is None else max(first, on - timedelta(days=days))
        snapshot_id, built_at = data.snapshot_info(con)
        label = "DEMO DATA: synthetic prices, not real market figures. " if s["is_demo"] else f"Source: {s['source']}. "
        st.caption(f"{label}Session of {on:%Y-%m-%d}. Snapshot {snapshot_id}, built {built_at:%Y-%m-%d %H:%M} UTC.")
        for note in session_notes(s, complete):
            st.warning(note + ".")

        st.subheader("Headline")
        st.table(headline_table(s))
        streak_panel(con, start, on, s)
        ytd_panel(con, on, s)
        sector_panel(con, start, on)
        cohort_panel(con, on, s)
        valuation_panels(con, on, s)
        claims_panel(con)


main()
