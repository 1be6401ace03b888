"""Tests for kompas_helpers.io: reading and validating input files, saving, loading, importing and exporting."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from kompas_helpers import cli, kommuner, model, registry
from kompas_helpers.files import atomic_write, exclusive_lock, write_parquet_atomic
from kompas_helpers.io import datasets
from kompas_helpers.io.catalogue import measure_catalogue, measure_catalogue_markdown
from kompas_helpers.io.problems import DataError, Problem
from tests.fixtures.files import CSV_VARIANTS, csv_line_of, text_cells, write_csv, write_variant
from tests.fixtures.tiny import tiny_dataset, tiny_frames

ROOT = Path(__file__).resolve().parents[2]

TABLES = list(model.INPUT_TABLES)


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------


def assert_same_dataset(actual: model.Dataset, expected: model.Dataset, provenance: bool = True) -> None:
    for name in TABLES:
        assert_frame_equal(actual.table(name), expected.table(name), check_exact=True)
    if provenance:
        assert actual.provenance == expected.provenance


def snapshot(folder: Path) -> dict:
    """Every file under folder with its bytes and mtime, plus the folder's siblings (to spot temp leftovers)."""
    files = {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}
    return {"files": files, "siblings": sorted(p.name for p in folder.parent.iterdir())}


def semicolon_folder(tmp_path: Path, frames: dict | None = None) -> Path:
    """The tiny dataset as Danish-Excel CSV files (semicolon, decimal comma, UTF-8 with BOM)."""
    return write_variant(tmp_path / "input", frames or tiny_frames(), "semicolon-comma-utf8bom")


def read_error(paths) -> DataError:
    with pytest.raises(DataError) as caught:
        datasets.read_input(paths)
    return caught.value


def messages(error: DataError) -> list[str]:
    return [p.message() for p in error.problems]


@pytest.fixture
def saved_target(tmp_path: Path) -> Path:
    """An existing dataset folder, as `kompas data import --to` would find it."""
    target = tmp_path / "target" / "dataset"
    datasets.save_dataset(tiny_dataset(), target)
    return target


# ----------------------------------------------------------------------------------------------------------------
# round trips
# ----------------------------------------------------------------------------------------------------------------


def test_tiny_dataset_is_valid_and_has_a_missing_value():
    dataset = tiny_dataset()
    assert dataset.measures["value"].isna().sum() == 1
    assert len(dataset.organisations) == 3
    assert len(dataset.afdelinger) == 6
    assert dataset.afdelinger["kommune_code"].nunique() >= 3
    assert dataset.years == [2023, 2024]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_export_then_read_input_round_trips(tmp_path, fmt):
    dataset = tiny_dataset()
    folder = tmp_path / f"export-{fmt}"
    datasets.export_dataset(dataset, folder, fmt)
    expected_files = {
        "csv": {f"{t}.csv" for t in TABLES},
        "xlsx": {"almenkompas-data.xlsx"},
        "parquet": {f"{t}.parquet" for t in TABLES},
    }[fmt] | {"provenance.json"}
    assert {p.name for p in folder.iterdir()} == expected_files
    back = datasets.read_input([folder])
    assert_same_dataset(back, dataset)
    assert back.synthetic  # an exported synthetic dataset stays labelled synthetic


