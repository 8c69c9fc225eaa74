"""Every setting of the project, read from environment variables with documented defaults.

ROTATION_WAREHOUSE  path of the writer's DuckDB file   (default: warehouse/rotation.duckdb under the project)
ROTATION_SOURCE     price source: demo | files | yahoo  (default: demo)
ROTATION_FILES      price files or folders for the files source, separated by the OS path separator (':' on Linux)
ROTATION_QUARANTINE where rejected price files are moved (default: quarantine/ beside the warehouse file)
ROTATION_SERVING    the readers' snapshot folder (default: serving/ beside the warehouse file)
"""

from __future__ import annotations

import os
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


def quarantine_folder() -> Path:
    configured = os.environ.get("ROTATION_QUARANTINE")
    return Path(configured).expanduser().resolve() if configured else warehouse_path().parent / "quarantine"


def serving_folder() -> Path:
    """Where the read-only snapshot of the marts is published for readers (SQL, dashboard, BI)."""
    configured = os.environ.get("ROTATION_SERVING")
    return Path(configured).expanduser().resolve() if configured else warehouse_path().parent / "serving"


def export_warehouse_for_dbt() -> Path:
    """Point dbt's profile at the current warehouse (absolute path) and return it."""
    path = warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ[DBT_WAREHOUSE_ENV] = str(path)
    return path
