"""Page kernels are forks of the fork server, a closed page's kernel goes at once, and serve leaves nothing behind."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import start_server, stop_server
from tests.browser.selectors import LIVE_FIGURE
from tests.fixtures.kernels import stale_kernel_sockets
from tools import procfs

pytestmark = pytest.mark.browser


def session_processes(sid: int, earlier: frozenset[str] = frozenset()) -> list[str]:
    """Every process in the session `sid` or started by its leader (the page-view drawer among them), and every kernel,
    page-view drawer or zombie reparented to us, but those in `earlier` (left to us by earlier tests, see
    `earlier_orphans`)."""
    found = []
    for process in procfs.processes().values():
        command = process.command_text(100)
        ours = "kernel" in command or "page_snapshots" in command
        orphan = process.parent == os.getpid() and (process.state == "Z" or ours)
        if process.session == sid or process.parent == sid or orphan:
            found.append(f"{process.pid} {process.state} {command}")
    return [p for p in found if p not in earlier]


def earlier_orphans() -> frozenset[str]:
    """What `session_processes` finds before the test's server starts: orphans of earlier tests (a killed Dask worker's
    processes, say) that were reparented to this process once an earlier test made it a subreaper."""
    return frozenset(session_processes(-1))


def test_page_kernels_are_forked_and_go_with_their_page_and_with_the_server(browser, tmp_path):
    # Orphans of the server (kernels, their children) are reparented to this process, so none can hide as an
    # init's zombie; the server runs in its own session (start_server), so its processes are easy to find.
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
    earlier = earlier_orphans()
    stale_before = stale_kernel_sockets()
    stores_before = page_stores()
    # Culling far away: only the page's own shutdown request can stop its kernel within the test.
    server = start_server(tmp_path / "serve.log", "--pool-size", "1", "--cull-idle-timeout", "600")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(120_000)
        page = context.new_page()
        page.goto(server.url(query="kommune=751"))
        expect(page.locator(LIVE_FIGURE).first).to_be_visible(timeout=120_000)
        kernel_id = json.loads(page.locator("#jupyter-config-data").text_content())["kernelId"]
        assert server.kernel_exists(kernel_id)
        kernels = [p for p in session_processes(server.process.pid) if "ipykernel" in p or "kernels.server" in p]
        assert any("kompas_helpers.kernels.server" in p for p in kernels)
        assert not any("ipykernel_launcher" in p for p in kernels)  # no kernel started from scratch
        page.close(run_before_unload=True)
        deadline = time.monotonic() + 30
        while server.kernel_exists(kernel_id) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not server.kernel_exists(kernel_id), "the closed page's kernel still runs after 30 s"
        context.close()
    finally:
        stop_server(server)
    time.sleep(2)
    assert session_processes(server.process.pid, earlier) == []
    assert "uden fork-serveren" not in server.log_text()
    assert stale_kernel_sockets(stale_before) == set()  # the page kernels' Unix socket files are gone too
    assert page_stores() <= stores_before  # the pages' stored first views too


def page_stores() -> set[Path]:
    """The folders of stored first views (page_snapshots) that servers have made and not yet removed."""
    return set(Path(tempfile.gettempdir()).glob("kompas-pages-*"))


def test_a_killed_server_leaves_neither_its_view_drawer_nor_its_stored_views(tmp_path):
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # the killed server's orphans come to this process, which reaps them
    earlier = earlier_orphans()
    stores_before = page_stores()
    # No kernels (no pool, no page asked for): the view drawer is all the server leaves to clean up after.
    server = start_server(tmp_path / "serve.log", "--no-preheat", "--no-fork")
    try:
        deadline = time.monotonic() + 60
        while not (page_stores() - stores_before) and time.monotonic() < deadline:
            time.sleep(0.2)
        new = page_stores() - stores_before
        drawers = [int(p.split()[0]) for p in session_processes(server.process.pid) if "page_snapshots" in p]
        assert len(new) == 1 and len(drawers) == 1
        server.process.send_signal(signal.SIGKILL)  # no clean-up of its own
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while os.waitpid(drawers[0], os.WNOHANG) == (0, 0):  # the drawer, now this process's child, still runs
            assert time.monotonic() < deadline, "the view drawer still runs 30 s after its server was killed"
            time.sleep(0.2)
        assert not any(store.exists() for store in new)
        assert session_processes(server.process.pid, earlier) == []
    finally:
        stop_server(server)
