"""The national workbook alle-kommuner.xlsx: every kommune's figures, long and wide, written once per run."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd

from kompas_helpers import excel, excel_tidy, fmt, registry
from kompas_helpers.reportset import FAILED, NATIONAL_EXCEL_FILE, NATIONAL_EXCEL_TITLE_DA, OK

SHEET_WIDE = "Overblik {year}"


def wide_sheet_name(year: int) -> str:
    return SHEET_WIDE.format(year=year)


def write_national_workbook(
    path: Path | str,
    table: pd.DataFrame,
    year: int,
    *,
    provenance: dict,
    data_hash: str,
    version: str,
    generated: dt.datetime | None = None,
) -> None:
    """Write alle-kommuner.xlsx atomically: «Overblik <year>» (a row per kommune, a column per indicator: the year's
    published values), «Alle tal» (every kommune × indicator × year, tidy) and «Om data».

    `table` is the indicator table or any part of it holding all the kommune rows (e.g. the shared slice).
    """
    generated = generated or dt.datetime.now()
    synthetic = bool(provenance.get("synthetic", False))
    note = fmt.SYNTHETIC_BANNER_DA if synthetic else excel.REAL_DATA_NOTE_DA
    with excel_tidy.streamed_workbook(path) as workbook:
        _write_sheets(workbook, table, year, note, synthetic)
        excel.write_about(workbook, *_about_rows(year), provenance, data_hash, version, generated)


def _write_sheets(workbook, table: pd.DataFrame, year: int, note: str, synthetic: bool) -> None:
    wide = excel_tidy.wide_frame(table, year)
    wide_columns = excel_tidy.columns(["kommune_code", "kommune_name", "region"]) + [
        excel_tidy.Column(f"value:{code}", excel_tidy.wide_header(code), 16, "value", code) for code in registry.CODES
    ]
    excel_tidy.write_sheet(
        workbook.create_sheet(wide_sheet_name(year)),
        wide,
        wide_columns,
        f"Alle kommuner {year}: målepunkternes værdi for kommunens almene boliger",
        note,
        synthetic,
    )
    excel_tidy.write_sheet(
        workbook.create_sheet(excel_tidy.SHEET_TIDY),
        excel_tidy.national_frame(table),
        excel_tidy.columns(excel_tidy.NATIONAL_KEYS),
        "Alle kommuner, alle målepunkter og år",
        note,
        synthetic,
    )


def _about_rows(year: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    scope = [("Indhold", "Alle 98 kommuner: målepunkternes værdi for de almene boliger i kommunen.")]
    reading = [
        (
            wide_sheet_name(year),
            f"Én række pr. kommune og én kolonne pr. målepunkt med værdien i {year}; enheden står i overskriften. "
            "En tom celle: intet offentliggjort tal (hvorfor, står i kolonnen «Status» på arket "
            f"«{excel_tidy.SHEET_TIDY}»).",
        ),
        (
            excel_tidy.SHEET_TIDY,
            "Én række pr. kommune, målepunkt og år med værdi, tæller, nævner, antal, dækning, 95 %-interval, "
            "sammenligningskommunernes værdi, placering (med den bedste og dårligste placering, som intervallet "
            "tillader), vurdering og status.",
        ),
        ("Placering", "Kun kommuner med nok data placeres (1 = bedst); ingen placering på kontekstmål."),
    ]
    return scope, reading


def write_for_run(out_dir: Path, year: int, meta: dict, version: str) -> dict:
    """The batch's national workbook from the dataset's shared slice (the kommune rows of the table), into the year's
    output folder. Returns its manifest entry (file, title, status, error, seconds): a failed write leaves an
    earlier file as it was and is reported, not raised, so the run's other outputs are still recorded."""
    from kompas_helpers import bundle

    start = time.perf_counter()
    entry = {"file": NATIONAL_EXCEL_FILE, "title": NATIONAL_EXCEL_TITLE_DA, "status": OK, "error": None}
    try:
        write_national_workbook(
            Path(out_dir) / NATIONAL_EXCEL_FILE,
            bundle.read_shared_slice(meta["data_hash"]),
            year,
            provenance=meta["provenance"],
            data_hash=meta["data_hash"],
            version=version,
        )
    except Exception as exc:  # recorded in the manifest and in the run's exit code
        entry.update(status=FAILED, error=f"{type(exc).__name__}: {exc}")
    entry["seconds"] = round(time.perf_counter() - start, 2)
    return entry
