"""From source batches to raw.prices_daily: validate each batch, load every accepted one in one upsert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from orchestration.extract.base import PRICE_COLUMNS, VALUE_COLUMNS, PriceBatch
from orchestration.land.tables import PRICES, ensure_raw_schema, now_utc
from orchestration.land.upsert import LoadCounts, upsert
from orchestration.land.validation import PriceProblem, ValidatedBatch, validate_batch


@dataclass
class PriceIngestReport:
    source: str
    counts: LoadCounts
    accepted_origins: list[str]
    rejected: list[ValidatedBatch]
    rows_received: int
    duplicate_rows_dropped: int
    first_date: object = None
    last_date: object = None
    tickers: list[str] = field(default_factory=list)
    tickers_outside_universe: list[str] = field(default_factory=list)
    warnings: list[PriceProblem] = field(default_factory=list)  # about accepted batches, e.g. a file without rows

    @property
    def problems(self) -> list[PriceProblem]:
        return [problem for batch in self.rejected for problem in batch.errors]


def last_session_per_ticker(con: duckdb.DuckDBPyConnection, source: str, tickers: list[str]) -> dict[str, date]:
    """The latest stored date of each of `tickers` from `source`; tickers without rows are left out."""
    ensure_raw_schema(con)
    found = con.execute(
        "SELECT ticker, max(date) FROM raw.prices_daily WHERE source = ? AND list_contains(?, ticker) GROUP BY ticker",
        [source, tickers],
    ).fetchall()
    return dict(found)


def _same_values(mine: pd.Series, theirs: pd.Series) -> bool:
    """Whether two rows hold the same values, an empty value matching only an empty one."""
    return all(
        pd.isna(a) and pd.isna(b) if pd.isna(a) or pd.isna(b) else a == b
        for a, b in zip(mine[VALUE_COLUMNS], theirs[VALUE_COLUMNS])
    )


def _reject_conflicts_between_batches(accepted: list[ValidatedBatch]) -> list[ValidatedBatch]:
    """Batches that disagree on a (ticker, date) are all rejected whole: which one is right cannot be
    told, and the answer must not depend on the order the files were given in."""
    if sum(1 for b in accepted if len(b.frame)) < 2:
        return accepted
    key = ["ticker", "date"]
    rows = pd.concat([b.frame.assign(batch=i) for i, b in enumerate(accepted) if len(b.frame)], ignore_index=True)
    distinct = rows.drop_duplicates(subset=key + VALUE_COLUMNS)
    disputed = distinct.loc[distinct.duplicated(subset=key, keep=False), key].drop_duplicates()
    if disputed.empty:
        return accepted
    conflicts = rows.merge(disputed, on=key).sort_values(["batch", "row"])
    kept: list[ValidatedBatch] = []
    for i, batch in enumerate(accepted):
        mine = conflicts[conflicts["batch"] == i]
        if mine.empty:
            kept.append(batch)
            continue
        first = mine.iloc[0]
        same_key = conflicts[(conflicts["ticker"] == first["ticker"]) & (conflicts["date"] == first["date"])]
        others = sorted({accepted[int(row["batch"])].origin for _, row in same_key.iterrows()
                         if row["batch"] != i and not _same_values(first, row)})
        batch.errors.append(PriceProblem(
            batch.origin, int(first["row"]), first["ticker"],
            f"{first['date']} has different values in {' and '.join(others)} ({len(mine)} conflicting rows; "
            "files that disagree are all rejected)",
            "Load one of the files, or make them agree.",
        ))
        batch.frame = None
    return kept


def ingest_price_batches(
    con: duckdb.DuckDBPyConnection,
    batches: list[PriceBatch],
    source: str,
    universe_symbols: list[str],
    replace_tickers: list[str] | tuple = (),
    load_id: str | None = None,
) -> PriceIngestReport:
    """Validate `batches` and upsert the accepted ones in one transaction. Each of `replace_tickers`
    whose batch is accepted gets its stored history replaced by the batch. The upsert is recorded in
    raw.load_log under `load_id` (default: a load of its own)."""
    validated = [validate_batch(batch) for batch in batches]
    accepted = _reject_conflicts_between_batches([b for b in validated if b.accepted])
    rejected = [b for b in validated if not b.accepted]

    frames = [b.frame for b in accepted if len(b.frame)]
    combined = (
        pd.concat(frames, ignore_index=True).drop_duplicates(subset=["ticker", "date"])
        if frames
        else pd.DataFrame(columns=PRICE_COLUMNS)
    )
    tickers = sorted(combined["ticker"].unique())
    counts = upsert(
        con, PRICES.name, combined, source, ingested_at=now_utc(),
        replace=[t for t in replace_tickers if t in set(tickers)], load_id=load_id,
    )
    kept = {id(b) for b in accepted}
    warnings = [w for batch, result in zip(batches, validated) if id(result) in kept for w in batch.warnings]
    return PriceIngestReport(
        source=source,
        counts=counts,
        accepted_origins=[b.origin for b in accepted],
        rejected=rejected,
        rows_received=sum(len(b.frame) for b in batches),
        duplicate_rows_dropped=sum(b.duplicate_rows_dropped for b in accepted),
        first_date=combined["date"].min() if len(combined) else None,
        last_date=combined["date"].max() if len(combined) else None,
        tickers=tickers,
        tickers_outside_universe=[t for t in tickers if t not in set(universe_symbols)],
        warnings=warnings,
    )
