"""The optional aftaler input table: its rules, its absence, header-only files, dataset folders and lazy loading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kompas_helpers import bundle, cli, model, paths, synthesize
from kompas_helpers.io import datasets
from kompas_helpers.io.problems import DataError
from tests.fixtures.files import text_cells, write_csv, write_variant
from tests.fixtures.tiny import tiny_dataset, tiny_frames

NA = np.nan


def _without_aftaler(dataset: model.Dataset) -> model.Dataset:
    return model.Dataset(**{**vars(dataset), "aftaler": model.empty(model.AFTALER)})


def _folder(tmp_path, aftaler: pd.DataFrame | None):
    frames = tiny_frames()
    if aftaler is not None:
        frames["aftaler"] = aftaler
    folder = write_variant(tmp_path / "input", frames, "semicolon-comma-utf8bom")
    if aftaler is None:
        (folder / "aftaler.csv").unlink()
    return folder


BAD_ROWS = [
    ("101", "0101", "1", 2023, "Varmeforbruget sænkes", "E1", 120.0, NA, 2026),
    ("101", "0101", "2", 2023, "Ukendt målepunkt", "X9", 1.0, 2.0, 2026),
    ("101", "0101", "3", 2023, "Fri tekst med udgangsværdi", None, 12.0, NA, NA),
    ("751", "0751", "4", 2022, "Energimærker", "E3", 40.0, 130.0, 2027),
    ("461", "0461", "5", 2023, "Fristen før aftalen", "E1", 100.0, 90.0, 2020),
    ("101", "9999", "6", 2023, "Ukendt boligorganisation", None, NA, NA, NA),
    ("999", "0101", "7", 2023, "Ukendt kommune", None, NA, NA, NA),
    ("101", "0101", "1", 2024, "Samme nøgle igen", None, NA, NA, NA),
    ("101", "0101", "9", 2023, "Ingen frist", "E1", 120.0, 110.0, NA),
    ("101", "0101", "10", "2023,5", "Halvt år", None, NA, NA, NA),
    ("101", "0101", "11", 2023, "", None, NA, NA, NA),
    ("101", "0101", "12", 2023, "Mål uden målepunkt", None, NA, 75.0, NA),
    ("0101", "0101", "13", 2023, "Små bogstaver og foranstillet nul er i orden", "e1", 120.0, 110.0, 2026),
]
NO_INDICATOR = (
    "kræver en målepunktskode i kolonnen indicator (fx E1); en aftale uden målepunkt er fri tekst og har hverken "
    "udgangsværdi eller mål"
)
EXPECTED = [
    'aftaler.csv, række 2, kolonne "target": cellen er tom – en aftale med et målepunkt (E1 i kolonnen indicator) '
    "skal have et mål i kolonnen target",
    'aftaler.csv, række 3, kolonne "indicator": værdien "X9" er ikke en tilladt værdi – tilladte værdier: E1, E2, E3, '
    "E4, E5, E6, S1, S2, S3, S4, S5, S6, S7, S8, G1, G2, G3, G4, G5, G6",
    'aftaler.csv, række 4, kolonne "baseline": værdien "12" står i en aftale uden målepunkt – en udgangsværdi '
    + NO_INDICATOR,
    'aftaler.csv, række 5, kolonne "target": værdien "130" er for stor – E3 Energimærkning er en andel i %, så '
    "værdien skal ligge mellem 0 og 100 (skriv 73 for 73 %)",
    'aftaler.csv, række 6, kolonne "deadline_year": værdien "2020" ligger før året, aftalen blev indgået (2023 i '
    "kolonnen year_made) – fristen kan tidligst være samme år",
    'aftaler.csv, række 7, kolonne "organisation_id": værdien "9999" findes ikke i tabellen organisations – aftalens '
    "boligorganisation skal stå i organisations",
    'aftaler.csv, række 8, kolonne "kommune_code": værdien "999" er ikke en kendt kommunekode – brug en af de 98 '
    "kommuners koder fra Danmarks Statistik, fx 101 for København (se data/reference/kommuner.csv)",
    'aftaler.csv, række 9, kolonne "kommune_code, organisation_id, agreement_id": værdien "101 / 0101 / 1" findes '
    "allerede i række 2 – der må kun være én række pr. kombination af kommune_code, organisation_id og agreement_id",
    'aftaler.csv, række 10, kolonne "deadline_year": cellen er tom – en aftale med et målepunkt (E1 i kolonnen '
    "indicator) skal have en frist (det år, målet skal være nået) i kolonnen deadline_year",
    'aftaler.csv, række 11, kolonne "year_made": værdien "2023,5" har decimaler – kolonnen skal indeholde hele tal',
    'aftaler.csv, række 12, kolonne "text": cellen er tom – kolonnen skal udfyldes',
    'aftaler.csv, række 13, kolonne "target": værdien "75" står i en aftale uden målepunkt – et mål ' + NO_INDICATOR,
]


def test_a_bad_aftaler_file_lists_every_problem_with_file_row_column_and_value(tmp_path):
    folder = _folder(tmp_path, pd.DataFrame(BAD_ROWS, columns=model.AFTALER.column_names))
    with pytest.raises(DataError) as caught:
        datasets.read_input([folder])
    assert [p.message() for p in caught.value.problems] == EXPECTED
    assert caught.value.headline == f"Data kan ikke indlæses: {len(EXPECTED)} fejl i 1 fil"


def test_codes_are_read_in_any_case_and_kommune_codes_with_leading_zeros(tmp_path):
    good = [row for row in BAD_ROWS if row[2] == "13"]
    back = datasets.read_input([_folder(tmp_path, pd.DataFrame(good, columns=model.AFTALER.column_names))])
    assert back.aftaler[["kommune_code", "indicator"]].values.tolist() == [["101", "E1"]]
    assert back.aftaler["deadline_year"].dtype == "Int64"


def test_a_dataset_without_aftaler_is_valid_and_has_an_empty_table(tmp_path):
    back = datasets.read_input([_folder(tmp_path, None)])
    assert_frame_equal(back.aftaler, model.empty(model.AFTALER))
    assert list(back.aftaler.columns) == model.AFTALER.column_names
    assert "aftaler.csv" not in back.provenance["source_files"]
    assert cli.main(["data", "import", str(_folder(tmp_path / "again", None)), "--to", str(tmp_path / "ds")]) == 0
    assert len(datasets.load_dataset(tmp_path / "ds").aftaler) == 0


def _header_only(tmp_path, fmt: str):
    folder = _folder(tmp_path, None)
    empty = model.empty(model.AFTALER)
    if fmt == "csv":
        write_csv(folder / "aftaler.csv", text_cells(model.AFTALER, empty), ";", "utf-8-sig")
    elif fmt == "parquet":
        empty.to_parquet(folder / "aftaler.parquet")
    else:
        import openpyxl

        workbook = openpyxl.Workbook()
        workbook.active.title = "aftaler"
        workbook.active.append(model.AFTALER.column_names)
        workbook.save(folder / "aftaler.xlsx")
    return folder


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_a_header_only_aftaler_file_is_an_empty_table(tmp_path, fmt):
    back = datasets.read_input([_header_only(tmp_path, fmt)])
    assert_frame_equal(back.aftaler, model.empty(model.AFTALER))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_a_dataset_without_agreements_round_trips_in_every_format(tmp_path, fmt):
    dataset = _without_aftaler(tiny_dataset())
    datasets.export_dataset(dataset, tmp_path / "out", fmt)
    back = datasets.read_input([tmp_path / "out"])
    for name in model.INPUT_TABLES:
        assert_frame_equal(back.table(name), dataset.table(name), check_exact=True)


def test_a_header_with_a_wrong_column_is_still_reported(tmp_path):
    folder = _folder(tmp_path, None)
    write_csv(folder / "aftaler.csv", [["kommune_code", "organisation_id", "agrement_id"]], ";", "utf-8-sig")
    with pytest.raises(DataError) as caught:
        datasets.read_input([folder])
    found = [p.message() for p in caught.value.problems]
    assert any('kolonne "agrement_id": kolonnen er ukendt – mente du "agreement_id"?' in m for m in found)
    assert 'aftaler.csv, række 1, kolonne "text": kolonnen mangler i tabellen aftaler' in found


def test_an_older_dataset_folder_without_aftaler_parquet_loads(tmp_path):
    datasets.save_dataset(tiny_dataset(), tmp_path / "data")
    assert (tmp_path / "data" / "aftaler.parquet").is_file()
    assert_frame_equal(datasets.load_dataset(tmp_path / "data").aftaler, tiny_dataset().aftaler)
    (tmp_path / "data" / "aftaler.parquet").unlink()
    loaded = datasets.load_dataset(tmp_path / "data")
    assert_frame_equal(loaded.aftaler, model.empty(model.AFTALER))
    datasets.save_dataset(tiny_dataset(), tmp_path / "data")  # an older folder may be replaced
    assert_frame_equal(datasets.load_dataset(tmp_path / "data").aftaler, tiny_dataset().aftaler)


@pytest.mark.parametrize("with_file", [True, False])
def test_a_kommune_slice_loads_the_agreements_lazily(tmp_path, monkeypatch, with_file):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    data = tmp_path / "data"
    dataset = synthesize.synthesize(seed=7, scale=0.02)
    datasets.save_dataset(dataset, data)
    if not with_file:
        (data / "aftaler.parquet").unlink()
    bundle.write_slices(data)
    loaded = bundle.load(data, kommune_code="101")
    assert isinstance(loaded.dataset, bundle._LazyDataset)
    expected = dataset.aftaler if with_file else model.empty(model.AFTALER)
    assert_frame_equal(loaded.dataset.aftaler, expected)


def test_the_agreements_are_part_of_the_dataset_hash(tmp_path):
    data = tmp_path / "data"
    dataset = tiny_dataset()
    datasets.save_dataset(dataset, data)
    before = bundle.dataset_hash(data)
    datasets.save_dataset(_without_aftaler(dataset), data)
    assert bundle.dataset_hash(data) != before


def test_data_readme_documents_every_column_of_the_table():
    readme = (paths.DATA_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("### aftaler", 1)[1].split("\n## ", 1)[0]
    for column in model.AFTALER.columns:
        assert f"| `{column.name}` |" in section, column.name
    assert "optional" in section
