"""A kommune's key figures as an Excel workbook (nøgletal.xlsx): a sheet per ESG dimension, «Alle tal», «Om data»."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from kompas_helpers import danish, excel_tidy, fmt, kommuner, registry
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
SHEET_TIDY = excel_tidy.SHEET_TIDY
TITLE_ROW, NOTE_ROW, HEADER_ROW = excel_tidy.TITLE_ROW, excel_tidy.NOTE_ROW, excel_tidy.HEADER_ROW
FIRST_DATA_ROW = excel_tidy.FIRST_DATA_ROW
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
    ("Ændring fra året før (procentpoint for %)", 13),
    ("Dækning (% af boligerne)", 14),
    ("Placering blandt kommunerne (1 = bedst)", 14),
    ("Status", 28),
    ("Sammenligningskommuner", 16),
    ("95 %-interval, nedre grænse", 13),
    ("95 %-interval, øvre grænse", 13),
    ("Vurdering", 22),
)
_number_format = excel_tidy.number_format


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
    return excel_tidy.STATUS_WORDS_DA.get(str(status), NOT_COMPUTABLE), False


def _rows(frame: pd.DataFrame) -> list[list[tuple[object, str | None]]]:
    """Cells as (value, number format or None) per row of a dimension sheet (percentages as numbers 0–100)."""
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
            points = " pp" if indicator.unit == "%" else ""
            cells.append((float(r.change), excel_tidy.signed_format(indicator.decimals, points)))
        cells.append((NOT_COMPUTABLE, None) if fmt.is_missing(r.coverage) else (100.0 * float(r.coverage), "0"))
        if r.status == "reported" and not indicator.is_context and not fmt.is_missing(r.rank):
            cells.append((int(r.rank), "0"))
        else:
            cells.append((NOT_COMPUTABLE, None))
        cells.append((excel_tidy.STATUS_WORDS_DA.get(r.status, r.status), None))
        cells.append((float(r.peer_value), number) if not fmt.is_missing(r.peer_value) else (NOT_COMPUTABLE, None))
        for bound in (r.interval_low, r.interval_high):
            cells.append((float(bound), number) if not fmt.is_missing(bound) else (NOT_COMPUTABLE, None))
        mark = overview.verdict_mark(r.verdict, r.value, indicator.code)
        cells.append((overview.mark_da(mark, indicator.code), None))
        rows.append(cells)
    return rows


def _about_rows(kommune_code: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The kommune's own rows at the top of «Om data», and how its sheets are read."""
    scope = [("Kommune", f"{kommuner.name(kommune_code)} (kommunekode {kommune_code})")]
    reading = [
        (
            "Miljø, Social, Governance",
            "Til at læse: kommunens værdi pr. målepunkt og år ved siden af regionen og hele landet. Hvor der "
            "ikke er et tal, står statusordet i cellen.",
        ),
        (
            "Kommunen, regionen, hele landet",
            "Målepunktets værdi for kommunens almene boliger, for regionen og for hele landet.",
        ),
        (
            "Ændring fra året før",
            "Kommunens værdi minus værdien året før, i målepunktets enhed; for målepunkter i % er ændringen i "
            "procentpoint (pp). «–»: intet tal året før.",
        ),
        ("Dækning", "Den andel af boligerne (i %), som tallet bygger på (indberetninger i forhold til alle boliger)."),
        ("Placering", "Kommunens placering blandt de kommuner, der har et tal (1 = bedst); «–» for kontekstmål."),
        (
            SHEET_TIDY,
            "Til at regne med: én række pr. niveau, enhed, målepunkt og år for alle niveauer i kommunen – "
            "kommunen, de boligorganisationer, den fører tilsyn med (hele organisationen), hver organisations "
            "afdelinger i kommunen samlet og de enkelte afdelinger. Tal efter diskretion: et udeladt tal er en tom "
            "celle med status «diskretion». Placeringen har også den bedste og dårligste placering, som "
            "95 %-intervallet tillader.",
        ),
    ]
    return scope, reading


def write_about(
    workbook,
    scope: list[tuple[str, str]],
    reading: list[tuple[str, str]],
    provenance: dict,
    data_hash: str,
    version: str,
    generated: dt.datetime,
) -> None:
    """The «Om data» sheet: what the workbook covers, the data and its fingerprint, the percentage and status
    rules, how to read the sheets, the discretion rules and every indicator's definition."""
    from openpyxl.styles import Alignment, Font

    synthetic = bool(provenance.get("synthetic", False))
    rows = [
        *scope,
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
        ("Procenter", excel_tidy.PERCENT_RULE_DA),
        ("Tomme celler", excel_tidy.EMPTY_RULE_DA),
        ("Statusord", excel_tidy.STATUS_RULE_DA),
        ("", ""),
        ("Sådan læses arkene", ""),
        *reading,
        ("", ""),
        ("Diskretion og beregning", ""),
    ]
    rows += [("", rule) for rule in method.discretion_rules_da()]
    sheet = workbook.create_sheet(SHEET_ABOUT)
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 110
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    sheet.append([_styled(sheet, "Om data", font=Font(bold=True, size=14))])
    for label, text in rows:
        sheet.append([_styled(sheet, label or None, font=bold), _styled(sheet, text or None, alignment=wrap)])
    sheet.append([])
    sheet.append([_styled(sheet, "Målepunkterne", font=Font(bold=True, size=12))])
    for note in method.method_notes().to_dict("records"):
        details = " ".join(f"{label}: {str(note[label]).rstrip('.')}." for label in list(note)[3:])
        label = f"{note['Kode']} {note['Målepunkt']}"
        sheet.append(
            [_styled(sheet, label, font=bold), _styled(sheet, f"{note['Definition']} {details}", alignment=wrap)]
        )


