"""All file input and output of the project.

Reading and validating input files (CSV, Excel, Parquet), saving and loading dataset folders, exporting a
dataset in the input format, and small helpers for atomic writes and file locks that other modules use.

Every problem found in input files is collected and raised at once as a `DataError`, whose text is Danish and
names the file, row, column, value and the rule that was broken.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import hashlib
import io as stdio
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from kompas_helpers import model, registry

TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")
PROVENANCE_FILE = "provenance.json"
XLSX_EXPORT_FILE = "almenkompas-data.xlsx"
XLSX_MAX_ROWS = 1_000_000  # data rows per sheet (Excel's limit is 1,048,576 rows including the header)
MAX_SHOWN_PROBLEMS = 200
# Files a dataset folder may hold besides the ones being written; anything else makes a save refuse.
HARMLESS_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
STALE_TEMP_SECONDS = 3600

_NUMBER_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_THOUSANDS_RE = r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?"
_TRUE = frozenset({"true", "sand", "ja", "1", "1.0", "1,0", "yes"})
_FALSE = frozenset({"false", "falsk", "nej", "0", "0.0", "0,0", "no"})
_SUBJECTS = {
    "m²": "arealet",
    "dwellings": "antallet af boliger",
    "persons": "antallet af personer",
    "year": "årstallet",
}
_LEVEL_DA = {"afdeling": "afdeling", "organisation": "boligorganisation"}
# Measures that count some of an afdeling's dwellings without being the numerator of a share (those are checked
# against their denominator): they cannot exceed the afdeling's `dwellings` in the afdelinger table.
PART_OF_DWELLINGS = ("dwellings_label_valid",)
_CSV_BROKEN = "rækken kan ikke læses som CSV (anførselstegn eller linjeskift står forkert) – filen kan være beskadiget"
_HINT_COMMANDS = (
    "kør `kompas data synthesize` for at lave det syntetiske datasæt, "
    "eller `kompas data import STI … --to {folder}` for at importere rigtige data"
)


# ----------------------------------------------------------------------------------------------------------------
# Problems and the error that carries them
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One broken rule in one place of an input file."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str  # Danish; completes "værdien "x" …" when value is given, else a whole clause
    sheet: str | None = None

    def message(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f'ark "{self.sheet}"')
        if self.row is not None:
            where.append(f"række {self.row}")
        if self.column is not None:
            where.append(f'kolonne "{self.column}"')
        text = self.rule if self.value is None else f'værdien "{_shorten(self.value)}" {self.rule}'
        return f"{', '.join(where)}: {text}"

    @classmethod
    def for_file(cls, file: str, rule: str, sheet: str | None = None) -> Problem:
        """A problem with a whole file (or a whole sheet of it): no row, column or value."""
        return cls(file, None, None, None, rule, sheet)


def _shorten(text: str, limit: int = 60) -> str:
    text = text.replace("\r", "").replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DataError(Exception):
    """Input data broke one or more rules; `problems` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self.headline)

    @property
    def headline(self) -> str:
        files = len({p.file for p in self.problems})
        return f"Data kan ikke indlæses: {len(self.problems)} fejl i {files} {'fil' if files == 1 else 'filer'}"

    def __str__(self) -> str:
        shown = self.problems[:MAX_SHOWN_PROBLEMS]
        lines = [self.headline, *(f"  - {p.message()}" for p in shown)]
        if len(self.problems) > len(shown):
            lines.append(f"  … og {len(self.problems) - len(shown)} fejl mere (de første {len(shown)} er vist).")
        return "\n".join(lines)

    def __reduce__(self):
        return (type(self), (self.problems,))


def _problem_order(p: Problem) -> tuple:
    return (p.file, p.sheet or "", p.row if p.row is not None else -1)


# ----------------------------------------------------------------------------------------------------------------
# Atomic writes
# ----------------------------------------------------------------------------------------------------------------


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
    import pyarrow.parquet as pq

    mapping = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    return pq.read_table(path, columns=columns, filters=filters).to_pandas(types_mapper=mapping.get)


def _siblings(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.parent.glob(f".{folder.name}.{kind}-*"))


def _recover_folder(folder: Path) -> None:
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
    _recover_folder(folder)
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


# ----------------------------------------------------------------------------------------------------------------
# Finding the input files
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Source:
    table: str
    path: Path
    kind: str  # csv, xlsx, parquet
    sheets: list[str] | None = None  # xlsx: sheets holding the table, in order; None = the first sheet


@dataclass
class _Inputs:
    sources: dict[str, list[_Source]] = field(default_factory=dict)
    provenance_files: list[Path] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)
    unreadable_workbooks: int = 0  # workbooks that could not be opened and might have held any table
    attempted: set[str] = field(default_factory=set)  # tables whose file exists but could not be read


def _table_for_sheet(sheet: str) -> tuple[str, int] | None:
    match = re.fullmatch(r"\s*([a-z_]+)\s*(?:\((\d+)\))?\s*", sheet.lower())
    if match and match.group(1) in model.INPUT_TABLES:
        return match.group(1), int(match.group(2) or 1)
    return None


