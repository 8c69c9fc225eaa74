"""The scale benchmark in miniature: 20 tickers x 2 years, daily refresh included; dbt, the floor SQL
and pandas must agree.

The full benchmark (`make bench`, 3,000 tickers x 30 years) stays out of the test suite.
"""

import json
import shutil

import duckdb
import numpy as np
import pytest

from bench import run
from bench.scale_market import ScaleSpec, generate, load_market
from orchestration import config


def test_scale_market_is_deterministic_and_consistent():
    spec = ScaleSpec(15, 1)
    first, second = generate(spec), generate(spec)
    assert first.symbols[:2] == ["^GSPC", "XLK"] and first.symbols[-1] == "SYN00003"
    assert (first.close == second.close).all()
    assert (first.high >= first.low).all() and (first.low > 0).all()
    # adj_close is the total-return series: it equals close on the last session and lies below it before an ex-date.
    assert (first.adj_close[-1] == first.close[-1]).all()
    assert (first.adj_close[0, 1:] < first.close[0, 1:]).all()
    assert (first.adj_close[:, 0] == first.close[:, 0]).all()  # the index pays no dividend


def test_the_cached_scale_market_is_the_generated_one_memory_mapped(tmp_path):
    spec = ScaleSpec(15, 1)
    generated = load_market(spec, tmp_path)  # generates and keeps it
    cached = load_market(spec, tmp_path)
    assert isinstance(cached.close, np.memmap) and not isinstance(generated.close, np.memmap)
    for name in ["open", "high", "low", "close", "adj_close", "volume"]:
        assert (getattr(cached, name) == getattr(generate(spec), name)).all(), name
    assert cached.frame(rows=slice(-1, None)).equals(generated.frame(rows=slice(-1, None)))


def test_seeds_outside_the_project_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ROTATION_SEEDS", str(tmp_path))
    with pytest.raises(ValueError, match="inside the project"):
        config.seeds_dir()


def test_bench_smoke_three_implementations_agree():
    folder = config.PROJECT_ROOT / "warehouse" / "bench-smoke-test"
    try:
        assert run.main(["--tickers", "20", "--years", "2", "--folder", str(folder)]) == 0
        figures = json.loads((folder / "figures.json").read_text())
        loaded = figures["ingest"]["sessions"]  # all but the last session; the daily refresh adds it
        assert figures["ingest"]["rows"] == 20 * loaded
        assert any(line.startswith("raw.prices_daily: 20 rows inserted, 0 updated")
                   for line in figures["refresh"]["output"]), figures["refresh"]["output"][-5:]
        sessions = loaded + 1
        assert figures["check"]["agree"], figures["check"]["disagreements"]
        # The sample: ^GSPC, XLK and four stocks; their 5 pairs; all 11 sectors.
        assert figures["check"]["sampled_rows"] == {
            "returns_daily": 6 * sessions, "relative_streaks": 5 * sessions, "sector_returns": 11 * sessions,
        }
        assert figures["floor"]["rows"] == figures["pandas"]["rows"] == {
            "returns_daily": 20 * sessions, "relative_streaks": 19 * sessions, "sector_returns": 11 * sessions,
        }
        with duckdb.connect(str(folder / "bench.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM marts.fct_relative_streaks").fetchone()[0] == 19 * sessions
    finally:
        shutil.rmtree(folder, ignore_errors=True)
