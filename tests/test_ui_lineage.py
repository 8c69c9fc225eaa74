"""The Dagster UI's own API (the webserver `make ui` starts) shows one connected lineage graph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from local_servers import free_port, running

QUERY = "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }"
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def post_graphql(url: str, query: str = QUERY) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    port = free_port()
    bin_folder = Path(sys.executable).parent
    env = {**os.environ, "DAGSTER_HOME": str(home), "ROTATION_WAREHOUSE": str(home / "rotation.duckdb"),
           "VIRTUAL_ENV": str(bin_folder.parent), "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    # The command `make ui` runs.
    command = [str(bin_folder / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/graphql"
    found = {}

    def graph_loaded() -> bool:
        found["nodes"] = post_graphql(url)["data"]["assetNodes"]
        return bool(found["nodes"])

    with running(command, graph_loaded, env, cwd=PROJECT_ROOT, timeout=120):
        entries = post_graphql(url, LOCATIONS)["data"]["workspaceOrError"]["locationEntries"]
        found["locations"] = [entry["name"] for entry in entries]
        yield {"nodes": {"/".join(n["assetKey"]["path"]): n for n in found["nodes"]}, "locations": found["locations"]}


@pytest.fixture(scope="module")
def asset_nodes(ui):
    return ui["nodes"]


def test_code_location_is_named_rotation(ui):
    assert ui["locations"] == ["rotation"]


def test_every_layer_is_in_the_graph(asset_nodes):
    groups = {key: node["groupName"] for key, node in asset_nodes.items()}
    assert groups["raw/prices_daily"] == "ingest"
    assert groups["staging/stg_prices_daily"] == "staging"
    assert groups["intermediate/int_pair_sessions"] == "intermediate"
    assert groups["marts/rotation_summary"] == "marts"
    assert groups["staging/universe_pairs"] == "universe"


def groups_of(asset_nodes, group: str) -> set[str]:
    return {key for key, node in asset_nodes.items() if node["groupName"] == group}


def test_marts_descend_from_the_ingest_asset(asset_nodes):
    parents = {key: {"/".join(d["path"]) for d in node["dependencyKeys"]} for key, node in asset_nodes.items()}
    assert parents["staging/stg_prices_daily"] == {"raw/prices_daily"}

    def ancestors(key: str) -> set[str]:
        found = set()
        for parent in parents.get(key, ()):
            found |= {parent} | ancestors(parent)
        return found

    reference = {key for key, node in asset_nodes.items() if node["groupName"] in ("universe", "calendar")}
    for key in parents:
        if key.startswith("marts/"):
            assert "raw/prices_daily" in ancestors(key), f"{key} is not connected to the ingest asset"
        elif key.startswith("intermediate/"):  # or built on reference seeds alone (the last completed session)
            found = ancestors(key)
            assert "raw/prices_daily" in found or found <= reference, f"{key} is not connected to the ingest asset"
    assert groups_of(asset_nodes, "calendar") == {"staging/nyse_sessions"}


def test_serving_assets_follow_every_mart(asset_nodes):
    parents = {key: {"/".join(d["path"]) for d in node["dependencyKeys"]} for key, node in asset_nodes.items()}
    marts = {key for key in asset_nodes if key.startswith("marts/")}
    assert asset_nodes["serving/marts_snapshot"]["groupName"] == "serving"
    assert parents["serving/marts_snapshot"] == marts
    assert parents["serving/dashboard"] == {"serving/marts_snapshot"}


def test_dg_check_defs_passes():
    """`dg check defs`: Dagster's own check that the project's definitions and component files load."""
    bin_folder = Path(sys.executable).parent
    env = {**os.environ, "VIRTUAL_ENV": str(bin_folder.parent), "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([str(bin_folder / "dg"), "check", "defs"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "All definitions loaded successfully." in result.stdout + result.stderr
