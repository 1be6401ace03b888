"""The optional peer_groups.csv of a dataset folder: a user's own peer groups in place of the computed ones."""

from __future__ import annotations

import csv
import io as stdio
from pathlib import Path

from kompas_helpers import kommuner
from kompas_helpers.io.problems import DataError, Problem

PEER_FILE = "peer_groups.csv"
COLUMNS = ("level", "unit_id", "peer_id")
LEVELS = ("kommune", "organisation")
MAX_GROUP = 30


def read_peer_file(path: Path, organisation_ids: set[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Read and check a peer file: one row per member (level, unit_id, peer_id). Every problem is reported at once
    (file, row, column, value, rule) in a DataError; nothing is used unless the whole file is right."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem.for_file(name, "filen skal være gemt som UTF-8 (CSV UTF-8 i Excel)")]) from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(stdio.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        rule = f"filen mangler kolonnen {', '.join(missing)} (kolonnerne skal være {', '.join(COLUMNS)})"
        raise DataError([Problem.for_file(name, rule)])
    at = {c: header.index(c) for c in COLUMNS}
    known = {"kommune": set(kommuner.lookup()), "organisation": organisation_ids}
    problems: list[Problem] = []
    groups: dict[str, dict[str, list[str]]] = {level: {} for level in LEVELS}
    seen: set[tuple[str, str, str]] = set()
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
        level = cells["level"]
        if level not in LEVELS:
            problems.append(Problem(name, row_number, "level", level, f"skal være {' eller '.join(LEVELS)}"))
            continue
        unit, peer = cells["unit_id"], cells["peer_id"]
        if level == "kommune":
            unit, peer = kommuner.normalise_code(unit), kommuner.normalise_code(peer)
        for column, value in (("unit_id", unit), ("peer_id", peer)):
            if value not in known[level]:
                what = "kommunekode" if level == "kommune" else "boligorganisation i datasættet"
                problems.append(Problem(name, row_number, column, cells[column], f"er ikke en kendt {what}"))
        if unit == peer:
            problems.append(Problem(name, row_number, "peer_id", cells["peer_id"], "er enheden selv"))
        if (level, unit, peer) in seen:
            problems.append(Problem(name, row_number, "peer_id", cells["peer_id"], "står to gange i samme gruppe"))
        seen.add((level, unit, peer))
        groups[level].setdefault(unit, []).append(peer)
    for level, by_unit in groups.items():
        for unit, members in by_unit.items():
            if len(members) > MAX_GROUP:
                rule = f"gruppen for {level} {unit} har {len(members)} medlemmer; højst {MAX_GROUP}"
                problems.append(Problem.for_file(name, rule))
    if problems:
        raise DataError(problems)
    return {level: {unit: tuple(members) for unit, members in by_unit.items()} for level, by_unit in groups.items()}
