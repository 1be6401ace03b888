"""The batch runner: the report templates for many kommuner, executed in parallel and written atomically.

The parent process checks everything it can before anything runs (kommuner, templates, parameters, year), computes
the indicator table once and writes one small slice of it per kommune; worker processes ("drivers") then each
execute one notebook at a time through papermill, every notebook in a fresh kernel, and write its outputs; the
parent shows progress, and writes the manifest, the index and a summary at the end.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import json
import os
import queue
import signal
import tempfile
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

import kompas_helpers
from kompas_helpers import paths

TEMPLATES = ("overview", "environmental", "social", "governance")
TEMPLATE_TITLES_DA = {"overview": "Oversigt", "environmental": "Miljø", "social": "Social", "governance": "Governance"}
RUN_PARAMETERS = ("kommune_code", "year", "data")  # what the runner itself passes to every template
KERNEL_NAME = "python3"
KERNEL_START_RETRIES = 2  # extra attempts for a notebook whose kernel failed to start (never for a failing cell)
KERNEL_START_TIMEOUT = 60  # seconds
EXCEL_FILE = "nøgletal.xlsx"
EXCEL_JOB = "nøgletal"
MANIFEST_FILE = "manifest.json"
MANIFEST_LOCK = ".manifest.lock"  # held while a run merges itself into the manifest; removed afterwards
INDEX_FILE = "index.html"
FAILED_SUFFIX = ".fejl.ipynb"  # the executed notebook of a failed run, kept beside the earlier good outputs
MANIFEST_SCHEMA = 1

OK, FAILED, INTERRUPTED = "ok", "failed", "interrupted"
STATUS_DA = {OK: "færdig", FAILED: "fejlede", INTERRUPTED: "afbrudt"}


class RunError(Exception):
    """The run cannot start (unknown kommune, template or parameter, bad year); the message is Danish."""


# ----------------------------------------------------------------------------------------------------------------
# What to run: kommuner, templates, parameters
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kommune:
    code: str
    name: str
    region: str

    @property
    def folder(self) -> str:
        return kommune_folder(self.code, self.name)


@dataclass(frozen=True)
class Template:
    name: str
    path: Path
    parameters: dict[str, str]  # name -> declared type ("str", "int", …; "" when it has no annotation)

    @property
    def title_da(self) -> str:
        return TEMPLATE_TITLES_DA.get(self.name, self.name)


def kommune_folder(code: str, name: str) -> str:
    """'101-københavn', '173-lyngby-taarbæk': the code and the lower-case name; æ, ø and å are kept, other accents
    are dropped and everything that is not a letter or digit becomes a hyphen."""
    letters = []
    for char in unicodedata.normalize("NFC", name).lower():
        if char not in "æøå":
            char = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        letters.append(char if char.isascii() and char.isalnum() or char in "æøå" else "-")
    slug = "-".join(part for part in "".join(letters).split("-") if part)
    return f"{code}-{slug}"


def resolve_kommuner(values: Sequence[str] | None) -> list[Kommune]:
    """The kommuner to run (None: all 98), from codes ('101', '0101') or names ('København'); unknown ones are a
    RunError naming every one of them."""
    from kompas_helpers import model

    reference = model.kommuner()
    every = [Kommune(r.kommune_code, r.kommune_name, r.region) for r in reference.itertuples(index=False)]
    if values is None:
        return every
    by_code = {k.code: k for k in every}
    by_name = {k.name.casefold(): k for k in every}
    chosen, unknown = [], []
    for value in values:
        text = str(value).strip()
        found = by_code.get(model.normalise_kommune_code(text)) or by_name.get(text.casefold())
        if found is None:
            unknown.append(text)
        elif found not in chosen:
            chosen.append(found)
    if unknown:
        listed = ", ".join(f"«{u}»" for u in unknown)
        raise RunError(
            f"Ukendt kommune: {listed} er ikke en af de 98 kommuner. Brug Danmarks Statistiks kommunekode uden "
            "foranstillet nul (fx 101 for København, 751 for Aarhus) eller kommunens navn. Intet er kørt."
        )
    if not chosen:
        raise RunError("Ingen kommuner valgt: brug --all eller --kommune KODE. Intet er kørt.")
    return chosen


def template_parameters(path: Path) -> dict[str, str]:
    """The names (and declared types) assigned in a notebook's cell tagged «parameters», read without running it."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"Skabelonen {Path(path).name} kan ikke læses som en notesbog ({exc}). Intet er kørt.") from exc
    cells = [c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise RunError(f"Skabelonen {Path(path).name} har ingen celle mærket «parameters». Intet er kørt.")
    source = cells[0].get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise RunError(
            f"Parametercellen i {Path(path).name} er ikke gyldig Python ({exc.msg}). Intet er kørt."
        ) from exc
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = ast.unparse(node.annotation)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    value = node.value
                    found[target.id] = type(value.value).__name__ if isinstance(value, ast.Constant) else ""
    return found


def resolve_templates(names: Sequence[str] | None) -> list[Template]:
    """Templates by name (in templates/) or by path to a .ipynb file; None means the four standard templates."""
    chosen = []
    for name in names or TEMPLATES:
        given = str(name)
        if given.endswith(".ipynb") or os.sep in given or "/" in given:
            path = Path(given).resolve()
            label = path.stem
        else:
            path = paths.TEMPLATES_DIR / f"{given}.ipynb"
            label = given
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in paths.TEMPLATES_DIR.glob("*.ipynb"))) or "ingen"
            raise RunError(
                f"Skabelonen «{given}» findes ikke ({path.name}); kendte skabeloner: {known}. Intet er kørt."
            )
        if label in (t.name for t in chosen):
            continue
        if label == EXCEL_JOB:
            raise RunError(f"En skabelon må ikke hedde «{EXCEL_JOB}» (navnet bruges til Excel-filen). Intet er kørt.")
        chosen.append(Template(label, path, template_parameters(path)))
    return chosen


