"""The benchmark's phases that run in Python; `python -m bench.phases PHASE` prints one JSON line of figures.

Each phase runs in its own process (bench/run.py starts them) so its peak memory is its own. The
settings come from the same environment variables as the project (ROTATION_WAREHOUSE,
ROTATION_SEEDS, ROTATION_DUCKDB_MEMORY_LIMIT) and the benchmark's own (bench/settings.py).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from bench import settings
from bench.scale_market import INDEX_TICKER, PAIR_SUFFIX, ScaleSpec, load_market
from orchestration import config
from orchestration.extract.base import PriceBatch
from orchestration.land.prices import ingest_price_batches
from orchestration.land.upsert import new_load_id

FLOOR_SQL = Path(__file__).with_name("floor.sql")
INGEST_CHUNK_ROWS = 2_000_000
# The marts compared, their key and the columns compared (floats within a relative 1e-9, the rest exactly).
COMPARED = {
    "returns_daily": (["ticker", "date"], ["close", "adj_close", "return_1d", "return_5d", "return_mtd", "return_ytd"]),
    "relative_streaks": (
        ["pair_id", "date"],
        ["leader_return_1d", "laggard_return_1d", "spread_1d", "leader_outperformed", "streak_sessions",
         "streak_start_date", "longest_since_date", "longest_since_sessions"],
    ),
    "sector_returns": (["sector", "date", "method"], ["proxy_ticker", "return_1d", "return_5d", "return_mtd", "return_ytd", "rank_1d"]),
}
MART_TABLES = {
    "returns_daily": "marts.fct_returns_daily",
    "relative_streaks": "marts.fct_relative_streaks",
    "sector_returns": "marts.fct_sector_returns",
}


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only, config=config.duckdb_settings())


def sample_symbols(spec: ScaleSpec) -> list[str]:
    """The index, one sector proxy, the first three stocks and the last one."""
    return sorted({INDEX_TICKER, "XLK", *spec.symbols[12:15], spec.symbols[-1]})


def sample_filter(mart: str, spec: ScaleSpec) -> str:
    symbols = sample_symbols(spec)
    if mart == "returns_daily":
        return "ticker IN (" + ", ".join(f"'{s}'" for s in symbols) + ")"
    if mart == "relative_streaks":
        return "pair_id IN (" + ", ".join(f"'{s}{PAIR_SUFFIX}'" for s in symbols if s != INDEX_TICKER) + ")"
    return "true"


def ingest() -> dict:
    """Generate the scale market up to BENCH_DEMO_END and upsert it into raw, in chunks of whole tickers."""
    spec = settings.scale_spec()
    started = time.perf_counter()
    market = load_market(spec, settings.market_cache())
    generated = time.perf_counter() - started
    last = int(np.searchsorted(market.sessions.date, settings.demo_end_date(), side="right"))
    per_chunk = max(1, INGEST_CHUNK_ROWS // last)
    rows = 0
    load_id = new_load_id()  # the chunks are one load: the checks of a later run see them as one
    started = time.perf_counter()
    with connect(config.warehouse_path()) as con:
        for first in range(0, spec.tickers, per_chunk):
            frame = market.frame(columns=slice(first, first + per_chunk), rows=slice(0, last))
            report = ingest_price_batches(con, [PriceBatch("demo at scale", frame)], "demo", spec.symbols, load_id=load_id)
            if report.rejected:
                raise SystemExit(f"the scale market was rejected: {report.problems[:3]}")
            rows += report.counts.inserted + report.counts.updated
    return {"generate_s": generated, "ingest_s": time.perf_counter() - started, "rows": rows, "sessions": last}


def floor() -> dict:
    path = settings.bench_folder() / "floor.duckdb"
    path.unlink(missing_ok=True)
    script = FLOOR_SQL.read_text().replace("{seeds}", str(config.seeds_dir()))
    started = time.perf_counter()
    with connect(path) as con:
        con.execute(f"ATTACH '{config.warehouse_path()}' AS bench (READ_ONLY)")
        con.execute(script)
        rows = {name: con.execute(f"SELECT count(*) FROM floor.{name}").fetchone()[0] for name in COMPARED}
    return {"seconds": time.perf_counter() - started, "rows": rows}


def pandas_phase() -> dict:
    from bench import pandas_marts

    spec = settings.scale_spec()
    started = time.perf_counter()
    with connect(config.warehouse_path(), read_only=True) as con:
        prices = pandas_marts.load_prices(con)
    loaded = time.perf_counter() - started
    read = lambda name: pd.read_csv(config.seeds_dir() / f"{name}.csv", dtype=str, keep_default_na=False).replace("", None)  # noqa: E731
    returns = pandas_marts.returns_daily(prices)
    del prices
    results = {
        "returns_daily": returns,
        "relative_streaks": pandas_marts.relative_streaks(returns, read("universe_pairs")),
        "sector_returns": pandas_marts.sector_returns(returns, read("universe_tickers")),
    }
    seconds = time.perf_counter() - started
    rows = {name: len(frame) for name, frame in results.items()}
    with duckdb.connect() as con:
        for name, frame in results.items():
            con.register("result", frame)
            keep = sample_filter(name, spec)
            con.execute(f"COPY (SELECT * FROM result WHERE {keep}) TO '{settings.bench_folder() / f'pandas_{name}.parquet'}'")
            con.unregister("result")
    return {"seconds": seconds, "load_s": loaded, "rows": rows}


def _normalised(frame: pd.DataFrame, key: list[str], columns: list[str]) -> pd.DataFrame:
    frame = frame[key + columns].sort_values(key, ignore_index=True)
    for column in frame.columns:
        if column.endswith("date") or column == "date":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
        elif column in ("streak_sessions", "longest_since_sessions", "rank_1d"):
            frame[column] = frame[column].astype("Float64")
        elif column == "leader_outperformed":
            frame[column] = frame[column].astype(bool)
        elif frame[column].dtype.kind == "f":
            frame[column] = frame[column].astype("float64")
        else:
            frame[column] = frame[column].astype(str)
    return frame


def check() -> dict:
    """The warehouse's marts, the floor and pandas agree on the sample (all rows of the sampled keys).

    Without pandas' sample files (the bench skipped pandas), the marts are compared with the floor only."""
    spec = settings.scale_spec()
    disagreements = []
    sampled = {}
    with_pandas = all((settings.bench_folder() / f"pandas_{name}.parquet").exists() for name in COMPARED)
    with connect(config.warehouse_path(), read_only=True) as con:
        con.execute(f"ATTACH '{settings.bench_folder() / 'floor.duckdb'}' AS floor (READ_ONLY)")
        for name, (key, columns) in COMPARED.items():
            keep = sample_filter(name, spec)
            marts = con.execute(f"SELECT * FROM {MART_TABLES[name]} WHERE {keep}").df()
            others = [("floor SQL", con.execute(f"SELECT * FROM floor.{name} WHERE {keep}").df())]
            if with_pandas:
                others.append(("pandas", con.execute(f"SELECT * FROM '{settings.bench_folder() / f'pandas_{name}.parquet'}'").df()))
            expected = _normalised(marts, key, columns)
            sampled[name] = len(expected)
            if len(expected) == 0:
                disagreements.append(f"{name}: the sample is empty")
            for label, other in others:
                try:
                    pd.testing.assert_frame_equal(_normalised(other, key, columns), expected, rtol=1e-9, check_dtype=False)
                except AssertionError as error:
                    disagreements.append(f"{name}: dbt and {label} differ: {str(error).splitlines()[:6]}")
    compared = ["floor SQL", "pandas"] if with_pandas else ["floor SQL"]
    return {"sampled_rows": sampled, "compared": compared, "agree": not disagreements, "disagreements": disagreements}


def publish() -> dict:
    """The first snapshot for readers, as the first `rotation run` would publish after its build."""
    from orchestration.serve.snapshot import publish_snapshot

    started = time.perf_counter()
    snapshot = publish_snapshot(config.warehouse_path(), config.serving_folder())
    return {"seconds": time.perf_counter() - started, "written": snapshot.written}


PHASES = {"ingest": ingest, "publish": publish, "floor": floor, "pandas": pandas_phase, "check": check}

if __name__ == "__main__":
    print(json.dumps(PHASES[sys.argv[1]](), default=str))
