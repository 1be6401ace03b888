"""The worker side of a run: a driver executes one job at a time, each notebook in a fresh kernel, and writes it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import signal
import sys
import tempfile
import time
from pathlib import Path

from kompas_helpers import danish, navigation, paths
from kompas_helpers.files import atomic_write
from kompas_helpers.kernels import client as kernel_client
from kompas_helpers.reportset import EXCEL_FILE, FAILED, OK, notebook_file
from kompas_helpers.runner import papers
from kompas_helpers.runner.plan import Job, JobResult

KERNEL_NAME = "python3"  # the kernel the notebooks name; started as a fork of the fork server when there is one
FORK_KERNEL_NAME = "kompas-fork"  # its kernel spec (kompas_helpers/jupyter/kernels) names the fork provisioner
KERNEL_START_RETRIES = 2  # extra attempts for a notebook whose kernel failed to start (never for a failing cell)
KERNEL_START_TIMEOUT = 60  # seconds
# How soon a driver's client tries again to reach a kernel that has not bound its sockets yet (ZMQ's default: 100 ms).
# A kernel binds them some 50 ms after it is forked, and a client connects at once: with the default, a forked
# kernel answered its first request 150–220 ms after it was asked for, with 10 ms 60–80 ms. Each driver's first
# kernel, and any started without one in advance, waits that long before its notebook begins. None: ZMQ's default.
RECONNECT_MS: int | None = 10
FAILED_SUFFIX = ".fejl.ipynb"  # the executed notebook of a failed run, kept with the notebooks (notesbøger/)
KEPT_DA = "Intet er skrevet; de tidligere udgaver af filerne er bevaret"


def _write_text(path: Path, text: str | bytes) -> None:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def write_together(files: dict[Path, str | bytes]) -> None:
    """Write several files (text, or bytes for PDF and Word) so that either all of them replace the old ones or none
    does.

    Each file is written to a temporary file beside it first; only when every one is complete are they moved into
    place (os.replace), so a failure or an interruption leaves every earlier file exactly as it was.
    """
    with contextlib.ExitStack() as stack:
        for path, text in files.items():
            tmp = stack.enter_context(atomic_write(path))
            _write_text(tmp, text)


# ----------------------------------------------------------------------------------------------------------------
# The driver: runs in a worker process, executes one notebook at a time, each in a fresh kernel
# ----------------------------------------------------------------------------------------------------------------


class KernelStartError(RuntimeError):
    """The kernel did not start or did not answer; the notebook has not begun and may be retried."""


def _kernel_manager_class():
    from queue import Empty

    import zmq
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

    class QuickClient(AsyncKernelClient):
        """A client whose wait_for_ready skips jupyter_client's final 0.2 s wait for silence on IOPub, and whose
        sockets try again soon to reach a kernel still binding its own (RECONNECT_MS).

        That wait only drains start-up messages, and nbclient reads nothing but the replies to its own requests;
        at one fresh kernel per notebook, 0.2 s idle per notebook adds up.
        """

        def _context_default(self):
            context = super()._context_default()
            if RECONNECT_MS is not None:  # the default for every socket the client makes (its channels)
                context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
            return context

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    pass
                else:
                    if msg["msg_type"] == "kernel_info_reply":
                        try:  # IOPub connected? (the kernel reports busy/idle there for the request)
                            await self.iopub_channel.get_msg(timeout=0.2)
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(msg)
                            return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    class TrackingKernelManager(AsyncKernelManager):
        """Makes quick clients and remembers them, so the driver can close them (nbclient leaves them open when
        it is handed a kernel manager)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.client_factory = QuickClient
            self.kompas_clients = []

        def client(self, **kwargs):
            kc = super().client(**kwargs)
            self.kompas_clients.append(kc)
            return kc

    return TrackingKernelManager


def prepare_drivers() -> None:
    """Import what a driver needs and build its HTML exporter, in a process that then forks its drivers (`kompas
    run`): every driver starts with them in memory instead of doing the same work again (about 1 CPU-second each).
    Starts no thread (checked before forking)."""
    from kompas_helpers import deferred

    deferred.defer_iri_grammars()  # before papermill imports nbformat
    import nbformat  # noqa: F401
    import papermill  # noqa: F401
    from jupyter_client.asynchronous import AsyncKernelClient  # noqa: F401
    from jupyter_client.manager import AsyncKernelManager  # noqa: F401
    from jupyter_core.utils import run_sync  # noqa: F401
    from papermill import engines  # noqa: F401 - imports nbclient

    from kompas_helpers import htmlreport
    from kompas_helpers.kernels import provisioner

    provisioner.kernel_spec_manager()
    htmlreport.warm()