def test_csv_export_is_what_danish_excel_opens(tmp_path):
    dataset = tiny_dataset()
    datasets.export_dataset(dataset, tmp_path / "out", "csv")
    raw = (tmp_path / "out" / "afdelinger.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    text = raw.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.split(";") == model.AFDELINGER.column_names
    assert "6375,5" in first  # decimal comma
    measures = (tmp_path / "out" / "measures.csv").read_text(encoding="utf-8-sig").splitlines()
    missing = [line for line in measures if line.startswith("2024;0461-002;heat_kwh")]
    assert missing == ["2024;0461-002;heat_kwh;"]  # missing is an empty cell, not 0


@pytest.mark.parametrize("variant", list(CSV_VARIANTS))
def test_csv_variants_read_to_the_same_dataset(tmp_path, variant):
    folder = write_variant(tmp_path / variant, tiny_frames(), variant)
    back = datasets.read_input([folder])
    assert_same_dataset(back, tiny_dataset(), provenance=False)
    assert back.provenance["synthetic"] is False
    assert sorted(back.provenance["source_files"]) == sorted(f"{t}.csv" for t in TABLES)
    assert set(back.provenance["sha256"]) == {f"{t}.csv" for t in TABLES}


@pytest.mark.parametrize(("delimiter", "lineterminator"), [("\t", "\r\n"), (";", "\r"), (",", "\n")])
def test_tabs_and_other_line_endings(tmp_path, delimiter, lineterminator):
    frames = tiny_frames()
    folder = tmp_path / "in"
    folder.mkdir()
    decimal = "," if delimiter != "," else "."
    for name, table in model.INPUT_TABLES.items():
        rows = text_cells(table, frames[name], decimal)
        write_csv(folder / f"{name}.csv", rows, delimiter, "utf-8", lineterminator)
    assert_same_dataset(datasets.read_input([folder]), tiny_dataset(), provenance=False)


def test_cp1252_file_keeps_danish_letters(tmp_path):
    folder = write_variant(tmp_path / "in", tiny_frames(), "semicolon-comma-cp1252")
    assert "Æblehaven".encode("cp1252") in (folder / "afdelinger.csv").read_bytes()
    back = datasets.read_input([folder])
    assert "Æblehaven" in set(back.afdelinger["afdeling_name"])
    assert "Boligselskabet Øbro" in set(back.organisations["organisation_name"])


def test_files_can_be_given_one_by_one_and_mixed_formats(tmp_path):
    dataset = tiny_dataset()
    datasets.export_dataset(dataset, tmp_path / "csv", "csv")
    datasets.export_dataset(dataset, tmp_path / "pq", "parquet")
    paths = [tmp_path / "csv" / "organisations.csv", tmp_path / "csv" / "afdelinger.csv"]
    paths += [tmp_path / "pq" / "measures.parquet", tmp_path / "pq" / "kommune_context.parquet"]
    back = datasets.read_input([*paths, tmp_path / "pq" / "aftaler.parquet"])
    assert_same_dataset(back, dataset)
    without = datasets.read_input(paths)  # the agreements are optional
    assert_same_dataset(without, model.Dataset(**{**vars(dataset), "aftaler": model.empty(model.AFTALER)}))


def test_xlsx_measures_split_over_several_sheets(tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setattr(datasets, "XLSX_MAX_ROWS", 20)
    dataset = tiny_dataset()
    datasets.export_dataset(dataset, tmp_path / "x", "xlsx")
    workbook = openpyxl.load_workbook(tmp_path / "x" / "almenkompas-data.xlsx", read_only=True)
    assert workbook.sheetnames == [
        "organisations", "afdelinger", "measures", "measures (2)", "measures (3)", "kommune_context", "aftaler",
    ]  # fmt: skip
    workbook.close()
    assert_same_dataset(datasets.read_input([tmp_path / "x"]), dataset)


def test_xlsx_text_that_looks_like_a_formula_stays_text(tmp_path):
    frames = tiny_frames()
    frames["organisations"].loc[0, "organisation_name"] = "=1+1 Boligselskab"
    dataset = model.Dataset(
        provenance={"synthetic": True},
        **{n: model.canonicalise(model.INPUT_TABLES[n], f) for n, f in frames.items()},
    )
    datasets.export_dataset(dataset, tmp_path / "x", "xlsx")
    assert_same_dataset(datasets.read_input([tmp_path / "x"]), dataset)


def test_save_and_load_round_trip(tmp_path):
    dataset = tiny_dataset()
    datasets.save_dataset(dataset, tmp_path / "data")
    assert {p.name for p in (tmp_path / "data").iterdir()} == {f"{t}.parquet" for t in TABLES} | {"provenance.json"}
    assert_same_dataset(datasets.load_dataset(tmp_path / "data"), dataset)
    assert json.loads((tmp_path / "data" / "provenance.json").read_text(encoding="utf-8")) == dataset.provenance


def test_import_validates_and_saves(tmp_path):
    folder = semicolon_folder(tmp_path)
    imported = datasets.import_dataset([folder], tmp_path / "imported")
    loaded = datasets.load_dataset(tmp_path / "imported")
    assert_same_dataset(loaded, imported)
    assert_same_dataset(loaded, tiny_dataset(), provenance=False)
    assert loaded.provenance["synthetic"] is False


def test_cli_validate_import_export(tmp_path, capsys):
    folder = semicolon_folder(tmp_path)
    assert cli.main(["data", "validate", str(folder)]) == 0
    assert "Ingen fejl fundet" in capsys.readouterr().out
    assert cli.main(["data", "import", str(folder), "--to", str(tmp_path / "ds")]) == 0
    assert cli.main(["data", "export", "--format", "xlsx", str(tmp_path / "x"), "--data", str(tmp_path / "ds")]) == 0
    assert_same_dataset(datasets.read_input([tmp_path / "x"]), datasets.load_dataset(tmp_path / "ds"))


def test_empty_measure_value_means_missing_not_zero(tmp_path):
    back = datasets.read_input([semicolon_folder(tmp_path)])
    row = back.measures[(back.measures["unit_id"] == "0461-002") & (back.measures["measure"] == "heat_kwh")]
    assert row.set_index("year")["value"].isna().to_dict() == {2023: False, 2024: True}


def test_provenance_json_next_to_the_files_is_kept(tmp_path):
    folder = semicolon_folder(tmp_path)
    (folder / "provenance.json").write_text(json.dumps({"synthetic": True, "seed": 7}), encoding="utf-8")
    assert datasets.read_input([folder]).provenance == {"synthetic": True, "seed": 7}
    # also when the files are given one by one (e.g. a shell glob that skips provenance.json)
    files = [folder / f"{t}.csv" for t in TABLES]
    assert datasets.read_input(files).provenance == {"synthetic": True, "seed": 7}


def test_lenient_but_exact_text_handling(tmp_path):
    """Header case and spaces, cell whitespace, blank lines and delimiter-only rows are tolerated."""
    frames = tiny_frames()
    folder = semicolon_folder(tmp_path, frames)
    path = folder / "afdelinger.csv"
    lines = _read(path).split("\r\n")
    lines[0] = ";".join(f" {c.upper()} " for c in lines[0].split(";"))
    lines[1] = ";".join(f"  {c} " for c in lines[1].split(";"))
    lines.insert(3, "")
    lines.append(";" * 12)
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))
    assert_same_dataset(datasets.read_input([folder]), tiny_dataset(), provenance=False)


