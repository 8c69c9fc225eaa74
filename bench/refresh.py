"""The benchmark's daily refresh: `rotation run`'s job, with the market at scale as its demo source.

The run goes through the same Dagster job and the same command-line execution as `rotation run`;
only the price-sources resource is replaced, so the market at scale adds the sessions after the
last one every ticker already has, up to BENCH_DEMO_END. Its last line is one JSON object of where the
time went: the run's steps as Dagster recorded them, and dbt's own time inside the dbt step.
"""

from __future__ import annotations

import json
import time

from bench import settings
from bench.scale_market import ScaleMarketSource
from orchestration import config
from orchestration.cli import execute_job
from orchestration.defs.resources import PriceSources
from orchestration.extract.base import PriceFetch
from orchestration.land.prices import last_session_per_ticker


class ScaleMarketPrices(PriceSources):
    def fetch(self, con, source, files, universe) -> PriceFetch:
        spec = settings.scale_spec()
        stored = last_session_per_ticker(con, "demo", universe.symbols)
        after = min(stored.values()) if len(stored) == len(universe.symbols) else None
        return PriceFetch(ScaleMarketSource(spec.tickers, spec.years, end_date=settings.demo_end_date(), after=after,
                                            cache=settings.market_cache()).fetch())


def where_the_time_went() -> dict:
    """The latest run's steps (seconds each), when it started, and dbt's own elapsed time."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run_id = instance.get_runs(limit=1)[0].run_id
        run = instance.get_run_stats(run_id)
        steps = {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(run_id)}
    run_results = json.loads((config.dbt_target_folder() / "run_results.json").read_text())
    return {"run_start": run.start_time, "steps": steps, "dbt_own_s": run_results["elapsed_time"]}


if __name__ == "__main__":
    execute_job("rotation_job", {"source": "demo", "files": None}, "Refreshing the market at scale",
                resources={"price_sources": ScaleMarketPrices()})
    print(json.dumps({"finished": time.time(), **where_the_time_went()}))