def _convert(value: str, declared: str, name: str, template: str) -> object:
    kind = declared.split("|")[0].strip()
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value.replace(",", "."))
        if kind == "bool":
            lowered = value.strip().lower()
            if lowered in ("true", "ja", "1"):
                return True
            if lowered in ("false", "nej", "0"):
                return False
            raise ValueError(value)
    except ValueError:
        raise RunError(
            f"Parameteren «{name}» i skabelonen «{template}» skal være {declared}, men fik «{value}». Intet er kørt."
        ) from None
    return value


def template_arguments(templates: Sequence[Template], extra: dict[str, str] | None) -> dict[str, dict[str, object]]:
    """Check every parameter against every template's parameters cell BEFORE anything runs.

    The runner's own parameters (kommune_code, year, data) must be declared by every template; `extra` (from
    --parameter NAVN=VÆRDI) is converted to the declared type. Papermill itself only warns about an unknown name,
    which would silently render every report with the default; here it is a RunError naming the template.
    Returns the converted extra arguments per template.
    """
    problems = []
    converted: dict[str, dict[str, object]] = {}
    for template in templates:
        declared = ", ".join(template.parameters) or "ingen"
        for name in (*RUN_PARAMETERS, *(extra or {})):
            if name not in template.parameters:
                problems.append(f"skabelonen «{template.name}» har ingen parameter «{name}» (den har: {declared})")
        if not problems:
            converted[template.name] = {
                name: _convert(value, template.parameters[name], name, template.name)
                for name, value in (extra or {}).items()
            }
    if problems:
        raise RunError("Ukendt parameter: " + "; ".join(problems) + ". Intet er kørt.")
    return converted


