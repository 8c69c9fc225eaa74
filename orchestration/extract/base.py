"""The one shape every price source returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

PRICE_FIELDS = ["open", "high", "low", "close", "adj_close"]
VALUE_COLUMNS = PRICE_FIELDS + ["volume"]
# Columns of raw.prices_daily that a source provides (ingest adds ingested_at).
PRICE_COLUMNS = ["date", "ticker"] + VALUE_COLUMNS + ["source"]


@dataclass
class PriceBatch:
    """Prices from one origin (one file, or one generated market), validated and loaded as a unit.

    `frame` has PRICE_COLUMNS plus `row`: the position of each row in its origin (the line number
    for a file), so that an error can point at it. `date` holds datetime.date values.
    `read_errors` holds what made the origin unreadable; such a batch is rejected whole.
    `warnings` holds what is worth saying about an accepted batch (e.g. a file without rows).
    """

    origin: str
    frame: pd.DataFrame
    read_errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


@dataclass
class PriceFetch:
    """What one run got from its source.

    `failures` maps each ticker the source was asked for but could not deliver to the problem
    (nothing of it is loaded). `starts` says where each ticker's fetch began and `refetched` which
    tickers were fetched again in full because their stored history no longer matched the
    source's (their stored rows are replaced); both are empty for sources that always deliver
    everything they have. `skipped` lists the (path, reason) of files in a given folder that are not
    price files (files source).
    """

    batches: list[PriceBatch]
    failures: dict = field(default_factory=dict)
    starts: dict[str, date] = field(default_factory=dict)
    refetched: dict[str, str] = field(default_factory=dict)
    skipped: list = field(default_factory=list)
