"""A computed table moved into another cache (a Dask worker's): read there without computing or loading anything."""

from __future__ import annotations

import pandas as pd
import pytest

from kompas_helpers import bundle, compute, synthesize
from kompas_helpers.io import datasets


@pytest.fixture
def made(tmp_path, monkeypatch):
    """A dataset whose table and slices are in the cache `client`; returns (data folder, metadata, files)."""
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "client")
    data = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), data)
    meta = bundle.write_slices(data)
    return data, meta, bundle.cache_files(meta["data_hash"])


def test_an_installed_cache_serves_kommune_slices_and_the_table_without_computing(made, tmp_path, monkeypatch):
    data, meta, files = made
    digest = meta["data_hash"]
    expected = bundle.load(data, kommune_code="101").table
    whole = pd.read_parquet(bundle.table_path(data))
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "worker")

    def no_computing(dataset):
        raise AssertionError("the table was computed")

    monkeypatch.setattr(compute, "indicator_table", no_computing)
    assert bundle.install_cache(digest, files) is True
    assert bundle.install_cache(digest, files) is False  # there already: nothing written
    assert sorted(files) == sorted(bundle.cache_files(digest))
    again = bundle.write_slices(data)  # finds the installed slices current
    assert {k: v for k, v in again.items() if k != "table_stamp"} == {
        k: v for k, v in meta.items() if k != "table_stamp"
    }
    loaded = bundle.load(data, kommune_code="101")
    assert isinstance(loaded.dataset, bundle._LazyDataset)  # from the slices, without loading the dataset
    pd.testing.assert_frame_equal(loaded.table, expected)
    pd.testing.assert_frame_equal(pd.read_parquet(bundle.table_path(data)), whole)
    assert not [p for p in (tmp_path / "worker").rglob(".*")], "temporary or lock files left behind"


def test_files_of_another_dataset_are_refused_and_nothing_is_installed(made, tmp_path, monkeypatch):
    _data, meta, files = made
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "worker")
    with pytest.raises(ValueError, match="not"):
        bundle.install_cache("0" * 64, files)
    assert not (tmp_path / "worker").exists()
    assert bundle.install_cache(meta["data_hash"], files) is True
