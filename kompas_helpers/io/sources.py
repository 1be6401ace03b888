"""Finding the input files: which file (or workbook sheet) holds which input table."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kompas_helpers import model
from kompas_helpers.io.problems import Problem

TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")
PROVENANCE_FILE = "provenance.json"


@dataclass
class Source:
    table: str
    path: Path
    kind: str  # csv, xlsx, parquet
    sheets: list[str] | None = None  # xlsx: sheets holding the table, in order; None = the first sheet


@dataclass
class Inputs:
    sources: dict[str, list[Source]] = field(default_factory=dict)
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


class Workbooks:
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


def unreadable(path: Path, kind: str, detail: str = "") -> Problem:
    what = {"xlsx": "en Excel-projektmappe (.xlsx)", "parquet": "en Parquet-fil", "csv": "en CSV-fil"}[kind]
    rule = f"filen kan ikke læses som {what} – den kan være beskadiget eller afskåret (ufuldstændig)"
    if detail:
        rule += f" ({detail})"
    return Problem.for_file(path.name, rule)


def discover(paths: Sequence[Path], problems: list[Problem]) -> Inputs:
    found = Inputs()
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
                found.sources.setdefault(stem, []).append(Source(stem, path, suffix[1:]))
            elif suffix == ".xlsx":
                try:
                    sheet_names = _sheet_names(path)
                except Exception as exc:  # any failure means the workbook cannot be read
                    problems.append(unreadable(path, "xlsx", type(exc).__name__))
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
                        found.sources.setdefault(table, []).append(Source(table, path, "xlsx", ordered))
                elif stem in model.INPUT_TABLES:
                    found.sources.setdefault(stem, []).append(Source(stem, path, "xlsx", None))
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
