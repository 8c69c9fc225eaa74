"""`make bench`: the warehouse at scale, timed against a hand-written SQL floor and pandas.

One run, one data set (the demo market at scale, N tickers x Y years, in its own warehouse):
  1. ingest: generate the market up to its second-to-last session and upsert it into raw;
  2. full build: `dbt build` (seeds, every model, every test) on the fresh warehouse;
  3. daily refresh: `rotation run`, the Dagster job the schedule runs, with a source that adds the
     last session for every ticker (incremental models recompute only the tail), after the first
     serving snapshot has been published (the refresh then publishes incrementally);
  4. the same three marts by the floor SQL script and by pandas, on the refreshed data;
  5. a cross-check that dbt, the floor and pandas agree on a sample.
Every phase runs in its own process; its wall time and peak RSS (with its children) are reported.

    python -m bench.run [--tickers 3000] [--years 30] [--memory-limit 3GB]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.scale_market import ScaleSpec, write_universe
from orchestration import config

BIN = Path(sys.executable).parent
# dbt nodes that produce the three compared marts (views cost nothing until read; their reads are inside these).
MART_NODES = ["fct_returns_daily", "int_pair_sessions", "fct_relative_streaks", "fct_sector_returns"]
TARGETS = {
    "build_vs_floor": 1.3,  # at most
    "refresh_share_of_build": 0.10,  # at most
    "refresh_seconds": 30.0,  # at most
    "pandas_vs_dbt": 20.0,  # at least
    "peak_rss_gb": 4.0,  # at most
}


class PhaseFailed(Exception):
    pass


def run_phase(name: str, argv: list[str], env: dict, folder: Path) -> tuple[float, float, str]:
    """Run one phase in a child process: (wall seconds, peak RSS in GB of it and its children, stdout)."""
    out_path, err_path = folder / f"{name}.out", folder / f"{name}.err"
    started = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=err, cwd=config.PROJECT_ROOT)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text()
    if child.returncode != 0:
        tail = "\n".join((stdout + err_path.read_text()).strip().splitlines()[-25:])
        raise PhaseFailed(f"phase {name} failed (exit {child.returncode}); see {out_path}:\n{tail}")
    return seconds, usage.ru_maxrss / 1024**2, stdout  # ru_maxrss is in KiB on Linux


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def node_seconds(run_results: Path) -> dict[str, float]:
    results = json.loads(run_results.read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results if r["unique_id"].startswith("model.")}


def verdict(value: float, target: float, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    if met:
        return "met"
    return f"MISSED by {value / target:.2f}x" if at_most else f"MISSED: {target / value:.2f}x short"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=int(os.environ.get("BENCH_TICKERS", 3000)))
    parser.add_argument("--years", type=int, default=int(os.environ.get("BENCH_YEARS", 30)))
    parser.add_argument("--memory-limit", default=os.environ.get("BENCH_MEMORY_LIMIT", "3GB"),
                        help="DuckDB memory_limit for ingest, dbt and the floor (default 3GB)")
    parser.add_argument("--folder", type=Path, default=config.PROJECT_ROOT / "warehouse" / "bench",
                        help="where the bench warehouse, its universe and its logs go (default warehouse/bench)")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas comparison")
    parser.add_argument("--skip-refresh", action="store_true", help="leave out the daily refresh through Dagster")
    args = parser.parse_args(argv)

    spec = ScaleSpec(args.tickers, args.years)
    folder = args.folder.resolve()
    if not folder.is_relative_to(config.PROJECT_ROOT):
        parser.error(f"--folder must be inside the project ({config.PROJECT_ROOT}): it holds the bench universe seeds")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    seeds = write_universe(spec, folder / "seeds")
    dagster_home = folder / "dagster"
    dagster_home.mkdir()
    sessions = spec.sessions().date
    warehouse = folder / "bench.duckdb"
    env = {
        **os.environ,
        "ROTATION_WAREHOUSE": str(warehouse),
        "ROTATION_SEEDS": str(seeds),
        "ROTATION_SOURCE": "demo",
        "ROTATION_VALUATION_SOURCE": "files",  # the market at scale has no valuations: load only given files
        "BENCH_SCALE": f"{spec.tickers}x{spec.years}",
        "BENCH_DEMO_END": sessions[-2].isoformat(),
        "ROTATION_DUCKDB_MEMORY_LIMIT": args.memory_limit,
        "BENCH_MARKET_CACHE": str(folder / "market"),
        "ROTATION_DBT_WAREHOUSE": str(warehouse),
        "ROTATION_DBT_SEEDS": os.path.relpath(seeds, config.DBT_PROJECT_DIR),
        "DAGSTER_HOME": str(dagster_home),  # the bench's runs stay out of the project's run history
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
        "BENCH_FOLDER": str(folder),
    }
    python = [sys.executable, "-m", "bench.phases"]
    print(f"Bench: {spec.tickers} tickers x {spec.years} years ({len(sessions)} sessions, "
          f"{sessions[0]} to {sessions[-1]}), DuckDB memory_limit {args.memory_limit}, {os.cpu_count()} cores",
          flush=True)

    figures = {}
    seconds, rss, out = run_phase("ingest", [*python, "ingest"], env, folder)
    figures["ingest"] = {**last_json(out), "seconds": seconds, "rss": rss}
    ingest = figures["ingest"]
    print(f"ingest: {ingest['rows']:,} rows in {ingest['ingest_s']:.1f} s = {ingest['rows'] / ingest['ingest_s']:,.0f} rows/s "
          f"into raw (generation {ingest['generate_s']:.1f} s); peak RSS {rss:.2f} GB", flush=True)

    project = str(config.DBT_PROJECT_DIR)
    dbt = [str(BIN / "dbt"), "build", "--exclude-resource-type", "unit_test", "--project-dir", project, "--profiles-dir", project, "--quiet"]
    seconds, rss, _ = run_phase("build", dbt, env, folder)
    nodes = node_seconds(folder / "target" / "run_results.json")
    figures["build"] = {"seconds": seconds, "rss": rss, "marts_s": sum(nodes.get(n, 0.0) for n in MART_NODES), "nodes": nodes}
    build = figures["build"]
    print(f"full dbt build: {seconds:.1f} s (the three marts' models: {build['marts_s']:.1f} s); peak RSS {rss:.2f} GB", flush=True)

    if not args.skip_refresh:
        seconds, rss, out = run_phase("publish", [*python, "publish"], env, folder)
        figures["publish"] = {**last_json(out), "rss": rss}
        print(f"first serving snapshot (as the first run publishes it): {figures['publish']['seconds']:.1f} s; "
              f"peak RSS {rss:.2f} GB", flush=True)
        env["BENCH_DEMO_END"] = sessions[-1].isoformat()
        seconds, rss, out = run_phase("refresh", [sys.executable, "-m", "bench.refresh"], env, folder)
        figures["refresh"] = {"seconds": seconds, "rss": rss, "output": out.strip().splitlines()}
        print(f"daily refresh (rotation run, one new session x {spec.tickers} tickers): {seconds:.1f} s; "
              f"peak RSS {rss:.2f} GB", flush=True)
        for line in out.strip().splitlines():
            if line.startswith("raw.prices_daily"):
                print(f"  {line}")

    seconds, rss, out = run_phase("floor", [*python, "floor"], env, folder)
    figures["floor"] = {**last_json(out), "rss": rss}
    print(f"floor (hand-written DuckDB SQL, three marts): {figures['floor']['seconds']:.1f} s; peak RSS {rss:.2f} GB", flush=True)

    if not args.skip_pandas:
        seconds, rss, out = run_phase("pandas", [*python, "pandas"], env, folder)
        figures["pandas"] = {**last_json(out), "rss": rss}
        print(f"pandas (three marts, incl. {figures['pandas']['load_s']:.1f} s to load the prices): "
              f"{figures['pandas']['seconds']:.1f} s; peak RSS {rss:.2f} GB", flush=True)
        _, _, out = run_phase("check", [*python, "check"], env, folder)
        figures["check"] = last_json(out)

    print()
    print("target                                         measured      target    verdict")
    rows = [
        ("full build (3 marts' models) / floor SQL", build["marts_s"] / figures["floor"]["seconds"], "build_vs_floor", True, "x"),
        ("whole dbt build (all models+tests) / floor", build["seconds"] / figures["floor"]["seconds"], "build_vs_floor", True, "x"),
    ]
    if "refresh" in figures:
        rows += [
            ("daily refresh / full dbt build", figures["refresh"]["seconds"] / build["seconds"], "refresh_share_of_build", True, "%"),
            ("daily refresh, end to end incl. Dagster", figures["refresh"]["seconds"], "refresh_seconds", True, "s"),
        ]
    if "pandas" in figures:
        rows.append(("pandas / dbt (3 marts)", figures["pandas"]["seconds"] / build["marts_s"], "pandas_vs_dbt", False, "x"))
        if "refresh" in figures:  # an analyst's script recomputes everything each day; the warehouse refreshes
            rows.append(("pandas rerun / daily refresh", figures["pandas"]["seconds"] / figures["refresh"]["seconds"],
                         "pandas_vs_dbt", False, "x"))
    for phase in ("ingest", "build", "refresh"):
        if phase in figures:
            rows.append((f"peak RSS, {phase}", figures[phase]["rss"], "peak_rss_gb", True, "GB"))
    for label, value, target_name, at_most, unit in rows:
        target = TARGETS[target_name]
        shown = (lambda v: f"{v:.1%}") if unit == "%" else (lambda v, u=unit: f"{v:.2f} {u}")
        sign = "<=" if at_most else ">="
        print(f"{label:<46} {shown(value):>9}   {sign} {shown(target):>8}   {verdict(value, target, at_most)}")
    if "check" in figures:
        check = figures["check"]
        sampled = ", ".join(f"{name} {rows}" for name, rows in check["sampled_rows"].items())
        print(f"\ncross-check on a sample ({sampled} rows): "
              + ("dbt, floor SQL and pandas agree" if check["agree"] else "DISAGREE"))
        for problem in check["disagreements"]:
            print(f"  {problem}")
    slowest = sorted(build["nodes"].items(), key=lambda item: -item[1])[:6]
    print("\nslowest dbt models in the full build: " + ", ".join(f"{name} {s:.1f} s" for name, s in slowest))
    (folder / "figures.json").write_text(json.dumps(figures, indent=2, default=float))
    return 0 if figures.get("check", {}).get("agree", True) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PhaseFailed as error:
        print(error, file=sys.stderr)
        sys.exit(2)
