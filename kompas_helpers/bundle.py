"""A dataset with its indicator table, computed once and cached by the dataset's content hash."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kompas_helpers import kommuner, model, paths, peers, registry
from kompas_helpers.files import (
    arrow_threads,
    atomic_folder,
    atomic_write,
    exclusive_lock,
    read_arrow_table,
    without_arrow_threads,
    write_parquet_atomic,
)
from kompas_helpers.io import datasets
from kompas_helpers.io.peer_file import PEER_FILE, read_peer_file

# Where computed tables are cached; KOMPAS_CACHE_DIR moves it (e.g. to a Dask worker node's local disk).
CACHE_ENV = "KOMPAS_CACHE_DIR"
CACHE_DIR = Path(os.environ.get(CACHE_ENV) or paths.OUTPUTS_DIR / ".cache")
BUNDLE_META = "bundle.json"
TABLE_FILE = "indicators.parquet"
# Levels every kommune's report reads in full (to compare against the other kommuner).
SHARED_LEVELS = ["kommune", "region", "national", "organisation"]
# Per-kommune and per-organisation slices of the table (written by the batch runner, read by `load` with a kommune
# or an organisation).
SLICES_DIR = "kommuner"
SLICES_META = "meta.json"
SHARED_SLICE = "shared.parquet"
# The measures the reports read beside the table (registry.READ_BESIDE_TABLE), written with the slices.
MEASURES_SLICE = "measures-read.parquet"
# The dataset's peer groups (peers.peer_groups, with the user's own), written with the slices.
PEERS_SLICE = "peer-groups.json"
ORGANISATION_SLICE_PREFIX = "organisation-"
# "<dataset folder>\t<hash>": set by a batch run so that its notebooks do not hash the same dataset again.
KNOWN_HASH_ENV = "KOMPAS_DATA_HASH"
_ROW = "_row"  # position in the whole table, so a slice comes back in the table's row order


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


# The modules whose code decides the table: a change to any of them must not serve an old cached table.
_TABLE_CODE = (
    "compute.py", "comparison.py", "disclosure.py", "peers.py", "registry.py", "schemas.py", "model.py",
    "uncertainty.py", "kommuner.py",
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    digest = hashlib.sha256()
    for name in _TABLE_CODE:
        digest.update((paths.PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def package_code_hash() -> str:
    """A hash of all of the package's Python source: what is stored with it was computed by this very code."""
    digest = hashlib.sha256()
    for path in sorted(paths.PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(paths.PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_key(digest: str) -> str:
    """Cache folder name: the dataset's content hash and the version of the code that computes the table."""
    return f"{digest[:16]}-{_code_version()}"


def dataset_hash(folder: Path) -> str:
    """SHA-256 over the dataset folder's files (names and bytes), so a changed input gives a new table.

    A batch run hashes the folder once and hands the result to its notebooks' kernels (KNOWN_HASH_ENV).
    """
    where, digest = _known()
    if digest and where == str(Path(folder).resolve()):
        return digest
    digest_ = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and (path.suffix in (".parquet", ".json") or path.name == PEER_FILE):
            digest_.update(path.name.encode())
            digest_.update(path.read_bytes())
    return digest_.hexdigest()


def known_folder() -> str:
    """The dataset folder whose hash a batch run handed to this process (KNOWN_HASH_ENV), or ''."""
    return _known()[0]


def _known() -> tuple[str, str]:
    """(dataset folder, its hash) as a batch run handed them to this process (KNOWN_HASH_ENV); empty strings if not."""
    where, _, digest = os.environ.get(KNOWN_HASH_ENV, "").partition("\t")
    return where, digest


def known_hash_value(folder: Path, digest: str) -> str:
    """The value of KNOWN_HASH_ENV that tells a child process the hash of `folder`."""
    return f"{Path(folder).resolve()}\t{digest}"


def _ensure_table(folder: Path, dataset: model.Dataset, digest: str) -> tuple[Path, pd.DataFrame | None]:
    """Where the dataset's indicator table is cached, computing it if it is not there yet (then also the table)."""
    target = CACHE_DIR / _cache_key(digest) / TABLE_FILE
    if target.exists():
        return target, None
    from kompas_helpers import compute  # imported here: reports that read a cached table never need it

    table = compute.indicator_table(dataset)
    write_parquet_atomic(table, target)
    meta = {"data_dir": str(folder.resolve()), "data_hash": digest, "rows": len(table)}
    with atomic_write(target.with_name(BUNDLE_META)) as tmp:
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return target, table


def table_path(data: str | Path | None = None) -> Path:
    """Compute the indicator table for a dataset once and return where it is cached."""
    folder = paths.data_folder(data)
    return _ensure_table(folder, datasets.load_dataset(folder), dataset_hash(folder))[0]


def load(data: str | Path | None = None, kommune_code: str | None = None, organisation_id: str | None = None) -> Bundle:
    """The dataset and its indicator table; with a kommune (or an organisation), only the rows its reports read.

    The dataset is read and hashed once, and a table computed here is used as it is, not read back.
    """
    folder = paths.data_folder(data)
    if kommune_code is not None:
        found = kommuner.find(kommune_code)
        kommune_code = found.code if found else str(kommune_code)
        fast = _load_slice(folder, f"{kommune_code}.parquet")
        if fast is not None:
            return fast
    elif organisation_id is not None:
        fast = _load_slice(folder, organisation_slice(str(organisation_id)))
        if fast is not None:
            return fast
    dataset = datasets.load_dataset(folder)
    digest = dataset_hash(folder)
    path, table = _ensure_table(folder, dataset, digest)
    if kommune_code is None and organisation_id is None:
        table = read_arrow_table(path).to_pandas(use_threads=arrow_threads()) if table is None else table
    else:
        own = ("kommune_code", str(kommune_code)) if kommune_code is not None else ("organisation_id", organisation_id)
        filters = [[("level", "in", SHARED_LEVELS)], [(own[0], "=", str(own[1]))]]
        table = pq.read_table(path, filters=filters).to_pandas()
    return Bundle(dataset, table, folder, digest)


# ----------------------------------------------------------------------------------------------------------------
# Per-kommune slices: the batch runner writes them once, every report then reads kilobytes instead of the table
# ----------------------------------------------------------------------------------------------------------------


class _LazyDataset(model.Dataset):
    """A dataset whose input tables are read from its folder on first use; years and provenance are known upfront.

    Only made for a folder whose content hash matches slices written from a dataset that loaded and validated.
    """

    def __init__(
        self,
        folder: Path,
        provenance: dict,
        years: list[int],
        preloaded: dict | None = None,
        made: dict | None = None,
        slices: Path | None = None,
    ):
        self.provenance = provenance
        self._folder = folder
        self._slices = slices  # the slices' folder, whose measures file holds registry.READ_BESIDE_TABLE
        self._years = [int(y) for y in years]
        self._preloaded = preloaded if preloaded is not None else {}  # name -> frame, each handed out once
        # What was made from this very dataset in advance (written with the slices, or by `preload`), by the key of
        # the module that made it.
        self.made_in_advance = made if made is not None else {}

    @property
    def years(self) -> list[int]:
        return list(self._years)

    def __getattr__(self, name: str):
        if name == "peer_groups":  # the user's own peer groups, read (and checked) when first asked for
            path = self._folder / PEER_FILE
            ids = set(self.organisations["organisation_id"].astype(str))
            self.peer_groups = read_peer_file(path, ids) if path.is_file() else {}
            return self.peer_groups
        if name.startswith("_") or name not in model.INPUT_TABLES:
            raise AttributeError(name)
        frame = self._preloaded.pop(name, None)
        if frame is None:
            frame = _read_input(self._folder, name)
        setattr(self, name, frame)
        return frame

    def measures_of(self, names: Sequence[str]) -> pd.DataFrame:
        """As `model.Dataset.measures_of`; the measures written with the slices are found preloaded or read from
        there, without reading the whole measures table."""
        wanted = set(names)
        if model.MEASURES.name in self.__dict__ or not wanted <= set(registry.READ_BESIDE_TABLE):
            return super().measures_of(names)
        m = self._preloaded.pop(MEASURES_SLICE, None)
        if m is None:
            if self._slices is None or not (self._slices / MEASURES_SLICE).is_file():
                return super().measures_of(names)
            m = _read_measures_slice(self._slices)
        return m if wanted == set(registry.READ_BESIDE_TABLE) else m[m["measure"].isin(list(names)).to_numpy()]


def _read_input(folder: Path, name: str) -> pd.DataFrame:
    """One input table of a dataset whose slices are written (so it loaded and validated), read as `load_dataset`
    gives it. Inside `files.without_arrow_threads()` read without starting a thread."""
    table = model.INPUT_TABLES[name]
    path = folder / f"{name}.parquet"
    if table.optional and not path.is_file():  # an optional table the folder does not hold is empty
        return model.empty(table)
    return model.canonicalise(table, _read_frame(path))


def _read_measures_slice(target: Path) -> pd.DataFrame:
    """The measures written with the slices (`write_slices`): the rows `measures_of(registry.READ_BESIDE_TABLE)`
    gives, with their dtypes and index."""
    return _read_frame(target / MEASURES_SLICE)


def _read_frame(path: Path) -> pd.DataFrame:
    """A Parquet file as a frame on this thread, its text columns straight into the canonical string[pyarrow] (a
    third of the time of pandas' default way)."""
    return _read_on_one_thread(path).to_pandas(types_mapper=_PYARROW_STRINGS.get, use_threads=False)


def _read_on_one_thread(path: Path) -> pa.Table:
    """A Parquet file as an Arrow table, read on this thread; inside `files.without_arrow_threads()` (the fork
    server) without starting even the I/O thread that reading from the file starts."""
    return pq.ParquetFile(path).read(use_threads=False) if arrow_threads() else read_arrow_table(path)


_PYARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}


def slices_dir(digest: str) -> Path:
    """Where the per-kommune slices of a dataset's table live (by the dataset's content hash)."""
    return CACHE_DIR / _cache_key(digest) / SLICES_DIR


def organisation_slice(organisation_id: str) -> str:
    """The file name of an organisation's slice (the id quoted, so that any id makes one plain file name)."""
    return f"{ORGANISATION_SLICE_PREFIX}{quote(organisation_id, safe='')}.parquet"


def write_slices(data: str | Path | None = None) -> dict:
    """Write the per-kommune and per-organisation slices of a dataset's table (once per dataset) and return their
    metadata.

    One file holds the levels every report reads in full, one file per kommune the rest of its rows, and one file
    per organisation the rest of the organisation's rows; `load` with a kommune (or an organisation) reads the shared
    file and its own and gets exactly the rows (in the same order) it would filter from the table. An organisation
    sheet and its referat then read kilobytes instead of filtering the whole table (0.4 s each).
    The metadata: data_hash, years, synthetic, provenance, kommune_codes.
    """
    folder = paths.data_folder(data)
    if not folder.is_dir():
        datasets.load_dataset(folder)  # raises the DataError that says what is missing and how to make it
    digest = dataset_hash(folder)
    target = slices_dir(digest)
    meta = _slices_meta(target, digest)
    if meta is not None:
        return meta
    dataset = datasets.load_dataset(folder)
    path, table = _ensure_table(folder, dataset, digest)
    table = pd.read_parquet(path) if table is None else table
    table[_ROW] = np.arange(len(table), dtype=np.int64)
    shared = table["level"].isin(SHARED_LEVELS).to_numpy()
    codes = list(kommuner.table()["kommune_code"])
    own = table[~shared]
    meta = {
        "data_hash": digest,
        "years": dataset.years,
        "synthetic": dataset.synthetic,
        "provenance": dataset.provenance,
        "kommune_codes": codes,
        "rows": len(table),
        "table_stamp": _table_stamp(path),
    }
    with atomic_folder(target) as tmp:
        table[shared].to_parquet(tmp / SHARED_SLICE)
        groups = dict(iter(own.groupby("kommune_code", observed=True)))
        for code in codes:
            groups.get(code, own.iloc[:0]).to_parquet(tmp / f"{code}.parquet")
        groups = {str(key): rows for key, rows in own.groupby("organisation_id", observed=True)}
        for organisation_id in dataset.organisations["organisation_id"].astype(str):
            groups.get(organisation_id, own.iloc[:0]).to_parquet(tmp / organisation_slice(organisation_id))
        dataset.measures_of(registry.READ_BESIDE_TABLE).to_parquet(tmp / MEASURES_SLICE)
        (tmp / PEERS_SLICE).write_text(peers.as_json(peers.peer_groups(dataset)), encoding="utf-8")
        (tmp / SLICES_META).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return meta


def read_shared_slice(digest: str) -> pd.DataFrame:
    """The levels every kommune's report reads in full (kommune, region, national, organisation)."""
    return pd.read_parquet(slices_dir(digest) / SHARED_SLICE).drop(columns=_ROW)


def _table_stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_mtime_ns, stat.st_size]


