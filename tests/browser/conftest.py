"""A real Voilà server (`kompas serve` as a subprocess on a free port) and headless Debian Chromium via Playwright."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tools.chromium import launch_chromium

# Short culling, so that kernels of closed pages disappear within the test; longer than the slowest page takes to
# connect to its kernel under load (a kernel nobody has connected to yet is idle and would be culled).
CULL_IDLE_TIMEOUT = 30
CULL_INTERVAL = 3
STARTUP_TIMEOUT = 90
# Pages render in real kernels on a shared 2-core machine: wait generously, but never sleep blindly.
expect.set_options(timeout=60_000)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class VoilaServer:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, page: str = "dashboard.ipynb", query: str = "") -> str:
        return f"{self.base}/voila/render/{page}" + (f"?{query}" if query else "")

    def kernel_exists(self, kernel_id: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/api/kernels/{kernel_id}", timeout=10) as response:
                return json.loads(response.read())["id"] == kernel_id
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            raise

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(log: Path, *extra: str, env: dict[str, str] | None = None) -> VoilaServer:
    """Start `kompas serve` on a free port and wait until it answers; fail with its log if it does not."""
    port = free_port()
    command = [sys.executable, "-m", "kompas_helpers.cli", "serve", "--port", str(port), *extra]
    handle = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        command, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True
    )
    server = VoilaServer(process, port, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kompas serve exited with {process.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(server.base + "/", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    pytest.fail(f"kompas serve did not answer within {STARTUP_TIMEOUT} s:\n{server.log_text()}")


def stop_server(server: VoilaServer) -> None:
    """SIGTERM lets Voilà shut its kernels down; kill the whole process group if it does not stop in time."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


@pytest.fixture(scope="session")
def voila_server(tmp_path_factory) -> VoilaServer:
    """The server most page tests share. Without stored first views (test_page_snapshots has its own server): the
    pages then show what their kernels draw, whenever a test runs."""
    log = tmp_path_factory.mktemp("voila") / "server.log"
    server = start_server(
        log,
        "--pool-size",
        "2",
        "--cull-idle-timeout",
        str(CULL_IDLE_TIMEOUT),
        "--cull-interval",
        str(CULL_INTERVAL),
        "--no-snapshots",
    )
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="da-DK")
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()
