"""Fixtures shared by the notebook tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kompas_helpers import synthesize
from kompas_helpers.io import datasets


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    """A synthetic dataset at 5 % of the default's size (seed 11), saved once per test module."""
    folder = tmp_path_factory.mktemp("data") / "small"
    datasets.save_dataset(synthesize.synthesize(seed=11, scale=0.05), folder)
    return folder
