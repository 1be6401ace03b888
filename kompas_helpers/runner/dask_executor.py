"""`kompas run --scheduler`: the jobs on a Dask distributed cluster, each run by a driver on a worker."""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import kompas_helpers
from kompas_helpers import bundle, paths
from kompas_helpers.reportset import FAILED, INTERRUPTED
from kompas_helpers.runner.plan import Job, JobResult, RunError
from kompas_helpers.runner.worker import Driver

try:  # an optional extra (pip install -e '.[dask]'); `execute` says so in Danish when it is missing
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - the module stays importable without it
    WorkerPlugin = object

CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler
WORKER_TIMEOUT = 30.0  # seconds to wait for a first worker to join an empty cluster
# A notebook that fails is not an exception: Driver.run returns it as a FAILED result, and Dask never retries it.
# What can raise is the worker's own footing (e.g. the shared filesystem failing while the table is installed):
# one more try, perhaps elsewhere. A task whose worker is LOST is rescheduled by the scheduler itself, whatever
# `retries` says (up to distributed.scheduler.allowed-failures times); that is safe because a job is idempotent: it
# writes the same files, each atomically, so a second run of it replaces complete files with complete files.
TASK_RETRIES = 1
MARKER_PREFIX = ".kompas-dask-"  # a file the run leaves in its output folder while it lasts; workers must see it


class Stopped(BaseException):
    """Raised in a worker thread whose job's run was interrupted. Not an Exception, so that Driver.run does not
    report it as the notebook's failure but unwinds (stopping the kernel, writing nothing); not SystemExit, which
    Dask passes on and which would shut the whole worker down."""


@dataclass
class TableCache:
    """The client's cached indicator table and its per-kommune slices, broadcast once to every worker."""

    digest: str
    files: dict[str, bytes] = field(repr=False)


class DriverPlugin(WorkerPlugin):
    """One run's state on one Dask worker: its checks (made once), its drivers, closed when the worker or the run
    ends.

    One Driver per worker thread, reused by every job that thread runs (with `dask worker --nthreads 1`, as the
    README says, that is one Driver per worker process). A Driver keeps a kernel started in advance and its kernels
    belong to the thread that started them, so drivers are not shared between threads.
    """

    def __init__(self, token: str, digest: str, cache_key: str, version: str, marker: str):
        self.name = f"kompas-{token}"
        self.token, self.digest, self.cache_key, self.version, self.marker = token, digest, cache_key, version, marker

    def setup(self, worker=None) -> None:
        self._lock = threading.Lock()
        self._drivers: dict[int, Driver] = {}
        self._checked: dict[str, str] = {}  # data argument -> Danish problem ("" when this worker is fit)
        self._installed = False
        self._running: set[int] = set()  # threads inside Driver.run for this run
        self.stopped = False

    def teardown(self, worker=None) -> None:
        with self._lock:
            drivers, self._drivers = list(self._drivers.values()), {}
        _close_drivers(drivers)

    # -- checks ---------------------------------------------------------------------------------------------------

    def check(self, data: str) -> str:
        """Why this worker cannot run the run's jobs on `data` (Danish), or "" when it can; made once per data."""
        with self._lock:
            if data not in self._checked:
                self._checked[data] = self._check(data)
            return self._checked[data]

    def _check(self, data: str) -> str:
        if kompas_helpers.__version__ != self.version or bundle.slices_dir(self.digest).parent.name != self.cache_key:
            return (
                f"arbejderen har en anden udgave af kompas_helpers ({kompas_helpers.__version__}) end kørslen "
                f"({self.version}); installér den samme udgave på alle arbejdere"
            )
        try:
            seen = Path(self.marker).read_text(encoding="utf-8") == self.token
        except OSError:
            seen = False
        if not seen:
            return (
                f"arbejderen kan ikke se outputmappen {Path(self.marker).parent}; kompas run --scheduler kræver, "
                "at outputmappen og data ligger på samme sti på alle arbejdere (et fælles filsystem)"
            )
        folder = paths.data_folder(data or None)
        if not folder.is_dir() or _fresh_hash(folder) != self.digest:
            return (
                f"data i {folder} på arbejderen er ikke de samme som kørslens (eller mangler); kompas run --scheduler "
                "kræver, at data ligger på samme sti på alle arbejdere (et fælles filsystem)"
            )
        return ""

    def prepare(self, data: str, table: TableCache) -> str:
        """Check this worker (once), install the client's table into its cache (once) and tell its kernels the
        dataset's hash; returns a Danish problem or ""."""
        problem = self.check(data)
        if problem:
            return problem
        with self._lock:
            if not self._installed:
                bundle.install_cache(table.digest, table.files)
                self._installed = True
            # Kernels inherit this from the worker process, so they neither hash the dataset nor look for its table.
            os.environ[bundle.KNOWN_HASH_ENV] = bundle.known_hash_value(paths.data_folder(data or None), self.digest)
        return ""

    # -- drivers --------------------------------------------------------------------------------------------------

    def run(self, job: Job) -> JobResult:
        ident = threading.get_ident()
        with self._lock:
            if self.stopped:
                return _interrupted(job)
            driver = self._drivers.get(ident)
        if driver is None:
            driver = Driver()
            with self._lock:
                self._drivers[ident] = driver
        try:
            with self._lock:
                self._running.add(ident)
            try:
                return driver.run(job)
            finally:
                with self._lock:
                    self._running.discard(ident)
        except Stopped:  # in the middle of the job: this driver's kernels and event loop are not to be trusted again
            with self._lock:
                self._drivers.pop(ident, None)
            _close_drivers([driver])
            return _interrupted(job)

    def stop(self) -> int:
        """The run was interrupted: no job of it starts here any more, and those running are stopped as a local
        run's are: unwound (Stopped raised in their threads), their kernels stopped and nothing of theirs written.

        Dask cannot stop a running task itself (cancelling only forgets its result), and the notebook may run for
        minutes more and then replace the outputs of a run that has been reported as interrupted.
        """
        with self._lock:
            self.stopped = True
            for ident in self._running:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(Stopped))
            return len(self._running)


