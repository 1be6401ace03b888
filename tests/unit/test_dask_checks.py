"""What a Dask worker checks before it runs a run's jobs: the package, the shared output folder, the same data."""

from __future__ import annotations

import pytest

from kompas_helpers import bundle, synthesize
from kompas_helpers.io import datasets
from kompas_helpers.runner import dask_executor


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    folder = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), folder)
    return folder


def plugin(digest: str, marker, version: str = "") -> dask_executor.DriverPlugin:
    made = dask_executor.DriverPlugin(
        "token1", digest, bundle.slices_dir(digest).parent.name, version or dask_executor.kompas_helpers.__version__,
        str(marker),
    )  # fmt: skip
    made.setup()
    return made


def test_a_worker_that_sees_the_output_folder_and_the_same_data_is_fit(data, tmp_path):
    (tmp_path / "marker").write_text("token1", encoding="utf-8")
    assert plugin(bundle.dataset_hash(data), tmp_path / "marker").check(str(data)) == ""


def test_a_worker_without_the_shared_output_folder_is_told_so(data, tmp_path):
    problem = plugin(bundle.dataset_hash(data), tmp_path / "elsewhere" / "marker").check(str(data))
    assert "kan ikke se outputmappen" in problem and "fælles filsystem" in problem
    (tmp_path / "marker").write_text("another run", encoding="utf-8")
    assert "kan ikke se outputmappen" in plugin(bundle.dataset_hash(data), tmp_path / "marker").check(str(data))


def test_other_data_at_the_same_path_is_found_even_when_the_environment_names_its_hash(data, tmp_path, monkeypatch):
    (tmp_path / "marker").write_text("token1", encoding="utf-8")
    other = "f" * 64
    monkeypatch.setenv(bundle.KNOWN_HASH_ENV, bundle.known_hash_value(data, other))  # left by an earlier run
    problem = plugin(other, tmp_path / "marker").check(str(data))
    assert f"data i {data} på arbejderen er ikke de samme" in problem
    assert "ikke de samme" in plugin(bundle.dataset_hash(data), tmp_path / "marker").check(str(tmp_path / "none"))


def test_a_worker_with_another_package_version_is_told_so(data, tmp_path):
    (tmp_path / "marker").write_text("token1", encoding="utf-8")
    problem = plugin(bundle.dataset_hash(data), tmp_path / "marker", version="0.0.0-other").check(str(data))
    assert "anden udgave af kompas_helpers" in problem
