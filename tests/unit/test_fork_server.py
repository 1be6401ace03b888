"""The fork server's rules: which kernel commands and environments it may stand in for, and where it is used."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys

import pytest
from jupyter_client.provisioning import KernelProvisionerFactory

from kompas_helpers import cli, serve
from kompas_helpers.kernels import client, protocol, provisioner


def test_only_ipykernel_launcher_of_this_python_is_forked():
    assert provisioner.kernel_arguments([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"]) == [
        "-f",
        "c.json",
    ]
    # ipykernel's own "python3" spec adds this flag; the server runs with it too.
    command = [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json", "--x=1"]
    assert provisioner.kernel_arguments(command) == ["-f", "c.json", "--x=1"]
    assert provisioner.kernel_arguments(["/usr/bin/python3.9", "-m", "ipykernel_launcher", "-f", "c.json"]) is None
    assert provisioner.kernel_arguments([sys.executable, "-X", "dev", "-m", "ipykernel_launcher"]) is None
    assert provisioner.kernel_arguments([sys.executable, "launcher.py", "-f", "c.json"]) is None
    assert provisioner.kernel_arguments([]) is None


def test_fingerprint_takes_ipykernels_default_backend_and_sees_import_time_variables():
    plain = protocol.fingerprint({"PATH": "/bin"})
    assert plain["MPLBACKEND"] == protocol.INLINE_BACKEND
    assert protocol.fingerprint({"MPLBACKEND": protocol.INLINE_BACKEND}) == plain
    assert protocol.fingerprint({"PATH": "/usr/bin", "KOMPAS_DATA": "x", "JPY_SESSION_NAME": "y"}) == plain
    assert protocol.fingerprint({"MPLBACKEND": "Agg"}) != plain
    assert protocol.fingerprint({"PYTHONPATH": "/elsewhere"}) != plain
    assert protocol.fingerprint({"PYTHONHASHSEED": "0"}) != plain


def test_disable_variable(monkeypatch):
    for value, off in (("", False), ("0", False), ("no", False), ("1", True), ("ja", True)):
        monkeypatch.setenv(protocol.DISABLE_ENV, value)
        assert protocol.disabled() is off


def test_registered_provisioner_and_kernel_spec():
    provisioner.register()
    assert KernelProvisionerFactory.provisioners[provisioner.NAME].load() is provisioner.ForkProvisioner
    spec = provisioner.kernel_spec_manager().get_kernel_spec(provisioner.KERNEL_NAME)
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == provisioner.NAME
    assert spec.argv[1:3] == ["-m", "ipykernel_launcher"]


def test_serve_forks_page_kernels_unless_told_not_to():
    for on in (serve.voila_config(serve.ServeOptions()), serve.voila_config(serve.ServeOptions(fork=True))):
        assert on.KernelProvisionerFactory.default_provisioner_name == provisioner.NAME
    off = serve.voila_config(serve.ServeOptions(fork=False))
    assert "default_provisioner_name" not in off.KernelProvisionerFactory
    assert cli.build_parser().parse_args(["serve"]).no_fork is False
    assert cli.build_parser().parse_args(["serve", "--no-fork"]).no_fork is True


def test_pages_wait_for_late_output_and_refill_after_the_set_delay():
    config = serve.voila_config(serve.ServeOptions(cell_timeout=90, refill_delay=2.5))
    assert config.VoilaExecutor.iopub_timeout == 90  # nbclient's 4 s dropped figures under load
    assert config.VoilaKernelManager.fill_delay == 2.5
    assert cli.build_parser().parse_args(["serve", "--refill-delay", "1"]).refill_delay == 1.0


def test_serve_command_defaults_are_the_serve_options_defaults():
    """`kompas serve` without options serves exactly as ServeOptions() does (one default, not two that drift)."""
    args = cli.build_parser().parse_args(["serve"])
    defaults = serve.ServeOptions()
    for field in ("port", "token", "pool_size", "refill_delay", "cell_timeout", "cull_idle_timeout", "cull_interval"):
        assert getattr(args, field) == getattr(defaults, field), field
    assert args.no_preheat is not defaults.preheat and args.no_fork is not defaults.fork
    assert args.no_snapshots is not defaults.snapshots
    # A page whose browser is slow to connect keeps its kernel for minutes, not one (see ServeOptions).
    assert defaults.cull_idle_timeout >= 300


def test_a_kernels_exit_is_seen_on_a_descriptor_above_select_limit():
    """A server with many pages open holds more than 1,024 descriptors; a kernel's pidfd may be numbered above
    select()'s limit, and its exit must still be seen (30 readers with a pool of 30 broke on select())."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    high = 1500
    if hard != resource.RLIM_INFINITY and hard <= high:
        pytest.skip(f"this system allows only {hard} open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, high + 1), hard))
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    pidfd = os.pidfd_open(child.pid)
    try:
        os.dup2(pidfd, high)
        kernel = client.ForkedKernel(server=None, pid=child.pid, pidfd=high)
        assert not kernel._exited()
        child.stdin.close()
        child.wait(timeout=30)
        assert kernel._exited()
    finally:
        os.close(pidfd)
        with contextlib.suppress(OSError):
            os.close(high)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_driver_without_a_shared_server_has_its_own_load_the_run_s_data(monkeypatch, tmp_path):
    # On a Dask worker each driver starts its own server; the run hands the worker its dataset (KNOWN_HASH_ENV)
    # before the driver starts, and the server loads that dataset for its kernels (bundle.preload).
    from kompas_helpers import bundle
    from kompas_helpers.runner import worker

    asked = []
    monkeypatch.setattr(client, "start", lambda cwd=None, preload_data=None: asked.append(preload_data))
    monkeypatch.setenv(bundle.KNOWN_HASH_ENV, bundle.known_hash_value(tmp_path, "0" * 64))
    worker.Driver()
    assert asked == [str(tmp_path.resolve())]
    monkeypatch.delenv(bundle.KNOWN_HASH_ENV)
    worker.Driver()
    assert asked[-1] is None


def test_a_driver_knows_whether_a_job_is_left_besides_the_drivers_end_marks():
    import multiprocessing

    from kompas_helpers.runner import worker

    jobs = multiprocessing.get_context("fork").Queue()
    try:
        for item in ("job 1", "job 2", None, None):  # as the runner queues them for two drivers
            jobs.put(item)
        assert worker._jobs_left(jobs, 2) == 2
        assert jobs.get(timeout=10) == "job 1" and worker._jobs_left(jobs, 2) == 1
        assert jobs.get(timeout=10) == "job 2" and worker._jobs_left(jobs, 2) == 0  # only the end marks are left
    finally:
        jobs.close()
        jobs.join_thread()


def _claim_in_child(spares, jobs, drivers, answers):
    answers.put(spares.claim(jobs, drivers))


def test_drivers_start_no_more_kernels_in_advance_than_jobs_are_queued_for_them():
    import multiprocessing

    from kompas_helpers.runner import worker

    context = multiprocessing.get_context("fork")
    jobs, answers = context.Queue(), context.Queue()
    spares = worker.SpareClaims(context)
    try:
        for item in ("job 1", "job 2", "job 3", None, None, None):  # three jobs for three drivers
            jobs.put(item)
        assert jobs.get(timeout=10) == "job 1"  # two jobs are left
        assert spares.claim(jobs, 3)
        child = context.Process(target=_claim_in_child, args=(spares, jobs, 3, answers))  # another driver's process
        child.start()
        child.join(30)
        assert answers.get(timeout=10) is True
        assert not spares.claim(jobs, 3)  # a kernel already waits for each job left
        spares.release()  # a driver took its kernel for a job
        assert jobs.get(timeout=10) == "job 2"
        assert not spares.claim(jobs, 3)  # one job left, one kernel waiting for it
        spares.release()
        assert spares.claim(jobs, 3)
        assert jobs.get(timeout=10) == "job 3"
        spares.release()
        assert not spares.claim(jobs, 3)  # only the end marks are left
    finally:
        for q in (jobs, answers):
            q.close()
            q.join_thread()


def test_spawned_drivers_share_the_claims_too():
    # Drivers are spawned, not forked, without a fork server or from a process with threads (batch._worker_context):
    # the claims go to them as a Process argument.
    import multiprocessing

    from kompas_helpers.runner import worker

    context = multiprocessing.get_context("spawn")
    jobs, answers = context.Queue(), context.Queue()
    spares = worker.SpareClaims(context)
    try:
        for item in ("job 1", None):  # one job for one driver
            jobs.put(item)
        child = context.Process(target=_claim_in_child, args=(spares, jobs, 1, answers))
        child.start()
        assert answers.get(timeout=60) is True
        child.join(30)
        assert not spares.claim(jobs, 1)  # the spawned driver's kernel waits for the one job
    finally:
        for q in (jobs, answers):
            q.close()
            q.join_thread()


def test_a_driver_gives_back_its_claim_when_its_kernel_in_advance_is_used_stopped_or_fails(monkeypatch):
    from jupyter_core.utils import run_sync

    from kompas_helpers.runner import worker

    monkeypatch.setattr(client, "start", lambda cwd=None, preload_data=None: None)  # plain kernels: no server
    killed, gone = [], []
    fail = [False]

    async def start_kernel(self):
        if fail[0]:
            raise RuntimeError("no kernel")
        return "kernel"

    async def kill_kernel(self, km):
        killed.append(km)

    monkeypatch.setattr(worker.Driver, "_start_kernel", start_kernel)
    monkeypatch.setattr(worker.Driver, "_kill_kernel", kill_kernel)
    driver = worker.Driver(more_coming=lambda: True, spare_gone=lambda: gone.append(1))
    run_sync(driver._start_spare)()
    assert driver._spare == "kernel" and gone == []
    assert driver._take_kernel() == "kernel" and gone == [1]  # used for the next notebook
    run_sync(driver._start_spare)()
    driver._discard_spare()  # stopped unused
    assert killed == ["kernel"] and gone == [1, 1] and driver._spare is None
    fail[0] = True
    run_sync(driver._start_spare)()  # claimed, but the kernel did not start
    assert driver._spare is None and gone == [1, 1, 1]


def test_no_kernel_is_started_in_advance_for_a_notebook_that_will_not_come(monkeypatch):
    from jupyter_core.utils import run_sync

    from kompas_helpers.runner import worker

    monkeypatch.setattr(client, "start", lambda cwd=None, preload_data=None: None)  # plain kernels: no server
    started = []

    async def start_kernel(self):
        started.append(self)
        return "kernel"

    monkeypatch.setattr(worker.Driver, "_start_kernel", start_kernel)
    more = [False]
    driver = worker.Driver(more_coming=lambda: more[0])
    run_sync(driver._start_spare)()
    assert driver._spare is None and started == []
    more[0] = True
    run_sync(driver._start_spare)()
    assert driver._spare == "kernel" and started == [driver]
    driver._spare = None  # not a real kernel: nothing to stop


KERNEL_START_IMPORTS = """
import importlib, json, os, sys, tempfile
from jupyter_client.connect import write_connection_file
from kompas_helpers.kernels import server
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # ipykernel's default, as the server sets it
for name in server.PRELOAD:
    importlib.import_module(name)
folder = tempfile.mkdtemp()
connection = os.path.join(folder, "kernel.json")
write_connection_file(connection, transport="ipc", ip=os.path.join(folder, "kernel"))
from ipykernel.kernelapp import IPKernelApp
before = set(sys.modules)
IPKernelApp.instance().initialize(["-f", connection, "--HistoryManager.hist_file=:memory:"])
with open(os.environ["REPORT_TO"], "w") as out:
    json.dump(sorted(set(sys.modules) - before), out)
os._exit(0)  # the kernel's threads and sockets: nothing to wait for
"""


def test_a_forked_kernel_s_start_imports_nothing_the_server_has_not(tmp_path):
    # Whatever IPKernelApp.initialize imports, each forked kernel imports again (about a sixth of its start when
    # this test was written): the server imports it once (server.PRELOAD). A new ipykernel or IPython may import
    # more; this names what to add.
    report = tmp_path / "imported.json"
    environment = {**os.environ, "REPORT_TO": str(report), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    done = subprocess.run(
        [sys.executable, *protocol.SERVER_FLAGS, "-c", KERNEL_START_IMPORTS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.is_file(), done.stderr[-2000:]
    assert json.loads(report.read_text()) == []