def _open_workbook(path: Path):
    import openpyxl

    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, read from xl/workbook.xml (openpyxl would parse every sheet to open it)."""
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as archive:
        if archive.testzip() is not None:
            raise zipfile.BadZipFile("damaged member")
        root = ET.fromstring(archive.read("xl/workbook.xml"))
    names = [e.get("name") for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "sheet"]
    if not names or any(n is None for n in names):
        raise ValueError("no sheets")
    return names


class _Workbooks:
    """Workbooks opened once per read (openpyxl parses every sheet of a generated file to size it)."""

    def __init__(self):
        self.open: dict[Path, object] = {}

    def get(self, path: Path):
        if path not in self.open:
            self.open[path] = _open_workbook(path)
        return self.open[path]

    def close(self) -> None:
        for workbook in self.open.values():
            with contextlib.suppress(Exception):
                workbook.close()
        self.open.clear()


def _unreadable(path: Path, kind: str, detail: str = "") -> Problem:
    what = {"xlsx": "en Excel-projektmappe (.xlsx)", "parquet": "en Parquet-fil", "csv": "en CSV-fil"}[kind]
    rule = f"filen kan ikke læses som {what} – den kan være beskadiget eller afskåret (ufuldstændig)"
    if detail:
        rule += f" ({detail})"
    return Problem.for_file(path.name, rule)


def _discover(paths: Sequence[Path], problems: list[Problem]) -> _Inputs:
    found = _Inputs()
    table_names = ", ".join(model.INPUT_TABLES)
    for given in paths:
        given = Path(given)
        if not given.exists():
            problems.append(Problem.for_file(str(given), "filen eller mappen findes ikke"))
            continue
        if given.is_dir():
            candidates = sorted(p for p in given.iterdir() if p.is_file())
            explicit = False
            if (given / PROVENANCE_FILE).is_file():
                found.provenance_files.append(given / PROVENANCE_FILE)
        else:
            candidates, explicit = [given], True
            if given.name != PROVENANCE_FILE and (given.parent / PROVENANCE_FILE).is_file():
                found.provenance_files.append(given.parent / PROVENANCE_FILE)
        for path in candidates:
            name, stem, suffix = path.name, path.stem.strip().lower(), path.suffix.lower()
            if name.startswith((".", "~$")):
                continue
            if name == PROVENANCE_FILE:
                if explicit:
                    found.provenance_files.append(path)
                continue
            if suffix in (".csv", ".parquet") and stem in model.INPUT_TABLES:
                found.sources.setdefault(stem, []).append(_Source(stem, path, suffix[1:]))
            elif suffix == ".xlsx":
                try:
                    sheet_names = _sheet_names(path)
                except Exception as exc:  # any failure means the workbook cannot be read
                    problems.append(_unreadable(path, "xlsx", type(exc).__name__))
                    if stem in model.INPUT_TABLES:
                        found.attempted.add(stem)
                    else:
                        found.unreadable_workbooks += 1
                    continue
                by_table: dict[str, list[tuple[int, str]]] = {}
                for sheet in sheet_names:
                    hit = _table_for_sheet(sheet)
                    if hit:
                        by_table.setdefault(hit[0], []).append((hit[1], sheet))
                if by_table:
                    for table, sheets in by_table.items():
                        ordered = [s for _, s in sorted(sheets)]
                        found.sources.setdefault(table, []).append(_Source(table, path, "xlsx", ordered))
                elif stem in model.INPUT_TABLES:
                    found.sources.setdefault(stem, []).append(_Source(stem, path, "xlsx", None))
                elif explicit:
                    problems.append(
                        Problem.for_file(name, f"projektmappen har intet ark, der hedder som en tabel ({table_names})")
                    )
                else:
                    found.unrecognised.append(name)
            elif stem in model.INPUT_TABLES:
                problems.append(
                    Problem.for_file(
                        name,
                        f"filformatet {suffix or '(uden endelse)'} kan ikke læses – gem filen som .csv, .xlsx "
                        "eller .parquet",
                    )
                )
                found.attempted.add(stem)
            elif explicit:
                problems.append(
                    Problem.for_file(
                        name,
                        f"filnavnet svarer ikke til en tabel – filen skal hedde {table_names} med endelsen "
                        ".csv, .xlsx eller .parquet",
                    )
                )
            else:
                found.unrecognised.append(name)
    return found


# ----------------------------------------------------------------------------------------------------------------
# Reading one file into raw text cells
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Piece:
    """The raw cells of one table from one file or sheet, before conversion."""

    table: model.Table
    file: str
    sheet: str | None
    frame: pd.DataFrame  # canonical column names; text cells ("" = empty) or typed cells (parquet)
    rows: np.ndarray  # the row number a person sees, per frame row
    header_row: int | None
    decimal_comma: bool | None  # None: decide from the numbers (semicolon CSV)
    missing: set[str] = field(default_factory=set)
    dropped: int = 0  # rows that could not be read at all (ragged or broken): the table is incomplete


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            # UTF-8 cut off inside the last character: keep UTF-8 (the ragged last row is reported later).
            return data.decode("utf-8-sig", errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _ragged_problem(file: str, line: int, fields: list[str], expected: int, last: bool, delimiter: str) -> Problem:
    text = delimiter.join(fields)
    rule = f'rækken "{_shorten(text, 50)}" har {len(fields)} felter, men overskriften har {expected}'
    if last and len(fields) < expected:
        rule += " – filen ser ud til at være afskåret (den sidste række er ufuldstændig); eksportér filen igen"
    elif len(fields) < expected:
        rule += " – der mangler felter; filen kan være afskåret eller redigeret forkert"
    elif delimiter == ",":
        rule += " – måske er der brugt komma både som skilletegn og decimaltegn; brug semikolon som skilletegn"
    else:
        rule += f' – der er for mange felter; står der et "{delimiter}" i en værdi uden anførselstegn?'
    return Problem(file, line, None, None, rule)


def _read_csv(source: _Source, data: bytes, problems: list[Problem]) -> list[_Piece]:
    table = model.INPUT_TABLES[source.table]
    name = source.path.name
    text = _decode(data)
    if not text.strip():
        problems.append(Problem.for_file(name, "filen er tom"))
        return []
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(stdio.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    header: list[str] = []
    try:
        for record in reader:  # skip blank lines before the header
            if any(f.strip() for f in record):
                header = record
                break
    except csv.Error:
        problems.append(Problem(name, reader.line_num or 1, None, None, _CSV_BROKEN))
        return []
    if not header:
        problems.append(Problem.for_file(name, "filen er tom – den har hverken overskrift eller data"))
        return []
    header_lines = reader.line_num
    n_fields = len(header)
    frame, rows = _csv_fast(text, delimiter, header_lines, n_fields)
    dropped = 0
    if frame is None:
        frame, rows, dropped = _csv_exact(reader, name, n_fields, delimiter, header_lines, problems)
    if len(frame):  # rows of only delimiters (";;;"), as Excel writes for formatted empty rows
        filled = (frame != "").any(axis=1).to_numpy(dtype=bool)
        if not filled.all():
            frame, rows = frame[filled].reset_index(drop=True), rows[filled]
    if len(frame) == 0:
        problems.append(Problem.for_file(name, "filen indeholder ingen rækker med data, kun overskriften"))
        return []
    decimal_comma = False if delimiter == "," else None  # semicolon or tab: decide from the numbers
    piece = _shape_piece(table, name, None, header, frame, rows, header_lines, decimal_comma, problems)
    piece.dropped = dropped
    return [piece]


def _csv_fast(text: str, delimiter: str, header_lines: int, n_fields: int):
    """Parse with pyarrow when every record sits on its own line (then line numbers are simply index + offset)."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    names = [f"c{i}" for i in range(n_fields)]
    try:
        parsed = pacsv.read_csv(
            stdio.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_lines),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None, None
    physical_lines = text.rstrip("\r\n").count("\n") + 1
    if physical_lines != parsed.num_rows + header_lines:
        return None, None  # blank lines or values spanning lines: count lines exactly instead
    frame = parsed.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    rows = np.arange(header_lines + 1, header_lines + 1 + len(frame), dtype=np.int64)
    return frame, rows


def _csv_exact(reader, name: str, n_fields: int, delimiter: str, header_lines: int, problems: list[Problem]):
    """Parse with the csv module, tracking the line each record starts on and reporting ragged rows."""
    records: list[list[str]] = []
    lines: list[int] = []
    ragged: list[tuple[int, list[str]]] = []
    previous_end = header_lines
    dropped = 0
    while True:
        start = previous_end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            problems.append(Problem(name, start, None, None, _CSV_BROKEN))
            dropped += 1
            if reader.line_num <= previous_end:
                break
            previous_end = reader.line_num
            continue
        previous_end = reader.line_num
        if not record:
            continue
        if len(record) != n_fields:
            if not any(f.strip() for f in record):
                continue
            ragged.append((start, record))
            continue
        records.append(record)
        lines.append(start)
    for i, (line, record) in enumerate(ragged):
        last = i == len(ragged) - 1 and (not lines or line > lines[-1])
        problems.append(_ragged_problem(name, line, record, n_fields, last, delimiter))
    frame = pd.DataFrame(records, columns=[f"c{i}" for i in range(n_fields)], dtype=object)
    frame = frame.astype(pd.StringDtype("pyarrow")) if len(frame) else frame.astype(object)
    return frame, np.asarray(lines, dtype=np.int64), dropped + len(ragged)


