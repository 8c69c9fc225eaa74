"""One writer per warehouse: runs take turns on the writer lock, and a foreign process holding the file
stops a run before any step, named with its PID."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from orchestration import config
from orchestration.defs.resources import WarehouseResource
from orchestration.warehouse_writer import WarehouseHeld, holder_file, wait_until_writable

ROTATION = str(Path(sys.executable).parent / "rotation")

# A job of one asset that writes the warehouse through the project's warehouse resource and holds it for
# argv[3] seconds: two of them started together must take turns (without the lock, the second fails on
# DuckDB's own file lock). The first holds it long enough for the second to start (a Python start with
# Dagster's imports takes a few seconds).
SLOW_WRITER = textwrap.dedent("""
    import sys, time
    import dagster as dg
    from orchestration.defs.resources import WarehouseResource

    @dg.asset
    def slow_write(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as con:
            con.execute("CREATE TABLE IF NOT EXISTS writes (who VARCHAR, written_at TIMESTAMP)")
            con.execute("INSERT INTO writes VALUES (?, now())", [sys.argv[2]])
            time.sleep(float(sys.argv[3]))

    job = dg.Definitions(assets=[slow_write], resources={"warehouse": WarehouseResource(database=sys.argv[1])},
                         executor=dg.in_process_executor).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        for entry in instance.all_logs(result.run_id):
            if entry.dagster_event is None and "waiting for" in entry.user_message:
                print(entry.user_message)
    print("success" if result.success else "failed")
""")


def hold_open(warehouse: Path) -> subprocess.Popen:
    """Another program holding the warehouse file open for writing, as a DuckDB client would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


def slow_writer(tmp_path: Path, warehouse: Path, who: str, seconds: float) -> list[str]:
    """The command line of a run of the slow writer job (SLOW_WRITER) on `warehouse`."""
    script = tmp_path / "slow_writer.py"
    script.write_text(SLOW_WRITER)
    return [sys.executable, str(script), str(warehouse), who, str(seconds)]


def start_holding(command: list[str], warehouse: Path) -> subprocess.Popen:
    """Start a run and return once it holds the warehouse's writer lock."""
    run = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)}, stdout=subprocess.PIPE, text=True)
    while not holder_file(warehouse).exists():
        time.sleep(0.1)
    return run


def test_two_runs_on_one_warehouse_take_turns(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first = start_holding(slow_writer(tmp_path, warehouse, "first", 8), warehouse)
    second = subprocess.run(slow_writer(tmp_path, warehouse, "second", 0), capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})
    first_out, _ = first.communicate(timeout=60)

    assert first_out.splitlines()[-1] == "success"
    assert second.stdout.splitlines()[-1] == "success", second.stdout + second.stderr
    assert second.stdout.startswith("w.duckdb: waiting for run ")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        order = [who for (who,) in con.execute("SELECT who FROM writes ORDER BY written_at").fetchall()]
    assert order == ["first", "second"]


def test_the_command_waits_for_the_current_writer_and_names_it(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first = start_holding(slow_writer(tmp_path, warehouse, "first", 3), warehouse)
    messages = []
    wait_until_writable(warehouse, messages.append)
    assert first.poll() is not None or not holder_file(warehouse).exists()  # it returned only once the run had finished
    first.communicate(timeout=60)
    assert len(messages) == 1 and messages[0].startswith("w.duckdb: waiting for run ")
    assert f"(process {first.pid}, started " in messages[0]


def test_a_foreign_process_holding_the_file_stops_the_command_before_any_step(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = hold_open(warehouse)
    try:
        env = {key: value for key, value in os.environ.items() if key not in ("DAGSTER_HOME", "ROTATION_SERVING")}
        result = subprocess.run([ROTATION, "run", "--warehouse", str(warehouse)], env=env, capture_output=True, text=True)
    finally:
        holder.kill()
    assert result.returncode == 1
    serving_file = tmp_path / "serving" / "w" / "current" / "rotation_marts.duckdb"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        rf"Error: {re.escape(str(warehouse))} is open in another process \(.+, PID {holder.pid}\), so no run can write "
        rf"it: close that program, and point DuckDB clients and BI tools at the serving snapshot "
        rf"{re.escape(str(serving_file))} \(or use `rotation sql`\), never at the warehouse file\.", lines[0])
    assert not (tmp_path / "w.duckdb.dagster").exists()  # no run was started


def test_a_run_launched_elsewhere_fails_before_its_first_step_with_the_same_words(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = hold_open(warehouse)
    try:
        resource = WarehouseResource(database=str(warehouse))
        with pytest.raises(dg.Failure, match=rf"open in another process \(.*, PID {holder.pid}\)"), \
                resource.yield_for_execution(dg.build_init_resource_context()):
            pass
        with pytest.raises(WarehouseHeld):
            wait_until_writable(warehouse, print)
    finally:
        holder.kill()
    assert not holder_file(warehouse).exists()  # the lock was released with its holder record


def test_the_run_queue_starts_one_run_per_warehouse(monkeypatch, tmp_path):
    limits = yaml.safe_load((config.PROJECT_ROOT / "dagster.yaml").read_text())["run_queue"]["tag_concurrency_limits"]
    assert limits == [{"key": "rotation/warehouse", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    # A warehouse other than the default gets its own instance, with the same queue and no shared storage.
    monkeypatch.setenv("ROTATION_WAREHOUSE", str(tmp_path / "real.duckdb"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = config.dagster_home()
    assert home == tmp_path / "real.duckdb.dagster"
    settings = yaml.safe_load((home / "dagster.yaml").read_text())
    assert settings["run_queue"]["tag_concurrency_limits"] == limits and "storage" not in settings
    assert config.serving_folder() == tmp_path / "serving" / "real"


def test_every_job_writing_the_warehouse_carries_its_tag():
    from orchestration.definitions import load_definitions

    definitions = load_definitions()
    for job in ("rotation_job", "price_backfill", "guidance_job"):
        assert definitions.resolve_job_def(job).tags["rotation/warehouse"] == str(config.warehouse_path())
