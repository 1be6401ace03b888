"""What a run does when it is not told: how many drivers it starts."""

from __future__ import annotations

import pytest

from kompas_helpers.runner import batch, plan


class _Stopped(Exception):
    """Raised in place of running the jobs: the test has seen what it wanted."""


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_a_run_not_told_how_many_drivers_starts_one_more_than_the_cores(sliced_data, monkeypatch, cores):
    monkeypatch.setattr(plan.os, "cpu_count", lambda: cores)
    seen = []

    def instead(jobs, workers, *args, **kwargs):
        seen.append(workers)
        raise _Stopped

    monkeypatch.setattr(batch, "_run_jobs", instead)
    for told, expected in ((None, cores + 1), (2, 2), (1, 1)):
        options = batch.RunOptions(kommuner=["101"], data=str(sliced_data), templates=["overview"], workers=told)
        with pytest.raises(_Stopped):
            batch._run(options, None, None, None)
        assert seen.pop() == expected


def test_a_machine_whose_cores_are_unknown_gets_two_drivers(monkeypatch):
    monkeypatch.setattr(plan.os, "cpu_count", lambda: None)
    assert plan.default_workers() == 2
