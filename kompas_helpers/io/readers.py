"""Reading one input file (CSV, Excel or Parquet) into the raw cells of its table."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import hashlib
import io as stdio
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kompas_helpers import model
from kompas_helpers.files import read_parquet
from kompas_helpers.io.problems import DataError, Problem, shorten
from kompas_helpers.io.sources import Source, Workbooks, unreadable

_CSV_BROKEN = "rækken kan ikke læses som CSV (anførselstegn eller linjeskift står forkert) – filen kan være beskadiget"


@dataclass
class Piece:
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


def read_source(source: Source, problems: list[Problem], hashes: dict[str, str], workbooks: Workbooks) -> list[Piece]:
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
    rule = f'rækken "{shorten(text, 50)}" har {len(fields)} felter, men overskriften har {expected}'
    if last and len(fields) < expected:
        rule += " – filen ser ud til at være afskåret (den sidste række er ufuldstændig); eksportér filen igen"
    elif len(fields) < expected:
        rule += " – der mangler felter; filen kan være afskåret eller redigeret forkert"
    elif delimiter == ",":
        rule += " – måske er der brugt komma både som skilletegn og decimaltegn; brug semikolon som skilletegn"
    else:
        rule += f' – der er for mange felter; står der et "{delimiter}" i en værdi uden anførselstegn?'
    return Problem(file, line, None, None, rule)


def _read_csv(source: Source, data: bytes, problems: list[Problem]) -> list[Piece]:
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
    if len(frame) == 0 and not table.optional:  # an optional table may be just its header: no rows
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


def _read_xlsx(source: Source, problems: list[Problem], workbooks: Workbooks) -> list[Piece]:
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
            if not rows and not table.optional:
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
        problems.append(unreadable(source.path, "xlsx", type(exc).__name__))
        return []
    return pieces


def _read_parquet(source: Source, problems: list[Problem]) -> list[Piece]:
    table = model.INPUT_TABLES[source.table]
    name = source.path.name
    try:
        frame = read_parquet(source.path)
    except Exception as exc:  # a broken Parquet file can fail in many ways
        problems.append(unreadable(source.path, "parquet", type(exc).__name__))
        return []
    if len(frame) == 0 and not table.optional:
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
) -> Piece:
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
                    f"kolonnen er ukendt{hint or '.'} Tabellen {table.name} har kolonnerne: {', '.join(wanted)}",
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
    return Piece(table, file, sheet, shaped, rows, header_row, decimal_comma, set(missing))
