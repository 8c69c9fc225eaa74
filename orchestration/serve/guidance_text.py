"""How the readers word the guidance counts: the vintage used, an average with its coverage, and the
tie-aware "lowest since" as published practice has it ("57, ties 2025Q3 for the lowest since 2021Q4")."""

from __future__ import annotations

from datetime import date

import pandas as pd

QUARTERS_IN_5_YEARS = 20
QUARTERS_IN_10_YEARS = 40


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def vintage_text(basis: str, as_of_date: date | None, available_date: date | None) -> str:
    """Which count is used: 'published count, as of 2025-06-30', or for an undated one when it counts from."""
    if basis == "events":
        return f"classified events, to {as_of_date:%Y-%m-%d}"
    if _missing(as_of_date):
        known = "" if _missing(available_date) else f", counted from {available_date:%Y-%m-%d}"
        return f"published count, undated{known}"
    return f"published count, as of {as_of_date:%Y-%m-%d}"


def average_text(value, quarters, window: int) -> str:
    """'61.2 (20 of 20 quarters)'; 'n/a (13 of 20 quarters)' when too few quarters have a count."""
    shown = "n/a" if _missing(value) else f"{value:.1f}"
    covered = 0 if _missing(quarters) else int(quarters)
    return f"{shown} ({covered} of {window} quarters)"


def _quarters(listed: str) -> str:
    names = listed.split(",")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def lowest_since_text(count, since, since_count, tied) -> str:
    """'57, the lowest since 2021Q4 (56)', '57, ties 2025Q3 for the lowest since 2021Q4 (56)', or '..in the data'."""
    ties = "" if _missing(tied) else f"ties {_quarters(tied)} for "
    if _missing(since):
        return f"{count}, {ties}the lowest in the data"
    return f"{count}, {ties}the lowest since {since} ({since_count})"
