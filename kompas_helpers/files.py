"""Atomic writes of files and folders, file locks, and reading Parquet files."""

from __future__ import annotations

import contextlib
import contextvars
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import pandas as pd

from kompas_helpers.io.problems import DataError, Problem

# Files a dataset folder may hold besides the ones being written; anything else makes a save refuse.
HARMLESS_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
# Whether Parquet reads may use Arrow's thread pool: not in a process that forks afterwards (the pages' fork server
# preloads the data), since a fork copies only the forking thread (see kernels.server._check_sound).
_ARROW_THREADS = contextvars.ContextVar("arrow_threads", default=True)
STALE_TEMP_SECONDS = 3600


@lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds it replaces `path` in one step.

    The temporary file keeps the target's suffix (so writers that look at it, e.g. matplotlib, work). If the block
    raises, the temporary file is removed and `path` is left exactly as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def exclusive_lock(path: Path | str) -> Iterator[None]:
    """Hold an exclusive lock (flock) on the lock file `path` for the block; wait while another process holds it.

    The lock file is created when missing and removed when the block ends, so no file stays behind. A waiter that
    got the lock on a file that was removed meanwhile sees that `path` no longer names that file and tries again.
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.path.samestat(os.fstat(fd), os.stat(path)):
                    break
            except FileNotFoundError:
                pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)  # releases the lock, after the file is gone


def write_parquet_atomic(frame: pd.DataFrame, path: Path | str) -> None:
    """Write `frame` to a Parquet file atomically (temporary file in the same folder, then os.replace)."""
    with atomic_write(path) as tmp:
        frame.to_parquet(tmp)


def read_parquet(path: Path | str, columns: list[str] | None = None, filters=None) -> pd.DataFrame:
    """Read a Parquet file with text as pyarrow-backed strings (pd.read_parquet would give slower Python strings)."""
    import pyarrow as pa

    mapping = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    return read_arrow_table(path, columns, filters).to_pandas(types_mapper=mapping.get, use_threads=arrow_threads())


def read_arrow_table(path: Path | str, columns: list[str] | None = None, filters=None):
    """A Parquet file as an Arrow table; inside `without_arrow_threads()` read in this thread only.

    read_table (pyarrow.dataset) and reading from the file itself start an I/O thread even with use_threads=False;
    reading the file's bytes from memory does not (but then takes no filters).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if arrow_threads():
        return pq.read_table(path, columns=columns, filters=filters)
    if filters is not None:
        raise ValueError("filters need Arrow's threads (pyarrow.dataset)")
    return pq.ParquetFile(pa.BufferReader(Path(path).read_bytes())).read(columns=columns, use_threads=False)


def arrow_threads() -> bool:
    """False inside `without_arrow_threads()`."""
    return _ARROW_THREADS.get()


@contextlib.contextmanager
def without_arrow_threads() -> Iterator[None]:
    """Parquet reads in this block start no thread (slower for large files, but the process stays fork-safe)."""
    token = _ARROW_THREADS.set(False)
    try:
        yield
    finally:
        _ARROW_THREADS.reset(token)


def _siblings(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.parent.glob(f".{folder.name}.{kind}-*"))


def recover_folder(folder: Path) -> None:
    """Repair the result of a process killed in the middle of a folder swap, and remove stale temp folders."""
    if not folder.parent.is_dir():
        return
    if not folder.exists():
        olds = _siblings(folder, "old")
        if olds:  # killed between the two renames: the old folder is complete, put it back
            newest = max(olds, key=lambda p: p.stat().st_mtime)
            os.rename(newest, folder)
    now = time.time()
    for stale in _siblings(folder, "tmp") + (_siblings(folder, "old") if folder.exists() else []):
        with contextlib.suppress(OSError):
            if now - stale.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)


def _check_replaceable(folder: Path, keep: set[str] | None) -> None:
    """Refuse to replace a folder holding files that the new content would not replace (never lose user files)."""
    if folder.exists() and not folder.is_dir():
        raise DataError([Problem.for_file(str(folder), "findes allerede og er en fil, ikke en mappe")])
    if keep is None or not folder.is_dir():
        return
    foreign = sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in keep and not (p.is_file() and p.name.lower() in HARMLESS_FILES)
    )
    if foreign:
        listed = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise DataError(
            [
                Problem.for_file(
                    str(folder),
                    f"mappen indeholder andre filer end dem, der skal skrives ({listed}) – mappen bliver erstattet "
                    "i sin helhed, så vælg en ny eller tom mappe; intet er ændret",
                )
            ]
        )


@contextlib.contextmanager
def atomic_folder(folder: Path | str, expected_files: Iterable[str] | None = None) -> Iterator[Path]:
    """Yield a temporary sibling folder; when the block succeeds it replaces `folder` as a whole.

    The old folder is renamed aside, the new one renamed into place and the old one deleted, so an interrupted or
    failed write leaves the previous folder exactly as it was. With `expected_files`, an existing folder holding
    any other file is refused (DataError) before anything is written.
    """
    folder = Path(folder).resolve()  # "." has no name; a symlinked folder is replaced where it really lives
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(folder)
    _check_replaceable(folder, set(expected_files) if expected_files is not None else None)
    tmp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        yield tmp
        mode = folder.stat().st_mode & 0o777 if folder.is_dir() else 0o777 & ~_umask()
        os.chmod(tmp, mode)
        if expected_files is not None:
            extra = sorted({p.name for p in tmp.iterdir()} - set(expected_files))
            if extra:
                raise RuntimeError(f"unexpected files written: {extra}")
        for written in tmp.iterdir():  # on disk before the swap, so a power cut cannot leave empty files
            if written.is_file():
                with open(written, "rb") as handle:
                    os.fsync(handle.fileno())
        _swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, folder: Path) -> None:
    if folder.exists():
        old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:12]}"
        os.rename(folder, old)
        try:
            os.rename(tmp, folder)
        except BaseException:
            os.rename(old, folder)
            raise
        _fsync_dir(folder.parent)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, folder)
        _fsync_dir(folder.parent)
