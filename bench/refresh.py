"""The benchmark's daily refresh: `rotation run`'s job, with the market at scale as its demo source.

The run goes through the same Dagster job and the same command-line execution as `rotation run`;
only the price-sources resource is replaced, so the market at scale adds the sessions after the
last one every ticker already has, up to BENCH_DEMO_END.
"""

from __future__ import annotations

from bench import settings
from bench.scale_market import ScaleMarketSource
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


if __name__ == "__main__":
    execute_job("rotation_job", {"source": "demo", "files": None}, "Refreshing the market at scale",
                resources={"price_sources": ScaleMarketPrices()})