# ----------------------------------------------------------------------------------------------------------------
# bad files: each reported with file, row, column and rule; CLI exits non-zero; import target untouched
# ----------------------------------------------------------------------------------------------------------------


def _edit_csv(folder: Path, table: str, edit) -> None:
    path = folder / f"{table}.csv"
    path.write_bytes(edit(_read(path)).encode("utf-8-sig"))


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")  # keeps the \r\n line breaks


def _set_cell(frames, table, row, column, value):
    frame = frames[table].astype({column: object})
    frame.loc[row, column] = value
    frames[table] = frame


def case_missing_column(tmp_path):
    frames = tiny_frames()
    frames["afdelinger"] = frames["afdelinger"].drop(columns="floor_area_m2")
    folder = tmp_path / "input"
    folder.mkdir()
    for name, table in model.INPUT_TABLES.items():
        columns = [c for c in table.columns if c.name in frames[name].columns]
        sub = model.Table(table.name, "", tuple(columns), table.key)
        write_csv(folder / f"{name}.csv", text_cells(sub, frames[name], ",", True, ("ja", "nej")), ";", "utf-8-sig")
    return folder, ['afdelinger.csv, række 1, kolonne "floor_area_m2": kolonnen mangler i tabellen afdelinger']


def case_text_in_number_column(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "afdelinger", 2, "dwellings", "mange")
    return semicolon_folder(tmp_path, frames), [
        'afdelinger.csv, række 4, kolonne "dwellings": værdien "mange" er ikke et tal – kolonnen skal indeholde hele '
        "tal"
    ]


def case_decimals_in_whole_number_column(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "afdelinger", 0, "residents", 142.5)
    return semicolon_folder(tmp_path, frames), [
        'afdelinger.csv, række 2, kolonne "residents": værdien "142,5" har decimaler – kolonnen skal indeholde hele tal'
    ]


def case_unknown_kommune(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "afdelinger", 0, "kommune_code", "999")
    return semicolon_folder(tmp_path, frames), [
        'afdelinger.csv, række 2, kolonne "kommune_code": værdien "999" er ikke en kendt kommunekode'
    ]


def case_duplicate_key(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "afdelinger", 3, "afdeling_id", "0461-001")
    return semicolon_folder(tmp_path, frames), [
        'afdelinger.csv, række 5, kolonne "afdeling_id": værdien "0461-001" findes allerede i række 4 – afdeling_id '
        "skal være entydig"
    ]


def case_negative_area(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "afdelinger", 1, "floor_area_m2", -12)
    return semicolon_folder(tmp_path, frames), [
        'afdelinger.csv, række 3, kolonne "floor_area_m2": værdien "-12" er negativ – arealet skal være større end 0'
    ]


def case_share_above_100(tmp_path):
    frames = tiny_frames()
    m = frames["measures"]
    mask = (m["year"] == 2023) & (m["unit_id"] == "0101-001") & (m["measure"] == "dwellings_label_ac")
    m.loc[mask, "value"] = 500.0
    line = csv_line_of(m, mask)
    return semicolon_folder(tmp_path, frames), [
        f'measures.csv, række {line}, kolonne "value": værdien "500" er større end nævneren – "dwellings_label_ac" '
        'kan ikke overstige "dwellings" (84) for samme afdeling og år, da andelen i E3 Energimærkning ellers bliver '
        "over 100 %"
    ]


def case_share_above_100_org_level(tmp_path):
    frames = tiny_frames()
    m = frames["measures"]
    mask = (m["year"] == 2024) & (m["unit_id"] == "0461") & (m["measure"] == "women_employees")
    m.loc[mask, "value"] = 51.0
    line = csv_line_of(m, mask)
    return semicolon_folder(tmp_path, frames), [
        f'measures.csv, række {line}, kolonne "value": værdien "51" er større end nævneren – "women_employees" kan '
        'ikke overstige "employees" (50)'
    ]


def case_empty_file(tmp_path):
    folder = semicolon_folder(tmp_path)
    (folder / "afdelinger.csv").write_bytes(b"")
    return folder, ["afdelinger.csv: filen er tom"]


def case_header_only(tmp_path):
    folder = semicolon_folder(tmp_path)
    _edit_csv(folder, "kommune_context", lambda text: text.split("\r\n")[0] + "\r\n")
    return folder, ["kommune_context.csv: filen indeholder ingen rækker med data, kun overskriften"]


def case_truncated_csv(tmp_path):
    folder = semicolon_folder(tmp_path)
    lines = _read(folder / "measures.csv").split("\r\n")
    last = lines[-2]  # the text ends with a line break
    cut = last[: last.index(";", last.index(";") + 1)]
    _edit_csv(folder, "measures", lambda text: "\r\n".join(lines[:-2] + [cut]))
    return folder, [
        f'measures.csv, række {len(lines) - 1}: rækken "{cut}" har 2 felter, men overskriften har 4 – filen ser ud til '
        "at være afskåret"
    ]


