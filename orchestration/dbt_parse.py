"""`python -m orchestration.dbt_parse`: parse the dbt project into dbt_project/target (make prepare does it).

The Dagster definitions load the manifest it writes. The parse runs with the profile's variables set for
the configured warehouse (ROTATION_WAREHOUSE, else the default), as `rotation run` sets them, so its parse
cache (dbt_project/target/partial_parse.msgpack) also fits that warehouse's runs: the first run on a new
warehouse starts from it (defs/dbt.py) instead of parsing the whole project again.
"""

import os
import sys

from orchestration import config
from orchestration.defs.resources import dbt_executable


def main() -> None:
    config.export_warehouse_for_dbt()
    dbt = dbt_executable()
    project = str(config.DBT_PROJECT_DIR)
    os.execv(dbt, [dbt, "parse", "--project-dir", project, "--profiles-dir", project, *sys.argv[1:]])


if __name__ == "__main__":
    main()
