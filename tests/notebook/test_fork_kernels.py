"""Kernels forked from the fork server: each notebook in a fresh process, the fallback, and nothing left behind."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from kompas_helpers import paths, synthesize
from kompas_helpers.io import datasets
from kompas_helpers.kernels import client, protocol, provisioner
from kompas_helpers.runner import worker
from tests.fixtures.kernels import kernel_sockets, stale_kernel_sockets
from tools import procfs

pytestmark = pytest.mark.notebook

FIRST = """
import os, json, sys
import matplotlib, pandas as pd
import kompas_helpers.fmt
marker = "set in the first notebook"
matplotlib.rcParams["lines.linewidth"] = 7.5
pd.set_option("display.max_rows", 3)
kompas_helpers.fmt.KOMPAS_TEST_MUTATION = "mutated"
sys.modules["kompas_helpers.figures"].KOMPAS_TEST_MUTATION = "mutated"
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid()}))
"""
SECOND = """
import os, json, sys
import matplotlib, pandas as pd
import kompas_helpers.fmt
print(json.dumps({
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "marker": "marker" in globals(),
    "linewidth": matplotlib.rcParams["lines.linewidth"],
    "default_linewidth": matplotlib.rcParamsDefault["lines.linewidth"],
    "max_rows": pd.get_option("display.max_rows"),
    "fmt": hasattr(kompas_helpers.fmt, "KOMPAS_TEST_MUTATION"),
    "figures": hasattr(sys.modules.get("kompas_helpers.figures"), "KOMPAS_TEST_MUTATION"),
    "inline": matplotlib.get_backend(),
}))
"""


def execute(source: str, kernel_name: str = provisioner.KERNEL_NAME) -> tuple[dict, object]:
    """Run a one-cell notebook in a kernel of the `kompas-fork` spec (or another); returns its JSON output and the
    provisioner."""
    import json

    from jupyter_client.manager import AsyncKernelManager

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    km = AsyncKernelManager(kernel_name=kernel_name, kernel_spec_manager=provisioner.kernel_spec_manager())
    try:
        NotebookClient(nb, km=km, timeout=120, startup_timeout=120).execute()
    finally:
        run_sync(km.shutdown_kernel)(now=True)  # nbclient leaves a kernel manager it was handed running
    prov = km.provisioner
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1]), prov


def children_of(pid: int) -> list[tuple[int, str, str]]:
    """Processes whose parent is `pid`, with their state (Z for a zombie) and command line."""
    return [(p.pid, p.state, p.command_text(120)) for p in procfs.processes().values() if p.parent == pid]


@pytest.fixture
def fork_server():
    server = client.start(paths.PROJECT_DIR)
    assert server is not None
    server.wait_ready()
    yield server
    client.stop()


def test_every_notebook_gets_a_fresh_fork_of_the_server(fork_server):
    first, prov_first = execute(FIRST)
    second, prov_second = execute(SECOND)
    server_pid = fork_server.ping()["pid"]
    assert prov_first.forked and prov_second.forked
    assert first["ppid"] == second["ppid"] == server_pid == fork_server.process.pid
    assert first["pid"] != second["pid"] and second["pid"] != os.getpid()
    assert second["marker"] is False  # a variable of the first notebook
    assert second["linewidth"] == second["default_linewidth"] == 1.5  # rcParams changed in the first
    assert second["max_rows"] == 60  # a pandas option changed in the first
    assert second["fmt"] is False and second["figures"] is False  # module attributes set in the first
    assert second["inline"] == "module://matplotlib_inline.backend_inline"  # as ipykernel sets it in a fresh kernel


def test_a_killed_server_falls_back_to_a_plain_kernel_with_one_log_line(fork_server, caplog):
    os.kill(fork_server.process.pid, signal.SIGKILL)
    fork_server.process.wait()
    client._reported.clear()
    with caplog.at_level(logging.WARNING, logger="kompas_helpers.kernels"):
        result, prov = execute(SECOND)
    assert not prov.forked
    assert result["ppid"] == os.getpid()  # started by this process, as jupyter_client does without the server
    assert result["marker"] is False and result["linewidth"] == 1.5
    lines = [r.getMessage() for r in caplog.records if r.name == "kompas_helpers.kernels"]
    assert len(lines) == 1 and "uden fork-serveren" in lines[0] and "stoppede" in lines[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PYTHONHASHSEED", "123"),  # read when the interpreter starts: a fork cannot honour it
        ("PYDEVD_USE_FRAME_EVAL", "YES"),  # read when pydevd loads, which the server did without it
    ],
)
def test_a_kernel_with_other_import_time_settings_is_not_forked(fork_server, monkeypatch, caplog, name, value):
    monkeypatch.setenv(name, value)
    client._reported.clear()
    with caplog.at_level(logging.WARNING, logger="kompas_helpers.kernels"):
        result, prov = execute(f"import os, json; print(json.dumps({{'value': os.environ[{name!r}]}}))")
    assert not prov.forked and result == {"value": value}
    assert any(name in r.getMessage() for r in caplog.records)


ENVIRONMENT = """
import json, os, sys
from kompas_helpers.kernels import server
for name in server.PRELOAD:  # in a plain kernel these imports set what they set; in a forked one they happened
    __import__(name)