def _close_drivers(drivers: list[Driver]) -> None:
    """Close drivers from a thread of their own: the caller may be the worker's event loop, which must not run
    the drivers' kernel shutdowns itself."""

    def close() -> None:
        for driver in drivers:
            with contextlib.suppress(Exception):
                driver.close()

    if drivers:
        thread = threading.Thread(target=close, name="kompas-close-drivers")
        thread.start()
        thread.join()


def _fresh_hash(folder: Path) -> str:
    """The dataset's content hash computed from its files, not taken from KNOWN_HASH_ENV (set for an earlier run)."""
    known = os.environ.pop(bundle.KNOWN_HASH_ENV, None)
    try:
        return bundle.dataset_hash(folder)
    finally:
        if known is not None:
            os.environ[bundle.KNOWN_HASH_ENV] = known


def _interrupted(job: Job) -> JobResult:
    return JobResult(job.index, job.kommune.code, job.name, INTERRUPTED, 0.0)


# ----------------------------------------------------------------------------------------------------------------
# Worker side: what the tasks and `Client.run` call
# ----------------------------------------------------------------------------------------------------------------


def _plugin(name: str) -> DriverPlugin:
    from distributed import get_worker

    return get_worker().plugins[name]


def run_job(name: str, job: Job, table: TableCache) -> JobResult:
    """A task: one job, run by this worker thread's driver, which writes its files into the shared output folder."""
    plugin = _plugin(name)
    problem = plugin.prepare(job.parameters.get("data") or "", table)
    if problem:
        return JobResult(job.index, job.kommune.code, job.name, FAILED, 0.0, error=f"Dask-arbejderen: {problem}")
    return plugin.run(job)


def _check_worker(name: str, data: str, dask_worker=None) -> str:
    return dask_worker.plugins[name].check(data)


def _stop_worker(name: str, dask_worker=None) -> int:
    plugin = dask_worker.plugins.get(name)
    return plugin.stop() if plugin is not None else 0