def current_slices(folder: Path) -> tuple[Path, str, dict] | None:
    """Where a dataset folder's slices are, the dataset's hash and the slices' metadata, when the slices are written
    and current (cut from the cached table as it is now); else None."""
    if not folder.is_dir():
        return None
    digest = dataset_hash(folder)
    target = slices_dir(digest)
    meta = _slices_meta(target, digest)
    return None if meta is None else (target, digest, meta)


def _slices_meta(target: Path, digest: str) -> dict | None:
    """The slices' metadata when they were cut from the cached table as it is now, else None."""
    try:
        meta = json.loads((target / SLICES_META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stamp = _table_stamp(target.parent / TABLE_FILE)
    if meta.get("data_hash") != digest or stamp is None or meta.get("table_stamp") != stamp:
        return None  # a recomputed (or removed) table makes the slices stale
    return meta


@dataclass
class _Preloaded:
    """A dataset's shared slice and input tables held in memory by a process that forks kernels (`preload`)."""

    meta: dict  # the slices' metadata when read: the same dataset hash and table stamp, or the slices changed since
    shared: pa.Table  # immutable: every bundle of this process may use it
    # Handed out once each (`_LazyDataset`), as a fresh process reads its own: the input tables but the measures,
    # and the measures the reports read (under MEASURES_SLICE).
    inputs: dict[str, pd.DataFrame]
    tables: dict[str, pd.DataFrame]  # slice file name -> a bundle's whole table, handed out once each like `inputs`
    made: dict[str, object]  # what is computed from the dataset alone, made once (`made_in_advance`)


_PRELOADED: dict[tuple[str, str], _Preloaded] = {}
# At most this many kommuner's tables are joined in advance (`preload`): about 20 MB each for the synthetic data.
PRELOAD_KOMMUNER_UP_TO = 8


def preload(data: str | Path | None = None, kommune_codes: Sequence[str] = ()) -> bool:
    """Read the slices' shared part and the dataset's input tables (of the measures, only those the reports read:
    `registry.READ_BESIDE_TABLE`) into this process's memory, for the kernels the batch's fork server forks
    (`kernels.server`): each then finds them instead of reading and decoding them again (0.1–0.5 s of a report's
    CPU). Returns False, reading nothing, when the dataset's slices are not written.

    Nothing changes for a kernel but where the bytes come from: `_load_slice` uses the shared part only while the
    slices' metadata (dataset hash, table stamp) is what it was here, and each input table goes to the first bundle
    that asks for it, unshared, exactly as a fresh process would read it; later bundles read their own. Read without
    Arrow's threads: a fork copies only the thread that forks.

    With `kommune_codes` (the run's kommuner, codes or names; at most PRELOAD_KOMMUNER_UP_TO), each one's whole table
    is joined here as `_load_slice` joins it (about 60 ms a report), handed out like the input tables. The peer groups
    (`peers.peer_groups`, about 40 ms a report) come from the file written with the slices (made here once from the
    same dataset when the slices have none) and are given to every bundle's dataset as made in advance.
    """
    folder = paths.data_folder(data)
    found = current_slices(folder)
    if found is None:
        return False
    target, digest, meta = found
    with without_arrow_threads():
        shared = read_arrow_table(target / SHARED_SLICE)
        # Not the measures: the reports read only those written with the slices (a fifth of the preparation's time
        # for the whole table, which every kernel but the few that ask for it would carry unused).
        inputs = {name: _read_input(folder, name) for name in model.INPUT_TABLES if name != model.MEASURES.name}
        if (target / MEASURES_SLICE).is_file():
            inputs[MEASURES_SLICE] = _read_measures_slice(target)
        names = [f"{found.code}.parquet" for found in map(kommuner.find, kommune_codes) if found is not None]
        names = list(dict.fromkeys(names))[:PRELOAD_KOMMUNER_UP_TO]
        tables = {name: _slice_table(shared, target / name) for name in names if (target / name).is_file()}
    # The peer groups written with the slices, or made from a dataset of its own (the inputs stay for the kernels to
    # take), as `peers` makes them.
    made = _made_with_slices(target)
    if peers.MADE_IN_ADVANCE not in made:
        dataset = _LazyDataset(folder, meta["provenance"], meta["years"], dict(inputs), slices=target)
        made[peers.MADE_IN_ADVANCE] = peers.peer_groups(dataset)
    _PRELOADED[(str(folder.resolve()), digest)] = _Preloaded(meta, shared, inputs, tables, made)
    return True


def _made_with_slices(target: Path) -> dict[str, object]:
    """What `write_slices` made from the dataset alone beside its slices (the peer groups), by the key of the module
    that makes it; none from slices written before the file was, or from a file that cannot be read (then the groups
    are made from the dataset, as without it)."""
    try:
        return {peers.MADE_IN_ADVANCE: peers.from_json((target / PEERS_SLICE).read_text(encoding="utf-8"))}
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return {}


def _slice_table(shared: pa.Table, own_path: Path) -> pd.DataFrame:
    """The table of a bundle: the shared slice and one kommune's or organisation's, in the whole table's row order.

    Joined and put in order in Arrow, then converted once: a third of the time of doing it in pandas. On one thread:
    the batch runner keeps every core busy with notebooks already."""
    parts = pa.concat_tables([shared, _read_on_one_thread(own_path)])
    parts = parts.take(pc.sort_indices(parts[_ROW])).drop_columns([_ROW])
    return parts.to_pandas(use_threads=False).reset_index(drop=True)


def _load_slice(folder: Path, name: str) -> Bundle | None:
    """A bundle of the shared slice and the slice `name` (a kommune's or an organisation's), or None when the
    slices are missing or stale (then `load` filters the table)."""
    found = current_slices(folder)
    if found is None:
        return None
    target, digest, meta = found
    own_path = target / name
    if not own_path.is_file():
        return None
    preloaded = _PRELOADED.get((str(folder.resolve()), digest))
    if preloaded is not None and preloaded.meta != meta:  # the slices were written again since: read them
        preloaded = None
    if preloaded is None:
        table = _slice_table(_read_on_one_thread(target / SHARED_SLICE), own_path)
        dataset = _LazyDataset(folder, meta["provenance"], meta["years"], made=_made_with_slices(target), slices=target)
        return Bundle(dataset, table, folder, digest)
    table = preloaded.tables.pop(name, None)
    if table is None:
        table = _slice_table(preloaded.shared, own_path)
    dataset = _LazyDataset(folder, meta["provenance"], meta["years"], preloaded.inputs, preloaded.made, target)
    return Bundle(dataset, table, folder, digest)


# ----------------------------------------------------------------------------------------------------------------
# Moving a cached table to another machine's cache (a Dask worker's), so that it is not computed there again
# ----------------------------------------------------------------------------------------------------------------


def cache_files(digest: str) -> dict[str, bytes]:
    """The cached table of a dataset and its slices (written by `write_slices`), as relative path -> bytes."""
    folder = slices_dir(digest).parent
    files = {name: (folder / name).read_bytes() for name in (TABLE_FILE, BUNDLE_META)}
    for path in sorted((folder / SLICES_DIR).iterdir()):
        files[f"{SLICES_DIR}/{path.name}"] = path.read_bytes()
    return files


def install_cache(digest: str, files: dict[str, bytes]) -> bool:
    """Put `cache_files(digest)` from another machine into this cache, unless its slices are there already.

    Returns whether anything was written. The caller checks that both sides run the same table code (the cache
    key). Held under a lock, so that worker processes sharing one cache install it once; the table is written
    before the slices, whose metadata then records the stamp of the table as installed here.
    """
    meta = json.loads(files[f"{SLICES_DIR}/{SLICES_META}"])
    if meta.get("data_hash") != digest:
        raise ValueError(f"the slices are of dataset {meta.get('data_hash')}, not {digest}")
    target = slices_dir(digest)
    if _slices_meta(target, digest) is not None:
        return False
    folder = target.parent
    with exclusive_lock(folder.parent / f".{folder.name}.lock"):
        if _slices_meta(target, digest) is not None:  # another process installed it while this one waited
            return False
        for name in (TABLE_FILE, BUNDLE_META):
            with atomic_write(folder / name) as tmp:
                tmp.write_bytes(files[name])
        meta["table_stamp"] = _table_stamp(folder / TABLE_FILE)
        with atomic_folder(target) as tmp:
            for name, data in files.items():
                if name.startswith(f"{SLICES_DIR}/") and name != f"{SLICES_DIR}/{SLICES_META}":
                    (tmp / name.partition("/")[2]).write_bytes(data)
            (tmp / SLICES_META).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return True
