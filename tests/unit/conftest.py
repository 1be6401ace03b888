"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from kompas_helpers import bundle, synthesize
from kompas_helpers.io import datasets


@pytest.fixture
def sliced_data(tmp_path, monkeypatch):
    """A small synthetic dataset (seed 7, 2 %) with its table and slices written, in a cache of this test's own."""
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(bundle, "_PRELOADED", {})
    folder = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), folder)
    bundle.write_slices(folder)
    return folder