def case_truncated_xlsx(tmp_path):
    folder = tmp_path / "input"
    datasets.export_dataset(tiny_dataset(), folder, "xlsx")
    path = folder / "almenkompas-data.xlsx"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return folder, ["almenkompas-data.xlsx: filen kan ikke læses som en Excel-projektmappe (.xlsx)"]


def case_truncated_parquet(tmp_path):
    folder = tmp_path / "input"
    datasets.export_dataset(tiny_dataset(), folder, "parquet")
    path = folder / "measures.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size - 100])
    return folder, ["measures.parquet: filen kan ikke læses som en Parquet-fil"]


def case_unknown_measure(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "measures", 0, "measure", "heat_kwhh")
    return semicolon_folder(tmp_path, frames), [
        'measures.csv, række 2, kolonne "measure": værdien "heat_kwhh" er ikke en kendt måling – mente du "heat_kwh"?'
    ]


def case_ragged_comma_file(tmp_path):
    folder = tmp_path / "input"
    write_variant(folder, tiny_frames(), "comma-point-utf8")
    _edit_csv(folder, "afdelinger", lambda text: text.replace("6375.5", "6375,5"))
    return folder, [
        'afdelinger.csv, række 2: rækken "0101-001,0101,101,Solgården,84,6375,5,15000,142,1…" har 14 felter, men '
        "overskriften har 13 – måske er der brugt komma både som skilletegn og decimaltegn"
    ]


def case_broken_quotes(tmp_path):
    folder = semicolon_folder(tmp_path)
    _edit_csv(folder, "organisations", lambda text: text.replace("Øbro;", 'Øbro"x;', 1) + '0999;"Åben\r\x00;101\r\n')
    return folder, ["organisations.csv, række"]


def case_duplicate_measure_key_names_both_rows(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "measures", 5, "measure", frames["measures"].loc[4, "measure"])
    _set_cell(frames, "measures", 5, "unit_id", frames["measures"].loc[4, "unit_id"])
    return semicolon_folder(tmp_path, frames), [
        'measures.csv, række 7, kolonne "year, unit_id, measure": værdien "2023 / 0101-002 / heat_kwh" findes '
        "allerede i række 6"
    ]


def case_valid_labels_above_dwellings(tmp_path):
    frames = tiny_frames()  # afdeling 0101-001 has 84 dwellings: 84 valid labels are fine, 85 are not
    valid = [(year, "0101-001", "dwellings_label_valid", homes) for year, homes in ((2023, 84.0), (2024, 85.0))]
    m = frames["measures"] = pd.concat(
        [frames["measures"], pd.DataFrame(valid, columns=["year", "unit_id", "measure", "value"])], ignore_index=True
    )
    line = csv_line_of(m, (m["year"] == 2024) & (m["measure"] == "dwellings_label_valid"))
    return semicolon_folder(tmp_path, frames), [
        f'measures.csv, række {line}, kolonne "value": værdien "85" er større end afdelingens antal boliger (84 i '
        'kolonnen dwellings i tabellen afdelinger) – målingen "dwellings_label_valid" (Boliger med gyldigt '
        "energimærke) kan ikke overstige antallet af boliger i afdelingen"
    ]


def case_agreement_with_indicator_but_no_deadline(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "aftaler", 0, "deadline_year", "")
    return semicolon_folder(tmp_path, frames), [
        'aftaler.csv, række 2, kolonne "deadline_year": cellen er tom – en aftale med et målepunkt (E1 i kolonnen '
        "indicator) skal have en frist"
    ]


BAD_CASES = {
    name.removeprefix("case_"): fn for name, fn in list(globals().items()) if name.startswith("case_") and callable(fn)
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_reported_precisely(tmp_path, case):
    folder, expected = BAD_CASES[case](tmp_path)
    error = read_error([folder])
    found = messages(error)
    for text in expected:
        assert any(message.startswith(text) for message in found), f"{text!r} not in {found}"
    assert str(error).startswith("Data kan ikke indlæses: ")
    for text in expected:
        assert text in str(error)


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_cli_reports_bad_input_and_leaves_import_target_untouched(tmp_path, case, capsys, saved_target):
    folder, expected = BAD_CASES[case](tmp_path)
    before = snapshot(saved_target)
    assert cli.main(["data", "validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Fejl: Data kan ikke indlæses: ")
    assert expected[0] in err
    assert cli.main(["data", "import", str(folder), "--to", str(saved_target)]) == 2
    assert expected[0] in capsys.readouterr().err
    assert snapshot(saved_target) == before


def _xlsx_with_negative_area(tmp_path: Path) -> Path:
    import openpyxl

    frames = tiny_frames()
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, table in model.INPUT_TABLES.items():
        sheet = workbook.create_sheet(name)
        for row in text_cells(table, frames[name]):
            sheet.append(row)
    workbook["afdelinger"]["F4"] = -12  # floor_area_m2 of the third afdeling, Excel row 4
    workbook.save(tmp_path / "input.xlsx")
    return tmp_path / "input.xlsx"


def _value_spanning_lines(tmp_path: Path) -> Path:
    frames = tiny_frames()
    frames["organisations"].loc[0, "organisation_name"] = "To\nlinjer"
    frames["organisations"].loc[2, "hjemsted_kommune_code"] = "9999"
    return semicolon_folder(tmp_path, frames)


def _measure_from_another_table(tmp_path: Path) -> Path:
    frames = tiny_frames()
    _set_cell(frames, "measures", 0, "measure", "dwellings")
    return semicolon_folder(tmp_path, frames)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        pytest.param(
            _xlsx_with_negative_area,
            'input.xlsx, ark "afdelinger", række 4, kolonne "floor_area_m2": værdien "-12" er negativ – arealet skal '
            "være større end 0",
            id="xlsx-names-sheet-and-excel-row",
        ),
        pytest.param(
            _value_spanning_lines,
            # organisation 3 starts on line 5: header, org 1 (two lines), org 2
            'organisations.csv, række 5, kolonne "hjemsted_kommune_code": værdien "9999" er ikke en kendt kommunekode '
            "– brug en af de 98 kommuners koder fra Danmarks Statistik, fx 101 for København (se "
            "data/reference/kommuner.csv)",
            id="value-spanning-lines-keeps-line-numbers",
        ),
        pytest.param(
            _measure_from_another_table,
            'measures.csv, række 2, kolonne "measure": værdien "dwellings" hører ikke til i measures – den står som '
            "kolonnen dwellings i tabellen afdelinger",
            id="measure-from-another-table",
        ),
    ],
)
def test_single_problem_is_reported_exactly(tmp_path, build, expected):
    assert messages(read_error([build(tmp_path)])) == [expected]


