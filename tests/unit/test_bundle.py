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
