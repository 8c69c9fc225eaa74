"""The scale benchmark in miniature: a sweep of 20 and 25 tickers x 2 years, daily refresh included;
dbt, the floor SQL and pandas must agree at each scale.

The full benchmark (`make bench`, 1,000 x 10 to 3,000 x 30) stays out of the test suite.
"""

import json
import re
import shutil
import sys

import duckdb
import numpy as np
import pytest

from bench import run
from bench.scale_market import ScaleSpec, generate, load_market
from bench.settings import parse_scales
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


def test_scales_are_read_in_the_order_given():
    assert parse_scales("1000x10, 3000x10,3000X30") == [ScaleSpec(1000, 10), ScaleSpec(3000, 10), ScaleSpec(3000, 30)]


@pytest.mark.parametrize(("text", "message"), [
    ("3000by30", "'3000by30' is not TICKERSxYEARS, e.g. 3000x30"),
    ("3000x", "'3000x' is not TICKERSxYEARS"),
    ("20x2,x30", "'x30' is not TICKERSxYEARS"),
    ("12x30", "'12x30': a scale needs at least 13 tickers and 1 year"),
    ("20x0", "'20x0': a scale needs at least 13 tickers and 1 year"),
    (" , ", "names no scale"),
    ("20x2,25x2,20X2", "names 20x2 twice"),
])
def test_bad_scales_are_refused_with_what_to_write(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_scales(text)


def test_a_bad_scale_stops_the_bench_before_it_starts(capsys):
    with pytest.raises(SystemExit) as stopped:
        run.main(["--scales", "3000by30", "--folder", str(config.PROJECT_ROOT / "warehouse" / "bench-never-made")])
    assert stopped.value.code == 2
    assert "--scales 3000by30: '3000by30' is not TICKERSxYEARS, e.g. 3000x30" in capsys.readouterr().err
    assert not (config.PROJECT_ROOT / "warehouse" / "bench-never-made").exists()


def test_scales_come_from_the_options_then_the_environment_then_the_default_sweep(monkeypatch):
    def chosen(**options):
        return run.chosen_scales(run.argparse.Namespace(**{"scales": None, "tickers": None, "years": None, **options}))[0]

    for name in ("BENCH_SCALES", "BENCH_TICKERS", "BENCH_YEARS"):
        monkeypatch.delenv(name, raising=False)
    assert chosen() == "1000x10,3000x10,3000x30"
    monkeypatch.setenv("BENCH_TICKERS", "500")
    assert chosen() == "500x30"
    monkeypatch.setenv("BENCH_SCALES", "20x2,25x2")
    assert chosen() == "20x2,25x2"
    assert chosen(years=10) == "500x10"
    assert chosen(tickers=40, years=3) == "40x3"
    assert chosen(scales="30x2", tickers=40) == "30x2"


def test_pandas_is_skipped_where_its_estimated_peak_is_over_70_percent_of_the_ram():
    ram = 290_000  # bytes: pandas fits up to 203,000 bytes, 700 rows of 290 bytes
    assert run.pandas_skip_reason(700, ram) is None
    assert "701 price rows x 290 bytes" in run.pandas_skip_reason(701, ram)
    # 30 years are 7,547 sessions; on 24 GB, 3000x30 (6.1 GB estimated) fits and 10000x30 (20.4 GB) does not.
    assert run.pandas_skip_reason(3000 * 7547, 24 * 1024**3) is None
    assert "20.4 GB (75,470,000 price rows" in run.pandas_skip_reason(10000 * 7547, 24 * 1024**3)


def test_a_scale_is_cleaned_of_its_data_but_keeps_its_logs_and_figures(tmp_path):
    for name in ["bench.duckdb", "bench.duckdb.wal", "floor.duckdb", "market/20x2/close.npy", "serving/bench/marts.duckdb",
                 "ingest.out", "ingest.err", "figures.json", "seeds/universe_tickers.csv",
                 "bench.duckdb.dagster/history/runs.db"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    run.clean_scale(tmp_path)
    left = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert left == ["bench.duckdb.dagster/history/runs.db", "figures.json", "ingest.err", "ingest.out",
                    "seeds/universe_tickers.csv"]


def scale_figures(build: float, refresh: float, floor: float, pandas: float | None, rss: float) -> dict:
    figures = {phase: {"seconds": seconds, "rss": rss} for phase, seconds in
               [("ingest", 1.0), ("build", build), ("publish", 1.0), ("refresh", refresh), ("floor", floor)]}
    if pandas is not None:
        figures["pandas"] = {"seconds": pandas, "rss": 2 * rss}
    return {**figures, "price_rows": 1000, "check": {"agree": True, "compared": ["floor SQL", "pandas"]}}


def test_the_targets_are_computed_from_the_figures_of_their_scales():
    scales = {"3000x10": scale_figures(build=20.0, refresh=10.0, floor=16.0, pandas=12.0, rss=2.0),
              "3000x30": scale_figures(build=40.0, refresh=12.0, floor=32.0, pandas=36.0, rss=3.5)}
    scales["3000x30"]["refresh"]["rss"] = 4.4  # above pandas' 7.0 GB: pandas is not a DuckDB phase
    targets = {t["target"]: (t["measured"], t["verdict"]) for t in run.evaluate_targets(scales, "3GB")}
    assert targets == {
        "daily refresh growth: refresh 3000x30 / refresh 3000x10": (pytest.approx(1.2), "met"),
        "daily refresh at 3000x30, end to end": (12.0, "MISSED by 1.50x"),
        "pandas / daily refresh at 3000x30": (3.0, "MISSED by 1.33x"),
        "pandas / full dbt build at 3000x30": (0.9, "MISSED by 1.11x"),
        "full dbt build / floor at 3000x30": (1.25, "met"),
        "peak RSS of every DuckDB phase at 3000x30 (ingest, build, publish, refresh, floor)": (4.4, "MISSED by 1.10x"),
        "10000x30 completes, every phase, under the DuckDB memory limit (3GB)": (None, "not measured"),
        "the cross-check agrees at every scale": ("agree at 2 of 2", "met"),
    }
    del scales["3000x30"]["pandas"]
    scales["3000x30"]["pandas_skipped"] = "--skip-pandas given"
    scales["3000x30"]["check"]["agree"] = False
    targets = {t["target"]: t for t in run.evaluate_targets(scales, "3GB")}
    assert targets["pandas / daily refresh at 3000x30"]["note"] == "pandas skipped at 3000x30"
    assert targets["the cross-check agrees at every scale"]["verdict"] == "MISSED: DISAGREE at 3000x30"


def test_bench_sweep_smoke_three_implementations_agree_at_each_scale():
    folder = config.PROJECT_ROOT / "warehouse" / "bench-smoke-test"
    try:
        assert run.main(["--scales", "20x2,25x2", "--folder", str(folder), "--keep"]) == 0
        figures = json.loads((folder / "figures.json").read_text())
        assert list(figures["scales"]) == ["20x2", "25x2"]
        for tickers, scale in [(20, "20x2"), (25, "25x2")]:
            at_scale = figures["scales"][scale]
            assert json.loads((folder / scale / "figures.json").read_text()) == at_scale
            loaded = at_scale["ingest"]["sessions"]  # all but the last session; the daily refresh adds it
            assert at_scale["ingest"]["rows"] == tickers * loaded
            assert any(line.startswith(f"raw.prices_daily: {tickers} rows inserted, 0 updated")
                       for line in at_scale["refresh"]["output"]), at_scale["refresh"]["output"][-5:]
            sessions = loaded + 1
            assert at_scale["price_rows"] == tickers * sessions
            assert at_scale["check"]["agree"], at_scale["check"]["disagreements"]
            assert at_scale["check"]["compared"] == ["floor SQL", "pandas"]
            # The sample: ^GSPC, XLK and four stocks; their 5 pairs; all 11 sectors.
            assert at_scale["check"]["sampled_rows"] == {
                "returns_daily": 6 * sessions, "relative_streaks": 5 * sessions, "sector_returns": 11 * sessions,
            }
            assert at_scale["floor"]["rows"] == at_scale["pandas"]["rows"] == {
                "returns_daily": tickers * sessions, "relative_streaks": (tickers - 1) * sessions, "sector_returns": 11 * sessions,
            }
            with duckdb.connect(str(folder / scale / "bench.duckdb"), read_only=True) as con:  # kept: --keep
                assert con.execute("SELECT count(*) FROM marts.fct_relative_streaks").fetchone()[0] == (tickers - 1) * sessions
        [growth] = figures["growth"]
        assert (growth["from"], growth["to"], growth["rows"]) == ("20x2", "25x2", 25 / 20)  # same sessions, 25 / 20 tickers

        targets = {t["target"]: t for t in figures["targets"]}
        assert len(targets) == 8
        assert [t["verdict"] for t in figures["targets"][:7]] == ["not measured"] * 7  # their scales are not in this sweep
        assert all("not in the sweep" in t["note"] for t in figures["targets"][:7])
        assert targets["the cross-check agrees at every scale"]["verdict"] == "met"

        # Without pandas' sample files (pandas skipped), the cross-check compares dbt with the floor only.
        for mart in ["returns_daily", "relative_streaks", "sector_returns"]:
            (folder / "25x2" / f"pandas_{mart}.parquet").unlink()
        env = run.scale_env(ScaleSpec(25, 2), folder / "25x2", "3GB")
        *_, out = run.run_phase("check", [sys.executable, "-m", "bench.phases", "check"], env, folder / "25x2")
        check = run.last_json(out)
        assert (check["compared"], check["agree"]) == (["floor SQL"], True)
        assert check["sampled_rows"] == figures["scales"]["25x2"]["check"]["sampled_rows"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
