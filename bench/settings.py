"""The benchmark's own settings, read from environment variables that bench/run.py sets for each phase.

BENCH_SCALE        the market at scale, as TICKERSxYEARS, e.g. 3000x30
BENCH_DEMO_END     last session the market at scale delivers, YYYY-MM-DD (default: its last session)
BENCH_MARKET_CACHE folder where the generated market is kept, so a later phase reads it instead of
                   generating it again (default: generate each time)
BENCH_FOLDER       where the floor's database and the samples go
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from bench.scale_market import ScaleSpec


def scale_spec() -> ScaleSpec:
    configured = os.environ.get("BENCH_SCALE", "").strip().lower()
    tickers, sep, years = configured.partition("x")
    if not (sep and tickers.isdigit() and years.isdigit() and int(tickers) >= 13 and int(years) >= 1):
        raise ValueError(
            f"BENCH_SCALE={configured!r} is not TICKERSxYEARS with at least 13 tickers and 1 year, e.g. 3000x30"
        )
    return ScaleSpec(int(tickers), int(years))


def market_cache() -> Path | None:
    configured = os.environ.get("BENCH_MARKET_CACHE", "").strip()
    return Path(configured) if configured else None


def demo_end_date() -> date | None:
    configured = os.environ.get("BENCH_DEMO_END", "").strip()
    if not configured:
        return None
    try:
        return date.fromisoformat(configured)
    except ValueError:
        raise ValueError(f"BENCH_DEMO_END={configured!r} is not a date; use YYYY-MM-DD") from None


def bench_folder() -> Path:
    return Path(os.environ["BENCH_FOLDER"])