# ----------------------------------------------------------------------------------------------------------------
# Client side
# ----------------------------------------------------------------------------------------------------------------


def _connect(address: str):
    try:
        import distributed
    except ImportError:
        raise RunError(
            "kompas run --scheduler kræver pakken distributed: installér den med pip install -e '.[dask]'. "
            "Intet er kørt."
        ) from None
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise RunError(
            f"Dask-planlæggeren {address} kan ikke nås inden for {CONNECT_TIMEOUT:g} s ({type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}). Tjek adressen (tcp://VÆRT:PORT), "
            "og at planlæggeren kører. Intet er kørt."
        ) from None
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise RunError(
            f"Dask-planlæggeren {address} har ingen arbejdere (ventede {WORKER_TIMEOUT:g} s). Start dem med "
            f"dask worker {address}. Intet er kørt."
        ) from exc
    return client


def execute(jobs: list[Job], address: str, progress, done: dict[int, JobResult]) -> None:
    """Run the jobs on the cluster at `address`, filling `done` and reporting each finished job to `progress` as it
    comes back; a KeyboardInterrupt stops the jobs still running on the workers. Raises RunError (nothing run) when
    the scheduler cannot be reached or a worker cannot run the jobs.

    The workers write the outputs themselves (Driver.run, atomically, as in a local run) rather than send them back
    for this process to write: a national run's notebooks, pages, PDFs and Word files would otherwise all pass
    through this one process and the scheduler, and the writing (failed runs' notebooks, removing them again) would
    have two homes. The price is that the output folder and the data must be at the same path on every worker (a
    shared filesystem, as on any cluster); every worker checks this before it runs anything.
    """
    import distributed

    if not jobs:
        return
    client = _connect(address)
    token = uuid.uuid4().hex[:16]
    digest = jobs[0].data_hash
    marker = Path(jobs[0].folder).parent / f"{MARKER_PREFIX}{token}"
    futures: dict = {}
    plugin = DriverPlugin(token, digest, bundle.slices_dir(digest).parent.name, kompas_helpers.__version__, "")
    made = [folder for folder in (marker.parent, *marker.parent.parents) if not folder.exists()]
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(token, encoding="utf-8")
        plugin.marker = str(marker)
        try:
            client.register_plugin(plugin, name=plugin.name)
        except Exception as exc:  # e.g. a worker without the package: it cannot unpickle the plugin
            raise RunError(
                f"Dask-arbejderne kan ikke forberede kørslen ({_describe(exc)}); kompas_helpers skal være installeret "
                "på alle arbejdere. Intet er kørt."
            ) from None
        data = jobs[0].parameters.get("data") or ""
        problems = {w: p for w, p in client.run(_check_worker, plugin.name, data).items() if p}
        if problems:
            listed = "; ".join(f"{worker}: {problem}" for worker, problem in sorted(problems.items()))
            raise RunError(f"Dask-arbejderne kan ikke køre opgaverne: {listed}. Intet er kørt.")
        # The table is computed once, by this process (write_slices); every worker gets its bytes once.
        table = client.scatter(TableCache(digest, bundle.cache_files(digest)), broadcast=True, hash=False)
        for job in jobs:
            future = client.submit(
                run_job, plugin.name, job, table, key=f"kompas-{token}-{job.index}", retries=TASK_RETRIES, pure=False
            )
            futures[future] = job
        for future in distributed.as_completed(futures, loop=client.loop):
            job = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the task raised after its retries, or its workers kept dying (KilledWorker)
                result = JobResult(job.index, job.kommune.code, job.name, FAILED, 0.0, 1, f"Dask: {_describe(exc)}")
            done[job.index] = result
            progress.update(job, result)
    except KeyboardInterrupt:
        client.cancel(list(futures), force=True)
        with contextlib.suppress(Exception):
            client.run(_stop_worker, plugin.name)
        raise
    finally:
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(plugin.name)  # closes the drivers: no kernel stays behind
        marker.unlink(missing_ok=True)
        for folder in made if not done else []:  # nothing ran (a worker could not): leave no empty folders behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        client.close()


def _describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
