"""nøgletal.xlsx on the hand-built dataset: values exactly as in the indicator table, words instead of gaps."""

from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pandas as pd
import pytest

from kompas_helpers import compute, excel, excel_tidy, fmt, registry
from tests.fixtures import handmade

HEADERS = [
    "Kode",
    "Målepunkt",
    "Enhed",
    "År",
    "Kommunen",
    "Region Hovedstaden",
    "Hele landet",
    "Ændring fra året før (procentpoint for %)",
    "Dækning (% af boligerne)",
    "Placering blandt kommunerne (1 = bedst)",
    "Status",
    "Sammenligningskommuner",
    "95 %-interval, nedre grænse",
    "95 %-interval, øvre grænse",
    "Vurdering",
]
GENERATED = dt.datetime(2025, 3, 1, 9, 30)


def stored(value: float) -> float:
    """A float as an .xlsx file stores it: openpyxl writes 16 significant digits (Excel shows 15)."""
    return float(f"{value:.16g}")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return compute.indicator_table(handmade.dataset(handmade.all_2024()))


def write(path, table, synthetic=True, kommune_code="101"):
    excel.write_workbook(
        path,
        table,
        kommune_code,
        provenance={"synthetic": synthetic, "note_da": "Håndlavede testdata."},
        data_hash="ab" * 32,
        version="9.9.9",
        organisations=handmade.dataset().organisations,
        generated=GENERATED,
    )
    return openpyxl.load_workbook(path)


def data_rows(sheet) -> dict[tuple[str, int], list]:
    """Data rows of a dimension sheet by (indicator, year)."""
    rows = {}
    for cells in sheet.iter_rows(min_row=excel.FIRST_DATA_ROW):
        values = [c.value for c in cells]
        rows[(values[0], values[3])] = list(cells)
    return rows


def test_one_sheet_per_dimension_and_about(tmp_path, table):
    book = write(tmp_path / "nøgletal.xlsx", table)
    assert book.sheetnames == ["Miljø", "Social", "Governance", "Alle tal", "Om data"]
    for dim, name in registry.DIMENSION_NAMES_DA.items():
        sheet = book[name]
        assert [c.value for c in sheet[excel.HEADER_ROW]] == HEADERS
        assert sheet.freeze_panes == f"C{excel.FIRST_DATA_ROW}"
        codes = {key[0] for key in data_rows(sheet)}
        assert codes == {i.code for i in registry.by_dimension(dim)}
        assert len(data_rows(sheet)) == 2 * len(codes)  # 2024 and 2025
        assert sheet.column_dimensions["B"].width == 44


def test_reported_values_are_exact_with_danish_number_formats(tmp_path, table):
    rows = data_rows(write(tmp_path / "nøgletal.xlsx", table)["Miljø"])
    e1_2024 = rows[("E1", 2024)]
    assert e1_2024[4].value == 120.0
    assert e1_2024[4].number_format == "#,##0"
    national = table[(table["level"] == "national") & (table["indicator"] == "E1") & (table["year"] == 2024)]
    assert e1_2024[6].value == stored(national["value"].iloc[0])  # unrounded, to the stored precision
    assert e1_2024[6].value == pytest.approx(2980000 / 27000)
    assert e1_2024[7].value == "–"  # no figure the year before
    assert e1_2024[8].value == pytest.approx(96.1538, abs=1e-4)  # percentages as numbers 0–100, never fractions
    assert e1_2024[8].number_format == "0"
    assert e1_2024[9].value == "–"  # two afdelinger in København: too few to be ranked
    assert e1_2024[10].value == "indberettet"
    e1_2025 = rows[("E1", 2025)]
    assert e1_2025[7].number_format == "+#,##0;-#,##0;#,##0"
    e2_2024 = rows[("E2", 2024)]
    assert e2_2024[4].value == 12.0
    assert e2_2024[4].number_format == "#,##0.0"
    # Every reported figure equals the table's value exactly (no rounding on the way).
    kommune = table[(table["level"] == "kommune") & (table["unit_id"] == "101")]
    for r in kommune.itertuples(index=False):
        if r.dimension != "E":
            continue
        cell = rows[(r.indicator, r.year)][4]
        if r.status == "reported":
            assert cell.value == stored(r.value)
        else:
            assert cell.value == excel_tidy.STATUS_WORDS_DA[r.status]


def test_missing_and_suppressed_are_words_never_zero(tmp_path, table):
    book = write(tmp_path / "nøgletal.xlsx", table)
    e2_2025 = data_rows(book["Miljø"])[("E2", 2025)]
    assert [c.value for c in e2_2025[4:8]] == ["mangler", "mangler", "mangler", "mangler"]
    assert e2_2025[10].value == "mangler"
    s1_2024 = data_rows(book["Social"])[("S1", 2024)]
    assert s1_2024[4].value == "diskretion"
    assert s1_2024[5].value == "diskretion"
    assert s1_2024[6].value == pytest.approx(3210 / 43)
    assert s1_2024[7].value == "diskretion"
    assert s1_2024[9].value == "–"
    for name in registry.DIMENSION_NAMES_DA.values():
        for cells in data_rows(book[name]).values():
            statuses = cells[10].value
            if statuses != "indberettet":
                assert not isinstance(cells[4].value, int | float), (name, [c.value for c in cells])