def test_many_problems_in_several_files_are_reported_at_once(tmp_path):
    frames = tiny_frames()
    _set_cell(frames, "afdelinger", 0, "floor_area_m2", -12)
    _set_cell(frames, "afdelinger", 1, "housing_type", "villa")
    _set_cell(frames, "afdelinger", 2, "organisation_id", "9999")
    _set_cell(frames, "afdelinger", 3, "helhedsplan", "måske")
    _set_cell(frames, "afdelinger", 4, "afdeling_name", "")
    _set_cell(frames, "afdelinger", 5, "year_built", 2150)
    m = frames["measures"]

    def at(year, unit, measure):
        return int(np.flatnonzero((m["year"] == year) & (m["unit_id"] == unit) & (m["measure"] == measure))[0])

    _set_cell(frames, "measures", at(2023, "0101-001", "heat_kwh"), "unit_id", "0101-999")
    _set_cell(frames, "measures", at(2023, "0101-001", "co2e_kg"), "year", 1999)
    _set_cell(frames, "measures", at(2023, "0101-001", "sorting_rate_pct"), "value", 130.0)
    _set_cell(frames, "measures", at(2023, "0101", "employees"), "value", 12.5)
    _set_cell(frames, "measures", at(2024, "0461-001", "heat_kwh"), "unit_id", "0101")
    _set_cell(frames, "measures", at(2024, "0461-001", "co2e_kg"), "value", "n/a")
    _set_cell(frames, "kommune_context", 0, "dwellings_total", 0)
    folder = semicolon_folder(tmp_path, frames)
    error = read_error([folder])
    found = messages(error)
    expected_parts = [
        ('"floor_area_m2"', "er negativ"),
        ('"housing_type"', "tilladte værdier: familie, ældre, ungdom"),
        ('"organisation_id"', "findes ikke i tabellen organisations"),
        ('"helhedsplan"', "ikke en sandhedsværdi"),
        ('"afdeling_name"', "cellen er tom – kolonnen skal udfyldes"),
        ('"year_built"', "er for stor – årstallet skal ligge mellem 1700 og 2100"),
        ('"unit_id": værdien "0101-999"', "er ikke et afdeling_id i tabellen afdelinger"),
        ('"year": værdien "1999"', "er for lille – årstallet skal ligge mellem 2000 og 2100"),
        ('"value": værdien "130"', "kan højst være 100"),
        ('"value": værdien "12,5"', '"employees" (Medarbejdere) er et antal og skal være et helt tal'),
        ('"unit_id": værdien "0101"', "er ikke et afdeling_id"),
        ('"value": værdien "n/a"', "er ikke et tal (lad cellen stå tom, hvis værdien mangler)"),
        ('kommune_context.csv, række 2, kolonne "dwellings_total": værdien "0"', "skal være mindst 1"),
    ]
    for column, rule in expected_parts:
        assert any(column in f and rule in f for f in found), f"{column} / {rule} not in {found}"
    assert len(found) == len(expected_parts)
    assert error.headline == f"Data kan ikke indlæses: {len(expected_parts)} fejl i 3 filer"
    assert [p.file for p in error.problems] == sorted(p.file for p in error.problems)


def test_missing_table_unknown_column_and_unknown_file(tmp_path):
    folder = semicolon_folder(tmp_path)
    (folder / "kommune_context.csv").rename(folder / "kommunekontekst.csv")
    _edit_csv(folder, "organisations", lambda text: text.replace("organisation_name", "organisation_navn", 1))
    found = messages(read_error([folder]))
    assert any(
        m.startswith("kommune_context: tabellen kommune_context mangler") and "kommunekontekst.csv" in m for m in found
    )
    assert any(
        m.startswith('organisations.csv, række 1, kolonne "organisation_navn": kolonnen er ukendt – mente du '
                     '"organisation_name"?')
        for m in found
    )  # fmt: skip
    assert 'organisations.csv, række 1, kolonne "organisation_name": kolonnen mangler i tabellen organisations' in found


