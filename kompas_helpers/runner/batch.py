"""The batch: `run()` checks everything, runs the jobs in worker processes, shows progress and prints a summary."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import kompas_helpers
from kompas_helpers import files, paths
from kompas_helpers.navigation import Targets
from kompas_helpers.reportset import (
    EXCEL_FILE,
    EXCEL_JOB,
    FAILED,
    INTERRUPTED,
    OK,
    ORGANISATION_PARAMETER,
    SHEETS_FOLDER,
    STATUS_DA,
)
from kompas_helpers.runner.manifest import (
    INDEX_FILE,
    MANIFEST_FILE,
    _previous_manifest,
    _write_manifest_and_index,
    supervision_of_run,
)
from kompas_helpers.runner.plan import (
    Job,
    JobResult,
    RunError,
    RunOptions,
    default_workers,
    longest_first,
    resolve_kommuner,
    resolve_organisations,
    resolve_templates,
    template_arguments,
)
from kompas_helpers.runner.worker import Driver, SpareClaims, _seconds_da, _worker_main

# How a run's drivers started (the manifest's run.drivers): forked from the run itself, which has imported what they
# need (batch._worker_context), fresh Python processes, the run's own process (one worker), or a Dask cluster's workers.
DRIVERS_DA = {
    "fork": "forket fra kørslen",
    "spawn": "startet som nye processer",
    "this-process": "i kørslens egen proces",
    "dask": "på Dask-klyngens arbejdere",
}


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
        return 1 if self.failed or self.manifest["run"]["status"] != OK else 0


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
        what = f"{job.kommune.code} {job.kommune.name} · {job.what_da if job.template else EXCEL_FILE}"
        status = STATUS_DA[result.status] + (f" ({result.error})" if result.error else "")
        width = len(str(self.total))
        print(
            f"[{self.done:>{width}}/{self.total}] {what}: {status}, {_seconds_da(result.seconds)} · "
            f"{self.failed} fejlet · ca. {_duration_da(left)} tilbage",
            file=self.stream,
            flush=True,
        )


def _duration_da(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def run(options: RunOptions, progress: TextIO | None = None, summary: TextIO | None = None) -> RunReport:
    """Run the templates for the kommuner, in parallel, every output written atomically. Raises RunError before
    anything runs.

    This process checks everything it can before anything runs (kommuner, templates, parameters, year), computes the
    indicator table once and writes one small slice of it per kommune; worker processes ("drivers") then each execute
    one notebook at a time through papermill, every notebook in a fresh kernel, and write its outputs; this process
    shows progress, and writes the manifest, the index and a summary at the end.

    Progress lines go to `progress` (the command line passes stderr) and the summary table to `summary` (stdout).
    Worker processes are forked from this process when it runs one thread and has a fork server (the command line),
    else spawned: a script calling this must do so under `if __name__ == "__main__":`.
    """
    from kompas_helpers.kernels import client as kernel_client

    # One kernel fork server for every local driver, started first: its imports and its copy of the run's data
    # (bundle.preload) go on beside this process's checks and the workers' own imports, once for the whole run
    # rather than once per worker. A worker that dies takes the kernels it asked for with it (the server watches who
    # asked); the server ends with the run.
    local = not options.scheduler
    server = kernel_client.start_for_run(options.data) if local else None
    try:
        # This process reads Parquet without Arrow's thread pool (no slower on 2 cores, measured on the whole
        # dataset: 13.3 s against 14.3 s for a first run's table): it stays a process of one thread, which can fork
        # its drivers (_worker_context), also on a dataset's first run and with organisation sheets.
        with files.without_arrow_threads():
            return _run(options, progress, summary, None if server is None else (server.path, server.process.pid))
    finally:
        if server is not None:
            kernel_client.stop()


def _run(
    options: RunOptions, progress: TextIO | None, summary: TextIO | None, shared: tuple[str, int] | None
) -> RunReport:
    from kompas_helpers import bundle
    from kompas_helpers.organisation import supervision

    started = dt.datetime.now().astimezone()
    clock = time.perf_counter()
    only_organisations = bool(options.organisations) and options.kommuner is None
    kommuner = [] if only_organisations else resolve_kommuner(options.kommuner)
    templates = resolve_templates(options.templates)
    extra = template_arguments(templates, options.parameters)
    workers = max(1, int(options.workers or default_workers()))
    data_folder = paths.data_folder(options.data)
    meta = bundle.write_slices(data_folder)  # the indicator table, computed once per dataset, and its slices
    # Every notebook's kernel inherits this and need not hash the dataset again to find its slices.
    os.environ[bundle.KNOWN_HASH_ENV] = bundle.known_hash_value(data_folder, meta["data_hash"])
    years = [int(y) for y in meta["years"]]
    year = int(options.year or 0) or max(years)
    if year not in years:
        raise RunError(f"Året {year} findes ikke i data (data dækker {min(years)}–{max(years)}). Intet er kørt.")
    supervision.store(data_folder)  # the index's figures beside the slices, once per dataset and version of the code
    table_seconds = time.perf_counter() - clock
    out_root = Path(options.out) if options.out else paths.OUTPUTS_DIR
    out_dir = out_root / str(year)
    data_argument = str(data_folder.resolve()) if options.data else ""
    jobs = []

    def add(kommune, template, parameters, stem: str = "", title: str = "") -> None:
        folder = str((out_dir / kommune.folder).resolve())
        if template is not None:
            parameters = {**parameters, **extra[template.name]}
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
                stem,
                title,
                targets=Targets(made if kommune in kommuner else (), sheets_for, pdf=options.pdf),
                pdf=options.pdf,
                word=options.word,
            )
        )

    kommune_templates = [t for t in templates if not t.per_organisation]
    organisation_templates = [t for t in templates if t.per_organisation]
    workbook = [None] if options.excel else []  # the job that writes nøgletal.xlsx has no template
    made = (*(t.name for t in kommune_templates), *([EXCEL_JOB] if options.excel else []))
    sheets_for = tuple(k.code for k in kommuner) if organisation_templates else ()
    for kommune in kommuner:
        for template in [*kommune_templates, *workbook]:
            add(kommune, template, {"kommune_code": kommune.code, "year": year, "data": data_argument})
    if organisation_templates:
        chosen = {k.code for k in kommuner}
        for organisation in resolve_organisations(data_folder, options.organisations, chosen):
            for template in organisation_templates:
                stem = organisation.stem if len(organisation_templates) == 1 else f"{organisation.stem}-{template.name}"
                parameters = {ORGANISATION_PARAMETER: organisation.organisation_id, "year": year, "data": data_argument}
                add(organisation.kommune, template, parameters, f"{SHEETS_FOLDER}/{stem}", organisation.name)
    supervised: list[dict] = []

    def meanwhile() -> None:
        """The index's figures, computed while the drivers run (this process waits for them otherwise); a failure
        here is left for the end of the run, where the index is written (`_write_manifest_and_index`)."""
        with contextlib.suppress(Exception):
            supervised.append(supervision_of_run(data_folder, year, jobs))

    order = longest_first(jobs, _previous_manifest(out_dir / MANIFEST_FILE))
    results, interrupted, drivers = _run_jobs(
        jobs, workers, _Progress(len(jobs), progress), options.scheduler, shared, meanwhile, order
    )
    # The national workbook comes with the kommuner's workbooks; a run of organisation sheets alone leaves it be.
    national = None
    if kommuner and options.excel and not interrupted:
        from kompas_helpers import excel_national  # openpyxl and pandera: 0.4 s that a run without workbooks skips

        national = excel_national.write_for_run(out_dir, year, meta, kompas_helpers.__version__)
    failed = any(r.status != OK for r in results) or (national is not None and national["status"] != OK)
    ended = dt.datetime.now().astimezone()
    run_info = {
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 2),
        "table_seconds": round(table_seconds, 2),
        "status": INTERRUPTED if interrupted else (FAILED if failed else OK),
        "drivers": drivers,  # how the processes that ran the notebooks started (DRIVERS_DA)
        "parameters": {
            "kommuner": None if options.kommuner is None else [k.code for k in kommuner],
            "organisations": None if not options.organisations else list(options.organisations),
            "year": year,
            "templates": [t.name for t in templates],
            "template_files": {t.name: _display_path(t.path) for t in templates},
            "workers": None if options.scheduler else workers,
            **({"scheduler": options.scheduler} if options.scheduler else {}),
            "data": _display_path(data_folder) if options.data else "",
            "timeout": options.timeout,
            "extra": dict(options.parameters),
            "pdf": options.pdf,
            "word": options.word,
            "excel": options.excel,
        },
        "counts": {s: sum(r.status == s for r in results) for s in (OK, FAILED, INTERRUPTED)},
        "national": national,  # alle-kommuner.xlsx: file, title, status, error, seconds; None when not made
    }
    manifest = _write_manifest_and_index(
        out_dir, year, jobs, results, run_info, meta, data_folder, supervised[0] if supervised else None
    )
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


def _run_jobs(
    jobs: list[Job],
    workers: int,
    progress: _Progress,
    scheduler: str = "",
    shared: tuple[str, int] | None = None,
    meanwhile=None,
    order: list[Job] | None = None,
) -> tuple[list[JobResult], bool, str]:
    """Run the jobs (in this process when workers is 1, on a Dask cluster's workers when a scheduler is given);
    returns the results in job order, whether the run was interrupted (Ctrl-C; unfinished jobs then have the status
    «interrupted») and how the drivers started (a key of DRIVERS_DA). Local drivers fork their kernels from `shared`
    (socket path, pid), when given. With worker processes, `meanwhile()` is called once they have their jobs (this
    process's own work in the meantime), and the jobs are handed out in `order` (default: as given)."""
    done: dict[int, JobResult] = {}
    interrupted = False
    drivers = "dask" if scheduler else "this-process" if workers == 1 else ""
    # SIGTERM (e.g. from a scheduler) ends the run like Ctrl-C: stop the drivers, keep the earlier outputs.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if main_thread else None
    try:
        if scheduler:
            from kompas_helpers.runner import dask_executor

            dask_executor.execute(jobs, scheduler, progress, done)
        elif workers == 1:
            left = len(jobs)
            driver = Driver(shared, more_coming=lambda: left > 0)
            try:
                for job in jobs:
                    left -= 1
                    done[job.index] = driver.run(job)
                    progress.update(job, done[job.index])
            finally:
                driver.close()
        else:
            context = _worker_context(shared)
            drivers = context.get_start_method()
            _execute_in_pool(order or jobs, min(workers, len(jobs)), progress, done, context, shared, meanwhile)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    results = []
    for job in jobs:
        results.append(done.get(job.index) or JobResult(job.index, job.kommune.code, job.name, INTERRUPTED, 0.0))
    return results, interrupted, drivers


def _execute_in_pool(
    jobs: list[Job],
    workers: int,
    progress: _Progress,
    done: dict[int, JobResult],
    context,
    shared: tuple[str, int] | None,
    meanwhile=None,
) -> None:
    job_queue, result_queue = context.Queue(), context.Queue()
    spares = SpareClaims(context)
    processes = [
        context.Process(target=_worker_main, args=(job_queue, result_queue, shared, workers, spares), daemon=True)
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    # Only now: the first put starts the queue's feeder thread, and a forking context forks a process of one thread.
    for job in jobs:
        job_queue.put(job)
    for _ in range(workers):
        job_queue.put(None)
    running: dict[int, int] = {}  # pid -> job index
    by_index = {job.index: job for job in jobs}  # `jobs` is in the order they are handed out
    try:
        if meanwhile is not None:
            meanwhile()
        while len(done) < len(jobs):
            try:
                kind, payload, pid = result_queue.get(timeout=1.0)
            except queue.Empty:
                _reap_dead_workers(processes, running, by_index, done, progress)
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
                progress.update(by_index[payload.index], payload)
    finally:
        _stop_workers(processes)
        for q in (job_queue, result_queue):
            q.close()
            q.join_thread()
        # The last references to the queues' semaphores: the tracker must outlive them (see _stop_resource_tracker).
        del job_queue, result_queue, q
        _stop_resource_tracker()


def _worker_context(shared: tuple[str, int] | None):
    """How the driver processes start: forked from this process when that is sound, else spawned afresh.

    A fork starts a driver with this process's imports and its built HTML exporter (`worker.prepare_drivers`), about
    1 CPU-second less per driver than a fresh interpreter. It is sound only in a process of one thread (another
    thread may hold a lock that would stay locked in the child: `kompas run` imports numpy and pyarrow without their
    thread pools, protocol.single_threaded_imports) and is used with the fork server only, whose kernels are fresh
    processes whatever the driver holds; a caller with threads (a notebook calling `batch.run`) gets spawned drivers.
    """
    import multiprocessing

    from kompas_helpers.kernels import protocol

    if shared is not None and "fork" in multiprocessing.get_all_start_methods() and protocol.threads() == 1:
        from kompas_helpers.runner.worker import prepare_drivers

        prepare_drivers()
        if protocol.threads() == 1:  # again: the imports might have started one
            return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _reap_dead_workers(processes, running, jobs: dict[int, Job], done, progress) -> None:
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


def _stop_resource_tracker() -> None:
    """Stop multiprocessing's resource tracker once the queues are gone (the caller holds no reference to them).

    The queues' semaphores start a tracker process that would only exit after this process, as an orphan; where
    init does not collect orphans (containers) it stays a zombie. Stopped here, it is collected by this process.
    A semaphore still alive at this point would be unlinked by the stopping tracker ("leaked semaphore objects")
    and again by its own finaliser at exit (a FileNotFoundError traceback on stderr).
    """
    import gc
    from multiprocessing import resource_tracker

    gc.collect()  # whatever is unreachable unregisters itself while the tracker still runs
    resource_tracker._resource_tracker._stop()


def _print_summary(report: RunReport, jobs: list[Job], stream: TextIO) -> None:
    rows = [("Kommune", "Skabelon", "Status", "Sekunder")]
    for job, result in zip(jobs, report.results, strict=True):
        what = job.what_da
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
    parameters = report.manifest["run"]["parameters"]
    where = f"på Dask-klyngen {parameters['scheduler']}" if "scheduler" in parameters else ""
    drivers = report.manifest["run"].get("drivers")
    where = where or f"med {parameters['workers']} processer" + (
        f" ({DRIVERS_DA[drivers]})" if drivers in DRIVERS_DA else ""
    )
    lines = [
        "",
        f"{len(report.results)} opgaver på {_duration_da(seconds)} {where}: "
        f"{counts[OK]} færdige, {counts[FAILED]} fejlede"
        + (f", {counts[INTERRUPTED]} afbrudt." if counts[INTERRUPTED] else "."),
        f"Rapporterne ligger i {report.out_dir}; oversigten er {report.out_dir / INDEX_FILE}.",
    ]
    national = report.manifest["run"].get("national")
    if national and national["status"] != OK:
        lines.append(
            f"{national['file']} fejlede ({national['error']}); en tidligere udgave (hvis der er en) er bevaret."
        )
    if report.interrupted:
        lines.append("Kørslen blev afbrudt.")
    if report.failed:
        lines.append(
            "Rapporter, der fejlede eller blev afbrudt, beholder deres tidligere udgave (hvis der er en); "
            "se manifest.json."
        )
    print("\n".join(lines), file=stream, flush=True)