def test_context_indicator_has_no_ranking(tmp_path, table):
    s2_2024 = data_rows(write(tmp_path / "nøgletal.xlsx", table)["Social"])[("S2", 2024)]
    assert s2_2024[4].value == 20.0
    assert s2_2024[9].value == "–"


def test_synthetic_note_on_every_sheet_and_provenance(tmp_path, table):
    book = write(tmp_path / "nøgletal.xlsx", table)
    for name in registry.DIMENSION_NAMES_DA.values():
        assert book[name].cell(excel.NOTE_ROW, 1).value == fmt.SYNTHETIC_BANNER_DA
        assert book[name].cell(excel.TITLE_ROW, 1).value.startswith("Nøgletal for København (kommunekode 101)")
    about = {row[0]: row[1] for row in book["Om data"].iter_rows(values_only=True) if row[0]}
    assert about["Data"] == fmt.SYNTHETIC_BANNER_DA
    assert about["Datasættets fingeraftryk (SHA-256)"] == "ab" * 32
    assert about["Programversion"] == "kompas_helpers 9.9.9"
    assert about["Dannet"] == "01.03.2025 kl. 09.30"
    assert about["Om datasættet"] == "Håndlavede testdata."
    assert any(str(label).startswith("E1 ") for label in about)


def test_real_data_carries_no_synthetic_note(tmp_path, table):
    book = write(tmp_path / "nøgletal.xlsx", table, synthetic=False)
    texts = [c for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert fmt.SYNTHETIC_BANNER_DA not in texts
    assert book["Miljø"].cell(excel.NOTE_ROW, 1).value == excel.REAL_DATA_NOTE_DA


def test_reads_back_with_pandas(tmp_path, table):
    write(tmp_path / "nøgletal.xlsx", table)
    frame = pd.read_excel(tmp_path / "nøgletal.xlsx", sheet_name="Governance", header=excel.HEADER_ROW - 1)
    assert list(frame.columns) == HEADERS
    g1 = frame[(frame["Kode"] == "G1") & (frame["År"] == 2024)].iloc[0]
    assert g1["Kommunen"] == 12.0
    assert not any(isinstance(v, float) and math.isnan(v) for v in frame["Kommunen"])


def test_failed_write_keeps_the_earlier_file(tmp_path, table, monkeypatch):
    path = tmp_path / "nøgletal.xlsx"
    write(path, table)
    before = path.read_bytes()

    def broken_save(self, filename):
        with open(filename, "wb") as handle:
            handle.write(b"PK half a workbook")
        raise OSError("disken er fuld")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="disken er fuld"):
        write(path, table, synthetic=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nøgletal.xlsx"]


def test_key_figures_follow_the_registry_order(table):
    figures = excel.key_figures(table, "751")
    assert list(figures) == ["E", "S", "G"]
    social = figures["S"]
    assert list(social["indicator"].unique()) == [i.code for i in registry.by_dimension("S")]
    assert social["year"].tolist()[:2] == [2024, 2025]
    assert set(social["region_value"].dropna()) <= set(
        table.loc[(table["level"] == "region") & (table["unit_id"] == "Region Midtjylland"), "value"]
    )


def test_a_ranked_kommune_shows_its_rank_as_a_number(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "MIN_UNITS_FOR_VERDICT", 1)
    table = compute.indicator_table(handmade.dataset(handmade.all_2024()))
    e1_2024 = data_rows(write(tmp_path / "nøgletal.xlsx", table)["Miljø"])[("E1", 2024)]
    assert e1_2024[9].value == 2


def test_peer_value_interval_and_verdict_are_numbers_and_words(tmp_path, table):
    rows = data_rows(write(tmp_path / "nøgletal.xlsx", table)["Miljø"])
    e3_2024 = rows[("E3", 2024)]
    # E3 in København: peers 147 and 751 hold 250 of 250 dwellings with label A–C; Wilson 80 of 104: 67.95–83.97 %.
    assert e3_2024[11].value == pytest.approx(100.0)
    assert e3_2024[12].value == pytest.approx(67.954, abs=1e-3)
    assert e3_2024[13].value == pytest.approx(83.974, abs=1e-3)
    assert e3_2024[12].number_format == "#,##0"
    assert e3_2024[14].value == "for få data"  # two afdelinger
    e4_2024 = rows[("E4", 2024)]
    assert e4_2024[14].value == "kontekst"
