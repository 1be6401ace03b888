"""A kommune's key figures as an Excel workbook (nøgletal.xlsx): one sheet per ESG dimension plus «Om data»."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from kompas_helpers import danish, fmt, kommuner, registry
from kompas_helpers.files import atomic_write
from kompas_helpers.report import method, overview

SHEET_ABOUT = "Om data"
SHEET_AGREEMENTS = "Aftaler"
AGREEMENT_COLUMNS = (
    ("kommune_code", "Kommune", 9),
    ("organisation_id", "Boligorganisation", 14),
    ("agreement_id", "Aftale", 10),
    ("year_made", "Indgået", 9),
    ("text", "Indhold", 60),
    ("indicator", "Målepunkt", 10),
    ("baseline", "Udgangspunkt", 12),
    ("target", "Mål", 10),
    ("deadline_year", "Frist", 8),
    ("current", "Tal i året", 10),
    ("status", "Status", 16),
    ("reason", "Begrundelse", 60),
)
TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 4  # the data starts on the row below the header
FIRST_DATA_ROW = HEADER_ROW + 1
NOT_COMPUTABLE = "–"  # a change that cannot be computed (no figure the year before)
REAL_DATA_NOTE_DA = "Tallene er beregnet af AlmenKompas-arbejdsbogen ud fra boligorganisationernes indberetninger."

# (header, width) per column; the header of the region column is filled in with the region's name.
COLUMNS = (
    ("Kode", 7),
    ("Målepunkt", 44),
    ("Enhed", 16),
    ("År", 7),
    ("Kommunen", 13),
    ("{region}", 19),
    ("Hele landet", 13),
    ("Ændring fra året før", 13),
    ("Dækning (andel af boligerne)", 14),
    ("Placering blandt kommunerne (1 = bedst)", 14),
    ("Status", 28),
    ("Sammenligningskommuner", 16),
    ("95 %-interval, nedre grænse", 13),
    ("95 %-interval, øvre grænse", 13),
    ("Vurdering", 22),
)
_HEADER_FILL = "DDDDDD"
_NOTE_FILL = "FFF1B8"


def _number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def _signed_format(decimals: int) -> str:
    plain = _number_format(decimals)
    return f"+{plain};-{plain};{plain}"


def _level_rows(table: pd.DataFrame, mask: np.ndarray, prefix: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    part = table.loc[mask]
    frame = pd.DataFrame(
        {
            "indicator": part["indicator"].astype(str).to_numpy(),
            "year": part["year"].to_numpy(dtype=int),
            f"{prefix}value": part["value"].to_numpy(dtype=float),
            f"{prefix}status": part["status"].astype(str).to_numpy(),
        }
    )
    for column in extra:
        frame[column] = part[column].to_numpy(dtype=float)
    return frame


def key_figures(table: pd.DataFrame, kommune_code: str) -> dict[str, pd.DataFrame]:
    """Per dimension (E, S, G): the kommune's figures per indicator and year, with its region and the country.

    Columns: indicator, year, value, status, change, coverage, rank, peer_value, interval_low, interval_high,
    verdict, region_value, region_status, national_value, national_status. Rows follow the registry's order of
    indicators, then the year. `table` is the indicator table or a kommune's slice of it (it needs the kommune,
    region and national rows).
    """
    kommune_code = str(kommune_code)
    region = str(kommuner.table().set_index("kommune_code").loc[kommune_code, "region"])
    level = table["level"].astype(str).to_numpy()
    unit = table["unit_id"].astype(str).to_numpy()
    key = ["indicator", "year"]
    frame = _level_rows(
        table,
        (level == "kommune") & (unit == kommune_code),
        "",
        ("change", "coverage", "rank", "peer_value", "interval_low", "interval_high"),
    )
    kommune_rows = table.loc[(level == "kommune") & (unit == kommune_code)]
    frame["verdict"] = kommune_rows["verdict"].astype(object).to_numpy()
    for prefix, mask in (("region_", (level == "region") & (unit == region)), ("national_", level == "national")):
        frame = frame.merge(_level_rows(table, mask, prefix), on=key, how="left", validate="one_to_one")
    order = {code: i for i, code in enumerate(registry.INDICATORS)}
    frame = frame.assign(_order=frame["indicator"].map(order))
    frame = frame.sort_values(["_order", "year"], kind="stable").drop(columns="_order").reset_index(drop=True)
    dims = frame["indicator"].map(lambda code: registry.get(code).dimension).to_numpy()
    return {dim: frame[dims == dim].reset_index(drop=True) for dim in registry.DIMENSION_NAMES_DA}


def _figure(value: float, status: object) -> tuple[object, bool]:
    """(cell value, is a number): the number when reported, otherwise the status word (never 0)."""
    if status == "reported" and not fmt.is_missing(value):
        return float(value), True
    return fmt.STATUS_MARK_DA.get(str(status), NOT_COMPUTABLE), False


def _rows(frame: pd.DataFrame) -> list[list[tuple[object, str | None]]]:
    """Cells as (value, number format or None) per row of a dimension sheet."""
    rows = []
    for r in frame.itertuples(index=False):
        indicator = registry.get(r.indicator)
        number = _number_format(indicator.decimals)
        cells: list[tuple[object, str | None]] = [
            (indicator.code, None),
            (indicator.name_da, None),
            (indicator.unit, None),
            (int(r.year), "0"),
        ]
        for value, status in (
            (r.value, r.status),
            (r.region_value, r.region_status),
            (r.national_value, r.national_status),
        ):
            shown, is_number = _figure(value, status)
            cells.append((shown, number if is_number else None))
        if r.status != "reported":
            cells.append(_figure(math.nan, r.status))
        elif fmt.is_missing(r.change):
            cells.append((NOT_COMPUTABLE, None))
        else:
            cells.append((float(r.change), _signed_format(indicator.decimals)))
        cells.append((NOT_COMPUTABLE, None) if fmt.is_missing(r.coverage) else (float(r.coverage), "0%"))
        if r.status == "reported" and not indicator.is_context and not fmt.is_missing(r.rank):
            cells.append((int(r.rank), "0"))
        else:
            cells.append((NOT_COMPUTABLE, None))
        cells.append((fmt.STATUS_DA.get(r.status, r.status), None))
        cells.append((float(r.peer_value), number) if not fmt.is_missing(r.peer_value) else (NOT_COMPUTABLE, None))
        for bound in (r.interval_low, r.interval_high):
            cells.append((float(bound), number) if not fmt.is_missing(bound) else (NOT_COMPUTABLE, None))
        mark = overview.verdict_mark(r.verdict, r.value, indicator.code)
        cells.append((overview.mark_da(mark, indicator.code), None))
        rows.append(cells)
    return rows


def _about_rows(
    kommune_code: str, provenance: dict, data_hash: str, version: str, generated: dt.datetime
) -> list[tuple[str, str]]:
    synthetic = bool(provenance.get("synthetic", False))
    rows = [
        ("Kommune", f"{kommuner.name(kommune_code)} (kommunekode {kommune_code})"),
        ("Data", fmt.SYNTHETIC_BANNER_DA if synthetic else "Indberettede data fra de almene boligorganisationer."),
    ]
    if provenance.get("note_da"):
        rows.append(("Om datasættet", str(provenance["note_da"])))
    for key, label in (("generator", "Lavet af"), ("seed", "Seed"), ("scale", "Skala"), ("source", "Kilde")):
        if provenance.get(key) is not None:
            rows.append((label, str(provenance[key])))
    rows += [
        ("Datasættets fingeraftryk (SHA-256)", data_hash),
        ("Programversion", f"kompas_helpers {version}"),
        ("Dannet", danish.timestamp(generated)),
        ("", ""),
        ("Sådan læses arkene", ""),
        (
            "Kommunen, regionen, hele landet",
            "Målepunktets værdi for kommunens almene boliger, for regionen og for hele landet.",
        ),
        (
            "Ændring fra året før",
            "Kommunens værdi minus værdien året før, i målepunktets enhed. «–»: intet tal året før.",
        ),
        ("Dækning", "Den andel af boligerne, som tallet bygger på (indberetninger i forhold til alle boliger)."),
        ("Placering", "Kommunens placering blandt de kommuner, der har et tal (1 = bedst); «–» for kontekstmål."),
        ("Statusord", fmt.STATUS_NOTE_DA),
        ("", ""),
        ("Diskretion og beregning", ""),
    ]
    rows += [("", rule) for rule in method.discretion_rules_da()]
    return rows


def write_workbook(
    path: Path | str,
    table: pd.DataFrame,
    kommune_code: str,
    *,
    provenance: dict,
    data_hash: str,
    version: str,
    generated: dt.datetime | None = None,
    agreements: pd.DataFrame | None = None,
) -> None:
    """Write the kommune's nøgletal.xlsx atomically (a failed write leaves an earlier file untouched).

    Figures are written unrounded (openpyxl stores 16 significant digits) with a Danish-looking number format, so
    a reader can compute with them; missing, suppressed and not computed figures are words, never 0.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    kommune_code = str(kommune_code)
    generated = generated or dt.datetime.now()
    name = kommuner.name(kommune_code)
    region = str(kommuner.table().set_index("kommune_code").loc[kommune_code, "region"])
    synthetic = bool(provenance.get("synthetic", False))
    bold = Font(bold=True)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for dim, frame in key_figures(table, kommune_code).items():
        dimension = registry.DIMENSION_NAMES_DA[dim]
        sheet = workbook.create_sheet(dimension)
        title = sheet.cell(TITLE_ROW, 1, f"Nøgletal for {name} (kommunekode {kommune_code}) – {dimension}")
        title.font = Font(bold=True, size=14)
        note = sheet.cell(NOTE_ROW, 1, fmt.SYNTHETIC_BANNER_DA if synthetic else REAL_DATA_NOTE_DA)
        if synthetic:
            note.font = bold
            note.fill = PatternFill("solid", fgColor=_NOTE_FILL)
        for col, (header, width) in enumerate(COLUMNS, start=1):
            cell = sheet.cell(HEADER_ROW, col, header.format(region=region))
            cell.font = bold
            cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[get_column_letter(col)].width = width
        for offset, cells in enumerate(_rows(frame)):
            for col, (value, number_format) in enumerate(cells, start=1):
                cell = sheet.cell(FIRST_DATA_ROW + offset, col, value)
                if number_format:
                    cell.number_format = number_format
                elif col > 4:
                    cell.alignment = Alignment(horizontal="right")
        sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 3)
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(COLUMNS))}{HEADER_ROW + max(len(frame), 1)}"
    if agreements is not None:
        _agreements_sheet(workbook.create_sheet(SHEET_AGREEMENTS), agreements, name, bold)
    about = workbook.create_sheet(SHEET_ABOUT)
    about.cell(TITLE_ROW, 1, "Om data").font = Font(bold=True, size=14)
    about.column_dimensions["A"].width = 36
    about.column_dimensions["B"].width = 110
    row = NOTE_ROW
    for label, text in _about_rows(kommune_code, provenance, data_hash, version, generated):
        about.cell(row, 1, label).font = bold
        about.cell(row, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    row += 1
    about.cell(row, 1, "Målepunkterne").font = Font(bold=True, size=12)
    for note in method.method_notes().to_dict("records"):
        row += 1
        about.cell(row, 1, f"{note['Kode']} {note['Målepunkt']}").font = bold
        details = " ".join(f"{label}: {str(note[label]).rstrip('.')}." for label in list(note)[3:])
        text = f"{note['Definition']} {details}"
        about.cell(row, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
    with atomic_write(path) as tmp:
        workbook.save(tmp)


def _agreements_sheet(sheet, status: pd.DataFrame, name: str, bold) -> None:
    """The kommune's agreements with their computed status: numbers as numbers, text as text, empty where none."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.cell(TITLE_ROW, 1, f"Aftaler med boligorganisationerne i {name}").font = Font(bold=True, size=14)
    for col, (_key, header, width) in enumerate(AGREEMENT_COLUMNS, start=1):
        sheet.cell(HEADER_ROW, col, header).font = bold
        sheet.column_dimensions[get_column_letter(col)].width = width
    for offset, r in enumerate(status.to_dict("records")):
        for col, (key, _header, _width) in enumerate(AGREEMENT_COLUMNS, start=1):
            value = r.get(key)
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            cell = sheet.cell(FIRST_DATA_ROW + offset, col, value.item() if hasattr(value, "item") else value)
            if key in ("text", "reason"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
