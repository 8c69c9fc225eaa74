"""Every setting of the project, read from environment variables with documented defaults.

ROTATION_WAREHOUSE  path of the writer's DuckDB file   (default: warehouse/rotation.duckdb under the project)
ROTATION_SOURCE     price source: demo | files | yahoo  (default: demo)
ROTATION_FILES      price files or folders for the files source, separated by the OS path separator (':' on Linux)
ROTATION_QUARANTINE where rejected price files are moved (default: quarantine/ beside the warehouse file)
ROTATION_YAHOO_URL  send the yahoo source's requests to this server instead of Yahoo's own hosts, keeping
                    paths and queries (a mirror or caching proxy of the chart API; the tests use a local
                    stand-in). Default: unset, Yahoo itself.
ROTATION_SEEDS      folder of the universe seed CSVs, read by ingest and dbt (default: dbt_project/seeds)
ROTATION_DUCKDB_MEMORY_LIMIT  DuckDB memory_limit for ingest and dbt, e.g. 3GB (default: DuckDB's own, 80 % of RAM)
ROTATION_SERVING    the readers' snapshot folder (default: serving/<warehouse name>/ beside the warehouse file)
DAGSTER_HOME        Dagster's instance folder (default: the project folder for the default warehouse, so
                    the UI shows its runs; <warehouse file>.dagster/ beside any other warehouse)
ROTATION_DEMO_END_DATE  the demo market's last session, YYYY-MM-DD (default: the demo's own end, 2026-11-20);
                    an earlier date, then none, lands the demo up to one session and then the next one

Engine (where dbt builds the models; the ingest and the readers always use the DuckDB warehouse):
ROTATION_ENGINE     duckdb | spark (default: duckdb). With spark, the raw tables are exported as Parquet, dbt
                    builds on a Spark Thrift server, and the marts are copied back into the DuckDB warehouse.
ROTATION_SPARK_RAW  folder (absolute path or URI) of the raw tables' Parquet, as the Spark server sees it
                    (default: spark/<warehouse name>/raw/ beside the warehouse file)
ROTATION_SPARK_HOST, ROTATION_SPARK_PORT, ROTATION_SPARK_USER  the Spark Thrift server
                    (defaults: 127.0.0.1, 10001, rotation; the same defaults as dbt_project/profiles.yml)

Valuations and guidance:
ROTATION_VALUATION_SOURCE    demo | yahoo | files; default: demo beside demo prices, else files
ROTATION_MEMBERSHIP_FILES    index-membership CSVs (files source), separated like ROTATION_FILES
ROTATION_VALUATION_FILES     valuation-snapshot CSVs (files source), separated like ROTATION_FILES
ROTATION_VALUATION_HISTORY   imported index forward P/E history CSVs, separated like ROTATION_FILES
ROTATION_GUIDANCE_LANDING    folder watched for guidance files (default: warehouse/landing/guidance/)
ROTATION_CLAIMS_LANDING      folder watched for claims files (default: warehouse/landing/claims/)
ROTATION_YAHOO_INFO_PAUSE    seconds between two yfinance info requests (default: 0.5)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
RAW_DDL_FILE = PROJECT_ROOT / "warehouse" / "raw_schema.sql"

SOURCES = ("demo", "files", "yahoo")
DEFAULT_SOURCE = "demo"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "rotation.duckdb"
# dbt's profile reads the warehouse from this variable; it always holds an absolute path.
DBT_WAREHOUSE_ENV = "ROTATION_DBT_WAREHOUSE"
# dbt_project.yml reads its seed folder from this variable (absolute path).
DBT_SEEDS_ENV = "ROTATION_DBT_SEEDS"
ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
# dbt's profile picks its target from this variable, and the on-run-start macro reads the raw Parquet folder from the other.
ENGINE_ENV = "ROTATION_ENGINE"
SPARK_RAW_ENV = "ROTATION_SPARK_RAW"


def warehouse_path() -> Path:
    configured = os.environ.get("ROTATION_WAREHOUSE")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_WAREHOUSE


def source_name() -> str:
    source = os.environ.get("ROTATION_SOURCE", DEFAULT_SOURCE)
    if source not in SOURCES:
        raise ValueError(f"ROTATION_SOURCE={source!r} is not a known source; use one of {', '.join(SOURCES)}")
    return source


def source_files() -> list[str]:
    configured = os.environ.get("ROTATION_FILES", "")
    return [part for part in configured.split(os.pathsep) if part]


def yahoo_base_url() -> str | None:
    return os.environ.get("ROTATION_YAHOO_URL") or None


def quarantine_folder() -> Path:
    configured = os.environ.get("ROTATION_QUARANTINE")
    return Path(configured).expanduser().resolve() if configured else warehouse_path().parent / "quarantine"


def seeds_dir() -> Path:
    configured = os.environ.get("ROTATION_SEEDS")
    if not configured:
        return SEEDS_DIR
    path = Path(configured).expanduser().resolve()
    # dbt writes each seed's load statement to target/run/<project>/<seed path>: a folder outside the
    # project would make that path the seed file itself.
    if not path.is_relative_to(PROJECT_ROOT):
        raise ValueError(f"ROTATION_SEEDS={configured!r} must be a folder inside the project ({PROJECT_ROOT})")
    return path


def duckdb_settings() -> dict[str, str]:
    """Settings for every DuckDB connection the project opens on warehouse data (the memory limit, when set)."""
    limit = os.environ.get("ROTATION_DUCKDB_MEMORY_LIMIT")
    return {"memory_limit": limit} if limit else {}


def warehouse_name() -> str:
    """The warehouse file's name without its extension: `rotation` for warehouse/rotation.duckdb."""
    return warehouse_path().stem


