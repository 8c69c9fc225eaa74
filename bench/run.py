"""`make bench`: the warehouse across scales, timed against a hand-written SQL floor and pandas.

A sweep runs one scale after another (the demo market at scale, TICKERSxYEARS, e.g. 3000x30 for
3,000 tickers over 30 years), each in its own folder <folder>/<TICKERS>x<YEARS>/ with its own warehouse:
  1. ingest: generate the market up to its second-to-last session and upsert it into raw;
  2. full build: `dbt build` (seeds, every model, every test) on the fresh warehouse;
  3. daily refresh: `rotation run`, the Dagster job the schedule runs, with a source that adds the
     last session for every ticker (incremental models recompute only the tail), after the first
     serving snapshot has been published (the refresh then publishes incrementally);
  4. the same three marts by the floor SQL script and by pandas, on the refreshed data (pandas is
     skipped where its estimated peak memory would not fit in this machine's RAM);
  5. a cross-check that dbt, the floor and pandas agree on a sample.
Every phase runs in its own process; its wall time and peak RSS (with its children) are reported.
At the end: one table of every scale, the growth between consecutive scales, and the targets.
A scale's warehouse, serving snapshot, market cache and floor database are deleted once its figures
are taken (--keep keeps them); its logs and figures.json stay.

    python -m bench.run [--scales 1000x10,3000x10,3000x30] [--memory-limit 3GB] [--keep] [--skip-pandas]
    python -m bench.run --tickers 500 --years 10      # one scale

Environment defaults (the options win): BENCH_SCALES (default 1000x10,3000x10,3000x30), or
BENCH_TICKERS and BENCH_YEARS for one scale; BENCH_MEMORY_LIMIT (default 3GB).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.scale_market import ScaleSpec, write_universe
from bench.settings import parse_scales
from orchestration import config

BIN = Path(sys.executable).parent
DEFAULT_SCALES = "1000x10,3000x10,3000x30"
# dbt nodes that produce the three compared marts (views cost nothing until read; their reads are inside these).
MART_NODES = ["fct_returns_daily", "int_pair_sessions", "fct_relative_streaks", "fct_sector_returns"]
DUCKDB_PHASES = ["ingest", "build", "publish", "refresh", "floor"]
# pandas' peak memory per price row: 6.5 GB measured for 22.6 M rows (3000x30).
PANDAS_BYTES_PER_ROW = 290
PANDAS_RAM_SHARE = 0.7  # pandas is skipped when its estimated peak is above this share of the machine's RAM
GB = 1024**3


class PhaseFailed(Exception):
    def __init__(self, phase: str, message: str):
        super().__init__(message)
        self.phase = phase


class NotMeasured(Exception):
    """A target's figure is missing: the reason."""


@dataclass(frozen=True)
class Target:
    label: str
    scales: tuple[str, ...]  # the scales its value comes from
    sign: str  # "<=" (at most) or ">=" (at least)
    limit: float
    unit: str
    value: Callable[[Callable[[str, str, str], float]], float]  # from get(scale, phase, figure)


TARGETS = [
    Target("daily refresh growth: refresh 3000x30 / refresh 3000x10", ("3000x10", "3000x30"), "<=", 1.25, "x",
           lambda get: get("3000x30", "refresh", "seconds") / get("3000x10", "refresh", "seconds")),
    Target("daily refresh at 3000x30, end to end", ("3000x30",), "<=", 8.0, "s",
           lambda get: get("3000x30", "refresh", "seconds")),
    Target("pandas / daily refresh at 3000x30", ("3000x30",), ">=", 4.0, "x",
           lambda get: get("3000x30", "pandas", "seconds") / get("3000x30", "refresh", "seconds")),
    Target("pandas / full dbt build at 3000x30", ("3000x30",), ">=", 1.0, "x",
           lambda get: get("3000x30", "pandas", "seconds") / get("3000x30", "build", "seconds")),
    Target("full dbt build / floor at 3000x30", ("3000x30",), "<=", 1.3, "x",
           lambda get: get("3000x30", "build", "seconds") / get("3000x30", "floor", "seconds")),
    Target(f"peak RSS of every DuckDB phase at 3000x30 ({', '.join(DUCKDB_PHASES)})", ("3000x30",), "<=", 4.0, "GB",
           lambda get: max(get("3000x30", phase, "rss") for phase in DUCKDB_PHASES)),
]
# Two more targets, evaluated apart: this scale completes (every phase) under the DuckDB memory limit,
# and the cross-check agrees at every scale of the sweep.
COMPLETES_AT = "10000x30"