def test_same_table_twice_is_an_error(tmp_path):
    folder = semicolon_folder(tmp_path)
    datasets.export_dataset(tiny_dataset(), tmp_path / "pq", "parquet")
    found = messages(read_error([folder, tmp_path / "pq" / "measures.parquet"]))
    assert any(m.startswith("measures.parquet: tabellen measures findes også i") for m in found)


def test_more_than_200_problems_are_capped_in_the_text(tmp_path):
    frames = tiny_frames()
    one_year = frames["measures"][frames["measures"]["year"] == 2023]
    many = pd.concat([one_year.assign(year=year) for year in range(2001, 2011)], ignore_index=True)
    many["value"] = "x"
    frames["measures"] = many
    error = read_error([semicolon_folder(tmp_path, frames)])
    assert len(error.problems) == len(many) > 200
    lines = str(error).splitlines()
    assert lines[0] == f"Data kan ikke indlæses: {len(many)} fejl i 1 fil"
    assert len(lines) == 1 + 200 + 1
    assert lines[-1] == f"  … og {len(many) - 200} fejl mere (de første 200 er vist)."


def test_file_level_problem_has_no_row_column_or_value():
    problem = Problem.for_file("measures.csv", "filen er tom")
    assert problem == Problem("measures.csv", None, None, None, "filen er tom")
    assert problem.message() == "measures.csv: filen er tom"
    on_sheet = Problem.for_file("data.xlsx", "arket er tomt", "measures")
    assert on_sheet.message() == 'data.xlsx, ark "measures": arket er tomt'


def test_data_error_survives_pickling():
    import pickle

    error = DataError([Problem("a.csv", 3, "x", "1", "er forkert")])
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems
    assert str(again) == str(error)


def test_missing_paths_and_unknown_explicit_files(tmp_path):
    (tmp_path / "noter.txt").write_text("hej", encoding="utf-8")
    found = messages(read_error([tmp_path / "findes-ikke", tmp_path / "noter.txt"]))
    assert any(m.endswith("findes-ikke: filen eller mappen findes ikke") for m in found)
    assert any(m.startswith("noter.txt: filnavnet svarer ikke til en tabel") for m in found)


# ----------------------------------------------------------------------------------------------------------------
# saving atomically, loading, guarding folders
# ----------------------------------------------------------------------------------------------------------------


def _other_dataset() -> model.Dataset:
    dataset = tiny_dataset()
    dataset.measures = dataset.measures.assign(value=dataset.measures["value"] * 2)
    return dataset


def _disk_full_at_third_parquet(monkeypatch) -> None:
    calls = {"n": 0}
    original = pd.DataFrame.to_parquet

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disken er fuld")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)


def _swap_fails(monkeypatch) -> None:
    real_rename = os.rename

    def rename(src, dst):
        if ".tmp-" in str(src):
            raise OSError("afbrudt")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)


def _provenance_fails(monkeypatch) -> None:
    def failing(*args, **kwargs):
        raise RuntimeError("stop")

    monkeypatch.setattr(datasets, "_write_provenance", failing)


def _export_csv(dataset: model.Dataset, folder: Path) -> None:
    datasets.export_dataset(dataset, folder, "csv")


@pytest.mark.parametrize(
    ("write", "breaks", "raised", "match"),
    [
        pytest.param(
            datasets.save_dataset, _disk_full_at_third_parquet, OSError, "disken er fuld", id="save-disk-full"
        ),
        pytest.param(datasets.save_dataset, _swap_fails, OSError, "afbrudt", id="save-swap-fails"),
        pytest.param(_export_csv, _provenance_fails, RuntimeError, "stop", id="export-fails"),
    ],
)
def test_failed_write_leaves_previous_folder_intact(tmp_path, monkeypatch, write, breaks, raised, match):
    target = tmp_path / "data"
    write(tiny_dataset(), target)
    before = snapshot(target)
    breaks(monkeypatch)
    with pytest.raises(raised, match=match):
        write(_other_dataset(), target)
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no temp folder left


def test_killed_between_renames_is_recovered_on_load(tmp_path):
    target = tmp_path / "data"
    datasets.save_dataset(tiny_dataset(), target)
    os.rename(target, tmp_path / ".data.old-abc123")  # as if killed right after moving the old folder aside
    assert_same_dataset(datasets.load_dataset(target), tiny_dataset())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_save_replaces_previous_dataset(tmp_path):
    target = tmp_path / "data"
    datasets.save_dataset(tiny_dataset(), target)
    datasets.save_dataset(_other_dataset(), target)
    assert_same_dataset(datasets.load_dataset(target), _other_dataset())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_export_refuses_folder_with_other_files(tmp_path):
    folder = tmp_path / "Skrivebord"
    folder.mkdir()
    (folder / "budget.xlsx").write_bytes(b"vigtigt")
    with pytest.raises(DataError, match="vælg en ny eller tom mappe"):
        datasets.export_dataset(tiny_dataset(), folder, "csv")
    assert (folder / "budget.xlsx").read_bytes() == b"vigtigt"
    # a dataset folder is not silently replaced by another format either
    datasets.save_dataset(tiny_dataset(), tmp_path / "data")
    before = snapshot(tmp_path / "data")
    with pytest.raises(DataError, match="measures.parquet"):
        datasets.export_dataset(tiny_dataset(), tmp_path / "data", "csv")
    assert snapshot(tmp_path / "data") == before


