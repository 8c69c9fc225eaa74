"""From source batches to raw.prices_daily: validate each batch, load every accepted one in one transaction.

A partial batch (e.g. date,ticker,adj_close) updates those columns of stored prices, or fills them in
for prices of the same run; its rows for prices with no stored close are named in a warning and not
loaded (a price row cannot exist without a close), and the rest lands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from orchestration.extract.base import PRICE_COLUMNS, VALUE_COLUMNS, PriceBatch
from orchestration.land.tables import PRICES, ensure_raw_schema, now_utc
from orchestration.land.upsert import LoadCounts, new_load_id, upsert
from orchestration.land.validation import PriceProblem, ValidatedBatch, validate_batch, value_columns


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


KEY = ["ticker", "date"]


def _is_partial(batch: ValidatedBatch) -> bool:
    return value_columns(batch.frame) != VALUE_COLUMNS


def _differ(a, b) -> bool:
    """Whether two values differ, an empty value matching only an empty one."""
    return pd.isna(a) != pd.isna(b) or (not pd.isna(a) and a != b)


def _disputed_rows(accepted: list[ValidatedBatch]) -> pd.DataFrame:
    """Per value column, the rows (batch, row, ticker, date, column) of keys on which batches carrying the
    column disagree. A full-layout file's empty value yields to a partial file's value (the partial file
    fills it in), so an adj_close file loads beside an unadjusted file of the same run."""
    found = []
    for column in VALUE_COLUMNS:
        parts = [
            b.frame[KEY + ["row", column]].rename(columns={column: "value"}).assign(batch=i, partial=_is_partial(b))
            for i, b in enumerate(accepted) if len(b.frame) and column in b.frame
        ]
        if len(parts) < 2:
            continue
        rows = pd.concat(parts, ignore_index=True)
        filled = rows.loc[rows["partial"], KEY].drop_duplicates().assign(filled=True)
        rows = rows.merge(filled, on=KEY, how="left")
        rows = rows[~(~rows["partial"] & rows["value"].isna() & rows["filled"].eq(True))]
        distinct = rows.drop_duplicates(subset=KEY + ["value"])
        disputed = distinct.loc[distinct.duplicated(subset=KEY, keep=False), KEY].drop_duplicates()
        if len(disputed):
            found.append(rows.merge(disputed, on=KEY).assign(column=column))
    columns = KEY + ["row", "value", "batch", "column"]
    return pd.concat(found, ignore_index=True)[columns] if found else pd.DataFrame(columns=columns)


def _reject_conflicts_between_batches(accepted: list[ValidatedBatch]) -> list[ValidatedBatch]:
    """Batches that disagree on a (ticker, date) are all rejected whole: which one is right cannot be
    told, and the answer must not depend on the order the files were given in."""
    if sum(1 for b in accepted if len(b.frame)) < 2:
        return accepted
    conflicts = _disputed_rows(accepted)
    if conflicts.empty:
        return accepted
    conflicts = conflicts.sort_values(["batch", "row"])
    kept: list[ValidatedBatch] = []
    for i, batch in enumerate(accepted):
        mine = conflicts[conflicts["batch"] == i]
        if mine.empty:
            kept.append(batch)
            continue
        first = mine.iloc[0]
        disputing = conflicts[
            (conflicts["ticker"] == first["ticker"]) & (conflicts["date"] == first["date"])
            & (conflicts["column"] == first["column"]) & (conflicts["batch"] != i)
        ]
        differ = [_differ(v, first["value"]) for v in disputing["value"]]
        others = sorted({accepted[int(b)].origin for b in disputing.loc[differ, "batch"]})
        batch.errors.append(PriceProblem(
            batch.origin, int(first["row"]), first["ticker"],
            f"{first['date']} has different values in {' and '.join(others)} ({mine['row'].nunique()} conflicting rows; "
            "files that disagree are all rejected)",
            "Load one of the files, or make them agree.",
        ))
        batch.frame = None
    return kept


def _fill_in(full: pd.DataFrame, partial: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`full` with the values of the partial rows of the same keys, and the partial rows left over."""
    columns = value_columns(partial)
    if full.empty:
        return full, partial
    merged = full.merge(partial[KEY + columns], on=KEY, how="left", suffixes=("", "_given"), indicator=True)
    given = merged["_merge"] == "both"
    for column in columns:
        merged.loc[given, column] = merged.loc[given, f"{column}_given"]
    rest = partial.merge(full[KEY], on=KEY, how="left", indicator=True)
    return merged[full.columns], rest.loc[rest["_merge"] == "left_only", partial.columns].reset_index(drop=True)


