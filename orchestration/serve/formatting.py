"""How readers (the report, the dashboard) write a figure."""

from __future__ import annotations

import pandas as pd


def percent(value, digits: int = 2) -> str:
    """0.0123 -> '+1.23 %'; a missing value (None, NaN, NA) -> 'n/a'."""
    return "n/a" if value is None or pd.isna(value) else f"{value * 100:+.{digits}f} %"