def _cell_text(value: object) -> str:
    """Excel cell value -> text, with numbers in decimal-comma form (so '1.234' text and 1.234 numbers differ)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).replace(".", ",")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(source: _Source, problems: list[Problem], workbooks: _Workbooks) -> list[_Piece]:
    table = model.INPUT_TABLES[source.table]
    name = source.path.name
    pieces = []
    try:
        workbook = workbooks.get(source.path)
        sheets = source.sheets or [workbook.sheetnames[0]]
        for sheet in sheets:
            worksheet = workbook[sheet]
            header, header_row, columns, rows = None, 0, [], []
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                if header is None:
                    if any(v is not None and str(v).strip() for v in values):
                        header, header_row = [_cell_text(v) for v in values], number
                        columns = [[] for _ in header]
                    continue
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                for i, column in enumerate(columns):
                    column.append(_cell_text(values[i]) if i < len(values) else "")
                if len(values) > len(columns):
                    extra = [_cell_text(v) for v in values[len(columns) :]]
                    if any(e.strip() for e in extra):
                        problems.append(
                            Problem(
                                name,
                                number,
                                None,
                                None,
                                f"rækken har værdier i {len(values)} kolonner, men overskriften har {len(header)}",
                                sheet,
                            )
                        )
                rows.append(number)
            if header is None:
                problems.append(Problem.for_file(name, "arket er tomt", sheet))
                continue
            if not rows:
                problems.append(
                    Problem.for_file(name, "arket indeholder ingen rækker med data, kun overskriften", sheet)
                )
                continue
            frame = pd.DataFrame(
                {f"c{i}": pd.array(column, dtype=pd.StringDtype("pyarrow")) for i, column in enumerate(columns)}
            )
            pieces.append(
                _shape_piece(
                    table, name, sheet, header, frame, np.asarray(rows, dtype=np.int64), header_row, True, problems
                )
            )
    except DataError:
        raise
    except Exception as exc:  # a broken workbook can fail in many ways
        problems.append(_unreadable(source.path, "xlsx", type(exc).__name__))
        return []
    return pieces


def _read_parquet(source: _Source, problems: list[Problem]) -> list[_Piece]:
    table = model.INPUT_TABLES[source.table]
    name = source.path.name
    try:
        frame = read_parquet(source.path)
    except Exception as exc:  # a broken Parquet file can fail in many ways
        problems.append(_unreadable(source.path, "parquet", type(exc).__name__))
        return []
    if len(frame) == 0:
        problems.append(Problem.for_file(name, "filen indeholder ingen rækker"))
        return []
    header = [str(c) for c in frame.columns]
    frame = frame.reset_index(drop=True)
    frame.columns = [f"c{i}" for i in range(len(header))]
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.StringDtype):
            frame[column] = series.astype(pd.StringDtype("pyarrow")).fillna("").str.strip()
        elif not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            text = series.astype(object).where(series.notna(), "").astype(str)
            frame[column] = text.astype(pd.StringDtype("pyarrow"))
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return [_shape_piece(table, name, None, header, frame, rows, None, False, problems)]


def _shape_piece(
    table: model.Table,
    file: str,
    sheet: str | None,
    header: list[str],
    frame: pd.DataFrame,
    rows: np.ndarray,
    header_row: int | None,
    decimal_comma: bool | None,
    problems: list[Problem],
) -> _Piece:
    """Match the header to the table's columns (reporting unknown, duplicate and missing ones)."""
    wanted = table.column_names
    keep: dict[str, str] = {}
    for i, raw_name in enumerate(header):
        column = raw_name.strip().removeprefix("\ufeff").removeprefix("ï»¿").strip().lower()
        position = f"c{i}"
        if column in keep:
            problems.append(
                Problem(file, header_row, column, None, "kolonnen står mere end én gang i overskriften", sheet)
            )
        elif column in wanted:
            keep[column] = position
        elif column == "":
            values = frame[position]
            if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
                has_values = bool((values.fillna("").astype(str).str.strip() != "").any())
            else:
                has_values = bool(values.notna().any())
            if has_values:
                problems.append(
                    Problem(file, header_row, f"nr. {i + 1}", None, "kolonnen har værdier, men ingen overskrift", sheet)
                )
        else:
            guess = difflib.get_close_matches(column, wanted, n=1, cutoff=0.6)
            hint = f' – mente du "{guess[0]}"?' if guess else ""
            problems.append(
                Problem(
                    file,
                    header_row,
                    raw_name.strip(),
                    None,
                    f"kolonnen er ukendt{hint} Tabellen {table.name} har kolonnerne: {', '.join(wanted)}",
                    sheet,
                )
            )
    missing = [c for c in wanted if c not in keep]
    for column in missing:
        problems.append(Problem(file, header_row, column, None, f"kolonnen mangler i tabellen {table.name}", sheet))
    shaped = frame[list(keep.values())].copy()
    shaped.columns = list(keep)
    for column in shaped.columns:
        if isinstance(shaped[column].dtype, pd.StringDtype):
            shaped[column] = shaped[column].str.strip()
    shaped = shaped.reset_index(drop=True)
    return _Piece(table, file, sheet, shaped, rows, header_row, decimal_comma, set(missing))


# ----------------------------------------------------------------------------------------------------------------
# Converting and checking one table
# ----------------------------------------------------------------------------------------------------------------


class _Located:
    """A table's cells from all its pieces, with each row's file, sheet and row number, and its problems."""

    def __init__(self, table: model.Table, pieces: list[_Piece], problems: list[Problem]):
        self.table = table
        self.problems = problems
        self.present = [c for c in table.column_names if all(c not in p.missing for p in pieces)]
        # Rows were lost (ragged or broken): references into this table are not checked, to avoid false alarms.
        self.complete = not any(p.dropped for p in pieces)
        frames = [p.frame[[c for c in self.present]] for p in pieces]
        self.raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        self.rows = np.concatenate([p.rows for p in pieces])
        self.files = np.concatenate([np.full(len(p.frame), p.file, dtype=object) for p in pieces])
        self.sheets = (
            np.concatenate([np.full(len(p.frame), p.sheet, dtype=object) for p in pieces])
            if any(p.sheet for p in pieces)
            else None
        )
        self.decimal_comma = _decide_decimal_comma(table, pieces)
        self.typed = pd.DataFrame(index=self.raw.index)
        self.raw_empty: dict[str, np.ndarray] = {}  # per numeric column: cells that were empty in the file

    def where(self, position: int) -> tuple[str, int, str | None]:
        sheet = self.sheets[position] if self.sheets is not None else None
        return self.files[position], int(self.rows[position]), sheet

    def shown(self, column: str, position: int) -> str:
        value = self.raw[column].iloc[position]
        if isinstance(value, str):
            return value
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return ""
        if isinstance(value, float | np.floating):
            return _format_number(float(value))
        return str(value)

    def emit(
        self,
        mask: np.ndarray | pd.Series,
        column: str | None,
        rule: str | Callable[[int], str],
        show_value: bool = True,
        value_column: str | None = None,
    ) -> None:
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for position in positions:
            file, row, sheet = self.where(position)
            text = rule(position) if callable(rule) else rule
            value = self.shown(value_column or column, position) if show_value and column else None
            self.problems.append(Problem(file, row, column, value, text, sheet))

    def row_label(self, position: int, other: int) -> str:
        file, row, sheet = self.where(other)
        own_file, _, own_sheet = self.where(position)
        label = f"række {row}"
        if sheet and sheet != own_sheet:
            label += f' i arket "{sheet}"'
        if file != own_file:
            label += f" i {file}"
        return label


