"""One place that turns a source name (and its files) into prices."""

from __future__ import annotations

import duckdb

from orchestration import config
from orchestration.raw_prices import last_session_per_ticker
from orchestration.sources.base import PriceFetch
from orchestration.sources.demo import DemoSource
from orchestration.sources.demo_scale import ScaleMarketSource
from orchestration.sources.files import FilesSource
from orchestration.universe import Universe
from orchestration.yahoo_refresh import fetch_yahoo


def resolve_source(source: str | None, files: list[str] | None) -> tuple[str, list[str]]:
    """Run config wins over ROTATION_SOURCE / ROTATION_FILES, which win over the default (demo)."""
    name = source or config.source_name()
    if name not in config.SOURCES:
        raise ValueError(f"unknown price source {name!r}; use one of {', '.join(config.SOURCES)}")
    return name, list(files) if files else config.source_files()


def fetch_prices(con: duckdb.DuckDBPyConnection, source: str, files: list[str], universe: Universe) -> PriceFetch:
    """The source's prices; the Yahoo source fetches incrementally from what `con` holds."""
    if source == "demo":
        scale = config.demo_scale()
        if scale is not None:
            stored = last_session_per_ticker(con, "demo", universe.symbols)
            after = min(stored.values()) if len(stored) == len(universe.symbols) else None
            return PriceFetch(ScaleMarketSource(*scale, end_date=config.demo_end_date(), after=after,
                                                 cache=config.demo_scale_cache()).fetch())
        return PriceFetch(DemoSource(universe).fetch())
    if source == "yahoo":
        return fetch_yahoo(con, universe.symbols, base_url=config.yahoo_base_url())
    return PriceFetch(FilesSource(files).fetch())
