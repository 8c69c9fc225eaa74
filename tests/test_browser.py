"""Real-browser tests with the system chromium driven by Playwright: the dashboard and the Dagster UI.

Screenshots go to test-artifacts/ (gitignored). CI installs chromium (.ci/run); without it these tests skip.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from local_servers import answers, free_port, running

from orchestration.serve.snapshot import current_duckdb_file

PROJECT = Path(__file__).resolve().parents[1]
ARTIFACTS = PROJECT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; .ci/run does it)")


@contextmanager
def serving(command: list[str], url: str, env: dict, timeout: float = 180):
    """Start a server, wait until url answers, stop it afterwards; its output goes to test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"server-{Path(command[0]).name}-{int(time.time())}.log"
    with running(command, lambda: answers(url), env, log=log, cwd=PROJECT, timeout=timeout):
        yield


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": 1600, "height": 1000})
        finally:
            browser.close()


def as_percent(value: float) -> str:
    return f"{value * 100:+.2f} %"


def test_dashboard_page_shows_the_marts_figures(demo_serving, browser_page):
    with duckdb.connect(str(current_duckdb_file(demo_serving)), read_only=True) as con:
        s = con.execute("SELECT * FROM marts.rotation_summary ORDER BY date DESC LIMIT 1").df().iloc[0]
    port = free_port()
    env = {**os.environ, "ROTATION_SERVING": str(demo_serving)}
    command = [str(Path(sys.executable).parent / "streamlit"), "run", "dashboard/app.py", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with serving(command, f"http://127.0.0.1:{port}/_stcore/health", env):
        page = browser_page
        page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
        page.get_by_text("Magnificent 7 YTD, equal weight").wait_for(timeout=60_000)
        page.get_by_text("Year to date").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)  # let the charts draw for the screenshot
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        text = page.locator("body").inner_text()
    assert "Market Rotation" in text and "DEMO DATA" in text
    for figure in ("headline_index_1_return_ytd", "headline_index_2_return_ytd", "headline_index_3_return_ytd",
                   "cohort_return_ytd_equal_weight"):
        assert as_percent(s[figure]) in text, figure
    assert f"{s['top_sector']} {as_percent(s['top_sector_return_1d'])}" in text


def shown(name: str, labels: list[str]) -> bool:
    """The graph shortens long names in the middle (fct_relat…_streaks)."""
    for label in labels:
        if label == name:
            return True
        head, ellipsis, tail = label.partition("…")
        if ellipsis and name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail):
            return True
    return False


def test_dagster_ui_shows_every_asset_connected(tmp_path, browser_page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from orchestration.definitions import load_definitions

    expected = {key.path[-1] for key in load_definitions().resolve_asset_graph().get_all_asset_keys()}
    assert {"prices_daily", "stg_prices_daily", "rotation_summary", "marts_snapshot", "dashboard"} <= expected
    port = free_port()
    # The documented command, with an instance, warehouse and landing folder of the test's own (its daemon
    # runs the schedule and the sensor), so nothing reaches the project's run history.
    env = {**os.environ, "ROTATION_WAREHOUSE": str(tmp_path / "rotation.duckdb"), "DAGSTER_HOME": str(tmp_path),
           "ROTATION_GUIDANCE_LANDING": str(tmp_path / "landing"),
           "ROTATION_CLAIMS_LANDING": str(tmp_path / "claims")}
    with serving(["make", "--no-print-directory", "ui", f"UI_PORT={port}"], f"http://127.0.0.1:{port}/server_info", env, timeout=300):
        page = browser_page
        page.set_viewport_size({"width": 4800, "height": 9000})  # the graph draws only the nodes in view
        page.goto(f"http://127.0.0.1:{port}/asset-groups", wait_until="networkidle")
        page.get_by_text("Global asset lineage").wait_for(timeout=60_000)
        skip = page.get_by_role("button", name="Skip")  # the first-run newsletter pop-up, shown once per browser
        try:
            skip.wait_for(timeout=10_000)
            skip.click()
        except PlaywrightTimeout:
            pass
        page.get_by_text("serving", exact=True).first.wait_for(timeout=60_000)
        page.mouse.click(900, 150)  # focus the graph for its keyboard shortcut
        page.keyboard.press("Alt+e")  # Expand all groups
        page.get_by_text("stg_prices_daily").wait_for(timeout=30_000)  # the groups are expanded
        page.mouse.move(2400, 4500)
        page.keyboard.down("Control")  # zoom out until the whole graph is in view
        page.mouse.wheel(0, 100)
        page.keyboard.up("Control")
        page.wait_for_timeout(1000)
        page.get_by_text("marts_snapshot").wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "dagster-asset-graph.png"))
        labels = [t.strip() for t in re.split(r"\n+", page.locator("#root").inner_text()) if t.strip()]
        edges = page.locator("svg path").count()
    missing = sorted(name for name in expected if not shown(name, labels))
    assert not missing, f"not on the asset graph: {missing}"
    assert edges >= len(expected) - 1, "the graph draws fewer edges than a connected graph of these assets needs"
