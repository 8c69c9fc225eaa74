"""One place that turns a source name (and its files) into a price source."""

from __future__ import annotations

from datetime import date, timedelta

from orchestration import config
from orchestration.sources.base import PriceBatch
from orchestration.sources.demo import DemoSource
from orchestration.sources.demo_scale import ScaleMarketSource
from orchestration.sources.files import FilesSource
from orchestration.sources.yahoo import YahooSource
from orchestration.universe import Universe

# Yahoo's history starts no earlier for the universe's indices; a first live run fetches from here.
YAHOO_HISTORY_START = date(1985, 1, 1)
# Each live run refetches this many calendar days before the last stored session, so late
# corrections by the vendor are picked up (the upsert leaves unchanged rows alone).
YAHOO_OVERLAP = timedelta(days=14)


def resolve_source(source: str | None, files: list[str] | None) -> tuple[str, list[str]]:
    """Run config wins over ROTATION_SOURCE / ROTATION_FILES, which win over the default (demo)."""
    name = source or config.source_name()
    if name not in config.SOURCES:
        raise ValueError(f"unknown price source {name!r}; use one of {', '.join(config.SOURCES)}")
    return name, list(files) if files else config.source_files()


def yahoo_start(last_stored: date | None) -> date:
    """Incremental by default: from the last session every universe ticker has, minus the overlap."""
    return YAHOO_HISTORY_START if last_stored is None else last_stored - YAHOO_OVERLAP


def fetch_prices(source: str, files: list[str], universe: Universe, last_stored: date | None = None) -> list[PriceBatch]:
    if source == "demo":
        scale = config.demo_scale()
        if scale is not None:
            return ScaleMarketSource(*scale, end_date=config.demo_end_date(), after=last_stored).fetch()
        return DemoSource(universe).fetch()
    if source == "yahoo":
        return YahooSource(universe.symbols, start=yahoo_start(last_stored)).fetch()
    return FilesSource(files).fetch()
