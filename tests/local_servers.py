"""Starting a server process for a test (the Dagster webserver, Streamlit, `make ui`) and stopping it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    urllib.request.urlopen(url, timeout=5).close()
    return True


@contextmanager
def running(command: list[str], ready: Callable[[], bool], env: dict, log: Path | None = None,
            cwd: Path | None = None, timeout: float = 180):
    """Start `command` in its own process group, wait until `ready()` is true (network errors count as
    not yet), and stop the whole group afterwards. Output goes to `log`, or nowhere."""
    out = log.open("w") if log else subprocess.DEVNULL
    try:
        server = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        if log:
            out.close()
    where = f": see {log}" if log else ""
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    break
            except (OSError, KeyError, TypeError):
                pass
            assert server.poll() is None, f"{command[0]} exited{where}"
            assert time.monotonic() < deadline, f"{command[0]} was not ready within {timeout} s{where}"
            time.sleep(1)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
