"""The index's figures written beside the slices (organisation.supervision.store): a run reads its kommuner's figures
there, and they are exactly those computed from the whole table; a file from other code, another year or none is not
used."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from kompas_helpers import bundle, kommuner, synthesize
from kompas_helpers.io import datasets
from kompas_helpers.organisation import supervision as supervision_module
from kompas_helpers.runner import manifest


@pytest.fixture
def data(sliced_data):
    supervision_module.store(sliced_data)  # what a run does after writing the slices
    return sliced_data


def _path(folder):
    return bundle.slices_dir(bundle.dataset_hash(folder)) / supervision_module.STORED_FILE


def _expected(folder, year=None) -> dict:
    whole = bundle.load(folder)
    codes = list(kommuner.table()["kommune_code"])
    return supervision_module.supervision(whole, whole.latest_year if year is None else year, codes)


def _jobs(codes):
    # A run's jobs name each kommune several times (a report per template, the workbook, the sheets).
    return [SimpleNamespace(kommune=kommuner.find(code)) for code in codes for _ in range(2)]


def _supervisors(folder) -> list[str]:
    return sorted({str(c) for c in bundle.load(folder).dataset.organisations["hjemsted_kommune_code"]})


def _no_computing(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the figures were computed again")

    monkeypatch.setattr(supervision_module, "supervision", never)
    monkeypatch.setattr(bundle, "load", never)


def test_the_figures_written_beside_the_slices_are_those_of_the_whole_table_for_every_kommune(data):
    year = bundle.load(data).latest_year
    stored = supervision_module.stored(data, year)
    assert stored == _expected(data)
    assert len(stored) == 98 and sum(len(rows) for rows in stored.values()) > 0


def test_a_run_takes_its_kommuners_figures_from_the_file_without_computing_them(data, monkeypatch):
    year = bundle.load(data).latest_year
    expected = _expected(data)
    codes = _supervisors(data)[: manifest.SLICES_UP_TO + 2]  # more than the slices' way takes: the file serves all
    _no_computing(monkeypatch)
    for chosen in (codes[:2], codes):
        assert manifest.supervision_of_run(data, year, _jobs(chosen)) == {code: expected[code] for code in chosen}


def test_figures_for_another_year_are_computed_from_the_table(data):
    years = bundle.load(data).years
    earlier = min(years)
    assert earlier != max(years) and supervision_module.stored(data, earlier) is None
    codes = _supervisors(data)[:2]
    expected = _expected(data, earlier)
    assert manifest.supervision_of_run(data, earlier, _jobs(codes)) == {code: expected[code] for code in codes}


@pytest.mark.parametrize("damage", ["missing", "not JSON", "other code", "no figures"])
def test_a_file_not_written_by_this_code_is_not_used_and_is_written_again_by_the_next_run(data, damage):
    year = bundle.load(data).latest_year
    expected = _expected(data)
    path = _path(data)
    stored = json.loads(path.read_text(encoding="utf-8"))
    if damage == "missing":
        path.unlink()
    elif damage == "not JSON":
        path.write_text('{"code": ', encoding="utf-8")
    elif damage == "other code":  # written by another version: its figures may differ from this code's
        stored["code"] = "0" * 16
        stored["figures"] = {code: [] for code in stored["figures"]}
        path.write_text(json.dumps(stored), encoding="utf-8")
    else:  # this code could not compute them: a run computes them itself
        stored["figures"] = None
        path.write_text(json.dumps(stored), encoding="utf-8")
    assert supervision_module.stored(data, year) is None
    codes = _supervisors(data)[:2]
    assert manifest.supervision_of_run(data, year, _jobs(codes)) == {code: expected[code] for code in codes}
    bundle.write_slices(data)  # what a run does first
    supervision_module.store(data)
    if damage == "no figures":  # written by this code already: not computed again at every run
        assert json.loads(path.read_text(encoding="utf-8"))["figures"] is None
    else:
        assert supervision_module.stored(data, year) == expected


def test_figures_that_cannot_be_computed_leave_a_file_without_them(data, monkeypatch):
    _path(data).unlink()

    def failing(*args, **kwargs):
        raise ValueError("cannot")

    monkeypatch.setattr(supervision_module, "supervision", failing)
    supervision_module.store(data)  # does not raise: the run computes them itself and reports a failure there
    assert json.loads(_path(data).read_text(encoding="utf-8"))["figures"] is None
    assert supervision_module.stored(data, bundle.load(data).latest_year) is None


def test_nothing_is_stored_without_current_slices(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    folder = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), folder)
    supervision_module.store(folder)
    assert not list((tmp_path / "cache").rglob(supervision_module.STORED_FILE))
    assert supervision_module.stored(folder, 2025) is None
    assert supervision_module.stored(tmp_path / "nowhere", 2025) is None


class _Stop(Exception):
    pass


def test_a_run_writes_the_figures_beside_the_slices(sliced_data, monkeypatch):
    from kompas_helpers import bundle
    from kompas_helpers.runner import batch

    calls = []

    def store(data=None):
        calls.append((data, bundle.current_slices(data) is not None))
        raise _Stop  # nothing after it is run (no fork server, no notebook)

    monkeypatch.setattr(supervision_module, "store", store)
    options = batch.RunOptions(kommuner=["101"], data=str(sliced_data), templates=["overview"])
    with pytest.raises(_Stop):
        batch._run(options, None, None, None)
    assert calls == [(sliced_data, True)]  # after the slices were written


def test_a_run_for_a_year_the_data_lack_stores_nothing(sliced_data, monkeypatch):
    from kompas_helpers.runner import batch

    calls = []
    monkeypatch.setattr(supervision_module, "store", lambda data=None: calls.append(data))
    options = batch.RunOptions(kommuner=["101"], data=str(sliced_data), year=1900, templates=["overview"])
    with pytest.raises(batch.RunError, match="Året 1900 findes ikke i data"):
        batch._run(options, None, None, None)
    assert calls == []
