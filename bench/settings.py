"""The benchmark's own settings, read from environment variables that bench/run.py sets for each phase.

BENCH_SCALE        the market at scale, as TICKERSxYEARS, e.g. 3000x30
BENCH_DEMO_END     last session the market at scale delivers, YYYY-MM-DD (default: its last session)
BENCH_MARKET_CACHE folder where the generated market is kept, so a later phase reads it instead of
                   generating it again (default: generate each time)
BENCH_FOLDER       where the floor's database and the samples go

A scale is written TICKERSxYEARS (`parse_scale`); bench/run.py takes a comma-separated list of them.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from bench.scale_market import ScaleSpec
from orchestration import config

MIN_TICKERS = 13  # the index and the 11 sector proxies come first; the sample needs at least one stock


def parse_scale(text: str) -> ScaleSpec:
    """One scale, TICKERSxYEARS, e.g. 3000x30 for 3,000 tickers over 30 years."""
    tickers, sep, years = text.strip().lower().partition("x")
    if not (sep and tickers.isdigit() and years.isdigit()):
        raise ValueError(f"{text.strip()!r} is not TICKERSxYEARS, e.g. 3000x30")
    if int(tickers) < MIN_TICKERS or int(years) < 1:
        raise ValueError(f"{text.strip()!r}: a scale needs at least {MIN_TICKERS} tickers and 1 year, e.g. 3000x30")
    return ScaleSpec(int(tickers), int(years))


def parse_scales(text: str) -> list[ScaleSpec]:
    """Comma-separated scales, run in the order given, e.g. 1000x10,3000x10,3000x30."""
    scales = [parse_scale(part) for part in text.split(",") if part.strip()]
    if not scales:
        raise ValueError(f"{text!r} names no scale; give TICKERSxYEARS[,TICKERSxYEARS...], e.g. 1000x10,3000x30")
    seen = set()
    for spec in scales:
        if spec in seen:
            raise ValueError(f"{text!r} names {spec.tickers}x{spec.years} twice")
        seen.add(spec)
    return scales


def scale_spec() -> ScaleSpec:
    configured = os.environ.get("BENCH_SCALE", "")
    try:
        return parse_scale(configured)
    except ValueError as error:
        raise ValueError(f"BENCH_SCALE: {error}") from None


def market_cache() -> Path | None:
    configured = os.environ.get("BENCH_MARKET_CACHE", "").strip()
    return Path(configured) if configured else None


def demo_end_date() -> date | None:
    return config.date_from_env("BENCH_DEMO_END")


def bench_folder() -> Path:
    return Path(os.environ["BENCH_FOLDER"])