class Driver:
    """Executes jobs in this process; keeps one fresh kernel starting in advance for the next notebook."""

    def __init__(self, shared_server: tuple[str, int] | None = None, wanted=None, more_coming=None, spare_gone=None):
        """`shared_server`: (socket path, pid) of a fork server another process owns (`kompas run` with several
        workers starts one for all of them), else this driver starts its own. `wanted()` says whether anyone is
        still waiting for the results (false once the runner that started this driver is gone); `more_coming()`
        whether another notebook may follow this one (a kernel is started in advance only then; with several
        drivers, whether one follows that no other driver's kernel in advance is waiting for: see `SpareClaims`), and
        `spare_gone()` is called when a kernel started in advance is used or stopped."""
        import logging

        self._wanted = wanted or (lambda: True)
        self._more_coming = more_coming or (lambda: True)
        self._spare_gone = spare_gone or (lambda: None)

        from kompas_helpers import deferred

        deferred.defer_iri_grammars()  # before papermill imports nbformat (a worker process starts afresh)
        self._cwd = paths.kernel_cwd()
        # Kernels are fork()s of a server that has imported everything already (off with KOMPAS_NO_FORK=1). Started
        # first: its imports (about 2 s) are the longest wait before the first notebook, and run beside this
        # process's own.
        if shared_server is not None:
            self._fork_server = kernel_client.attach(*shared_server)
        else:  # on a Dask worker: the run's dataset is the one whose hash the run handed over
            from kompas_helpers import bundle

            self._fork_server = kernel_client.start(self._cwd, preload_data=bundle.known_folder() or None)

        import nbformat
        import papermill
        from jupyter_core.utils import run_sync

        from kompas_helpers import htmlreport
        from kompas_helpers.kernels import provisioner

        # These log warnings to stderr by default (asyncio also when a run is stopped in the middle of a cell);
        # failures are reported through the results instead.
        for name in ("papermill", "traitlets", "nbclient", "jupyter_client", "asyncio"):
            logging.getLogger(name).addHandler(logging.NullHandler())
            logging.getLogger(name).propagate = False
        self._nbformat, self._papermill, self._run_sync = nbformat, papermill, run_sync
        self._htmlreport = htmlreport
        self._manager_class = _kernel_manager_class()
        self._kernel_spec_manager = provisioner.kernel_spec_manager()
        self._spare = None
        self._dead: list = []  # killed kernels whose processes are still to be collected

    # -- kernels ------------------------------------------------------------------------------------------------

    async def _start_kernel(self):
        name = FORK_KERNEL_NAME if self._fork_server is not None else KERNEL_NAME
        km = self._manager_class(kernel_name=name, kernel_spec_manager=self._kernel_spec_manager)
        km.kompas_log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the kernel; closed in _reap_kernels
        try:
            await km.start_kernel(
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
                cwd=self._cwd,
                stdout=km.kompas_log,
                stderr=km.kompas_log,
            )
        except Exception:
            km.kompas_log.close()
            raise
        return km

    def _take_kernel(self):
        """The kernel started in advance, or a new one."""
        km, self._spare = self._spare, None
        if km is not None:
            self._spare_gone()
        else:
            try:
                km = self._run_sync(self._start_kernel)()
            except Exception as exc:
                raise KernelStartError(f"{type(exc).__name__}: {exc}") from exc
        return km

    async def _start_spare(self) -> None:
        # At the end of a run a spare would only be killed again: its start (about 50 CPU-milliseconds in the kernel
        # and 10 here) would be taken from the last notebooks.
        if self._spare is None and self._more_coming():
            try:
                self._spare = await self._start_kernel()
            except Exception:  # a spare that cannot start is retried as a normal start
                self._spare_gone()

    async def _kill_kernel(self, km) -> None:
        """Close the clients and kill the kernel at once; `_reap_kernels` later collects the dead process."""
        for kc in km.kompas_clients:
            kc.stop_channels()
        if km.has_kernel:
            with contextlib.suppress(Exception):
                await km.provisioner.kill()
        self._dead.append(km)

    async def _reap_kernels(self) -> None:
        dead, self._dead = self._dead, []
        for km in dead:
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=True)  # the process is already gone: no waiting
            km.kompas_log.close()

    @staticmethod
    def _kernel_log(km) -> str:
        km.kompas_log.seek(0)
        lines = km.kompas_log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1].strip() if lines else ""

    def close(self) -> None:
        """Stop the kernel started in advance and the fork server (call once no more jobs come)."""
        self._discard_spare()
        if self._fork_server is not None:
            self._fork_server = None
            kernel_client.stop()

    # -- jobs ---------------------------------------------------------------------------------------------------

    def run(self, job: Job) -> JobResult:
        start = time.perf_counter()
        try:
            result = self._run_excel(job) if job.template is None else self._run_notebook(job)
        except Exception as exc:  # reported in the result: one failing job must not stop the others
            result = JobResult(job.index, job.kommune.code, job.name, FAILED, 0.0, error=_describe(exc))
        finally:
            self._run_sync(self._reap_kernels)()
        result.seconds = time.perf_counter() - start
        return result

    def _run_excel(self, job: Job) -> JobResult:
        from kompas_helpers import agreements, bundle, excel  # imported here: a run without workbooks skips 0.4 s

        path = Path(job.folder) / EXCEL_FILE
        # The kommune's agreements are judged on its own rows (its organisations' afdelinger in the kommune).
        own = bundle.load(job.parameters.get("data") or None, kommune_code=job.kommune.code)
        made = own.dataset.aftaler
        made = made[(made["kommune_code"].astype(str) == job.kommune.code).to_numpy()].reset_index(drop=True)
        excel.write_workbook(
            path,
            own.table,  # the levels every kommune reads and the kommune's own rows (for the «Alle tal» sheet)
            job.kommune.code,
            provenance=job.provenance,
            data_hash=job.data_hash,
            version=job.version,
            organisations=own.dataset.organisations,
            agreements=agreements.status(made, own.table, job.year),
        )
        return JobResult(job.index, job.kommune.code, job.name, OK, 0.0, files=[path.name])

    def _execute(self, job: Job, km):
        """Run the notebook in the kernel `km` through papermill; returns (notebook, error or None, began)."""
        state: dict = {"began": False, "deadline": None, "nb": None}

        async def on_cell_execute(cell, cell_index):
            if not state["began"]:
                state["began"] = True
                if job.timeout:
                    state["deadline"] = time.monotonic() + job.timeout
                await self._start_spare()  # boots while this notebook runs, ready for the next one

        async def on_notebook_start(notebook):
            state["nb"] = notebook  # the object papermill fills in, kept for a failed run's traceback

        def timeout_func(cell):
            if state["deadline"] is None:
                return None
            return max(1, int(state["deadline"] - time.monotonic() + 0.999))

        try:
            nb = self._papermill.execute_notebook(
                str(job.template.path),
                None,
                parameters=job.parameters,
                kernel_name=KERNEL_NAME,
                progress_bar=False,
                start_timeout=KERNEL_START_TIMEOUT,
                execution_timeout=job.timeout,
                km=km,
                timeout_func=timeout_func,
                on_cell_execute=on_cell_execute,
                on_notebook_start=on_notebook_start,
            )
        except Exception as exc:
            return state["nb"], exc, state["began"]
        return nb, None, True

    def _run_notebook(self, job: Job) -> JobResult:
        folder = Path(job.folder)
        name = job.name
        attempts = 0
        while True:
            attempts += 1
            nb, log_line = None, ""
            try:
                km = self._take_kernel()
            except KernelStartError as exc:
                error, began = exc, False
            else:
                try:
                    nb, error, began = self._execute(job, km)
                    if error is not None and not began:
                        log_line = self._kernel_log(km)
                finally:
                    self._run_sync(self._kill_kernel)(km)
            if error is None or began or attempts > KERNEL_START_RETRIES:
                break
            self._discard_spare()  # the spare may be as broken as the kernel that just failed
        if error is not None:
            if not began:
                message = f"Kernen kunne ikke starte ({attempts} forsøg): {_describe(error)}"
                if log_line:
                    message += f" – kernens sidste linje: {log_line}"
            elif isinstance(error, TimeoutError):
                message = f"Tidsgrænsen på {_seconds_da(job.timeout)} for notesbogen blev overskredet"
            else:
                message = _describe(error)
            # Unless the runner was killed, and its fork server and this notebook's kernel with it: the failure is
            # the interruption, not the notebook's, and a failed notebook written now would be a file that no run
            # reported (a killed run leaves every file as it was or complete).
            if began and nb is not None and self._wanted():
                write_together({folder / notebook_file(name, FAILED_SUFFIX): self._nbformat.writes(nb)})
            return JobResult(job.index, job.kommune.code, name, FAILED, 0.0, attempts, message)
        nav = navigation.page_nav(job.kommune, name, job.title, job.targets, lambda path: (folder / path).is_file())
        live = navigation.live_links(folder.parent, job.kommune, name, job.targets)
        footer = _page_footer(job) + navigation.notebook_footer(name)
        html = self._htmlreport.notebook_html(nb, _page_title(job), footer, nav, live)
        try:
            made = papers.papers(job, html)
        except (papers.PdfError, papers.ReferatError) as exc:  # nothing is written: the earlier files stay
            return JobResult(job.index, job.kommune.code, name, FAILED, 0.0, attempts, f"{exc}. {KEPT_DA}")
        notebook = notebook_file(name)
        write_together({folder / notebook: self._nbformat.writes(nb), folder / f"{name}.html": html, **made})
        (folder / notebook_file(name, FAILED_SUFFIX)).unlink(missing_ok=True)
        for suffix in papers.stale(job):
            (folder / f"{name}{suffix}").unlink(missing_ok=True)
        written = [notebook, f"{name}.html", *(f"{name}{suffix}" for suffix in papers.wanted(job))]
        return JobResult(job.index, job.kommune.code, name, OK, 0.0, attempts, files=written)

    def _discard_spare(self) -> None:
        if self._spare is not None:
            self._run_sync(self._kill_kernel)(self._spare)
            self._spare = None
            self._spare_gone()
        self._run_sync(self._reap_kernels)()


