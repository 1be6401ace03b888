"""`kompas run`'s drivers forked from the run itself: when it does, what its kernels see, and what it lets go of."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import nbformat
import pytest

from kompas_helpers import bundle, paths
from kompas_helpers.kernels import client, protocol
from kompas_helpers.runner import batch

pytestmark = pytest.mark.notebook

# A template that reports what its kernel process sees: the variables the run imports its libraries without, one the
# user set, the run's dataset hash, and the kernel's threads and parent.
PROBE = """
import json, os
from kompas_helpers import bundle
from kompas_helpers.kernels import protocol
print(json.dumps({
    "env": {name: os.environ.get(name) for name in [*protocol.SINGLE_THREADED_ENV, "KOMPAS_TEST_MARKER"]},
    "known_hash": bool(os.environ.get(bundle.KNOWN_HASH_ENV)),
    "pid": os.getpid(),
}))
"""


def probe_template(folder) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell('kommune_code: str = "101"\nyear: int = 0\ndata: str = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell(PROBE)]
    path = folder / "probe.ipynb"
    nbformat.write(nb, path)
    return str(path)


def test_the_command_forks_its_drivers_and_its_kernels_get_the_run_s_environment(small_data, tmp_path, monkeypatch):
    for name in protocol.SINGLE_THREADED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KOMPAS_TEST_MARKER", "set by the user")
    # An empty cache: the command computes the table itself, and reads the organisations for their sheets, before it
    # forks; neither may leave a thread behind (Arrow's readers start a pool unless told not to).
    monkeypatch.setenv(bundle.CACHE_ENV, str(tmp_path / "cache"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kompas_helpers.cli", "run", "--kommune", "101", "--kommune", "751"]
    command += ["--data", str(small_data), "--out", str(out), "--templates", probe_template(tmp_path), "organisation"]
    command += ["--no-excel", "--no-pdf", "--no-word"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(forket fra kørslen)" in done.stdout
    assert "uden fork-serveren" not in done.stderr
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text(encoding="utf-8"))
    assert manifest["run"]["drivers"] == "fork"
    seen = []
    for executed in sorted(out.glob("*/*/notesbøger/probe.ipynb")):
        cell = nbformat.read(executed, as_version=4).cells[-1]
        seen.append(json.loads("".join(o.get("text", "") for o in cell.outputs).strip()))
    assert len(seen) == 2 and seen[0]["pid"] != seen[1]["pid"]
    for report in seen:
        # the run imported numpy and pyarrow without thread pools; its kernels get the environment it was started in
        assert report["env"] == {**dict.fromkeys(protocol.SINGLE_THREADED_ENV), "KOMPAS_TEST_MARKER": "set by the user"}
        assert report["known_hash"]  # set by the run after its checks, before its drivers were forked


def test_drivers_are_spawned_from_a_process_with_another_thread_or_without_a_fork_server():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert batch._worker_context(("unused", 0)).get_start_method() == "spawn"
    finally:
        stop.set()
        other.join()
    assert batch._worker_context(None).get_start_method() == "spawn"


def test_a_process_of_one_thread_with_a_fork_server_forks_them():
    code = """
        from kompas_helpers.kernels import protocol
        with protocol.single_threaded_imports(keep_given=False):
            import pyarrow
            from kompas_helpers.runner import batch
        context = batch._worker_context(("unused", 0))
        import sys
        print(context.get_start_method(), protocol.threads(), "nbconvert" in sys.modules)
    """
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "4"}  # overridden while the command imports, then restored
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.stdout.split() == ["fork", "1", "True"], done.stdout + done.stderr


def test_single_threaded_imports_give_back_the_environment(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    monkeypatch.delenv("JE_ARROW_MALLOC_CONF", raising=False)
    with protocol.single_threaded_imports():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "4"  # the server's way: the user's setting stands
        assert os.environ["JE_ARROW_MALLOC_CONF"] == protocol.SINGLE_THREADED_ENV["JE_ARROW_MALLOC_CONF"]
    with protocol.single_threaded_imports(keep_given=False):
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4" and "JE_ARROW_MALLOC_CONF" not in os.environ


def test_a_forked_child_lets_go_of_the_parent_s_server():
    """A driver forked from the run holds a copy of the pipe the fork server watches; it closes it, so the server
    still ends by itself when the run lets go of it, however long the driver lives."""
    server = client.start(paths.kernel_cwd(), preload_data=bundle.known_folder() or None)
    assert server is not None
    server.wait_ready()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: lets go, then lives until the parent closes the pipe
        code = 1
        try:
            os.close(write_end)
            client.forget_inherited()
            code = 0 if client.current() is None and server.process.stdin.closed else 3
            os.read(read_end, 1)
        finally:
            os._exit(code)
    os.close(read_end)
    try:
        started = time.monotonic()
        client.stop()  # closes the pipe and waits up to 10 s before it kills the server
        assert server.process.returncode == 0  # it ended by itself, with the child still alive
        assert time.monotonic() - started < 9
    finally:
        os.close(write_end)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