def _styled(sheet, value, number_format: str | None = None, font=None, alignment=None, fill=None):
    """A cell for a write-only sheet, with its style."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if fill is not None:
        cell.fill = fill
    return cell


def write_workbook(
    path: Path | str,
    table: pd.DataFrame,
    kommune_code: str,
    *,
    provenance: dict,
    data_hash: str,
    version: str,
    organisations: pd.DataFrame,
    generated: dt.datetime | None = None,
    agreements: pd.DataFrame | None = None,
) -> None:
    """Write the kommune's nøgletal.xlsx atomically (a failed write leaves an earlier file untouched).

    `table` is the indicator table or the kommune's slice of it (its levels read in full and its own rows);
    `organisations` the dataset's organisations (the tidy sheet has those the kommune supervises). Figures are
    written unrounded (openpyxl stores 16 significant digits) with a Danish-looking number format, so a reader can
    compute with them. On the dimension sheets missing, suppressed and not computed figures are words, never 0; on
    «Alle tal» they are empty cells with the reason in the status column.
    """
    kommune_code = str(kommune_code)
    generated = generated or dt.datetime.now()
    name = kommuner.name(kommune_code)
    synthetic = bool(provenance.get("synthetic", False))
    note = fmt.SYNTHETIC_BANNER_DA if synthetic else REAL_DATA_NOTE_DA
    with excel_tidy.streamed_workbook(path) as workbook:
        _write_sheets(workbook, table, kommune_code, name, note, synthetic, organisations, agreements)
        write_about(workbook, *_about_rows(kommune_code), provenance, data_hash, version, generated)


def _write_sheets(workbook, table, kommune_code, name, note, synthetic, organisations, agreements) -> None:
    for dim, frame in key_figures(table, kommune_code).items():
        dimension = registry.DIMENSION_NAMES_DA[dim]
        title = f"Nøgletal for {name} (kommunekode {kommune_code}) – {dimension}"
        _dimension_sheet(workbook.create_sheet(dimension), frame, title, note, synthetic, kommune_code)
    supervised = excel_tidy.supervised_organisations(organisations, kommune_code)
    rows = excel_tidy.kommune_rows(table, kommune_code, supervised)
    excel_tidy.write_sheet(
        workbook.create_sheet(SHEET_TIDY),
        excel_tidy.tidy_frame(table, rows),
        excel_tidy.columns(excel_tidy.KOMMUNE_KEYS),
        f"Alle tal for {name} (kommunekode {kommune_code}): kommunen, boligorganisationerne og afdelingerne",
        note,
        synthetic,
    )
    if agreements is not None:
        _agreements_sheet(workbook.create_sheet(SHEET_AGREEMENTS), agreements, name)


def _dimension_sheet(sheet, frame: pd.DataFrame, title: str, note: str, synthetic: bool, kommune_code: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    region = str(kommuner.table().set_index("kommune_code").loc[kommune_code, "region"])
    for col, (_header, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = f"C{FIRST_DATA_ROW}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(COLUMNS))}{HEADER_ROW + max(len(frame), 1)}"
    sheet.append([_styled(sheet, title, font=Font(bold=True, size=14))])
    fill = PatternFill("solid", fgColor=excel_tidy.NOTE_FILL) if synthetic else None
    sheet.append([_styled(sheet, note, font=Font(bold=True) if synthetic else None, fill=fill)])
    sheet.append([])
    header_fill = PatternFill("solid", fgColor=excel_tidy.HEADER_FILL)
    wrap, right = Alignment(wrap_text=True, vertical="top"), Alignment(horizontal="right")
    sheet.append(
        [
            _styled(sheet, header.format(region=region), font=Font(bold=True), alignment=wrap, fill=header_fill)
            for header, _width in COLUMNS
        ]
    )
    for cells in _rows(frame):
        sheet.append(
            [
                _styled(sheet, value, number_format)
                if number_format or col <= 4
                else _styled(sheet, value, alignment=right)
                for col, (value, number_format) in enumerate(cells, start=1)
            ]
        )


def _agreements_sheet(sheet, status: pd.DataFrame, name: str) -> None:
    """The kommune's agreements with their computed status: numbers as numbers, text as text, empty where none."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    for col, (_key, _header, width) in enumerate(AGREEMENT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    last = HEADER_ROW + max(len(status), 1)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(AGREEMENT_COLUMNS))}{last}"
    sheet.append([_styled(sheet, f"Aftaler med boligorganisationerne i {name}", font=Font(bold=True, size=14))])
    sheet.append([])
    sheet.append([])
    sheet.append([_styled(sheet, header, font=Font(bold=True)) for _key, header, _width in AGREEMENT_COLUMNS])
    wrap = Alignment(wrap_text=True, vertical="top")
    for r in status.to_dict("records"):
        cells = []
        for key, _header, _width in AGREEMENT_COLUMNS:
            value = r.get(key)
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                cells.append(None)
                continue
            value = value.item() if hasattr(value, "item") else value
            cells.append(_styled(sheet, value, alignment=wrap) if key in ("text", "reason") else value)
        sheet.append(cells)
