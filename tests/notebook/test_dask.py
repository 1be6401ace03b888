"""`kompas run --scheduler` against a real Dask cluster: a scheduler and two single-threaded workers started as
subprocesses, compared with a local run of the same jobs, a worker killed in the middle of a run, an interrupted
run, and a scheduler that cannot be reached."""

from __future__ import annotations

import contextlib
import io as stdio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openpyxl
import pytest

from kompas_helpers import bundle, cli, paths
from kompas_helpers.reportset import INTERRUPTED, OK
from kompas_helpers.runner import batch, dask_executor, plan

distributed = pytest.importorskip("distributed")  # the [dask] extra
psutil = pytest.importorskip("psutil")  # comes with distributed

pytestmark = pytest.mark.notebook

COUNTER = Path(__file__).resolve().parents[1] / "fixtures" / "table_counter"
DASK = Path(sys.executable).with_name("dask")
TIMESTAMP = re.compile(r"\d\d\.\d\d\.\d{4} kl\. \d\d\.\d\d")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the scheduler stopped"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


class Cluster:
    """A scheduler and two workers as process groups of their own; every process they start carries `tag` in its
    environment, so that the test can find any of them left behind (kernels included)."""

    def __init__(self, root: Path):
        self.tag = uuid.uuid4().hex
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.count_file = root / "table-computations.txt"
        self.caches = [root / "worker-cache-1", root / "worker-cache-2"]
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(COUNTER), str(paths.PROJECT_DIR)]),
            "KOMPAS_TEST_CLUSTER": self.tag,
            "KOMPAS_COUNT_TABLES": str(self.count_file),
        }
        self.processes: list[subprocess.Popen] = []
        self.logs = root / "logs"
        self.logs.mkdir()

    def _start(self, name: str, args: list[str], **env) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process in stop()
        process = subprocess.Popen(
            [str(DASK), *args], env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log = log
        self.processes.append(process)
        return process

    def start(self) -> None:
        scheduler = self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port)])
        wait_for_port(self.port, scheduler)
        for i, cache in enumerate(self.caches, 1):
            worker_args = ["worker", self.address, "--nthreads", "1", "--nworkers", "1", "--name", f"w{i}"]
            self._start(f"worker-{i}", [*worker_args, "--host", "127.0.0.1"], KOMPAS_CACHE_DIR=str(cache))
        with self.client() as client:
            client.wait_for_workers(2, timeout=120)

    def client(self):
        return distributed.Client(self.address, timeout=30, set_as_default=False)

    def worker_group(self, address: str) -> int:
        """The process group (the `dask worker` command) of the worker at `address`."""
        with self.client() as client:
            pid = client.run(os.getpid, workers=[address])[address]
        group = os.getpgid(pid)
        assert group in [p.pid for p in self.processes[1:]]
        return group

    def leftovers(self) -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if process.environ().get("KOMPAS_TEST_CLUSTER") == self.tag:
                    found.append(process)
        return found

    def stop(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            process.log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        deadline = time.monotonic() + 30  # kernels of a killed worker notice within seconds that it is gone
        while cluster.leftovers() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = cluster.leftovers()
        for process in left:
            with contextlib.suppress(psutil.Error):
                process.kill()
        assert left == [], f"processes left behind: {[p.cmdline() for p in left]}"


def run(data: Path, out: Path, kommuner, scheduler: str = "", progress=None, workers: int = 1) -> batch.RunReport:
    progress = progress if progress is not None else stdio.StringIO()
    summary = stdio.StringIO()
    options = plan.RunOptions(
        kommuner=kommuner, templates=["overview"], data=data, out=out, workers=workers, scheduler=scheduler
    )
    report = batch.run(options, progress=progress, summary=summary)
    report.progress_text, report.summary_text = progress.getvalue(), summary.getvalue()
    return report


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def without_times(manifest: dict) -> dict:
    """The manifest's per-notebook entries without what differs between two runs of the same jobs."""
    reports = json.loads(json.dumps(manifest["reports"]))
    for entry in reports.values():
        for output in entry["outputs"].values():
            for key in ("seconds", "run_started", "last_ok"):
                output.pop(key)
    notebooks = [{k: v for k, v in n.items() if k != "seconds"} for n in manifest["notebooks"]]
    return {"reports": reports, "notebooks": notebooks, "counts": manifest["run"]["counts"]}


def workbook_values(path: Path) -> dict:
    book = openpyxl.load_workbook(path)
    return {
        sheet.title: [
            [TIMESTAMP.sub("TID", v) if isinstance(v, str) else v for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        for sheet in book.worksheets
    }


def computations(cluster: Cluster) -> int:
    return len(cluster.count_file.read_text().split()) if cluster.count_file.exists() else 0


def busy_threads(dask_worker=None) -> int:
    return len(dask_worker.active_threads)


def test_the_counter_sees_a_computation_in_another_process(cluster, small_data, tmp_path):
    """The check below that no worker computes the table can fail: a process with the counter counts."""
    before = computations(cluster)
    code = "import sys; from kompas_helpers import bundle; bundle.table_path(sys.argv[1])"
    env = {**cluster.env, "KOMPAS_CACHE_DIR": str(tmp_path / "cache"), "KOMPAS_TEST_CLUSTER": ""}
    subprocess.run([sys.executable, "-c", code, str(small_data)], env=env, check=True)
    assert computations(cluster) == before + 1


def test_a_cluster_run_writes_what_a_local_run_writes(cluster, small_data, tmp_path):
    kommuner = ["101", "751"]
    before = computations(cluster)
    local = run(small_data, tmp_path / "local", kommuner)
    remote = run(small_data, tmp_path / "dask", kommuner, scheduler=cluster.address)
    assert local.exit_code == 0 and remote.exit_code == 0, remote.summary_text
    assert files(local.out_dir) == files(remote.out_dir)
    assert not [p for p in remote.out_dir.rglob(".*")], "temporary or marker files left behind"
    assert without_times(remote.manifest) == without_times(local.manifest)
    assert remote.manifest["run"]["parameters"]["scheduler"] == cluster.address
    for name in files(local.out_dir):
        if name.endswith(".html"):
            texts = [TIMESTAMP.sub("TID", (r.out_dir / name).read_text(encoding="utf-8")) for r in (local, remote)]
            assert texts[0] == texts[1], name
        if name.endswith(".xlsx"):
            assert workbook_values(local.out_dir / name) == workbook_values(remote.out_dir / name), name
    # Progress and summary as locally: one line per job, the same table.
    assert len(remote.progress_text.splitlines()) == len(remote.results) == 4
    assert all(
        re.match(r"\[\d/4\] (101 København|751 Aarhus) · .*: færdig", line)
        for line in remote.progress_text.splitlines()
    )
    table_rows = [
        [re.sub(r"\s+\d+,\d$", "", line) for line in r.summary_text.splitlines()[:6]] for r in (local, remote)
    ]
    assert table_rows[0] == table_rows[1]
    assert f"på Dask-klyngen {cluster.address}: 4 færdige, 0 fejlede." in remote.summary_text
    # The table was computed once, by this process: every worker installed the client's bytes, none computed it.
    assert computations(cluster) == before
    digest = remote.manifest["data_hash"]
    client_files = bundle.cache_files(digest)
    key = bundle.slices_dir(digest).parent.name
    for cache in cluster.caches:
        installed = {str(p.relative_to(cache / key)): p.read_bytes() for p in (cache / key).rglob("*") if p.is_file()}
        meta = bundle.SLICES_DIR + "/" + bundle.SLICES_META
        assert {k: v for k, v in installed.items() if k != meta} == {k: v for k, v in client_files.items() if k != meta}


def test_the_workers_kernels_are_forks_of_a_fork_server(cluster, small_data, tmp_path):
    template = Path(__file__).parents[1] / "fixtures" / "templates" / "kernel_parent.ipynb"
    options = plan.RunOptions(
        kommuner=["101", "751"], templates=[str(template)], data=small_data, out=tmp_path, scheduler=cluster.address
    )
    report = batch.run(options, progress=stdio.StringIO(), summary=stdio.StringIO())
    assert report.exit_code == 0
    for folder in ("101-københavn", "751-aarhus"):
        executed = json.loads((report.out_dir / folder / "notesbøger" / "kernel_parent.ipynb").read_text("utf-8"))
        outputs = ["".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", [])]
        (printed,) = [text for text in outputs if "ophav:" in text]
        assert "-m kompas_helpers.kernels.server" in printed, printed  # not the worker, not ipykernel_launcher
    for log in cluster.logs.glob("*.log"):
        assert "uden fork-serveren" not in log.read_text(encoding="utf-8", errors="replace"), log.name


def test_an_interrupted_cluster_run_stops_its_notebooks_and_writes_nothing_more(cluster, small_data, tmp_path):
    class InterruptOnFirstLine(stdio.StringIO):
        def write(self, text):
            written = super().write(text)
            if text.strip():
                raise KeyboardInterrupt
            return written

    report = run(small_data, tmp_path / "out", ["101", "751", "461"], cluster.address, InterruptOnFirstLine())
    returned = time.time()
    assert report.interrupted and report.exit_code == 130
    assert report.manifest["run"]["status"] == INTERRUPTED
    counts = report.manifest["run"]["counts"]
    assert counts[OK] == 1 and counts[INTERRUPTED] == 5
    # Dask only forgets a cancelled task's result: wait until no worker thread runs anything any more (a notebook
    # that was not stopped would run to its end and write its outputs meanwhile).
    with cluster.client() as client:
        deadline = time.monotonic() + 60
        while any(client.run(busy_threads).values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(client.run(busy_threads).values())
    written = [p for p in report.out_dir.rglob("*") if p.is_file()]
    assert all(p.stat().st_mtime <= returned for p in written), "a stopped job wrote after the run ended"
    assert not [p for p in report.out_dir.rglob(".*")]
    assert not list(report.out_dir.rglob("*.fejl.ipynb"))
    ok = [r for r in report.results if r.status == OK][0]
    made = {str(p.relative_to(report.out_dir)) for p in written} - {"manifest.json", "index.html"}
    assert all(name.startswith(f"{ok.kommune_code}-") and Path(name).name in ok.files for name in made), made


def test_an_unreachable_scheduler_is_a_danish_error_and_nothing_is_written(small_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 2.0)
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    out = tmp_path / "out"
    argv = ["run", "--kommune", "101", "--templates", "overview", "--data", str(small_data), "--out", str(out)]
    assert cli.main([*argv, "--scheduler", address]) == 2
    error = capsys.readouterr().err
    assert f"Fejl: Dask-planlæggeren {address} kan ikke nås inden for 2 s" in error
    assert "Intet er kørt." in error and "Traceback" not in error
    assert not out.exists()


def test_a_lost_worker_s_jobs_run_again_on_the_other(cluster, small_data, tmp_path):
    """Runs last: it leaves the cluster with one worker."""
    killed: dict = {}

    class KillOnFirstLine(stdio.StringIO):
        def write(self, text):
            if text.strip() and not killed:
                with cluster.client() as client:
                    busy = {w: keys for w, keys in client.processing().items() if keys}
                address = sorted(busy)[0]
                killed.update(address=address, keys=busy[address])
                os.killpg(cluster.worker_group(address), signal.SIGKILL)
            return super().write(text)

    kommuner = ["101", "751", "461"]
    report = run(small_data, tmp_path / "out", kommuner, cluster.address, KillOnFirstLine())
    assert killed["keys"], "the killed worker was running a job"
    assert report.exit_code == 0, report.summary_text
    assert {r.status for r in report.results} == {OK}
    assert len(report.progress_text.splitlines()) == 6
    for folder in ("101-københavn", "751-aarhus", "461-odense"):
        files = sorted(str(p.relative_to(report.out_dir / folder)) for p in (report.out_dir / folder).rglob("*"))
        assert [f for f in files if "." in f] == [
            "notesbøger/overview.ipynb",
            "nøgletal.xlsx",
            "overview.html",
            "overview.pdf",
        ]
    assert not [p for p in report.out_dir.rglob(".*")]
    with cluster.client() as client:
        assert (
            list(client.scheduler_info()["workers"]) != []
            and killed["address"] not in client.scheduler_info()["workers"]
        )
