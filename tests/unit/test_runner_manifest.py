"""The year's manifest and index: runs for the same year that end at the same time both keep their entries."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from kompas_helpers import kommuner, reportset
from kompas_helpers.runner import manifest as runner_manifest
from kompas_helpers.runner import plan
from kompas_helpers.runner.manifest import INDEX_FILE, MANIFEST_FILE, merge_manifest

YEAR = 2025
KOMMUNER = {
    "101": kommuner.Kommune("101", "København", "Region Hovedstaden"),
    "751": kommuner.Kommune("751", "Aarhus", "Region Midtjylland"),
}
# Two runs: the first makes two outputs for København, the second a third one for København and one for Aarhus.
RUNS = {
    "first": [("101", "overview"), ("101", None)],
    "second": [("101", "social"), ("751", "overview")],
}
# Time between reading the manifest and writing it back: without a lock both runs would read before either writes.
READ_TO_WRITE_SECONDS = 1.0


def _jobs_and_results(run: str, out_dir: Path) -> tuple[list, list]:
    jobs, results = [], []
    for index, (code, template) in enumerate(RUNS[run]):
        kommune = KOMMUNER[code]
        chosen = plan.Template(template, Path(f"{template}.ipynb"), {}) if template else None
        job = plan.Job(index, kommune, str(out_dir / kommune.folder), chosen, {}, None, f"hash-{run}", {}, YEAR, "0")
        jobs.append(job)
        results.append(plan.JobResult(index, code, job.name, reportset.OK, 1.5, files=[f"{job.name}.html"]))
    return jobs, results


def _run_info(run: str) -> dict:
    started = {"first": "2025-03-01T10:00:00+01:00", "second": "2025-03-01T10:00:01+01:00"}[run]
    return {"started": started, "ended": started, "status": reportset.OK, "counts": {"ok": 2, "failed": 0}}


def _finish_run(run: str, out_dir: str, barrier) -> None:
    """What the end of `kompas run` does, in its own process, slowed down between reading and writing."""
    read = runner_manifest._previous_manifest

    def slow_read(path: Path) -> dict:
        manifest = read(path)
        time.sleep(READ_TO_WRITE_SECONDS)
        return manifest

    runner_manifest._previous_manifest = slow_read
    jobs, results = _jobs_and_results(run, Path(out_dir))
    meta = {"data_hash": f"hash-{run}", "synthetic": True, "provenance": {"synthetic": True}}
    barrier.wait()
    runner_manifest._write_manifest_and_index(Path(out_dir), YEAR, jobs, results, _run_info(run), meta)


def test_two_runs_ending_together_keep_both_runs_entries(tmp_path):
    out_dir = tmp_path / str(YEAR)
    out_dir.mkdir()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(RUNS))
    processes = [context.Process(target=_finish_run, args=(run, str(out_dir), barrier)) for run in RUNS]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0]

    manifest = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    outputs = {code: set(entry["outputs"]) for code, entry in manifest["reports"].items()}
    assert outputs == {"101": {"overview", reportset.EXCEL_JOB, "social"}, "751": {"overview"}}
    started = {entry["run_started"] for report in manifest["reports"].values() for entry in report["outputs"].values()}
    assert started == {_run_info("first")["started"], _run_info("second")["started"]}
    page = (out_dir / INDEX_FILE).read_text(encoding="utf-8")
    assert "København" in page and "Aarhus" in page  # the index is written from the merged manifest
    assert sorted(p.name for p in out_dir.iterdir()) == [INDEX_FILE, MANIFEST_FILE]  # no lock left


def test_merge_keeps_other_kommuner_and_outputs_and_the_last_good_run(tmp_path):
    meta = {"data_hash": "hash-first", "synthetic": True, "provenance": {}}
    jobs, results = _jobs_and_results("first", tmp_path)
    first = merge_manifest({}, YEAR, jobs, results, _run_info("first"), meta)
    jobs, results = _jobs_and_results("second", tmp_path)
    results[0].status = reportset.FAILED
    second = merge_manifest(json.loads(json.dumps(first)), YEAR, jobs, results, _run_info("second"), meta)
    assert set(second["reports"]) == {"101", "751"}
    assert set(second["reports"]["101"]["outputs"]) == {"overview", reportset.EXCEL_JOB, "social"}
    assert second["reports"]["101"]["outputs"]["overview"] == first["reports"]["101"]["outputs"]["overview"]
    assert second["reports"]["101"]["outputs"]["social"]["status"] == reportset.FAILED
    assert second["run"] == _run_info("second")
    assert [n["template"] for n in second["notebooks"]] == ["social", "overview"]  # this run's notebooks only


# ----------------------------------------------------------------------------------------------------------------
# The order jobs are handed out in
# ----------------------------------------------------------------------------------------------------------------


def _job(index: int, code: str, template: str | None, parameters: dict | None = None) -> plan.Job:
    declared = parameters or {}
    chosen = plan.Template(template, Path(f"{template}.ipynb"), declared) if template else None
    return plan.Job(index, KOMMUNER[code], f"/out/{code}", chosen, {}, None, "hash", {}, YEAR, "0")


def test_jobs_go_out_longest_first_by_their_template_s_typical_time():
    jobs = [_job(0, "101", "overview"), _job(1, "101", "environmental"), _job(2, "101", "governance")]
    jobs += [_job(3, "101", None), _job(4, "101", "social"), _job(5, "101", "my_own_analysis")]
    sheet = _job(6, "101", "organisation", {reportset.ORGANISATION_PARAMETER: "str"})
    order = plan.longest_first([*jobs, sheet], {})
    # environmental and social tie at the top and keep the run's order; the organisation's sheet comes last
    assert [job.index for job in order] == [1, 4, 2, 3, 5, 0, 6]
    assert sorted(job.index for job in order) == list(range(7))  # every job once


def test_the_year_s_last_run_decides_where_it_knows_the_time():
    jobs = [_job(0, "101", "overview"), _job(1, "101", "environmental"), _job(2, "751", "overview")]
    previous = {
        "reports": {
            "101": {"outputs": {"overview": {"status": "ok", "seconds": 9.0}}},
            # a failed output's time says nothing about how long it takes: the typical time counts
            "751": {"outputs": {"overview": {"status": "failed", "seconds": 30.0}}},
        }
    }
    assert [job.index for job in plan.longest_first(jobs, previous)] == [0, 1, 2]


def test_figures_computed_during_the_run_go_into_the_index(tmp_path, monkeypatch):
    out_dir = tmp_path / str(YEAR)
    out_dir.mkdir()
    jobs, results = _jobs_and_results("first", out_dir)
    meta = {"data_hash": "hash-first", "synthetic": True, "provenance": {"synthetic": True}}

    def recompute(*args):
        raise AssertionError("the figures were computed already")

    monkeypatch.setattr(runner_manifest, "supervision_of_run", recompute)
    organisation = {"stem": "0042-boligselskabet-nord", "name": "Boligselskabet Nord", "organisation_id": "0042"}
    organisation |= {"complete": 17, "indicators": 20, "agreements": 3, "not_on_track": 1}
    written = runner_manifest._write_manifest_and_index(
        out_dir, YEAR, jobs, results, _run_info("first"), meta, tmp_path, {"101": [organisation]}
    )
    assert written["reports"]["101"]["organisations"] == [organisation]
    page = (out_dir / INDEX_FILE).read_text(encoding="utf-8")
    assert "Boligselskabet Nord (0042)" in page and "17 af 20 målepunkter" in page and "1 af 3" in page
    with pytest.raises(AssertionError, match="computed already"):  # without them, they are computed at the end
        runner_manifest._write_manifest_and_index(out_dir, YEAR, jobs, results, _run_info("first"), meta, tmp_path)
