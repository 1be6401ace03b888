"""A dataset with its indicator table, computed once and cached by the dataset's content hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from kompas_helpers import compute, io, model, paths

CACHE_DIR = paths.OUTPUTS_DIR / ".cache"
TABLE_FILE = "indicators.parquet"
# Levels every kommune's report reads in full (to compare against the other kommuner).
SHARED_LEVELS = ["kommune", "region", "national", "organisation"]


@dataclass
class Bundle:
    """What a report or page needs: the dataset, the indicator table (or a kommune's slice of it), its hash."""

    dataset: model.Dataset
    table: pd.DataFrame
    data_dir: Path
    data_hash: str

    @property
    def synthetic(self) -> bool:
        return self.dataset.synthetic

    @property
    def years(self) -> list[int]:
        return self.dataset.years

    @property
    def latest_year(self) -> int:
        return max(self.dataset.years)


def data_dir(data: str | Path | None = None) -> Path:
    """The dataset folder: the one given, or the synthetic default."""
    return Path(data) if data else paths.DEFAULT_DATA_DIR


def dataset_hash(folder: Path) -> str:
    """SHA-256 over the dataset folder's files (names and bytes), so a changed input gives a new table."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".parquet", ".json"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def table_path(data: str | Path | None = None) -> Path:
    """Compute the indicator table for a dataset once and return where it is cached."""
    folder = data_dir(data)
    dataset = io.load_dataset(folder)
    digest = dataset_hash(folder)
    target = CACHE_DIR / digest[:16] / TABLE_FILE
    if not target.exists():
        table = compute.indicator_table(dataset)
        io.write_parquet_atomic(table, target)
        meta = {"data_dir": str(folder.resolve()), "data_hash": digest, "rows": len(table)}
        with io.atomic_write(target.with_name("bundle.json")) as tmp:
            tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def load(data: str | Path | None = None, kommune_code: str | None = None) -> Bundle:
    """The dataset and its indicator table; with a kommune, only the rows its reports read."""
    folder = data_dir(data)
    path = table_path(folder)
    if kommune_code is None:
        table = pd.read_parquet(path)
    else:
        filters = [[("level", "in", SHARED_LEVELS)], [("kommune_code", "=", str(kommune_code))]]
        table = pq.read_table(path, filters=filters).to_pandas()
    return Bundle(io.load_dataset(folder), table, folder, dataset_hash(folder))