def test_load_dataset_missing_folder_or_file(tmp_path, capsys):
    with pytest.raises(DataError) as caught:
        datasets.load_dataset(tmp_path / "ingen")
    assert len(caught.value.problems) == 1
    assert "kompas data synthesize" in str(caught.value)
    assert "kompas data import" in str(caught.value)
    datasets.save_dataset(tiny_dataset(), tmp_path / "data")
    (tmp_path / "data" / "afdelinger.parquet").unlink()
    with pytest.raises(DataError, match="mappen mangler afdelinger.parquet"):
        datasets.load_dataset(tmp_path / "data")
    assert cli.main(["data", "export", "--format", "csv", str(tmp_path / "x"), "--data", str(tmp_path / "ingen")]) == 2
    assert "kompas data synthesize" in capsys.readouterr().err


def test_atomic_write_and_write_parquet_atomic(tmp_path):
    path = tmp_path / "sub" / "figur.png"
    with atomic_write(path) as tmp:
        assert tmp.suffix == ".png" and tmp.parent == path.parent
        tmp.write_bytes(b"first")
    assert path.read_bytes() == b"first"
    with pytest.raises(ValueError), atomic_write(path) as tmp:
        tmp.write_bytes(b"half")
        raise ValueError("fejl midt i skrivningen")
    assert path.read_bytes() == b"first"
    assert [p.name for p in path.parent.iterdir()] == ["figur.png"]
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
    write_parquet_atomic(frame, tmp_path / "t.parquet")
    assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)
    assert oct((tmp_path / "t.parquet").stat().st_mode & 0o777) != oct(0o600)


def test_exclusive_lock_waits_for_the_holder_and_leaves_no_file(tmp_path):
    import threading
    import time

    lock = tmp_path / ".manifest.lock"
    held = threading.Event()
    order = []

    def holder():
        with exclusive_lock(lock):
            held.set()
            time.sleep(0.5)
            order.append("holder done")

    def waiter():
        held.wait()
        with exclusive_lock(lock):  # opens the holder's lock file, which is gone when it gets the lock: retries
            order.append("waiter in")

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert order == ["holder done", "waiter in"]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError), exclusive_lock(lock):
        raise ValueError("fejl med låsen holdt")
    assert list(tmp_path.iterdir()) == []
    with exclusive_lock(lock):  # released after the error
        assert lock.exists()


# ----------------------------------------------------------------------------------------------------------------
# measure catalogue and data/README.md
# ----------------------------------------------------------------------------------------------------------------


def test_measure_catalogue_covers_registry():
    catalogue = measure_catalogue()
    assert list(catalogue["measure"]) == list(registry.MEASURES)
    inputs = catalogue[catalogue["table"] == "measures"]
    assert set(inputs["measure"]) == set(registry.input_measures())
    assert set(inputs["level"]) == {"afdeling", "organisation"}
    assert catalogue.set_index("measure").loc["floor_area_m2", "min"] > 0  # limits of table columns from the model


def test_data_readme_contains_current_measure_catalogue():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert measure_catalogue_markdown() in readme, "run catalogue.measure_catalogue_markdown() and paste it into README"


# ----------------------------------------------------------------------------------------------------------------
# property tests
# ----------------------------------------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list("abcæøåÆØÅ 0123;,.\"'=-\n\t#é€")), min_size=1, max_size=12
).map(str.strip).filter(bool)  # fmt: skip
_IDS = st.text(alphabet="0123456789-AB", min_size=1, max_size=6)
_CODES = sorted(kommuner.table()["kommune_code"])


