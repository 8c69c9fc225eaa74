"""One place that turns a source name (and its files) into prices."""

from __future__ import annotations

import duckdb

from orchestration import config
from orchestration.extract.base import PriceFetch
from orchestration.extract.demo import DemoSource
from orchestration.extract.files import FilesSource
from orchestration.extract.yahoo_incremental import fetch_yahoo
from orchestration.universe import Universe


def resolve_source(source: str | None, files: list[str] | None) -> tuple[str, list[str]]:
    """Run config wins over ROTATION_SOURCE / ROTATION_FILES, which win over the default (demo)."""
    name = source or config.source_name()
    if name not in config.SOURCES:
        raise ValueError(f"unknown price source {name!r}; use one of {', '.join(config.SOURCES)}")
    return name, list(files) if files else config.source_files()


def fetch_prices(con: duckdb.DuckDBPyConnection, source: str, files: list[str], universe: Universe) -> PriceFetch:
    """The source's prices; the Yahoo source fetches incrementally from what `con` holds."""
    if source == "demo":
        return PriceFetch(DemoSource(universe, end_date=config.demo_end_date()).fetch())
    if source == "yahoo":
        return fetch_yahoo(con, universe.symbols, base_url=config.yahoo_base_url())
    files_source = FilesSource(files)
    return PriceFetch(files_source.fetch(), skipped=files_source.skipped)
