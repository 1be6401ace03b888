"""The year's manifest and index: this run merged into the previous manifest, both rewritten under a lock."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import kompas_helpers
from kompas_helpers import indexpage
from kompas_helpers.files import exclusive_lock
from kompas_helpers.reportset import EXCEL_FILE, EXCEL_TITLE_DA, INDEX_FILE, OK, notebook_file
from kompas_helpers.runner.plan import Job, JobResult
from kompas_helpers.runner.worker import write_together

MANIFEST_FILE = "manifest.json"
MANIFEST_LOCK = ".manifest.lock"  # held while a run merges itself into the manifest; removed afterwards
MANIFEST_SCHEMA = 1


def _previous_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if manifest.get("schema") == MANIFEST_SCHEMA else {}


def _write_manifest_and_index(
    out_dir: Path,
    year: int,
    jobs: list[Job],
    results: list[JobResult],
    run_info: dict,
    meta: dict,
    data_folder: Path | None = None,
    supervised: dict[str, list[dict]] | None = None,
) -> dict:
    """Merge this run into the year's manifest (kommuner and outputs not in this run keep their entries) and
    rewrite the manifest and the index, each atomically. With the run's `data_folder`, the organisations each
    kommune of the run supervises are listed with their scores (`supervised` when the run has computed them while
    its notebooks ran, else computed here once from the indicator table).

    Runs for the same year may end at the same time: reading, merging and writing happen under an exclusive lock,
    so each run merges into what the other wrote and no entries are lost.
    """
    if supervised is not None:
        figures = supervised
    else:
        figures = supervision_of_run(data_folder, year, jobs) if data_folder is not None else {}
    with exclusive_lock(out_dir / MANIFEST_LOCK):
        previous = _previous_manifest(out_dir / MANIFEST_FILE)
        manifest = merge_manifest(previous, year, jobs, results, run_info, meta, figures)
        page = indexpage.index_html(manifest, present=lambda folder, file: (out_dir / folder / file).is_file())
        write_together(
            {out_dir / MANIFEST_FILE: json.dumps(manifest, ensure_ascii=False, indent=2), out_dir / INDEX_FILE: page}
        )
    return manifest


# Up to this many kommuner, the index's figures are computed from each kommune's slice of the table (about 0.2
# CPU-seconds each) rather than from the whole table and dataset (about 1 CPU-second): a run of a few kommuner spends
# that second beside its notebooks, on cores they need.
SLICES_UP_TO = 4


def supervision_of_run(data_folder: Path, year: int, jobs: list[Job]) -> dict[str, list[dict]]:
    """The organisations each kommune of the run supervises, with their scores: as written beside the slices of the
    run's dataset when they are for the run's year (`supervision.stored`), else from its (cached) table."""
    from kompas_helpers import bundle
    from kompas_helpers.organisation.supervision import stored, supervision

    codes = list(dict.fromkeys(job.kommune.code for job in jobs))
    written = stored(data_folder, year)  # written beside the slices, for the latest year
    if written is not None and all(code in written for code in codes):
        return {code: written[code] for code in codes}
    if len(codes) > SLICES_UP_TO:
        return supervision(bundle.load(data_folder), year, codes)
    found: dict[str, list[dict]] = {}
    for code in codes:  # the same figures from each kommune's slice (`bundle.write_slices`)
        found.update(supervision(bundle.load(data_folder, kommune_code=code), year, [code]))
    return found


def merge_manifest(
    previous: dict,
    year: int,
    jobs: list[Job],
    results: list[JobResult],
    run_info: dict,
    meta: dict,
    figures: dict[str, list[dict]] | None = None,
) -> dict:
    """The manifest after this run: `previous` (the manifest on disk, or {}) with this run's per-notebook entries
    merged into its reports; `run` and `notebooks` describe this run. `figures` (kommune code -> the organisations
    it supervises with their scores) replaces the `organisations` of the kommuner this run made something for."""
    reports: dict = previous.get("reports", {})
    for job, result in zip(jobs, results, strict=True):
        entry = reports.setdefault(
            job.kommune.code, {"kommune_name": job.kommune.name, "region": job.kommune.region, "outputs": {}}
        )
        entry["folder"] = job.kommune.folder
        before = entry["outputs"].get(job.name, {})
        now = {
            "title": job.title or (job.template.title_da if job.template else EXCEL_TITLE_DA),
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
    for code, organisations in (figures or {}).items():
        if code in reports:
            reports[code]["organisations"] = organisations
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
    return [EXCEL_FILE] if job.template is None else [notebook_file(job.name), f"{job.name}.html"]