@st.composite
def small_datasets(draw) -> model.Dataset:
    org_ids = draw(st.lists(_IDS, min_size=1, max_size=3, unique=True))
    afdeling_ids = draw(st.lists(_IDS.map(lambda s: "A" + s), min_size=1, max_size=4, unique=True))
    n = len(afdeling_ids)
    floats = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_subnormal=False)
    afdelinger = pd.DataFrame(
        {
            "afdeling_id": afdeling_ids,
            "organisation_id": draw(st.lists(st.sampled_from(org_ids), min_size=n, max_size=n)),
            "kommune_code": draw(st.lists(st.sampled_from(_CODES), min_size=n, max_size=n)),
            "afdeling_name": draw(st.lists(_TEXT, min_size=n, max_size=n)),
            "dwellings": draw(st.lists(st.integers(1, 100_000), min_size=n, max_size=n)),
            "floor_area_m2": draw(st.lists(floats, min_size=n, max_size=n)),
            "outdoor_area_m2": draw(st.lists(st.just(0.0) | floats, min_size=n, max_size=n)),
            "residents": draw(st.lists(st.integers(0, 100_000), min_size=n, max_size=n)),
            "year_built": draw(st.lists(st.integers(1700, 2100), min_size=n, max_size=n)),
            "housing_type": draw(st.lists(st.sampled_from(model.HOUSING_TYPES), min_size=n, max_size=n)),
            "heating": draw(st.lists(st.sampled_from(model.HEATING_TYPES), min_size=n, max_size=n)),
            "area_status": draw(st.lists(st.sampled_from(model.AREA_STATUSES), min_size=n, max_size=n)),
            "helhedsplan": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        }
    )
    organisations = pd.DataFrame(
        {
            "organisation_id": org_ids,
            "organisation_name": draw(st.lists(_TEXT, min_size=len(org_ids), max_size=len(org_ids))),
            "hjemsted_kommune_code": draw(
                st.lists(st.sampled_from(_CODES), min_size=len(org_ids), max_size=len(org_ids))
            ),
        }
    )
    years = draw(st.lists(st.integers(2000, 2100), min_size=1, max_size=2, unique=True))
    rows = []
    for year in years:
        for afdeling in afdeling_ids:
            rows.append((year, afdeling, "heat_kwh", draw(st.none() | floats)))
            rows.append((year, afdeling, "sorting_rate_pct", draw(st.none() | st.floats(0, 100))))
        for organisation in org_ids:
            rows.append((year, organisation, "employees", draw(st.none() | st.integers(0, 10**6).map(float))))
    measures = pd.DataFrame(rows, columns=["year", "unit_id", "measure", "value"])
    measures["value"] = measures["value"].astype(float)
    codes = sorted(set(afdelinger["kommune_code"]))
    kommune_context = pd.DataFrame(
        [(y, c, draw(st.integers(1, 10**7))) for y in years for c in codes],
        columns=["year", "kommune_code", "dwellings_total"],
    )
    aftaler = []
    for number in range(draw(st.integers(0, 3))):
        code = draw(st.none() | st.sampled_from(registry.CODES))
        made = draw(st.integers(2000, 2100))
        share = st.floats(0, 100, allow_nan=False, allow_subnormal=False)
        aftaler.append(
            (
                draw(st.sampled_from(_CODES)),
                draw(st.sampled_from(org_ids)),
                f"{made}-{number}",
                made,
                draw(_TEXT),
                code,
                np.nan if code is None else draw(st.none().map(lambda _: np.nan) | share),
                np.nan if code is None else draw(share),
                draw(st.integers(made, 2100)) if code else draw(st.none() | st.integers(made, 2100)),
            )
        )
    frames = {
        "organisations": organisations,
        "afdelinger": afdelinger,
        "measures": measures,
        "kommune_context": kommune_context,
        "aftaler": pd.DataFrame(aftaler, columns=model.AFTALER.column_names),
    }
    return model.Dataset(
        provenance={"synthetic": draw(st.booleans()), "note": draw(_TEXT)},
        **{name: model.canonicalise(model.INPUT_TABLES[name], frame) for name, frame in frames.items()},
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset=small_datasets())
def test_property_csv_export_round_trips(dataset):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        datasets.export_dataset(dataset, folder, "csv")
        assert_same_dataset(datasets.read_input([folder]), dataset)


@pytest.fixture(scope="module")
def exported_csv(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("junk") / "export"
    datasets.export_dataset(tiny_dataset(), folder, "csv")
    return folder


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[0-9.,eE+-]+", text.strip()))


@settings(max_examples=80, deadline=None)
@given(
    junk=st.text(min_size=1, max_size=20),
    target=st.sampled_from([("afdelinger", "floor_area_m2"), ("afdelinger", "dwellings"), ("measures", "value")]),
)
def test_property_junk_in_numeric_column_gives_data_error(exported_csv, junk, target):
    import csv

    table, column = target
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for path in exported_csv.iterdir():
            (folder / path.name).write_bytes(path.read_bytes())
        path = folder / f"{table}.csv"
        rows = list(csv.reader(_read(path).splitlines(), delimiter=";"))
        position = rows[0].index(column)
        rows[1][position] = junk
        write_csv(path, rows, ";", "utf-8-sig")
        try:
            datasets.read_input([folder])
        except DataError as error:
            assert error.problems
            assert all(isinstance(p.message(), str) for p in error.problems)
        else:
            assert not junk.strip() or _looks_numeric(junk), f"{junk!r} was accepted as a number"


@settings(max_examples=50, deadline=None)
@given(content=st.binary(max_size=400) | st.text(max_size=300).map(lambda s: s.encode("utf-8")))
def test_property_any_bytes_give_data_error_or_dataset(exported_csv, content):
    for name in ("measures.csv", "afdelinger.csv"):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "in"
            folder.mkdir()
            for path in exported_csv.iterdir():
                (folder / path.name).write_bytes(path.read_bytes())
            (folder / name).write_bytes(content)
            with contextlib.suppress(DataError):
                datasets.read_input([folder])


@settings(max_examples=20, deadline=None)
@given(content=st.binary(max_size=300))
def test_property_broken_xlsx_and_parquet_give_data_error(exported_csv, content):
    for name in ("measures.parquet", "almenkompas-data.xlsx"):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "in"
            folder.mkdir()
            for path in exported_csv.iterdir():
                if path.name != "measures.csv":
                    (folder / path.name).write_bytes(path.read_bytes())
            (folder / name).write_bytes(content)
            with pytest.raises(DataError):
                datasets.read_input([folder])
