import dagster as dg

from orchestration.dbt_assets import rotation_dbt_assets
from orchestration.ingest_assets import raw_prices_daily
from orchestration.quality_checks import price_quality_checks
from orchestration.resources import dbt_resource, warehouse_resource
from orchestration.schedules import daily_after_close, price_backfill_job, rotation_job
from orchestration.sensors import guidance_job, guidance_landing_sensor
from orchestration.serving_assets import dashboard_data, marts_snapshot
from orchestration.valuation_assets import raw_guidance, raw_valuations

defs = dg.Definitions(
    assets=[raw_prices_daily, raw_valuations, raw_guidance, rotation_dbt_assets, marts_snapshot, dashboard_data],
    asset_checks=price_quality_checks,
    jobs=[rotation_job, price_backfill_job, guidance_job],
    schedules=[daily_after_close],
    sensors=[guidance_landing_sensor],
    resources={"warehouse": warehouse_resource(), "dbt": dbt_resource()},
)
