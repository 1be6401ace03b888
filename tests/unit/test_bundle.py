"""The cached indicator table: keyed by both the data and the code that computes it."""

from __future__ import annotations

import pandas as pd

from kompas_helpers import bundle, compute, synthesize
from kompas_helpers.io import datasets


def test_cache_follows_data_and_code(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    data = tmp_path / "data"
    dataset = synthesize.synthesize(seed=7, scale=0.02)
    datasets.save_dataset(dataset, data)
    first = bundle.table_path(data)
    pd.testing.assert_frame_equal(pd.read_parquet(first), compute.indicator_table(dataset), check_categorical=False)
    assert bundle.table_path(data) == first

    monkeypatch.setattr(bundle, "_code_version", lambda: "changed-code")
    assert bundle.table_path(data) != first

    datasets.save_dataset(synthesize.synthesize(seed=8, scale=0.02), data)
    assert bundle.table_path(data).parent.name.split("-")[0] != first.parent.name.split("-")[0]


def _count_reads(monkeypatch):
    """Count dataset loads, folder hashes and reads of the cached table."""
    counts = {"load": 0, "hash": 0, "read_table": 0}
    load, read_parquet = datasets.load_dataset, pd.read_parquet

    def counting_load(folder):
        counts["load"] += 1
        return load(folder)

    def counting_read(path, *args, **kwargs):
        counts["read_table"] += str(path).endswith(bundle.TABLE_FILE)
        return read_parquet(path, *args, **kwargs)

    original_bytes = bundle.Path.read_bytes

    def counting_bytes(self):
        counts["hash"] += self.suffix == ".parquet" and self.name == "measures.parquet"
        return original_bytes(self)

    monkeypatch.setattr(datasets, "load_dataset", counting_load)
    monkeypatch.setattr(bundle.pd, "read_parquet", counting_read)
    monkeypatch.setattr(bundle.Path, "read_bytes", counting_bytes)
    return counts


def test_write_slices_opens_and_hashes_the_dataset_once_and_never_reads_back_its_table(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    data = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), data)
    counts = _count_reads(monkeypatch)
    meta = bundle.write_slices(data)
    assert counts == {"load": 1, "hash": 1, "read_table": 0}
    assert meta["rows"] == len(pd.read_parquet(bundle.table_path(data)))


def test_a_page_kernel_loads_and_hashes_the_dataset_once(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    data = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), data)
    counts = _count_reads(monkeypatch)
    b = bundle.load(data)
    assert counts == {"load": 1, "hash": 1, "read_table": 0}
    assert bundle.load(data).table.equals(b.table)


def test_a_notebook_of_a_run_takes_the_hash_its_job_already_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    data = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), data)
    meta = bundle.write_slices(data)
    monkeypatch.setenv(bundle.KNOWN_HASH_ENV, bundle.known_hash_value(data, meta["data_hash"]))
    counts = _count_reads(monkeypatch)
    b = bundle.load(data, kommune_code="0101")
    assert counts["hash"] == 0 and b.data_hash == meta["data_hash"]
    own = b.table[~b.table["level"].isin(bundle.SHARED_LEVELS).to_numpy()]
    assert len(own) and set(own["kommune_code"].astype(str)) == {"101"}
    monkeypatch.setenv(bundle.KNOWN_HASH_ENV, bundle.known_hash_value(tmp_path / "elsewhere", "not-this-one"))
    assert bundle.dataset_hash(data) == meta["data_hash"]