def scale_name(spec: ScaleSpec) -> str:
    return f"{spec.tickers}x{spec.years}"


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
        raise PhaseFailed(name, f"phase {name} failed (exit {child.returncode}); see {out_path}:\n{tail}")
    return seconds, usage.ru_maxrss / 1024**2, stdout  # ru_maxrss is in KiB on Linux


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def node_seconds(run_results: Path) -> dict[str, float]:
    results = json.loads(run_results.read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results if r["unique_id"].startswith("model.")}


def total_ram() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def pandas_skip_reason(price_rows: int, ram: int) -> str | None:
    """Why pandas is left out at this size, or None when its estimated peak fits."""
    estimate = price_rows * PANDAS_BYTES_PER_ROW
    if estimate <= PANDAS_RAM_SHARE * ram:
        return None
    return (f"its estimated peak, {estimate / GB:.1f} GB ({price_rows:,} price rows x {PANDAS_BYTES_PER_ROW} bytes), "
            f"is over {PANDAS_RAM_SHARE:.0%} of this machine's {ram / GB:.1f} GB of RAM")


def scale_env(spec: ScaleSpec, folder: Path, memory_limit: str) -> dict:
    """The environment of a scale's phases: its warehouse, universe, market cache, dbt and Dagster folders."""
    warehouse = folder / "bench.duckdb"
    return {
        # Without DAGSTER_HOME, the runs go to the bench warehouse's own Dagster instance beside it
        # (config.dagster_home), as for any warehouse but the default: out of the project's run history.
        **{key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"},
        "ROTATION_WAREHOUSE": str(warehouse),
        "ROTATION_SEEDS": str(folder / "seeds"),
        "ROTATION_SOURCE": "demo",
        "ROTATION_VALUATION_SOURCE": "files",  # the market at scale has no valuations: load only given files
        "BENCH_SCALE": scale_name(spec),
        "BENCH_DEMO_END": spec.sessions().date[-2].isoformat(),
        "ROTATION_DUCKDB_MEMORY_LIMIT": memory_limit,
        "BENCH_MARKET_CACHE": str(folder / "market"),
        "ROTATION_DBT_WAREHOUSE": str(warehouse),
        "ROTATION_DBT_SEEDS": os.path.relpath(folder / "seeds", config.DBT_PROJECT_DIR),
        # The warehouse's own target folder, as `rotation run` uses: the refresh finds the full build's parse
        # cache there and parses nothing, as every run after a warehouse's first does.
        "DBT_TARGET_PATH": str(config.dbt_target_folder(warehouse)),
        "DBT_LOG_PATH": str(folder / "logs"),
        "BENCH_FOLDER": str(folder),
    }


def refresh_parts(timings: dict, wall_seconds: float) -> dict[str, float]:
    """The refresh's wall time split: before the run (Python start, imports, definitions, the Dagster
    instance; with the process's exit), each step of the run, dbt's own time within its step, and the rest
    of the run (between and after its steps, and printing its report)."""
    steps = timings["steps"]
    in_run = timings["finished"] - timings["run_start"]
    parts = {"before the run": wall_seconds - in_run, **steps}
    if "rotation_dbt_assets" in steps:
        parts["(dbt's own run, within rotation_dbt_assets)"] = timings["dbt_own_s"]
    parts["rest of the run"] = in_run - sum(steps.values())
    return parts


def run_scale(spec: ScaleSpec, folder: Path, args: argparse.Namespace, ram: int) -> dict:
    """Every phase at one scale, in `folder`; prints a line per phase and returns the scale's figures.

    A failed phase ends the scale: its figures then name the phase ("failed")."""
    name = scale_name(spec)

    def say(text: str) -> None:
        print(f"[{name}] {text}", flush=True)

    folder.mkdir(parents=True)
    write_universe(spec, folder / "seeds")
    sessions = spec.sessions().date
    env = scale_env(spec, folder, args.memory_limit)
    python = [sys.executable, "-m", "bench.phases"]
    figures: dict = {"tickers": spec.tickers, "years": spec.years, "sessions": len(sessions)}
    say(f"{spec.tickers} tickers x {spec.years} years ({len(sessions)} sessions, {sessions[0]} to {sessions[-1]})")
    try:
        seconds, rss, out = run_phase("ingest", [*python, "ingest"], env, folder)
        ingest = figures["ingest"] = {**last_json(out), "seconds": seconds, "rss": rss}
        figures["price_rows"] = ingest["rows"]
        say(f"ingest: {ingest['rows']:,} rows in {ingest['ingest_s']:.1f} s = {ingest['rows'] / ingest['ingest_s']:,.0f} rows/s "
            f"into raw (generation {ingest['generate_s']:.1f} s); peak RSS {rss:.2f} GB")

        project = str(config.DBT_PROJECT_DIR)
        dbt = [str(BIN / "dbt"), "build", "--exclude-resource-type", "unit_test", "--project-dir", project,
               "--profiles-dir", project, "--quiet"]
        seconds, rss, _ = run_phase("build", dbt, env, folder)
        nodes = node_seconds(Path(env["DBT_TARGET_PATH"]) / "run_results.json")
        build = figures["build"] = {"seconds": seconds, "rss": rss, "marts_s": sum(nodes.get(n, 0.0) for n in MART_NODES),
                                    "nodes": nodes}
        say(f"full dbt build: {seconds:.1f} s (the three marts' models: {build['marts_s']:.1f} s); peak RSS {rss:.2f} GB")
        slowest = sorted(nodes.items(), key=lambda item: -item[1])[:6]
        say("slowest dbt models in the full build: " + ", ".join(f"{node} {s:.1f} s" for node, s in slowest))

        if not args.skip_refresh:
            seconds, rss, out = run_phase("publish", [*python, "publish"], env, folder)
            figures["publish"] = {**last_json(out), "rss": rss}
            say(f"first serving snapshot (as the first run publishes it): {figures['publish']['seconds']:.1f} s; "
                f"peak RSS {rss:.2f} GB")
            env["BENCH_DEMO_END"] = sessions[-1].isoformat()
            seconds, rss, out = run_phase("refresh", [sys.executable, "-m", "bench.refresh"], env, folder)
            figures["refresh"] = {"seconds": seconds, "rss": rss, "output": out.strip().splitlines()}
            figures["price_rows"] += spec.tickers  # the refresh adds the last session for every ticker
            say(f"daily refresh (rotation run, one new session x {spec.tickers} tickers): {seconds:.1f} s; "
                f"peak RSS {rss:.2f} GB")
            for line in out.strip().splitlines():
                if line.startswith("raw.prices_daily"):
                    say(f"  {line}")
            figures["refresh"]["parts"] = parts = refresh_parts(last_json(out), seconds)
            say("  where the time went: " + ", ".join(f"{part} {s:.1f} s" for part, s in parts.items()))

        seconds, rss, out = run_phase("floor", [*python, "floor"], env, folder)
        figures["floor"] = {**last_json(out), "rss": rss}
        say(f"floor (hand-written DuckDB SQL, three marts): {figures['floor']['seconds']:.1f} s; peak RSS {rss:.2f} GB")

        skipped = "--skip-pandas given" if args.skip_pandas else pandas_skip_reason(figures["price_rows"], ram)
        if skipped:
            figures["pandas_skipped"] = skipped
            say(f"pandas: skipped: {skipped}")
        else:
            seconds, rss, out = run_phase("pandas", [*python, "pandas"], env, folder)
            figures["pandas"] = {**last_json(out), "rss": rss}
            say(f"pandas (three marts, incl. {figures['pandas']['load_s']:.1f} s to load the prices): "
                f"{figures['pandas']['seconds']:.1f} s; peak RSS {rss:.2f} GB")

        _, _, out = run_phase("check", [*python, "check"], env, folder)
        check = figures["check"] = last_json(out)
        if "pandas" in figures and "pandas" not in check["compared"]:
            check["agree"] = False
            check["disagreements"].append("pandas ran but its sample files are missing: compared with the floor only")
        sampled = ", ".join(f"{mart} {rows}" for mart, rows in check["sampled_rows"].items())
        who = "dbt, floor SQL and pandas" if "pandas" in check["compared"] else "dbt and floor SQL (pandas skipped: floor only)"
        say(f"cross-check of {who} on a sample ({sampled} rows): " + ("agree" if check["agree"] else "DISAGREE"))
        for problem in check["disagreements"]:
            say(f"  {problem}")
    except PhaseFailed as error:
        figures["failed"] = {"phase": error.phase, "error": str(error)}
        say(f"FAILED: {error}")
    (folder / "figures.json").write_text(json.dumps(figures, indent=2, default=float))
    return figures


def clean_scale(folder: Path) -> None:
    """Delete a scale's data (warehouse, serving snapshot, market cache, floor database); keep its logs and figures."""
    for name in ("bench.duckdb", "bench.duckdb.wal", "bench.duckdb.lock", "floor.duckdb", "floor.duckdb.wal"):
        (folder / name).unlink(missing_ok=True)
    for data in ("serving", "market"):
        shutil.rmtree(folder / data, ignore_errors=True)


def figure(scales: dict[str, dict], scale: str, phase: str, key: str) -> float | None:
    return scales.get(scale, {}).get(phase, {}).get(key)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def verdict(value: float, sign: str, limit: float) -> str:
    if (value <= limit) if sign == "<=" else (value >= limit):
        return "met"
    if sign == "<=":
        return f"MISSED by {value / limit:.2f}x"
    return f"MISSED by {limit / value:.2f}x" if value else "MISSED"


def evaluate_targets(scales: dict[str, dict], memory_limit: str) -> list[dict]:
    """Each target with its measured value ("measured", and "shown" as printed) and its verdict."""
    def get(scale: str, phase: str, key: str) -> float:
        value = figure(scales, scale, phase, key)
        if value is not None:
            return value
        if scale not in scales:
            raise NotMeasured(f"{scale} not in the sweep")
        if "failed" in scales[scale]:
            raise NotMeasured(f"{scale} failed at {scales[scale]['failed']['phase']}")
        raise NotMeasured(f"{phase} skipped at {scale}")

    def result(label: str, target_scales, limit: str, measured, shown: str, outcome: str, note: str | None = None) -> dict:
        row = {"target": label, "scales": list(target_scales), "limit": limit, "measured": measured, "shown": shown,
               "verdict": outcome}
        return {**row, "note": note} if note else row

    results = []
    for target in TARGETS:
        limit = f"{target.sign} {target.limit:g} {target.unit}"
        try:
            value = target.value(get)
        except NotMeasured as reason:
            results.append(result(target.label, target.scales, limit, None, "-", "not measured", str(reason)))
            continue
        results.append(result(target.label, target.scales, limit, value, f"{value:.2f} {target.unit}",
                              verdict(value, target.sign, target.limit)))

    label = f"{COMPLETES_AT} completes, every phase, under the DuckDB memory limit ({memory_limit})"
    figures = scales.get(COMPLETES_AT)
    if figures is None:
        results.append(result(label, [COMPLETES_AT], "every phase", None, "-", "not measured", f"{COMPLETES_AT} not in the sweep"))
    elif "failed" in figures:
        shown = f"failed at {figures['failed']['phase']}"
        results.append(result(label, [COMPLETES_AT], "every phase", shown, shown, "MISSED"))
    else:
        peak = max(figure(scales, COMPLETES_AT, phase, "rss") or 0.0 for phase in DUCKDB_PHASES)
        shown = f"completed, DuckDB phases' peak RSS {peak:.2f} GB"
        shown += ", pandas skipped" if "pandas_skipped" in figures else ""
        shown += ", refresh skipped (--skip-refresh)" if "refresh" not in figures else ""
        results.append(result(label, [COMPLETES_AT], "every phase", shown, shown, "met"))

    label = "the cross-check agrees at every scale"
    disagree = [name for name, figures in scales.items() if not figures.get("check", {}).get("agree", True)]
    unchecked = [name for name, figures in scales.items() if "check" not in figures]
    shown = f"agree at {sum(figures.get('check', {}).get('agree', False) for figures in scales.values())} of {len(scales)}"
    if disagree:
        results.append(result(label, list(scales), "every scale", shown, shown, f"MISSED: DISAGREE at {', '.join(disagree)}"))
    elif unchecked:
        results.append(result(label, list(scales), "every scale", None, shown, "not measured",
                              f"no cross-check at {', '.join(unchecked)}"))
    else:
        results.append(result(label, list(scales), "every scale", shown, shown, "met"))
    return results


def growth(scales: dict[str, dict]) -> list[dict]:
    """Ratios between consecutive scales of the sweep (the later one over the earlier one)."""
    names = list(scales)
    rows = []
    for before, after in zip(names, names[1:]):
        rows.append({
            "from": before, "to": after,
            "rows": ratio(scales[after].get("price_rows"), scales[before].get("price_rows")),
            **{phase: ratio(figure(scales, after, phase, "seconds"), figure(scales, before, phase, "seconds"))
               for phase in ("build", "refresh", "floor", "pandas")},
        })
    return rows


def print_table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> None:
    """Columns padded to their widest cell; those in `left` aligned left, the others right."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell.ljust(width) if i in left else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())


def print_summary(scales: dict[str, dict], ratios: list[dict], targets: list[dict]) -> None:
    def cell(scale: str, phase: str, key: str, shown: str = "{:.1f}") -> str:
        value = figure(scales, scale, phase, key)
        if value is not None:
            return shown.format(value)
        if phase == "pandas" and "pandas_skipped" in scales[scale]:
            return "skipped"
        return "-"

    def status_cell(scale: str) -> str:
        figures = scales[scale]
        if "failed" in figures:
            return f"FAILED at {figures['failed']['phase']}"
        return "ok, pandas skipped" if "pandas_skipped" in figures else "ok"

    def check_cell(scale: str) -> str:
        figures = scales[scale]
        if "check" not in figures:
            return "-"
        agree = "agree" if figures["check"]["agree"] else "DISAGREE"
        return agree if "pandas" in figures["check"]["compared"] else f"{agree} (floor only)"

    names = list(scales)
    rows = [
        ["phases", *(status_cell(s) for s in names)],
        ["price rows", *(f"{scales[s]['price_rows']:,}" if "price_rows" in scales[s] else "-" for s in names)],
        ["full dbt build, s", *(cell(s, "build", "seconds") for s in names)],
        ["the three marts' models, s", *(cell(s, "build", "marts_s") for s in names)],
        ["daily refresh, s", *(cell(s, "refresh", "seconds") for s in names)],
        ["floor SQL, s", *(cell(s, "floor", "seconds") for s in names)],
        ["pandas, s", *(cell(s, "pandas", "seconds") for s in names)],
        *([f"peak RSS {phase}, GB", *(cell(s, phase, "rss", "{:.2f}") for s in names)]
          for phase in ("ingest", "build", "publish", "refresh", "floor", "pandas")),
        ["cross-check", *(check_cell(s) for s in names)],
    ]
    print()
    print_table(["scale", *names], rows)
    if ratios:
        print("\ngrowth between consecutive scales")
        shown = lambda value: "-" if value is None else f"{value:.2f}x"  # noqa: E731
        labels = [("rows", "price rows"), ("build", "full dbt build"), ("refresh", "daily refresh"), ("floor", "floor SQL"),
                  ("pandas", "pandas")]
        print_table(["ratio", *(f"{r['from']} -> {r['to']}" for r in ratios)],
                    [[label, *(shown(r[key]) for r in ratios)] for key, label in labels])
    print("\ntargets (each from this run's figures at the scales named)")
    print_table(["target", "measured", "target", "verdict"],
                [[t["target"], t["shown"], t["limit"], t["verdict"] + (f" ({t['note']})" if "note" in t else "")]
                 for t in targets], left=(0, 3))


def chosen_scales(args: argparse.Namespace) -> tuple[str, str]:
    """(the scales to run, where they were given): the options, then the environment, then the default sweep."""
    if args.scales:
        return args.scales, f"--scales {args.scales}"
    env_tickers, env_years = os.environ.get("BENCH_TICKERS"), os.environ.get("BENCH_YEARS")
    if args.tickers is not None or args.years is not None:
        scale = f"{args.tickers or env_tickers or 3000}x{args.years or env_years or 30}"
        return scale, f"--tickers/--years ({scale})"
    if os.environ.get("BENCH_SCALES", "").strip():
        return os.environ["BENCH_SCALES"], f"BENCH_SCALES={os.environ['BENCH_SCALES']}"
    if env_tickers or env_years:
        scale = f"{env_tickers or 3000}x{env_years or 30}"
        return scale, f"BENCH_TICKERS/BENCH_YEARS ({scale})"
    return DEFAULT_SCALES, "the default sweep"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", help=f"comma-separated TICKERSxYEARS, run in this order (default {DEFAULT_SCALES}; "
                                         "10000x30 is opt-in: add it here)")
    parser.add_argument("--tickers", type=int, help="one scale of this many tickers (default 3000; --scales wins)")
    parser.add_argument("--years", type=int, help="one scale of this many years (default 30; --scales wins)")
    parser.add_argument("--memory-limit", default=os.environ.get("BENCH_MEMORY_LIMIT", "3GB"),
                        help="DuckDB memory_limit for ingest, dbt and the floor (default 3GB)")
    parser.add_argument("--folder", type=Path, default=config.PROJECT_ROOT / "warehouse" / "bench",
                        help="where the scales' folders (warehouse, universe, logs) and figures.json go (default warehouse/bench)")
    parser.add_argument("--keep", action="store_true",
                        help="keep each scale's warehouse, serving snapshot, market cache and floor database")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas comparison at every scale")
    parser.add_argument("--skip-refresh", action="store_true", help="leave out the daily refresh through Dagster")
    args = parser.parse_args(argv)

    text, given_by = chosen_scales(args)
    try:
        specs = parse_scales(text)
    except ValueError as error:
        parser.error(f"{given_by}: {error}")
    folder = args.folder.resolve()
    if not folder.is_relative_to(config.PROJECT_ROOT) or folder == config.PROJECT_ROOT:
        parser.error(f"--folder must be a folder inside the project ({config.PROJECT_ROOT}): it holds the bench universe seeds")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ram = total_ram()
    print(f"Bench sweep: {', '.join(scale_name(s) for s in specs)}; DuckDB memory_limit {args.memory_limit}, "
          f"{os.cpu_count()} cores, {ram / GB:.1f} GB RAM", flush=True)

    scales: dict[str, dict] = {}
    for spec in specs:
        name = scale_name(spec)
        scales[name] = run_scale(spec, folder / name, args, ram)
        if not args.keep:
            clean_scale(folder / name)
        if "failed" in scales[name]:
            left = [scale_name(s) for s in specs[specs.index(spec) + 1:]]
            if left:
                print(f"the sweep stops at {name}; not run: {', '.join(left)}", flush=True)
            break

    ratios = growth(scales)
    targets = evaluate_targets(scales, args.memory_limit)
    print_summary(scales, ratios, targets)
    (folder / "figures.json").write_text(json.dumps(
        {"memory_limit": args.memory_limit, "cores": os.cpu_count(), "ram_gb": ram / GB, "scales": scales, "growth": ratios,
         "targets": targets},
        indent=2, default=float))

    failed = [(name, figures["failed"]["phase"]) for name, figures in scales.items() if "failed" in figures]
    disagree = [name for name, figures in scales.items() if not figures.get("check", {}).get("agree", True)]
    if failed:
        print("\n" + "; ".join(f"FAILED: scale {name}, phase {phase}" for name, phase in failed), file=sys.stderr)
        return 2
    if disagree:
        print(f"\nthe cross-check DISAGREES at {', '.join(disagree)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