def _describe(exc: BaseException) -> str:
    """A one-line description of a failure for the summary and the manifest."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        name, lines, where = exc.ename, str(exc.evalue).strip().splitlines(), f" (celle {exc.exec_count})"
    else:
        name, lines, where = type(exc).__name__, str(exc).strip().splitlines(), ""
    return f"{name}: {lines[0]}{where}" if lines else f"{name}{where}"


def _page_title(job: Job) -> str:
    return f"{job.template.title_da} – {job.title or job.kommune.name} {job.year} – AlmenKompas"


def _page_footer(job: Job) -> str:
    synthetic = " · SYNTETISKE DATA" if job.provenance.get("synthetic") else ""
    return (
        f"AlmenKompas-arbejdsbogen {job.version} · dannet {danish.timestamp(dt.datetime.now())} · "
        f"datasæt {job.data_hash[:12]}{synthetic}"
    )


def _seconds_da(seconds: float) -> str:
    from kompas_helpers import fmt

    return f"{fmt.number(seconds, 1)} s"


# ----------------------------------------------------------------------------------------------------------------
# Worker processes
# ----------------------------------------------------------------------------------------------------------------


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def _jobs_left(jobs, drivers: int) -> int:
    """How many jobs the job queue holds besides the None each of the `drivers` gets at the end (the runner puts
    those after every job, so while a job is left, every None is still queued). Approximate, as a queue's size is:
    a mistake costs a kernel started in vain, or one that starts when it is needed instead of in advance."""
    try:
        return jobs.qsize() - drivers
    except NotImplementedError:  # no sem_getvalue (macOS): as if there were always more
        return sys.maxsize


class SpareClaims:
    """The kernels a run's drivers have started in advance and not yet used, counted across the driver processes.

    Each driver starts a kernel for its next notebook while its current one runs. Asking only "is a job left?", the
    drivers of a run each start one for the last jobs, and all but one of these kernels are stopped unused at the end
    (two of ten kernels for 8 notebooks on three drivers; a forked kernel's start is about 50 CPU-milliseconds in the
    kernel and 10 in its driver, taken from the last notebooks). A driver claims a kernel in advance only while more
    jobs are queued than kernels already wait for them. Approximate like the queue's size: a job may still be taken
    by a driver without a kernel in advance (which starts one then, as always) while another's waits.
    """

    def __init__(self, context):
        self._waiting = context.Value("i", 0)  # with its own lock: drivers claim and release from their processes

    def claim(self, jobs, drivers: int) -> bool:
        with self._waiting.get_lock():
            if _jobs_left(jobs, drivers) <= self._waiting.value:
                return False
            self._waiting.value += 1
            return True

    def release(self) -> None:
        with self._waiting.get_lock():
            self._waiting.value = max(0, self._waiting.value - 1)


def _worker_main(jobs, results, shared_server: tuple[str, int] | None, drivers: int, spares: SpareClaims) -> None:
    """A driver process: takes jobs until it gets None; reports ("start", index) and ("done", result). Its kernels
    are forked by `shared_server` (see `Driver`) when given."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interruption means
    signal.signal(signal.SIGTERM, _terminate)  # unwinds: temporary files are removed, kernels stopped
    import multiprocessing

    if kernel_client.current() is not None:  # forked from the run, with its server: attached to below instead
        kernel_client.forget_inherited()
    parent = multiprocessing.parent_process()
    driver = None
    try:
        driver = Driver(
            shared_server,
            parent.is_alive if parent is not None else None,
            lambda: spares.claim(jobs, drivers),
            spares.release,
        )
        while parent is None or parent.is_alive():  # a killed runner would read no results: stop
            try:
                job = jobs.get(timeout=1.0)
            except queue.Empty:
                continue
            if job is None:
                break
            results.put(("start", job.index, os.getpid()))
            results.put(("done", driver.run(job), os.getpid()))
    finally:
        if driver is not None:
            driver.close()
