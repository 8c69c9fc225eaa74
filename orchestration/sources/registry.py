"""One place that turns a source name (and its files) into a price source."""

from __future__ import annotations

from orchestration import config
from orchestration.sources.base import PriceBatch
from orchestration.sources.demo import DemoSource
from orchestration.sources.files import FilesSource
from orchestration.universe import Universe


def resolve_source(source: str | None, files: list[str] | None) -> tuple[str, list[str]]:
    """Run config wins over ROTATION_SOURCE / ROTATION_FILES, which win over the default (demo)."""
    name = source or config.source_name()
    if name not in config.SOURCES:
        raise ValueError(f"unknown price source {name!r}; use one of {', '.join(config.SOURCES)}")
    return name, list(files) if files else config.source_files()


def fetch_prices(source: str, files: list[str], universe: Universe) -> list[PriceBatch]:
    if source == "demo":
        return DemoSource(universe).fetch()
    return FilesSource(files).fetch()