print(json.dumps({"env": dict(os.environ), "breakpointhook": sys.breakpointhook.__module__}))
"""


def test_a_forked_kernel_has_the_environment_a_plain_kernel_has(fork_server):
    forked, prov = execute(ENVIRONMENT)
    assert prov.forked
    plain, prov = execute(ENVIRONMENT, kernel_name=worker.KERNEL_NAME)  # ipykernel's own spec: never forked
    assert not getattr(prov, "forked", False)
    for found in (forked, plain):
        del found["env"]["JPY_PARENT_PID"]  # the parent differs: the server, this process
    assert forked == plain
    assert forked["env"]["PYDEVD_USE_FRAME_EVAL"] == "NO"  # set by the debugger's import (preloaded in the server)


SUBPROCESS = """
import json, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"], start_new_session=True)
print(json.dumps({"child": child.pid}))
"""


def test_a_subprocess_left_by_a_killed_kernel_is_collected_by_the_server(fork_server):
    # The kernel is killed when its notebook is done, its subprocess still running: the subprocess goes to the
    # server (a subreaper), which collects it when it ends, not to this process, which would keep it as a zombie.
    found, prov = execute(SUBPROCESS)
    assert prov.forked
    stat = Path(f"/proc/{found['child']}/stat")
    assert int(stat.read_text().rsplit(")", 1)[1].split()[1]) == fork_server.process.pid  # its parent now
    deadline = time.monotonic() + 30
    while stat.exists():
        assert time.monotonic() < deadline, "the subprocess was not collected: " + stat.read_text()
        time.sleep(0.1)


def test_interrupt_and_shutdown_reach_the_forked_kernel(fork_server):
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=provisioner.KERNEL_NAME, kernel_spec_manager=provisioner.kernel_spec_manager())
    km.start_kernel()
    kc = km.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        assert km.provisioner.forked
        pid = km.provisioner.pid
        msg_id = kc.execute("import time; time.sleep(60)")
        time.sleep(1)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        while reply["parent_header"]["msg_id"] != msg_id:  # replies to wait_for_ready's kernel_info requests
            reply = kc.get_shell_msg(timeout=30)
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert km.is_alive()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not km.is_alive()
    assert pid not in [p for p, *_ in children_of(fork_server.process.pid)]  # collected by the server


def test_driver_close_leaves_no_process_and_no_zombie(tmp_path):
    # Earlier tests in the same pytest process may have left children of their own (a browser driver, say): only
    # what this Driver starts is counted.
    before = {pid for pid, _state, _command in children_of(os.getpid())}
    driver = worker.Driver()
    try:
        km = driver._take_kernel()
        assert km.provisioner.forked
        server_pid = driver._fork_server.process.pid
        run_sync(driver._start_spare)()
    finally:
        driver._run_sync(driver._kill_kernel)(km)
        driver.close()
    assert [child for child in children_of(os.getpid()) if child[0] not in before] == []
    assert not Path(f"/proc/{server_pid}").exists()


def test_a_driver_s_kernel_clients_try_again_soon_to_reach_a_kernel_still_binding_its_sockets():
    """Every channel of the client a driver talks to its kernel with retries a refused connection after
    RECONNECT_MS, not ZMQ's 100 ms (a forked kernel binds its sockets after the client first tries them), and the
    kernel answers through them."""
    import zmq

    driver = worker.Driver()
    try:
        km = driver._take_kernel()
        kc = km.client()
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=120)
        channels = (kc.shell_channel, kc.iopub_channel, kc.stdin_channel, kc.control_channel, kc.hb_channel)
        intervals = [channel.socket.getsockopt(zmq.RECONNECT_IVL) for channel in channels]
        assert intervals == [worker.RECONNECT_MS] * len(channels) != [100] * len(channels)
        kc.stop_channels()
    finally:
        driver._run_sync(driver._kill_kernel)(km)
        driver.close()


def test_forked_kernels_listen_on_their_own_unix_sockets_and_leave_none(fork_server):
    from jupyter_client.manager import KernelManager

    def files_of(km) -> set[str]:
        return {path for path in kernel_sockets() if path.startswith(f"{km.ip}-")}

    managers = [
        KernelManager(kernel_name=provisioner.KERNEL_NAME, kernel_spec_manager=provisioner.kernel_spec_manager())
        for _ in range(2)
    ]
    for km in managers:
        km.start_kernel()
    try:
        for km in managers:
            kc = km.blocking_client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=120)  # the client reaches the kernel through the socket files
            finally:
                kc.stop_channels()
            assert km.provisioner.forked and km.transport == "ipc"
            assert len(files_of(km)) == 5  # shell, iopub, stdin, heartbeat, control
        assert managers[0].ip != managers[1].ip  # no two kernels share a path, so none can find its "port" taken
        # A killed kernel cannot remove its files: the fork server does when it collects the process.
        os.kill(managers[0].provisioner.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while files_of(managers[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert files_of(managers[0]) == set() and len(files_of(managers[1])) == 5
    finally:
        for km in managers:
            km.shutdown_kernel(now=True)
    assert files_of(managers[1]) == set()


def test_kompas_run_leaves_no_process_and_no_zombie(tmp_path):
    stale_before = stale_kernel_sockets()
    data = tmp_path / "small"
    datasets.save_dataset(synthesize.synthesize(seed=11, scale=0.05), data)
    watcher = tmp_path / "watch.py"
    # Runs `kompas run` as a subreaper's child: whatever it leaves behind (orphans, zombies) ends up here.
    watcher.write_text(
        "import ctypes, os, subprocess, sys, time\n"
        "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"
        "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "time.sleep(1)\n"
        "left = []\n"
        "for e in os.listdir('/proc'):\n"
        "    if e.isdigit():\n"
        "        try:\n"
        "            f = open(f'/proc/{e}/stat').read().rsplit(')', 1)[1].split()\n"
        "        except OSError:\n"
        "            continue\n"
        "        if int(f[1]) == os.getpid() and int(e) != os.getpid():\n"
        "            left.append(e + ' ' + f[0] + ' ' + open(f'/proc/{e}/cmdline').read().replace(chr(0), ' '))\n"
        "print(code, left)\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "kompas_helpers.cli", "run", "--kommune", "101", "--data", str(data)]
    command += ["--out", str(tmp_path / "out"), "--templates", "overview", "organisation", "--workers", "2"]
    done = subprocess.run(
        [sys.executable, str(watcher), *command], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.stdout.strip() == "0 []", done.stdout + done.stderr
    assert "uden fork-serveren" not in done.stderr
    # multiprocessing's queues were released before its resource tracker stopped (else: a warning and tracebacks)
    assert "leaked semaphore" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert stale_kernel_sockets(stale_before) == set()  # no socket file of its kernels either


PAGE_DATA = """
import json, os
from kompas_helpers import widgets
b = widgets.load_bundle()
print(json.dumps({
    "preloaded": bool(widgets._preloaded) and b is widgets._preloaded[0],
    "rows": len(b.table),
    "hash": b.data_hash,
}))
"""


def test_the_pages_fork_server_loads_the_data_once_for_its_kernels(small_data, tmp_path, monkeypatch):
    from kompas_helpers import bundle, serve
    from kompas_helpers.kernels import protocol

    data = tmp_path / "data"
    shutil.copytree(small_data, data)
    monkeypatch.setenv(protocol.PRELOAD_PAGES_ENV, "1")  # as `kompas serve` sets it
    monkeypatch.setenv(serve.DATA_ENV, str(data))
    server = client.start(paths.PROJECT_DIR)
    assert server is not None
    server.wait_ready()
    try:
        expected = bundle.load(data)
        # Forked (the server read the data without starting a thread), with the server's copy of the data.
        first, prov = execute(PAGE_DATA)
        assert prov.forked
        assert first == {"preloaded": True, "rows": len(expected.table), "hash": expected.data_hash}
        # Data changed after the server loaded them: a kernel reads them again instead of showing the old ones.
        expected.dataset.aftaler.iloc[:-1].to_parquet(data / "aftaler.parquet")  # one agreement less
        changed = bundle.load(data)
        second, prov = execute(PAGE_DATA)
        assert prov.forked
        assert second == {"preloaded": False, "rows": len(changed.table), "hash": changed.data_hash}
        assert changed.data_hash != expected.data_hash
    finally:
        client.stop()


BATCH_DATA = """
import json
import pandas as pd
from kompas_helpers import bundle, figures, model, peers, registry
held = bool(bundle._PRELOADED)
prepared = sorted(len(axes) for _fig, axes in figures._REUSABLE.values())
tables = [sorted(name for p in bundle._PRELOADED.values() for name in p.tables)]
b = bundle.load(DATA, kommune_code="101")
tables.append(sorted(name for p in bundle._PRELOADED.values() for name in p.tables))
made = [p.made[peers.MADE_IN_ADVANCE] for p in bundle._PRELOADED.values()]
frames = {"measures read": b.dataset.measures_of(registry.READ_BESIDE_TABLE), "table": b.table}
frames.update({name: getattr(b.dataset, name) for name in model.INPUT_TABLES})
print(json.dumps({
    "held": held,
    "used": held and all(not p.inputs for p in bundle._PRELOADED.values()),
    "tables": tables,
    "figures prepared": prepared,
    "peers made": made == [peers.peer_groups_of(b)] and peers.peer_groups_of(b) is made[0],
    "frames": {k: [int(pd.util.hash_pandas_object(f).sum()), str(f.dtypes.to_dict())] for k, f in frames.items()},
}))
"""


def test_the_batch_fork_server_loads_the_run_s_data_once_for_its_kernels(small_data, tmp_path, monkeypatch):
    import json

    import pandas as pd

    from kompas_helpers import bundle, model, registry

    data = tmp_path / "data"
    shutil.copytree(small_data, data)
    source = BATCH_DATA.replace("DATA", json.dumps(str(data)))
    # Started before the run has written the dataset's slices (its first run): the server loads the data before
    # its first fork instead, which comes after.
    server = client.start(paths.PROJECT_DIR, preload_data=data, preload_kommuner=["101", "Aarhus"])
    assert server is not None
    try:
        server.wait_ready()
        meta = bundle.write_slices(data)
        monkeypatch.setenv(bundle.KNOWN_HASH_ENV, bundle.known_hash_value(data, meta["data_hash"]))  # as a run
        read = bundle.load(data, kommune_code="101")  # read here, without any preload
        frames = {"measures read": read.dataset.measures_of(registry.READ_BESIDE_TABLE), "table": read.table}
        frames.update({name: getattr(read.dataset, name) for name in model.INPUT_TABLES})
        expected = {k: [int(pd.util.hash_pandas_object(f).sum()), str(f.dtypes.to_dict())] for k, f in frames.items()}
        # Forked (the server read the data without starting a thread), and the kernel used the server's copy.
        found, prov = execute(source)
        assert prov.forked
        # The run's kommuner's tables joined in advance, København's taken by its bundle; the peer groups made once.
        tables = [["101.parquet", "751.parquet"], ["751.parquet"]]
        prepared = {"figures prepared": [1, 1, 2]}  # the reports' reused figures (plots.prepare_figures)
        held = {"held": True, "used": True, "peers made": True, **prepared, "frames": expected}
        assert found == {**held, "tables": tables}
    finally:
        client.stop()
    # Started when the slices are there: loaded while the server starts. Without preload_data: no data held (the
    # figures are prepared by every batch server).
    found = execute_in_new_server(source, preload_data=data, preload_kommuner=["101"])
    assert found == {**held, "tables": [["101.parquet"], []]}
    assert execute_in_new_server(source, preload_data=data) == {**held, "tables": [[], []]}
    nothing = {"held": False, "used": False, "peers made": False, "tables": [[], []], **prepared, "frames": expected}
    assert execute_in_new_server(source) == nothing


def execute_in_new_server(source: str, preload_data: Path | None = None, preload_kommuner: list[str] = ()) -> dict:
    """`execute` in a kernel forked by a fork server started (with this environment) and stopped for it."""
    server = client.start(paths.PROJECT_DIR, preload_data=preload_data, preload_kommuner=preload_kommuner)
    assert server is not None
    try:
        found, prov = execute(source)
        assert prov.forked
        return found
    finally:
        client.stop()


OWNER = """
import json, sys, time
from jupyter_client.manager import KernelManager
from kompas_helpers.kernels import client, provisioner
client.attach(sys.argv[1], int(sys.argv[2]))
km = KernelManager(kernel_name=provisioner.KERNEL_NAME, kernel_spec_manager=provisioner.kernel_spec_manager())
km.start_kernel()
print(json.dumps({"kernel": km.provisioner.process.pid, "forked": km.provisioner.forked}), flush=True)
time.sleep(600)
"""


def test_a_shared_fork_server_kills_the_kernels_of_a_process_that_died(fork_server):
    # `kompas run` shares one server among its workers; a worker killed mid-notebook leaves a kernel no one uses.
    owners = [
        subprocess.Popen(
            [sys.executable, "-c", OWNER, fork_server.path, str(fork_server.process.pid)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        import json

        started = [json.loads(owner.stdout.readline()) for owner in owners]
        assert all(s["forked"] for s in started)
        running = set(fork_server.ping()["running"])
        assert {s["kernel"] for s in started} <= running
        owners[0].kill()
        owners[0].wait()
        deadline = time.monotonic() + 30
        while started[0]["kernel"] in fork_server.ping()["running"]:
            assert time.monotonic() < deadline, "the dead owner's kernel was left running"
            time.sleep(0.1)
        assert started[1]["kernel"] in fork_server.ping()["running"]  # the other owner's kernel is untouched
    finally:
        for owner in owners:
            owner.kill()
            owner.wait()


def test_a_fork_server_whose_owner_is_killed_removes_its_socket_folder(tmp_path):
    # The owner makes the folder and removes it when it stops; killed, it cannot, and the server does it on its way out.
    owner = subprocess.Popen(
        [sys.executable, "-c", "from kompas_helpers.kernels import client; import sys, time; s = client.start(); "
         "s.wait_ready(); print(s.path, s.process.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        path, server = owner.stdout.readline().split()
        folder = Path(path).parent
        assert folder.name.startswith(protocol.SOCKET_FOLDER_PREFIX) and folder.is_dir()
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 30
    while folder.exists():
        assert time.monotonic() < deadline, f"{folder} was left behind"
        time.sleep(0.1)
    # The orphaned server was reparented to this process when an earlier test made it a subreaper (client.start):
    # collected here, it is not left as a zombie for the tests after this one to find.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(int(server), 0)


PRIORITY = """
import os, json
from pathlib import Path
autogroup = Path("/proc/self/autogroup")
print(json.dumps({
    "nice": os.getpriority(os.PRIO_PROCESS, 0),
    "autogroup": autogroup.read_text().split()[-1] if autogroup.exists() else None,
    "session_leader": os.getsid(0) == os.getpid(),
}))
"""


def test_page_kernels_run_below_the_server_s_priority_and_batch_kernels_do_not(monkeypatch):
    from kompas_helpers import serve

    own = os.getpriority(os.PRIO_PROCESS, 0)
    server = client.start(paths.PROJECT_DIR)
    server.wait_ready()
    try:
        batch, prov = execute(PRIORITY)
        assert prov.forked and batch["nice"] == own and batch["session_leader"]
    finally:
        client.stop()
    monkeypatch.setenv(protocol.KERNEL_NICE_ENV, str(serve.KERNEL_NICE))  # as `kompas serve` sets it
    server = client.start(paths.PROJECT_DIR)
    server.wait_ready()
    try:
        page, prov = execute(PRIORITY)
    finally:
        client.stop()
    assert prov.forked and page["session_leader"]
    assert page["nice"] == min(19, own + serve.KERNEL_NICE)
    if page["autogroup"] is not None:  # Linux with autogroup scheduling: the kernel's session is lowered too
        assert page["autogroup"] == str(serve.KERNEL_NICE)