# ----------------------------------------------------------------------------------------------------------------
# Jobs and their results
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One notebook (or one kommune's Excel workbook) to produce; sent to a driver process."""

    index: int
    kommune: Kommune
    folder: str  # absolute path of the kommune's output folder
    template: Template | None  # None: the Excel workbook
    parameters: dict
    timeout: float | None
    data_hash: str
    provenance: dict
    year: int
    version: str

    @property
    def name(self) -> str:
        return self.template.name if self.template else EXCEL_JOB


@dataclass
class JobResult:
    index: int
    kommune_code: str
    template: str
    status: str
    seconds: float
    attempts: int = 1
    error: str | None = None
    files: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------------------------
# The driver: runs in a worker process, executes one notebook at a time, each in a fresh kernel
# ----------------------------------------------------------------------------------------------------------------


class KernelStartError(RuntimeError):
    """The kernel did not start or did not answer; the notebook has not begun and may be retried."""


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_together(files: dict[Path, str]) -> None:
    """Write several text files so that either all of them replace the old ones or none does.

    Each file is written to a temporary file beside it first; only when every one is complete are they moved into
    place (os.replace), so a failure or an interruption leaves every earlier file exactly as it was.
    """
    from kompas_helpers.files import atomic_write

    with contextlib.ExitStack() as stack:
        for path, text in files.items():
            tmp = stack.enter_context(atomic_write(path))
            _write_text(tmp, text)


def _kernel_manager_class():
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

    class QuickClient(AsyncKernelClient):
        """A client whose wait_for_ready skips jupyter_client's final 0.2 s wait for silence on IOPub.

        That wait only drains start-up messages, and nbclient reads nothing but the replies to its own requests;
        at one fresh kernel per notebook, 0.2 s idle per notebook adds up.
        """

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


class Driver:
    """Executes jobs in this process; keeps one fresh kernel starting in advance for the next notebook."""

    def __init__(self):
        import logging

        import nbformat
        import papermill
        from jupyter_core.utils import run_sync

        from kompas_helpers import excel, htmlreport

        # These log warnings to stderr by default (asyncio also when a run is stopped in the middle of a cell);
        # failures are reported through the results instead.
        for name in ("papermill", "traitlets", "nbclient", "jupyter_client", "asyncio"):
            logging.getLogger(name).addHandler(logging.NullHandler())
            logging.getLogger(name).propagate = False
        self._nbformat, self._papermill, self._run_sync = nbformat, papermill, run_sync
        self._excel, self._htmlreport = excel, htmlreport
        self._manager_class = _kernel_manager_class()
        self._spare = None
        self._dead: list = []  # killed kernels whose processes are still to be collected
        self._shared_tables: dict[str, object] = {}
        self._cwd = str(paths.TEMPLATES_DIR if paths.TEMPLATES_DIR.is_dir() else paths.PROJECT_DIR)

    # -- kernels ------------------------------------------------------------------------------------------------

    async def _start_kernel(self):
        km = self._manager_class(kernel_name=KERNEL_NAME)
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
        if km is None:
            try:
                km = self._run_sync(self._start_kernel)()
            except Exception as exc:
                raise KernelStartError(f"{type(exc).__name__}: {exc}") from exc
        return km

    async def _start_spare(self) -> None:
        if self._spare is None:
            with contextlib.suppress(Exception):  # a spare that cannot start is retried as a normal start
                self._spare = await self._start_kernel()

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
        """Stop the kernel started in advance (call once no more jobs come)."""
        self._discard_spare()

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

    def _shared_table(self, digest: str):
        if digest not in self._shared_tables:
            from kompas_helpers import bundle

            self._shared_tables = {digest: bundle.read_shared_slice(digest)}
        return self._shared_tables[digest]

    def _run_excel(self, job: Job) -> JobResult:
        path = Path(job.folder) / EXCEL_FILE
        self._excel.write_workbook(
            path,
            self._shared_table(job.data_hash),
            job.kommune.code,
            provenance=job.provenance,
            data_hash=job.data_hash,
            version=job.version,
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
        name = job.template.name
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
            if began and nb is not None:
                write_together({folder / f"{name}{FAILED_SUFFIX}": self._nbformat.writes(nb)})
            return JobResult(job.index, job.kommune.code, name, FAILED, 0.0, attempts, message)
        html = self._htmlreport.notebook_html(nb, _page_title(job), _page_footer(job))
        write_together({folder / f"{name}.ipynb": self._nbformat.writes(nb), folder / f"{name}.html": html})
        (folder / f"{name}{FAILED_SUFFIX}").unlink(missing_ok=True)
        return JobResult(job.index, job.kommune.code, name, OK, 0.0, attempts, files=[f"{name}.ipynb", f"{name}.html"])

    def _discard_spare(self) -> None:
        if self._spare is not None:
            self._run_sync(self._kill_kernel)(self._spare)
            self._spare = None
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
    return f"{job.template.title_da} – {job.kommune.name} {job.year} – AlmenKompas"


def _page_footer(job: Job) -> str:
    synthetic = " · SYNTETISKE DATA" if job.provenance.get("synthetic") else ""
    return (
        f"AlmenKompas-arbejdsbogen {job.version} · dannet {_danish_time(dt.datetime.now())} · "
        f"datasæt {job.data_hash[:12]}{synthetic}"
    )


def _danish_time(moment: dt.datetime) -> str:
    return moment.strftime("%d.%m.%Y kl. %H.%M")


# ----------------------------------------------------------------------------------------------------------------
# Worker processes
# ----------------------------------------------------------------------------------------------------------------


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def _worker_main(jobs, results) -> None:
    """A driver process: takes jobs until it gets None; reports ("start", index) and ("done", result)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interruption means
    signal.signal(signal.SIGTERM, _terminate)  # unwinds: temporary files are removed, kernels stopped
    import multiprocessing

    parent = multiprocessing.parent_process()
    driver = None
    try:
        driver = Driver()
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


# ----------------------------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class RunOptions:
    kommuner: Sequence[str] | None = None  # None: all 98
    year: int | None = None  # None or 0: the latest year in the data
    templates: Sequence[str] | None = None  # None: the four standard templates
    workers: int | None = None  # None: the number of cores; 1: in this process, no worker processes
    data: str | Path = ""  # dataset folder; "": the synthetic default
    out: str | Path | None = None  # None: outputs/
    timeout: float | None = None  # seconds per notebook; None: no limit
    parameters: dict[str, str] = field(default_factory=dict)  # extra template parameters (text, converted)


@dataclass
class RunReport:
    year: int
    out_dir: Path
    results: list[JobResult]
    manifest: dict
    interrupted: bool = False

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status != OK]

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failed else 0


class _Progress:
    """One line on stderr per finished notebook: how many are done and failed, and the estimated time left."""

    def __init__(self, total: int, stream: TextIO | None):
        self.total, self.stream = total, stream
        self.done = self.failed = 0
        self.start = time.perf_counter()

    def update(self, job: Job, result: JobResult) -> None:
        self.done += 1
        self.failed += result.status != OK
        if self.stream is None:
            return
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done)
        what = f"{job.kommune.code} {job.kommune.name} · {job.template.title_da if job.template else EXCEL_FILE}"
        status = STATUS_DA[result.status] + (f" ({result.error})" if result.error else "")
        width = len(str(self.total))
        print(
            f"[{self.done:>{width}}/{self.total}] {what}: {status}, {_seconds_da(result.seconds)} · "
            f"{self.failed} fejlet · ca. {_duration_da(left)} tilbage",
            file=self.stream,
            flush=True,
        )


def _seconds_da(seconds: float) -> str:
    from kompas_helpers import fmt

    return f"{fmt.number(seconds, 1)} s"


def _duration_da(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def run(options: RunOptions, progress: TextIO | None = None, summary: TextIO | None = None) -> RunReport:
    """Run the templates for the kommuner; see the module docstring. Raises RunError before anything runs.

    Progress lines go to `progress` (the command line passes stderr) and the summary table to `summary` (stdout).
    Worker processes are spawned: a script calling this must do so under `if __name__ == "__main__":`.
    """
    from kompas_helpers import bundle

    started = dt.datetime.now().astimezone()
    clock = time.perf_counter()
    kommuner = resolve_kommuner(options.kommuner)
    templates = resolve_templates(options.templates)
    extra = template_arguments(templates, options.parameters)
    workers = max(1, int(options.workers or os.cpu_count() or 1))
    data_folder = bundle.data_dir(options.data)
    meta = bundle.write_slices(data_folder)  # the indicator table, computed once per dataset, and its slices
    table_seconds = time.perf_counter() - clock
    years = [int(y) for y in meta["years"]]
    year = int(options.year or 0) or max(years)
    if year not in years:
        raise RunError(f"Året {year} findes ikke i data (data dækker {min(years)}–{max(years)}). Intet er kørt.")
    out_root = Path(options.out) if options.out else paths.OUTPUTS_DIR
    out_dir = out_root / str(year)
    data_argument = str(data_folder.resolve()) if options.data else ""
    jobs = []
    for kommune in kommuner:
        folder = str((out_dir / kommune.folder).resolve())
        for template in [*templates, None]:
            parameters = {"kommune_code": kommune.code, "year": year, "data": data_argument}
            if template is not None:
                parameters.update(extra[template.name])
            jobs.append(
                Job(
                    len(jobs),
                    kommune,
                    folder,
                    template,
                    parameters,
                    options.timeout,
                    meta["data_hash"],
                    meta["provenance"],
                    year,
                    kompas_helpers.__version__,
                )
            )
    results, interrupted = _run_jobs(jobs, workers, _Progress(len(jobs), progress))
    ended = dt.datetime.now().astimezone()
    run_info = {
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 2),
        "table_seconds": round(table_seconds, 2),
        "status": INTERRUPTED if interrupted else (FAILED if any(r.status != OK for r in results) else OK),
        "parameters": {
            "kommuner": None if options.kommuner is None else [k.code for k in kommuner],
            "year": year,
            "templates": [t.name for t in templates],
            "template_files": {t.name: _display_path(t.path) for t in templates},
            "workers": workers,
            "data": _display_path(data_folder) if options.data else "",
            "timeout": options.timeout,
            "extra": dict(options.parameters),
        },
        "counts": {s: sum(r.status == s for r in results) for s in (OK, FAILED, INTERRUPTED)},
    }
    manifest = _write_manifest_and_index(out_dir, year, jobs, results, run_info, meta)
    report = RunReport(year, out_dir, results, manifest, interrupted)
    if summary is not None:
        _print_summary(report, jobs, summary)
    return report


def _display_path(path: Path) -> str:
    """A path relative to the project when it lies inside it (manifests should not carry machine paths)."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(paths.PROJECT_DIR))
    except ValueError:
        return str(path)


def _run_jobs(jobs: list[Job], workers: int, progress: _Progress) -> tuple[list[JobResult], bool]:
    """Run the jobs (in this process when workers is 1); returns the results in job order and whether the run was
    interrupted (Ctrl-C); unfinished jobs then have the status «interrupted»."""
    done: dict[int, JobResult] = {}
    interrupted = False
    # SIGTERM (e.g. from a scheduler) ends the run like Ctrl-C: stop the drivers, keep the earlier outputs.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if main_thread else None
    try:
        if workers == 1:
            driver = Driver()
            try:
                for job in jobs:
                    done[job.index] = driver.run(job)
                    progress.update(job, done[job.index])
            finally:
                driver.close()
        else:
            _execute_in_pool(jobs, min(workers, len(jobs)), progress, done)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    results = []
    for job in jobs:
        results.append(done.get(job.index) or JobResult(job.index, job.kommune.code, job.name, INTERRUPTED, 0.0))
    return results, interrupted


def _execute_in_pool(jobs: list[Job], workers: int, progress: _Progress, done: dict[int, JobResult]) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    job_queue, result_queue = context.Queue(), context.Queue()
    for job in jobs:
        job_queue.put(job)
    for _ in range(workers):
        job_queue.put(None)
    processes = [
        context.Process(target=_worker_main, args=(job_queue, result_queue), daemon=True) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    running: dict[int, int] = {}  # pid -> job index
    try:
        while len(done) < len(jobs):
            try:
                kind, payload, pid = result_queue.get(timeout=1.0)
            except queue.Empty:
                _reap_dead_workers(processes, running, jobs, done, progress)
                if not any(p.is_alive() for p in processes) and len(done) < len(jobs):
                    for job in jobs:  # every driver is gone: nothing else will run
                        if job.index not in done:
                            done[job.index] = JobResult(
                                job.index, job.kommune.code, job.name, FAILED, 0.0, 0, "arbejdsprocessen stoppede"
                            )
                            progress.update(job, done[job.index])
                continue
            if kind == "start":
                running[pid] = payload
            else:
                running.pop(pid, None)
                done[payload.index] = payload
                progress.update(jobs[payload.index], payload)
    finally:
        _stop_workers(processes)


def _reap_dead_workers(processes, running, jobs, done, progress) -> None:
    """A driver that died (killed, out of memory) fails the notebook it was running; the others carry on."""
    for process in processes:
        if not process.is_alive() and process.pid in running:
            index = running.pop(process.pid)
            if index not in done:
                message = f"arbejdsprocessen stoppede uventet (kode {process.exitcode})"
                done[index] = JobResult(index, jobs[index].kommune.code, jobs[index].name, FAILED, 0.0, 1, message)
                progress.update(jobs[index], done[index])


def _stop_workers(processes) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: the driver stops its kernels and removes its temporary files
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()


# ----------------------------------------------------------------------------------------------------------------
# Manifest, index and summary
# ----------------------------------------------------------------------------------------------------------------


def _previous_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if manifest.get("schema") == MANIFEST_SCHEMA else {}


def _write_manifest_and_index(
    out_dir: Path, year: int, jobs: list[Job], results: list[JobResult], run_info: dict, meta: dict
) -> dict:
    """Merge this run into the year's manifest (kommuner and outputs not in this run keep their entries) and
    rewrite the manifest and the index, each atomically.

    Runs for the same year may end at the same time: reading, merging and writing happen under an exclusive lock,
    so each run merges into what the other wrote and no entries are lost.
    """
    from kompas_helpers import htmlreport
    from kompas_helpers.files import exclusive_lock

    with exclusive_lock(out_dir / MANIFEST_LOCK):
        manifest = merge_manifest(_previous_manifest(out_dir / MANIFEST_FILE), year, jobs, results, run_info, meta)
        page = htmlreport.index_html(manifest, present=lambda folder, file: (out_dir / folder / file).is_file())
        write_together(
            {out_dir / MANIFEST_FILE: json.dumps(manifest, ensure_ascii=False, indent=2), out_dir / INDEX_FILE: page}
        )
    return manifest


def merge_manifest(
    previous: dict, year: int, jobs: list[Job], results: list[JobResult], run_info: dict, meta: dict
) -> dict:
    """The manifest after this run: `previous` (the manifest on disk, or {}) with this run's per-notebook entries
    merged into its reports; `run` and `notebooks` describe this run."""
    reports: dict = previous.get("reports", {})
    for job, result in zip(jobs, results, strict=True):
        entry = reports.setdefault(
            job.kommune.code, {"kommune_name": job.kommune.name, "region": job.kommune.region, "outputs": {}}
        )
        entry["folder"] = job.kommune.folder
        before = entry["outputs"].get(job.name, {})
        now = {
            "title": job.template.title_da if job.template else "Nøgletal (Excel)",
            "status": result.status,
            "seconds": round(result.seconds, 2),
            "attempts": result.attempts,
            "error": result.error,
            "files": result.files or before.get("files") or _expected_files(job),
            "run_started": run_info["started"],
            "data_hash": job.data_hash,
            "last_ok": run_info["started"] if result.status == OK else before.get("last_ok"),
            "last_ok_data_hash": job.data_hash if result.status == OK else before.get("last_ok_data_hash"),
        }
        entry["outputs"][job.name] = now
    return {
        "schema": MANIFEST_SCHEMA,
        "year": year,
        "package_version": kompas_helpers.__version__,
        "data_hash": meta["data_hash"],
        "synthetic": bool(meta["synthetic"]),
        "provenance": meta["provenance"],
        "run": run_info,
        "notebooks": [asdict(r) | {"kommune_name": j.kommune.name} for j, r in zip(jobs, results, strict=True)],
        "reports": dict(sorted(reports.items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0)),
    }


def _expected_files(job: Job) -> list[str]:
    return [EXCEL_FILE] if job.template is None else [f"{job.name}.ipynb", f"{job.name}.html"]


def _print_summary(report: RunReport, jobs: list[Job], stream: TextIO) -> None:
    rows = [("Kommune", "Skabelon", "Status", "Sekunder")]
    for job, result in zip(jobs, report.results, strict=True):
        what = job.template.title_da if job.template else "Nøgletal (Excel)"
        rows.append(
            (f"{job.kommune.code} {job.kommune.name}", what, STATUS_DA[result.status], _seconds_da(result.seconds)[:-2])
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]), row[3].rjust(widths[3])]
        print("  ".join(cells).rstrip(), file=stream)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=stream)
    counts = report.manifest["run"]["counts"]
    seconds = report.manifest["run"]["seconds"]
    workers = report.manifest["run"]["parameters"]["workers"]
    lines = [
        "",
        f"{len(report.results)} opgaver på {_duration_da(seconds)} med {workers} processer: "
        f"{counts[OK]} færdige, {counts[FAILED]} fejlede"
        + (f", {counts[INTERRUPTED]} afbrudt." if counts[INTERRUPTED] else "."),
        f"Rapporterne ligger i {report.out_dir}; oversigten er {report.out_dir / INDEX_FILE}.",
    ]
    if report.interrupted:
        lines.append("Kørslen blev afbrudt.")
    if report.failed:
        lines.append(
            "Rapporter, der fejlede eller blev afbrudt, beholder deres tidligere udgave (hvis der er en); "
            "se manifest.json."
        )
    print("\n".join(lines), file=stream, flush=True)