def serving_folder() -> Path:
    """Where the read-only snapshot of the marts is published for readers (SQL, dashboard, BI): one folder
    per warehouse, so a second warehouse (e.g. for real data) never replaces the first one's snapshot."""
    configured = os.environ.get("ROTATION_SERVING")
    if configured:
        return Path(configured).expanduser().resolve()
    return warehouse_path().parent / "serving" / warehouse_name()


def dagster_home() -> Path:
    """The Dagster instance (run history, schedules) for runs on the current warehouse: DAGSTER_HOME when
    set; else the project folder (its dagster.yaml, history in .dagster/) for the default warehouse, and
    `<warehouse file>.dagster/` beside any other, so two warehouses never share a run history."""
    configured = os.environ.get("DAGSTER_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    if warehouse_path() == DEFAULT_WAREHOUSE:
        return PROJECT_ROOT
    home = warehouse_path().with_name(f"{warehouse_path().name}.dagster")
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        import yaml

        # The project's settings without its storage folders, so Dagster keeps this history here.
        shared = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
        for key in ("storage", "local_artifact_storage", "compute_logs"):
            shared.pop(key, None)
        settings.write_text(f"# Dagster settings for the runs on {warehouse_path().name}: the project's dagster.yaml "
                            "without its storage folders.\n" + yaml.safe_dump(shared, sort_keys=False))
    return home


def dbt_target_folder(warehouse: Path | None = None) -> Path:
    """dbt's target folder for runs on the current warehouse (or the one given) and engine: its compiled SQL,
    run results and parse cache. One per warehouse and engine, because dbt's parse cache is only valid for the
    profile (and target) that wrote it, and the profile names the warehouse: the next run parses only what changed."""
    path = warehouse or warehouse_path()
    suffix = ".dbt" if engine() == "duckdb" else f".dbt-{engine()}"
    return path.with_name(path.name + suffix)


def export_warehouse_for_dbt() -> Path:
    """Point dbt's profile at the current engine, warehouse, seeds and raw Parquet folder (absolute paths)
    and return the warehouse."""
    path = warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ[ENGINE_ENV] = engine()  # profiles.yml picks its target from it
    os.environ[DBT_WAREHOUSE_ENV] = str(path)
    os.environ[DBT_SEEDS_ENV] = os.path.relpath(seeds_dir(), DBT_PROJECT_DIR)
    os.environ[SPARK_RAW_ENV] = spark_raw_folder()
    return path


def date_from_env(variable: str) -> date | None:
    """The date an environment variable holds (YYYY-MM-DD), or None when it is unset or empty."""
    configured = os.environ.get(variable, "").strip()
    if not configured:
        return None
    try:
        return date.fromisoformat(configured)
    except ValueError:
        raise ValueError(f"{variable}={configured!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-19") from None


def demo_end_date() -> date:
    """The demo market's last session (ROTATION_DEMO_END_DATE, else the demo's own end)."""
    from orchestration.extract.demo import DEMO_END_DATE

    return date_from_env("ROTATION_DEMO_END_DATE") or DEMO_END_DATE


# --- engine ------------------------------------------------------------------------------------


def engine() -> str:
    """Where dbt builds the models: duckdb (the warehouse file itself) or spark (a Spark Thrift server)."""
    name = os.environ.get(ENGINE_ENV, "").strip() or DEFAULT_ENGINE
    if name not in ENGINES:
        raise ValueError(f"{ENGINE_ENV}={name!r} is not a known engine; use one of {', '.join(ENGINES)} "
                         f"(unset, it is {DEFAULT_ENGINE})")
    return name


def spark_raw_folder() -> str:
    """The folder (or URI) where the raw tables are written as Parquet for Spark: ROTATION_SPARK_RAW, else
    spark/<warehouse name>/raw/ beside the warehouse file. A local path is made absolute; a URI is kept."""
    configured = os.environ.get(SPARK_RAW_ENV, "").strip()
    if configured and "://" in configured:
        return configured
    if configured:
        return str(Path(configured).expanduser().resolve())
    return str(warehouse_path().parent / "spark" / warehouse_name() / "raw")


@dataclass(frozen=True)
class SparkConnection:
    host: str
    port: int
    user: str


def spark_connection_settings() -> SparkConnection:
    """The Spark Thrift server dbt and the mart import talk to (defaults as in dbt_project/profiles.yml)."""
    port = os.environ.get("ROTATION_SPARK_PORT", "").strip() or "10001"
    if not port.isdigit():
        raise ValueError(f"ROTATION_SPARK_PORT={port!r} is not a port number; use e.g. 10001")
    return SparkConnection(
        host=os.environ.get("ROTATION_SPARK_HOST", "").strip() or "127.0.0.1",
        port=int(port),
        user=os.environ.get("ROTATION_SPARK_USER", "").strip() or "rotation",
    )


# --- valuations and guidance -------------------------------------------------------------------

VALUATION_SOURCES = ("demo", "yahoo", "files")
DEFAULT_GUIDANCE_LANDING = PROJECT_ROOT / "warehouse" / "landing" / "guidance"
DEFAULT_CLAIMS_LANDING = PROJECT_ROOT / "warehouse" / "landing" / "claims"
DEFAULT_YAHOO_INFO_PAUSE = 0.5


def _path_list(variable: str) -> list[str]:
    return [part for part in os.environ.get(variable, "").split(os.pathsep) if part]


def valuation_source() -> str | None:
    """The configured valuation source, or None to follow the prices (demo beside demo prices, else files)."""
    source = os.environ.get("ROTATION_VALUATION_SOURCE")
    if source and source not in VALUATION_SOURCES:
        raise ValueError(
            f"ROTATION_VALUATION_SOURCE={source!r} is not a known source; use one of {', '.join(VALUATION_SOURCES)}"
        )
    return source or None


def membership_files() -> list[str]:
    return _path_list("ROTATION_MEMBERSHIP_FILES")


def valuation_files() -> list[str]:
    return _path_list("ROTATION_VALUATION_FILES")


def valuation_history_files() -> list[str]:
    return _path_list("ROTATION_VALUATION_HISTORY")


def guidance_landing_folder() -> Path:
    configured = os.environ.get("ROTATION_GUIDANCE_LANDING")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_GUIDANCE_LANDING


def claims_landing_folder() -> Path:
    configured = os.environ.get("ROTATION_CLAIMS_LANDING")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_CLAIMS_LANDING


def yahoo_info_pause() -> float:
    return float(os.environ.get("ROTATION_YAHOO_INFO_PAUSE", DEFAULT_YAHOO_INFO_PAUSE))