def _without_stored_close(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rows whose (ticker, date) has no stored price other than the demo's (which real data replaces)."""
    con.register("partial_keys", rows[KEY])
    try:
        missing = con.execute(f"""
            SELECT given.ticker, given.date FROM partial_keys AS given
            WHERE NOT EXISTS (
                SELECT 1 FROM {PRICES.name} AS stored
                WHERE stored.ticker = given.ticker AND stored.date = CAST(given.date AS DATE)
                  AND (stored.source <> 'demo' OR ? = 'demo')
            )
        """, [source]).df()
    finally:
        con.unregister("partial_keys")
    missing["date"] = pd.to_datetime(missing["date"]).dt.date
    return missing


MAX_SPANS_SHOWN = 3


def _spans(dates: pd.Series, missing: pd.Series) -> str:
    """The runs of missing dates among a ticker's given ones, e.g. '2024-06-26 .. 2025-02-18, 2026-02-19'."""
    run = (missing != missing.shift()).cumsum()
    spans = [
        f"{group.min()}" if group.min() == group.max() else f"{group.min()} .. {group.max()}"
        for _, group in dates[missing].groupby(run[missing])
    ]
    more = len(spans) - MAX_SPANS_SHOWN
    return ", ".join(spans[:MAX_SPANS_SHOWN]) + (f" and {more} more spans" if more > 0 else "")


def _not_loaded_warning(origins: list[str], columns: list[str], rows: pd.DataFrame, missing: pd.DataFrame) -> PriceProblem:
    flagged = rows[KEY].merge(missing.assign(missing=True), on=KEY, how="left").sort_values(KEY)
    flagged["missing"] = flagged["missing"].eq(True)
    named = "; ".join(
        f"{ticker} {int(given['missing'].sum())} rows ({_spans(given['date'], given['missing'])})"
        for ticker, given in flagged.groupby("ticker") if given["missing"].any()
    )
    return PriceProblem(
        " and ".join(origins), None, None,
        f"{len(missing)} rows not loaded: they give {', '.join(columns)} of prices that have no stored close: {named}",
        "Load the prices of those dates with a close first (the full layout), then this file again; "
        "the rest of the file was loaded.",
    )


def ingest_price_batches(
    con: duckdb.DuckDBPyConnection,
    batches: list[PriceBatch],
    source: str,
    universe_symbols: list[str],
    replace_tickers: list[str] | tuple = (),
    load_id: str | None = None,
) -> PriceIngestReport:
    """Validate `batches` and upsert the accepted ones in one transaction. Each of `replace_tickers`
    whose batch is accepted gets its stored history replaced by the batch (a partial batch replaces
    nothing). The upserts are recorded in raw.load_log under `load_id` (default: a load of its own)."""
    validated = [validate_batch(batch) for batch in batches]
    accepted = _reject_conflicts_between_batches([b for b in validated if b.accepted])
    rejected = [b for b in validated if not b.accepted]

    frames = [b.frame for b in accepted if len(b.frame) and not _is_partial(b)]
    combined = (
        pd.concat(frames, ignore_index=True).drop_duplicates(subset=KEY)
        if frames
        else pd.DataFrame(columns=PRICE_COLUMNS)
    )
    # Partial batches (e.g. adjusted closes only), grouped by the columns they carry: their rows for
    # prices of this run fill those in; the others update stored prices, in the same transaction.
    partial: dict[tuple[str, ...], list[ValidatedBatch]] = {}
    for batch in accepted:
        if len(batch.frame) and _is_partial(batch):
            partial.setdefault(tuple(value_columns(batch.frame)), []).append(batch)
    updates: list[tuple[list[str], list[str], pd.DataFrame]] = []
    for columns, group in partial.items():
        rows = pd.concat([b.frame for b in group], ignore_index=True).drop_duplicates(subset=KEY)
        combined, rest = _fill_in(combined, rows)
        updates.append(([b.origin for b in group], list(columns), rest))

    warnings: list[PriceProblem] = []
    loaded = [combined]
    ingested_at, load_id = now_utc(), load_id or new_load_id()
    ensure_raw_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        counts = upsert(
            con, PRICES.name, combined, source, ingested_at=ingested_at, load_id=load_id, in_transaction=True,
            replace=[t for t in replace_tickers if t in set(combined["ticker"])],
        )
        for origins, columns, rows in updates:
            if "close" not in columns and len(rows):
                missing = _without_stored_close(con, rows, source)
                if len(missing):
                    warnings.append(_not_loaded_warning(origins, columns, rows, missing))
                    rows = rows.merge(missing.assign(unstored=True), on=KEY, how="left")
                    rows = rows[rows["unstored"].isna()].drop(columns="unstored")
            counts += upsert(
                con, PRICES.name, rows, source, ingested_at=ingested_at, load_id=load_id, in_transaction=True,
                columns=columns,
            )
            loaded.append(rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    tickers = sorted({t for frame in loaded for t in frame["ticker"]})
    dates = [d for frame in loaded for d in frame["date"]]
    kept = {id(b) for b in accepted}
    warnings = [w for batch, result in zip(batches, validated) if id(result) in kept for w in batch.warnings] + warnings
    return PriceIngestReport(
        source=source,
        counts=counts,
        accepted_origins=[b.origin for b in accepted],
        rejected=rejected,
        rows_received=sum(len(b.frame) for b in batches),
        duplicate_rows_dropped=sum(b.duplicate_rows_dropped for b in accepted),
        first_date=min(dates) if dates else None,
        last_date=max(dates) if dates else None,
        tickers=tickers,
        tickers_outside_universe=[t for t in tickers if t not in set(universe_symbols)],
        warnings=warnings,
    )