def _decide_decimal_comma(table: model.Table, pieces: list[_Piece]) -> bool:
    decided = [p.decimal_comma for p in pieces if p.decimal_comma is not None]
    if len(decided) == len(pieces):
        return bool(decided[0])
    # A semicolon CSV: decimal comma (the Danish default) unless numbers use decimal point and never a comma.
    numeric = [c.name for c in table.columns if c.dtype in ("int", "float")]
    for piece in pieces:
        for column in numeric:
            if column in piece.frame and isinstance(piece.frame[column].dtype, pd.StringDtype):
                text = piece.frame[column]
                if bool(text.str.contains(",", regex=False).any()):
                    return True
    for piece in pieces:
        for column in numeric:
            if column in piece.frame and isinstance(piece.frame[column].dtype, pd.StringDtype):
                text = piece.frame[column]
                dotted = text.str.contains(".", regex=False) & ~text.str.fullmatch(_THOUSANDS_RE)
                if bool(dotted.any()):
                    return False
    return True


def _format_number(value: float) -> str:
    if np.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value)).replace(".", ",")


def _parse_numbers(text: pd.Series, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text -> (float values with NaN, empty mask, invalid mask)."""
    empty = (text == "").to_numpy(dtype=bool, na_value=True)
    normalised = text
    if decimal_comma:
        thousands = normalised.str.fullmatch(_THOUSANDS_RE).to_numpy(dtype=bool, na_value=False)
        if thousands.any():
            normalised = normalised.where(~thousands, normalised.str.replace(".", "", regex=False))
        normalised = normalised.str.replace(",", ".", regex=False)
    ok = normalised.str.fullmatch(_NUMBER_RE).to_numpy(dtype=bool, na_value=False)
    values = np.full(len(text), np.nan)
    if ok.any():
        values[ok] = _text_to_float(normalised[ok])
    bad = ok & ~np.isfinite(values)
    values[bad] = np.nan
    return values, empty, (~empty & ~ok) | bad


def _text_to_float(text: pd.Series) -> np.ndarray:
    """Exact decimal text -> float64 (pyarrow's parser rounds correctly; pandas' fast parser can be 1 ulp off)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(pa.array(text, type=pa.string()), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.array([float(v) for v in text], dtype=float)


def _not_a_number_rule(column: model.Column, decimal_comma: bool, nullable: bool, text: str) -> str:
    rule = "er ikke et tal"
    if column.dtype == "int":
        rule += " – kolonnen skal indeholde hele tal"
    if not decimal_comma and "," in text:
        rule += " – filen bruger punktum som decimaltegn"
    if nullable:
        rule += " (lad cellen stå tom, hvis værdien mangler)"
    return rule


def _convert_column(located: _Located, column: model.Column) -> None:
    name = column.name
    raw = located.raw[name]
    text_cells = isinstance(raw.dtype, pd.StringDtype) or raw.dtype == object
    if column.dtype == "str":
        if text_cells:
            text = raw.astype(pd.StringDtype("pyarrow"))
        else:
            text = pd.Series([_format_number(v) if pd.notna(v) else "" for v in raw], dtype=pd.StringDtype("pyarrow"))
        text = text.where(text != "", pd.NA)
        if column.allowed:
            text = text.str.lower()
        if _is_kommune_column(located.table, column.name):
            codes, uniques = pd.factorize(text)
            normalised = np.array([model.normalise_kommune_code(u) for u in uniques], dtype=object)
            mapped = np.where(codes >= 0, normalised[np.maximum(codes, 0)] if len(uniques) else None, None)
            text = pd.Series(mapped, dtype=pd.StringDtype("pyarrow"))
        if located.table.name == "measures" and name == "measure":
            text = text.str.lower()
        located.typed[name] = text.values
        return
    if column.dtype == "bool":
        if text_cells:
            lowered = raw.astype(pd.StringDtype("pyarrow")).str.lower()
            is_true = lowered.isin(_TRUE).to_numpy(dtype=bool, na_value=False)
            is_false = lowered.isin(_FALSE).to_numpy(dtype=bool, na_value=False)
            empty = (lowered == "").to_numpy(dtype=bool, na_value=True)
        else:
            numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            is_true, is_false, empty = numeric == 1, numeric == 0, np.isnan(numeric)
        invalid = ~(is_true | is_false | empty)
        located.emit(invalid, name, "er ikke en sandhedsværdi – brug ja/nej, sand/falsk, true/false eller 1/0")
        values = pd.Series(np.where(is_true, True, np.where(is_false, False, None)), dtype=object)
        values[empty | invalid] = None
        located.typed[name] = values.values
        return
    # int and float
    if text_cells:
        values, empty, invalid = _parse_numbers(raw.astype(pd.StringDtype("pyarrow")), located.decimal_comma)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        empty = np.isnan(values)
        invalid = np.isinf(values)
        values = np.where(invalid, np.nan, values)
    if invalid.any():
        located.emit(
            invalid,
            name,
            lambda p: _not_a_number_rule(column, located.decimal_comma, column.nullable, located.shown(name, p)),
        )
    if column.dtype == "int":
        with np.errstate(invalid="ignore"):
            fractional = ~np.isnan(values) & (np.mod(values, 1) != 0)
        located.emit(fractional, name, "har decimaler – kolonnen skal indeholde hele tal")
        values = np.where(fractional, np.nan, values)
    located.typed[name] = values
    located.raw_empty[name] = empty


def _limit_rule(column: model.Column, value: float) -> str:
    subject = _SUBJECTS.get(column.unit, "værdien")
    low, high = column.min_value, column.max_value
    below = low is not None and value < low
    if below and value < 0 <= low:
        prefix = "er negativ"
    elif below:
        prefix = "er for lille"
    else:
        prefix = "er for stor"
    if low is not None and high is not None:
        need = f"{subject} skal ligge mellem {_format_number(low)} og {_format_number(high)}"
    elif low is not None and 0 < low < 0.001:
        need = f"{subject} skal være større end 0"
    elif low == 0:
        need = f"{subject} kan ikke være under 0"
    elif low is not None:
        need = f"{subject} skal være mindst {_format_number(low)}"
    else:
        need = f"{subject} kan højst være {_format_number(high)}"
    return f"{prefix} – {need}"


def _schema(located: _Located):
    """A pandera schema for the per-column rules of the table's present columns (types are converted already)."""
    import pandera.pandas as pa

    columns = {}
    for column in located.table.columns:
        if column.name not in located.present:
            continue
        checks = []
        if column.allowed:
            checks.append(pa.Check.isin(list(column.allowed), error="allowed"))
        if _is_kommune_column(located.table, column.name):
            checks.append(pa.Check.isin(sorted(_kommune_codes()), error="kommune"))
        per_measure = located.table.name == "measures" and column.name == "value"
        if column.min_value is not None and not per_measure:
            checks.append(pa.Check.ge(column.min_value, error="min"))
        if column.max_value is not None and not per_measure:
            checks.append(pa.Check.le(column.max_value, error="max"))
        columns[column.name] = pa.Column(None, nullable=column.nullable, checks=checks, required=False)
    return pa.DataFrameSchema(columns)


def _is_kommune_column(table: model.Table, column: str) -> bool:
    return table.foreign_keys.get(column) == "kommuner.kommune_code"


@lru_cache(maxsize=1)
def _kommune_codes() -> frozenset[str]:
    return frozenset(model.kommuner()["kommune_code"].astype(str))


def _run_schema(located: _Located) -> None:
    import pandera.errors

    if not located.present:
        return
    try:
        _schema(located).validate(located.typed, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        columns = {c.name: c for c in located.table.columns}
        for check, group in cases.groupby("check", sort=False):
            for column_name, sub in group.groupby("column", sort=False):
                column = columns[column_name]
                positions = np.unique(sub["index"].astype(int).to_numpy())
                mask = np.zeros(len(located.typed), dtype=bool)
                mask[positions] = True
                if check == "not_nullable":
                    # Cells that were not empty already got a conversion problem.
                    empty = located.raw_empty.get(column_name)
                    if empty is not None:
                        mask &= empty
                    else:
                        raw = located.raw[column_name]
                        mask &= raw.isna().to_numpy() | (raw.astype(str) == "").to_numpy()
                    located.emit(mask, column_name, "cellen er tom – kolonnen skal udfyldes", show_value=False)
                elif check == "allowed":
                    located.emit(
                        mask, column_name, f"er ikke en tilladt værdi – tilladte værdier: {', '.join(column.allowed)}"
                    )
                elif check == "kommune":
                    located.emit(
                        mask,
                        column_name,
                        "er ikke en kendt kommunekode – brug en af de 98 kommuners koder fra Danmarks Statistik, "
                        "fx 101 for København (se data/reference/kommuner.csv)",
                    )
                elif check in ("min", "max"):
                    values = located.typed[column_name].to_numpy(dtype=float)
                    located.emit(mask, column_name, lambda p, c=column, v=values: _limit_rule(c, v[p]))
                else:  # pragma: no cover - every check above has a translation
                    located.emit(mask, column_name, f"bryder reglen {check}")


def _check_duplicates(located: _Located) -> None:
    key = list(located.table.key)
    if not all(k in located.present for k in key):
        return
    frame = located.typed[key]
    complete = frame.notna().all(axis=1).to_numpy()
    duplicated = frame.duplicated(keep="first").to_numpy() & complete
    if not duplicated.any():
        return
    positions = np.arange(len(frame))
    sub = frame[complete]
    groups = pd.Series(positions[complete], index=sub.index).groupby([sub[k] for k in key], sort=False)
    first = groups.transform("first")
    first_positions = np.full(len(frame), -1)
    first_positions[complete] = first.to_numpy()
    label = ", ".join(key)
    if len(key) == 1:
        need = f"{key[0]} skal være entydig"
    else:
        need = f"der må kun være én række pr. kombination af {', '.join(key[:-1])} og {key[-1]}"

    def rule(position: int) -> str:
        return f"findes allerede i {located.row_label(position, first_positions[position])} – {need}"

    for position in np.flatnonzero(duplicated):
        file, row, sheet = located.where(position)
        value = " / ".join(located.shown(k, position) for k in key)
        located.problems.append(Problem(file, row, label, value, rule(position), sheet))


def _check_foreign_key(located: _Located, column: str, valid: pd.Series, rule: str) -> None:
    if column not in located.present:
        return
    values = located.typed[column]
    bad = values.notna().to_numpy() & ~values.isin(set(valid.dropna())).to_numpy()
    located.emit(bad, column, rule)


# ----------------------------------------------------------------------------------------------------------------
# Rules for the measures table
# ----------------------------------------------------------------------------------------------------------------


def _measure_label(name: str) -> str:
    measure = registry.MEASURES[name]
    return f'"{name}" ({measure.label_da})'


def _check_measures(located: _Located, afdelinger: _Located | None, organisations: _Located | None) -> None:
    if "measure" not in located.present:
        return
    typed = located.typed
    codes, names = pd.factorize(typed["measure"])
    names = [str(n) for n in names]
    n = len(names)
    known = np.array([name in registry.MEASURES for name in names] + [False], dtype=bool)
    source = np.array([registry.MEASURES[name].source if name in registry.MEASURES else "" for name in names] + [""])
    level = np.array(
        [registry.measure_level(name) if src == "measures" else "" for name, src in zip(names, source[:n], strict=True)]
        + [""],
        dtype=object,
    )
    index = np.where(codes >= 0, codes, n)

    unknown = (codes >= 0) & ~known[index]
    input_names = list(registry.input_measures())

    def unknown_rule(position: int) -> str:
        value = str(typed["measure"].iloc[position])
        guess = difflib.get_close_matches(value, input_names, n=1, cutoff=0.6)
        hint = f' – mente du "{guess[0]}"?' if guess else ""
        return f"er ikke en kendt måling{hint} Se listen over målinger i data/README.md"

    located.emit(unknown, "measure", unknown_rule)
    elsewhere = known[index] & (source[index] != "measures")

    def elsewhere_rule(position: int) -> str:
        name = str(typed["measure"].iloc[position])
        table = {"afdeling": "afdelinger", "kommune_context": "kommune_context"}[registry.MEASURES[name].source]
        return f"hører ikke til i measures – den står som kolonnen {name} i tabellen {table}"

    located.emit(elsewhere, "measure", elsewhere_rule)
    valid_measure = known[index] & (source[index] == "measures")

    # unit_id must exist at the measure's level
    if "unit_id" in located.present:
        units = typed["unit_id"]
        for lvl, other, id_column in (
            ("afdeling", afdelinger, "afdeling_id"),
            ("organisation", organisations, "organisation_id"),
        ):
            if other is None or not other.complete or id_column not in other.present:
                continue
            at_level = valid_measure & (level[index] == lvl) & units.notna().to_numpy()
            bad = at_level & ~units.isin(set(other.typed[id_column].dropna())).to_numpy()
            table = "afdelinger" if lvl == "afdeling" else "organisations"

            def unit_rule(position: int, lvl=lvl, table=table, id_column=id_column) -> str:
                name = str(typed["measure"].iloc[position])
                return (
                    f"er ikke et {id_column} i tabellen {table} – målingen {_measure_label(name)} opgøres pr. "
                    f"{_LEVEL_DA[lvl]}, så unit_id skal være et {id_column}"
                )

            located.emit(bad, "unit_id", unit_rule)

    if "value" not in located.present:
        return
    values = typed["value"].to_numpy(dtype=float)
    measure_of = [registry.MEASURES.get(name) for name in names] + [None]
    low = np.array([m.min_value if m and m.min_value is not None else -np.inf for m in measure_of])[index]
    high = np.array([m.max_value if m and m.max_value is not None else np.inf for m in measure_of])[index]
    integer = np.array([bool(m and m.integer) for m in measure_of])[index]
    with np.errstate(invalid="ignore"):
        below = valid_measure & (values < low)
        above = valid_measure & (values > high)
        fractional = valid_measure & integer & (np.mod(values, 1) != 0) & ~np.isnan(values)

    def limit_rule(position: int) -> str:
        measure = registry.MEASURES[str(typed["measure"].iloc[position])]
        value = values[position]
        label = _measure_label(measure.name)
        if value < measure.min_value:
            if value < 0 <= measure.min_value and measure.min_value == 0:
                return f"er negativ – {label} kan ikke være under 0"
            return f"er for lille – {label} skal være mindst {_format_number(measure.min_value)}"
        return f"er for stor – {label} er i {measure.unit} og kan højst være {_format_number(measure.max_value)}"

    located.emit(below | above, "value", limit_rule)
    located.emit(
        fractional,
        "value",
        lambda p: (
            f"har decimaler – {_measure_label(str(typed['measure'].iloc[p]))} er et antal og skal være et helt tal"
        ),
    )
    # Values that already broke a rule are left out of the share checks (no follow-up errors).
    checked = np.where(below | above | fractional, np.nan, values)
    _check_shares(located, afdelinger, codes, names, checked)
    _check_part_of_dwellings(located, afdelinger, codes, names, checked)


def _afdeling_column(afdelinger: _Located | None, column: str) -> pd.Series | None:
    """The afdelinger column indexed by afdeling_id, when the table is complete enough to check against."""
    if afdelinger is None or not afdelinger.complete or not {"afdeling_id", column} <= set(afdelinger.present):
        return None
    return afdelinger.typed.drop_duplicates("afdeling_id").set_index("afdeling_id")[column]


def _check_part_of_dwellings(
    located: _Located, afdelinger: _Located | None, codes: np.ndarray, names: list[str], values: np.ndarray
) -> None:
    """Measures in PART_OF_DWELLINGS must not exceed the afdeling's dwellings (any year: dwellings is static)."""
    if "unit_id" not in located.present:
        return
    dwellings = _afdeling_column(afdelinger, "dwellings")
    if dwellings is None:
        return
    code_of = {name: i for i, name in enumerate(names)}
    for name in PART_OF_DWELLINGS:
        if name not in code_of:
            continue
        positions = np.flatnonzero((codes == code_of[name]) & ~np.isnan(values))
        limits = located.typed["unit_id"].iloc[positions].map(dwellings).to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            over = values[positions] > limits
        if not over.any():
            continue
        mask = np.zeros(len(located.typed), dtype=bool)
        mask[positions[over]] = True
        limit_of = dict(zip(positions[over], limits[over], strict=True))

        def rule(position: int, name=name, limit_of=limit_of) -> str:
            return (
                f"er større end afdelingens antal boliger ({_format_number(limit_of[position])} i kolonnen dwellings "
                f"i tabellen afdelinger) – målingen {_measure_label(name)} kan ikke overstige antallet af boliger i "
                "afdelingen"
            )

        located.emit(mask, "value", rule)


def _check_shares(
    located: _Located, afdelinger: _Located | None, codes: np.ndarray, names: list[str], values: np.ndarray
) -> None:
    """For % indicators, the numerator must not exceed the denominator for the same unit and year."""
    typed = located.typed
    if not {"year", "unit_id", "value"} <= set(located.present):
        return
    code_of = {name: i for i, name in enumerate(names)}
    for indicator in registry.INDICATORS.values():
        numerator = registry.MEASURES.get(indicator.numerator)
        denominator = registry.MEASURES.get(indicator.denominator)
        if indicator.unit != "%" or numerator is None or denominator is None or numerator.source != "measures":
            continue
        if indicator.numerator not in code_of:
            continue
        num_positions = np.flatnonzero((codes == code_of[indicator.numerator]) & ~np.isnan(values))
        if not len(num_positions):
            continue
        num = typed.iloc[num_positions][["year", "unit_id"]].reset_index(drop=True)
        if denominator.source == "measures":
            if indicator.denominator not in code_of:
                continue
            den_positions = np.flatnonzero(codes == code_of[indicator.denominator])
            den = typed.iloc[den_positions][["year", "unit_id"]].assign(value=values[den_positions])
            den = den.drop_duplicates(["year", "unit_id"])
            den_values = num.merge(den, on=["year", "unit_id"], how="left")["value"].to_numpy(dtype=float)
        elif denominator.source == "afdeling":
            lookup = _afdeling_column(afdelinger, denominator.name)
            if lookup is None:
                continue
            den_values = num["unit_id"].map(lookup).to_numpy(dtype=float, na_value=np.nan)
        else:
            continue
        num_values = values[num_positions]
        with np.errstate(invalid="ignore"):
            over = num_values > den_values * (1 + 1e-9) + 1e-9
        if not over.any():
            continue
        mask = np.zeros(len(typed), dtype=bool)
        mask[num_positions[over]] = True
        den_of = dict(zip(num_positions[over], den_values[over], strict=True))
        unit_word = "afdeling" if indicator.level == "afdeling" else "boligorganisation"

        def rule(position: int, indicator=indicator, den_of=den_of, unit_word=unit_word) -> str:
            return (
                f'er større end nævneren – "{indicator.numerator}" kan ikke overstige "{indicator.denominator}" '
                f"({_format_number(den_of[position])}) for samme {unit_word} og år, da andelen i "
                f"{indicator.code} {indicator.name_da} ellers bliver over 100 %"
            )

        located.emit(mask, "value", rule)


# ----------------------------------------------------------------------------------------------------------------
# read_input
# ----------------------------------------------------------------------------------------------------------------


def _read_source(
    source: _Source, problems: list[Problem], hashes: dict[str, str], workbooks: _Workbooks
) -> list[_Piece]:
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        problems.append(Problem.for_file(source.path.name, f"filen kan ikke åbnes ({exc.strerror})"))
        return []
    hashes[source.path.name] = hashlib.sha256(data).hexdigest()
    if source.kind == "csv":
        return _read_csv(source, data, problems)
    if not data:
        problems.append(Problem.for_file(source.path.name, "filen er tom"))
        return []
    if source.kind == "xlsx":
        return _read_xlsx(source, problems, workbooks)
    return _read_parquet(source, problems)


def _read_provenance(found: _Inputs, problems: list[Problem]) -> dict | None:
    provenances = []
    for path in dict.fromkeys(found.provenance_files):
        try:
            content = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(content, dict):
                raise ValueError("not an object")
            provenances.append(content)
        except (OSError, ValueError) as exc:
            problems.append(Problem.for_file(path.name, f"filen kan ikke læses som JSON-objekt ({type(exc).__name__})"))
    if not provenances:
        return None
    provenance = dict(provenances[0])
    if any(bool(p.get("synthetic", False)) for p in provenances):
        provenance["synthetic"] = True  # never let data that was synthetic lose its label
    return provenance


def read_input(paths: Sequence[Path | str]) -> model.Dataset:
    """Read and validate the four input tables from files and/or folders; raise DataError listing every problem."""
    problems: list[Problem] = []
    found = _discover([Path(p) for p in paths], problems)
    hashes: dict[str, str] = {}
    located: dict[str, _Located] = {}
    workbooks = _Workbooks()
    try:
        _read_tables(found, problems, hashes, located, workbooks)
    finally:
        workbooks.close()
    _check_tables(located)
    provenance = _read_provenance(found, problems)
    if problems:
        raise DataError(sorted(problems, key=_problem_order))
    if provenance is None:
        provenance = {"synthetic": False, "source_files": list(hashes), "sha256": hashes}
    frames = {name: model.canonicalise(one.table, one.typed) for name, one in located.items()}
    return model.Dataset(provenance=provenance, **frames)


def _read_tables(
    found: _Inputs,
    problems: list[Problem],
    hashes: dict[str, str],
    located: dict[str, _Located],
    workbooks: _Workbooks,
) -> None:
    for name, table in model.INPUT_TABLES.items():
        sources = found.sources.get(name, [])
        if not sources:
            if name not in found.attempted and not found.unreadable_workbooks:
                unrecognised = ", ".join(found.unrecognised)
                extra = f" Filer, der ikke blev genkendt: {unrecognised}." if unrecognised else ""
                problems.append(
                    Problem.for_file(
                        name,
                        f"tabellen {name} mangler – der skal være en fil med navnet {name}.csv, {name}.xlsx eller "
                        f'{name}.parquet, eller et ark med navnet "{name}" i en .xlsx-projektmappe.{extra}',
                    )
                )
            continue
        for duplicate in sources[1:]:
            problems.append(
                Problem.for_file(
                    duplicate.path.name,
                    f"tabellen {name} findes også i {sources[0].path} – der må kun være én fil pr. tabel",
                )
            )
        pieces = _read_source(sources[0], problems, hashes, workbooks)
        if pieces:
            located[name] = _Located(table, pieces, problems)


def _check_tables(located: dict[str, _Located]) -> None:
    for one in located.values():
        for column in one.table.columns:
            if column.name in one.present:
                _convert_column(one, column)
        _run_schema(one)
        _check_duplicates(one)

    organisations = located.get("organisations")
    afdelinger = located.get("afdelinger")
    if (
        afdelinger is not None
        and organisations is not None
        and organisations.complete
        and "organisation_id" in organisations.present
    ):
        _check_foreign_key(
            afdelinger,
            "organisation_id",
            organisations.typed["organisation_id"],
            "findes ikke i tabellen organisations – afdelingens boligorganisation skal stå i organisations",
        )
    if "measures" in located:
        _check_measures(located["measures"], afdelinger, organisations)


# ----------------------------------------------------------------------------------------------------------------
# Saving, loading, importing and exporting datasets
# ----------------------------------------------------------------------------------------------------------------


def _dataset_files(fmt: str) -> list[str]:
    if fmt == "xlsx":
        return [XLSX_EXPORT_FILE, PROVENANCE_FILE]
    return [*(f"{name}.{fmt}" for name in model.INPUT_TABLES), PROVENANCE_FILE]


def _write_provenance(dataset: model.Dataset, folder: Path) -> None:
    text = json.dumps(dataset.provenance, ensure_ascii=False, indent=2)
    (folder / PROVENANCE_FILE).write_text(text + "\n", encoding="utf-8")


def _canonical(dataset: model.Dataset) -> dict[str, pd.DataFrame]:
    return {name: model.canonicalise(table, dataset.table(name)) for name, table in model.INPUT_TABLES.items()}


def save_dataset(dataset: model.Dataset, folder: Path | str) -> None:
    """Write the dataset as Parquet files plus provenance.json; the folder is replaced as a whole, atomically."""
    folder = Path(folder)
    frames = _canonical(dataset)
    with atomic_folder(folder, _dataset_files("parquet")) as tmp:
        for name, frame in frames.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        _write_provenance(dataset, tmp)


def _missing_data_problem(folder: Path, what: str) -> DataError:
    return DataError([Problem.for_file(str(folder), f"{what} – {_HINT_COMMANDS.format(folder=folder)}")])


def load_dataset(folder: Path | str) -> model.Dataset:
    """Read a dataset folder written by save_dataset (synthesize or import)."""
    folder = Path(folder)
    _recover_folder(folder)
    if not folder.is_dir():
        raise _missing_data_problem(folder, "mappen med data findes ikke")
    missing = [name for name in _dataset_files("parquet") if not (folder / name).is_file()]
    if missing:
        raise _missing_data_problem(folder, f"mappen mangler {', '.join(missing)}")
    frames = {}
    for name, table in model.INPUT_TABLES.items():
        path = folder / f"{name}.parquet"
        try:
            frames[name] = _ensure_canonical(table, read_parquet(path))
        except Exception as exc:  # a broken or foreign file can fail in many ways
            raise DataError(
                [
                    Problem.for_file(
                        path.name,
                        f"filen kan ikke læses som datasættets tabel {name} ({type(exc).__name__}) – "
                        + _HINT_COMMANDS.format(folder=folder),
                    )
                ]
            ) from exc
    try:
        provenance = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(
            [
                Problem.for_file(
                    PROVENANCE_FILE, "filen kan ikke læses som JSON – " + _HINT_COMMANDS.format(folder=folder)
                )
            ]
        ) from exc
    return model.Dataset(provenance=provenance, **frames)


def _ensure_canonical(table: model.Table, frame: pd.DataFrame) -> pd.DataFrame:
    expected = [pd.api.types.pandas_dtype(model.CANONICAL_DTYPES[c.dtype]) for c in table.columns]
    if list(frame.columns) == table.column_names and list(frame.dtypes) == expected:
        return frame.reset_index(drop=True)
    return model.canonicalise(table, frame)


def import_dataset(paths: Sequence[Path | str], to: Path | str) -> model.Dataset:
    """Validate input files and save them as a dataset folder; on any problem nothing is written."""
    dataset = read_input(paths)
    save_dataset(dataset, to)
    return dataset


def _text_frame(table: model.Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The table as text cells the way Danish Excel writes them: decimal comma, ja/nej, empty for missing."""
    out = {}
    for column in table.columns:
        series = frame[column.name]
        if column.dtype == "str":
            out[column.name] = series.astype(object).where(series.notna(), "")
        elif column.dtype == "bool":
            out[column.name] = np.where(series.astype(bool), "ja", "nej")
        else:
            out[column.name] = _format_numbers(series.to_numpy(dtype=float, na_value=np.nan))
    return pd.DataFrame(out)


def _format_numbers(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        whole = finite & (np.mod(values, 1) == 0) & (np.abs(values) < 1e15)
    out[whole] = values[whole].astype(np.int64).astype(str)
    rest = finite & ~whole
    if rest.any():
        out[rest] = np.char.replace(values[rest].astype(str), ".", ",")
    return out


def _write_csv(table: model.Table, frame: pd.DataFrame, path: Path) -> None:
    _text_frame(table, frame).to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _write_xlsx(frames: dict[str, pd.DataFrame], path: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    problems = []
    for name, frame in frames.items():
        for column in model.INPUT_TABLES[name].columns:
            if column.dtype != "str":
                continue
            values = frame[column.name].astype(object)
            for position in np.flatnonzero(values.map(lambda v: bool(ILLEGAL_CHARACTERS_RE.search(v))).to_numpy()):
                part, offset = divmod(int(position), XLSX_MAX_ROWS)
                problems.append(
                    Problem(
                        XLSX_EXPORT_FILE,
                        offset + 2,
                        column.name,
                        str(values.iloc[position]),
                        "indeholder kontroltegn, som ikke kan gemmes i Excel – ret værdien eller eksportér som csv",
                        name if part == 0 else f"{name} ({part + 1})",
                    )
                )
    if problems:
        raise DataError(problems)

    workbook = openpyxl.Workbook(write_only=True)
    for name, frame in frames.items():
        table = model.INPUT_TABLES[name]
        cells = frame.astype(object).where(frame.notna(), None)
        text_columns = [c.name for c in table.columns if c.dtype == "str"]
        parts = max(1, -(-len(cells) // XLSX_MAX_ROWS))
        for part in range(parts):
            sheet = workbook.create_sheet(name if part == 0 else f"{name} ({part + 1})")
            sheet.freeze_panes = "A2"
            for i, column in enumerate(table.columns):
                letter = openpyxl.utils.get_column_letter(i + 1)
                sheet.column_dimensions[letter].width = max(12, len(column.name) + 2)
            chunk = cells.iloc[part * XLSX_MAX_ROWS : (part + 1) * XLSX_MAX_ROWS]
            # Write the sheet's size up front (openpyxl's write-only mode leaves it out, and then every reader
            # must parse the whole sheet just to open the workbook).
            last = f"{openpyxl.utils.get_column_letter(len(table.columns))}{len(chunk) + 1}"
            sheet.calculate_dimension = lambda last=last: f"A1:{last}"
            sheet.append(table.column_names)
            # Text starting with "=" must stay text, not become a formula.
            looks_like_formula = np.zeros(len(chunk), dtype=bool)
            for column in text_columns:
                looks_like_formula |= chunk[column].astype(str).str.startswith("=").to_numpy(dtype=bool)
            special = set(np.flatnonzero(looks_like_formula).tolist())
            for i, row in enumerate(chunk.itertuples(index=False, name=None)):
                if i in special:
                    row = tuple(_text_cell(sheet, v, WriteOnlyCell) for v in row)
                sheet.append(row)
    workbook.save(path)


def _text_cell(sheet, value, cell_class):
    if isinstance(value, str) and value.startswith("="):
        cell = cell_class(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def export_dataset(dataset: model.Dataset, folder: Path | str, fmt: str) -> None:
    """Write the dataset in the input format (csv, xlsx or parquet) plus provenance.json, atomically."""
    if fmt not in ("csv", "xlsx", "parquet"):
        raise ValueError(f"Ukendt format {fmt!r}; brug csv, xlsx eller parquet")
    folder = Path(folder)
    frames = _canonical(dataset)
    with atomic_folder(folder, _dataset_files(fmt)) as tmp:
        if fmt == "csv":
            for name, frame in frames.items():
                _write_csv(model.INPUT_TABLES[name], frame, tmp / f"{name}.csv")
        elif fmt == "xlsx":
            _write_xlsx(frames, tmp / XLSX_EXPORT_FILE)
        else:
            for name, frame in frames.items():
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
        _write_provenance(dataset, tmp)


# ----------------------------------------------------------------------------------------------------------------
# The measure catalogue (for data/README.md)
# ----------------------------------------------------------------------------------------------------------------


def measure_catalogue() -> pd.DataFrame:
    """One row per measure: where it is supplied, its unit, level, limits, and which indicators use it."""
    used: dict[str, list[str]] = {}
    for indicator in registry.INDICATORS.values():
        for role, name in (("numerator", indicator.numerator), ("denominator", indicator.denominator)):
            used.setdefault(name, []).append(f"{indicator.code} {role}")
        for supporting in indicator.supporting:
            used.setdefault(supporting.measure, []).append(f"{indicator.code} supporting")
    rows = []
    for measure in registry.MEASURES.values():
        low, high = measure.min_value, measure.max_value
        if measure.source == "measures":
            where, level = "measures", registry.measure_level(measure.name)
        else:
            table = model.AFDELINGER if measure.source == "afdeling" else model.KOMMUNE_CONTEXT
            where = f"{table.name} (column)"
            level = "afdeling" if measure.source == "afdeling" else "kommune"
            column = {c.name: c for c in table.columns}[measure.name]
            low, high = column.min_value, column.max_value
        rows.append(
            {
                "measure": measure.name,
                "label_da": measure.label_da,
                "unit": measure.unit,
                "table": where,
                "level": level,
                "min": low,
                "max": high,
                "integer": measure.integer,
                "used_in": ", ".join(used.get(measure.name, [])),
            }
        )
    return pd.DataFrame(rows)


def share_rules() -> pd.DataFrame:
    """The "must not exceed" rules that read_input checks: numerator <= denominator for indicators in % with a
    measures numerator, and the supporting counts in PART_OF_DWELLINGS <= the afdeling's dwellings."""
    rows = [
        {
            "indicator": i.code,
            "name_da": i.name_da,
            "numerator": i.numerator,
            "denominator": i.denominator,
            "denominator_table": "measures" if registry.MEASURES[i.denominator].source == "measures" else "afdelinger",
        }
        for i in registry.INDICATORS.values()
        if i.unit == "%" and registry.MEASURES[i.numerator].source == "measures"
    ]
    for name in PART_OF_DWELLINGS:
        user = next(i for i in registry.INDICATORS.values() if any(s.measure == name for s in i.supporting))
        rows.append(
            {
                "indicator": user.code,
                "name_da": f"{user.name_da} (støttetal)",
                "numerator": name,
                "denominator": "dwellings",
                "denominator_table": "afdelinger",
            }
        )
    return pd.DataFrame(rows)


def _markdown(headers: list[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _limit_text(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    return "> 0" if 0 < value < 0.001 else _format_number(value)


def measure_catalogue_markdown() -> str:
    """The measure catalogue and the share rules as Markdown tables (pasted into data/README.md)."""
    catalogue = _markdown(
        ["Measure", "Meaning (Danish label)", "Unit", "Table", "Level", "Min", "Max", "Whole number", "Used in"],
        (
            (
                f"`{r.measure}`",
                r.label_da,
                r.unit,
                r.table,
                r.level,
                _limit_text(r.min),
                _limit_text(r.max),
                "yes" if r.integer else "no",
                r.used_in,
            )
            for r in measure_catalogue().itertuples(index=False)
        ),
    )
    shares = _markdown(
        ["Indicator", "Numerator (measures)", "must not exceed", "Denominator from"],
        (
            (f"{r.indicator} {r.name_da}", f"`{r.numerator}`", f"`{r.denominator}`", r.denominator_table)
            for r in share_rules().itertuples(index=False)
        ),
    )
    intro = (
        "Shares cannot exceed 100 %, and a supporting count cannot exceed what it counts. For the same unit and year:"
    )
    return f"{catalogue}\n\n{intro}\n\n{shares}"
