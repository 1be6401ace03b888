"""The tidy «Alle tal» sheet of nøgletal.xlsx and the national alle-kommuner.xlsx, written and read back."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from kompas_helpers import bundle, compute, excel, excel_national, excel_tidy, fmt, kommuner, registry, reportset
from tests.fixtures import handmade

GENERATED = dt.datetime(2025, 3, 1, 9, 30)
KOMMUNE_HEADERS = [c.header for c in excel_tidy.columns(excel_tidy.KOMMUNE_KEYS)]
NATIONAL_HEADERS = [c.header for c in excel_tidy.columns(excel_tidy.NATIONAL_KEYS)]
NUMERIC = {c.header for c in excel_tidy.COLUMNS if c.kind in excel_tidy.NUMERIC_KINDS}
H = {c.key: c.header for c in excel_tidy.COLUMNS}


def stored(value: float) -> float:
    """A float as an .xlsx file stores it (16 significant digits)."""
    return float(f"{value:.16g}")


def own_rows(table: pd.DataFrame, kommune_code: str, supervised: set[str]) -> pd.DataFrame:
    """The rows a kommune's tidy sheet must hold, selected here independently of the package."""
    keep = []
    for r in table[["level", "unit_id", "kommune_code"]].astype(str).itertuples(index=False):
        keep.append(
            (r.level == "kommune" and r.unit_id == kommune_code)
            or (r.level == "organisation" and r.unit_id in supervised)
            or (r.level in ("organisation_kommune", "afdeling") and r.kommune_code == kommune_code)
        )
    return table[np.array(keep)]


def sheet_records(sheet) -> tuple[list[str], list[list]]:
    """(headers, data rows as cells) of a tidy sheet."""
    headers = [c.value for c in sheet[excel_tidy.HEADER_ROW]]
    rows = [list(row) for row in sheet.iter_rows(min_row=excel_tidy.FIRST_DATA_ROW)]
    return headers, rows


def read(path, sheet: str) -> pd.DataFrame:
    """A sheet as an analyst reads it with pandas: the header row, codes as text."""
    return pd.read_excel(path, sheet_name=sheet, header=excel_tidy.HEADER_ROW - 1, dtype=excel_tidy.text_dtypes())


def write_kommune(path, table, kommune_code, organisations, synthetic=True):
    excel.write_workbook(
        path,
        table,
        kommune_code,
        provenance={"synthetic": synthetic},
        data_hash="ab" * 32,
        version="9.9.9",
        organisations=organisations,
        generated=GENERATED,
    )
    return openpyxl.load_workbook(path)


# -- the hand-built dataset: exact values -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def handmade_case(tmp_path_factory):
    dataset = handmade.dataset(handmade.all_2024())
    table = compute.indicator_table(dataset)
    path = tmp_path_factory.mktemp("handmade") / "nøgletal.xlsx"
    book = write_kommune(path, table, "101", dataset.organisations)
    return table, dataset, path, book


def test_the_tidy_sheet_has_danish_headers_frozen_panes_filter_and_widths(handmade_case):
    table, _dataset, _path, book = handmade_case
    assert book.sheetnames == ["Miljø", "Social", "Governance", excel_tidy.SHEET_TIDY, "Om data"]
    sheet = book[excel_tidy.SHEET_TIDY]
    headers, rows = sheet_records(sheet)
    assert headers == KOMMUNE_HEADERS
    assert sheet.freeze_panes == f"A{excel_tidy.FIRST_DATA_ROW}"
    assert sheet.auto_filter.ref == f"A{excel_tidy.HEADER_ROW}:AB{excel_tidy.HEADER_ROW + len(rows)}"
    assert sheet.column_dimensions[get_column_letter(headers.index("Målepunkt") + 1)].width == 40
    assert sheet.cell(excel_tidy.NOTE_ROW, 1).value == fmt.SYNTHETIC_BANNER_DA
    assert sheet.cell(excel_tidy.TITLE_ROW, 1).value.startswith("Alle tal for København (kommunekode 101)")


def test_the_tidy_sheet_holds_every_level_of_the_kommune(handmade_case):
    table, _dataset, _path, book = handmade_case
    headers, rows = sheet_records(book[excel_tidy.SHEET_TIDY])
    expected = own_rows(table, "101", {"O1"})  # O1 has its hjemsted in København, O2 in Aarhus
    assert len(rows) == len(expected) == 190
    col = {h: i for i, h in enumerate(headers)}
    levels = pd.Series([r[col["Niveau"]].value for r in rows]).value_counts().to_dict()
    assert levels == {
        "kommune": 40,
        "boligorganisation": (expected["level"] == "organisation").sum(),
        "boligorganisation i kommunen": (expected["level"] == "organisation_kommune").sum(),
        "afdeling": (expected["level"] == "afdeling").sum(),
    }
    organisations = {r[col["Organisationsnummer"]].value for r in rows if r[col["Niveau"]].value == "boligorganisation"}
    assert organisations == {"O1"}
    in_kommune = {r[col["Organisationsnummer"]].value for r in rows if r[col["Niveau"]].value.endswith("kommunen")}
    assert in_kommune == {"O1", "O2"}  # O2 is supervised elsewhere but has an afdeling here
    afdelinger = {(r[col["Afdelingsnummer"]].value, r[col["Afdeling"]].value) for r in rows if r[0].value == "afdeling"}
    assert afdelinger == {("O1-001", "Solgården"), ("O2-002", "Lille Toft")}
    names = {r[col["Boligorganisation"]].value for r in rows if r[col["Organisationsnummer"]].value == "O2"}
    assert names == {"Boligforeningen Syd"}


def test_numeric_columns_hold_only_numbers_and_text_columns_only_text(handmade_case):
    _table, _dataset, path, book = handmade_case
    for name in (excel_tidy.SHEET_TIDY,):
        headers, rows = sheet_records(book[name])
        for row in rows:
            for header, cell in zip(headers, row, strict=True):
                if header in NUMERIC:
                    assert cell.value is None or type(cell.value) in (int, float), (header, cell.value)
                    assert cell.value is None or cell.data_type == "n"
                else:
                    assert cell.value is None or isinstance(cell.value, str), (header, cell.value)


def test_exact_values_percentages_as_numbers_and_changes_in_percentage_points(tmp_path):
    # 2025 figures for E3 so that København has a change: 90 of 104 dwellings with label A–C (was 80 of 104).
    extra = [(2025, u, "dwellings_label_ac", v) for u, v in {"O1-001": 86.0, "O2-002": 4.0}.items()]
    dataset = handmade.dataset(handmade.all_2024() + extra)
    table = compute.indicator_table(dataset)
    book = write_kommune(tmp_path / "nøgletal.xlsx", table, "101", dataset.organisations)
    headers, rows = sheet_records(book[excel_tidy.SHEET_TIDY])
    col = {h: i for i, h in enumerate(headers)}
    e3 = {r[col["År"]].value: r for r in rows if r[0].value == "kommune" and r[col["Kode"]].value == "E3"}
    assert e3[2024][col["Værdi"]].value == stored(80 / 104 * 100)
    assert e3[2025][col["Værdi"]].value == stored(90 / 104 * 100)
    assert e3[2025][col[H["value"]]].number_format == "#,##0"
    assert e3[2025][col["Enhed"]].value == "%"
    assert e3[2025][col[H["change"]]].value == pytest.approx(100 * 10 / 104)
    assert e3[2025][col[H["change_unit"]]].value == "procentpoint"
    assert e3[2025][col[H["change"]]].number_format == '+#,##0" pp";-#,##0" pp";#,##0" pp"'  # shown as +10 pp
    assert e3[2024][col[H["change"]]].value is None and e3[2024][col[H["change_unit"]]].value is None
    assert (e3[2024][col["Tæller"]].value, e3[2024][col["Nævner"]].value) == (80, 104)
    assert e3[2024][col[H["coverage"]]].value == 100  # a number from 0 to 100, not the fraction 1
    e1 = next(
        r for r in rows if r[0].value == "kommune" and r[col["Kode"]].value == "E1" and r[col["År"]].value == 2025
    )
    assert e1[col[H["change_unit"]]].value == "kWh/m²"
    # No cell of any sheet is formatted as a percentage: the one rule is numbers from 0 to 100.
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert "%" not in cell.number_format, (sheet.title, cell.coordinate, cell.number_format)


def test_discretion_empty_cells_and_a_status_word(handmade_case):
    table, _dataset, _path, book = handmade_case
    headers, rows = sheet_records(book[excel_tidy.SHEET_TIDY])
    col = {h: i for i, h in enumerate(headers)}
    s3 = next(r for r in rows if r[col["Afdelingsnummer"]].value == "O2-002" and r[col["Kode"]].value == "S3")
    assert s3[col["Status"]].value == "diskretion"  # 4 residents aged 18-64 in Lille Toft
    for key in ("value", "numerator", "denominator", "n_persons", "interval_low", "interval_high", "change"):
        assert s3[col[H[key]]].value is None, key
    persons_rule = {c for c, i in registry.INDICATORS.items() if i.disclosure in ("persons", "register")}
    shown = 0
    for row in rows:
        status, value = row[col["Status"]].value, row[col["Værdi"]].value
        assert (value is not None) == (status == "indberettet")
        if value is not None and row[col["Kode"]].value in persons_rule:
            assert row[col["Antal personer"]].value >= registry.MIN_PERSONS
            shown += 1
    assert shown > 0
    assert {row[col["Status"]].value for row in rows} == {"indberettet", "mangler", "diskretion"}


def test_pandas_reads_back_the_packages_own_frame(handmade_case):
    table, dataset, path, _book = handmade_case
    rows = excel_tidy.kommune_rows(table, "101", excel_tidy.supervised_organisations(dataset.organisations, "101"))
    expected = excel_tidy.tidy_frame(table, rows)
    back = read(path, excel_tidy.SHEET_TIDY)
    assert list(back.columns) == KOMMUNE_HEADERS
    for header in NUMERIC:
        assert pd.api.types.is_numeric_dtype(back[header]), header
    pd.testing.assert_frame_equal(back, expected, check_dtype=False, rtol=1e-15)


def test_about_states_the_percentage_and_status_rules(handmade_case):
    _table, _dataset, _path, book = handmade_case
    about = {row[0]: row[1] for row in book["Om data"].iter_rows(values_only=True) if row[0]}
    assert about["Procenter"] == excel_tidy.PERCENT_RULE_DA
    assert "fra 0 til 100" in about["Procenter"] and "procentpoint" in about["Procenter"]
    assert "«ikke relevant»" in about["Statusord"] and "«mangler»" in about["Statusord"]
    assert about["Tomme celler"] == excel_tidy.EMPTY_RULE_DA
    assert excel_tidy.SHEET_TIDY in about


# -- the synthetic default data: every status, the national workbook ---------------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    b = bundle.load()
    return b.table, b.dataset.organisations


@pytest.fixture(scope="module")
def laesoe(synthetic, tmp_path_factory):
    table, organisations = synthetic
    path = tmp_path_factory.mktemp("laesoe") / "nøgletal.xlsx"
    return path, write_kommune(path, table, "825", organisations)


def test_ikke_relevant_is_not_mangler_and_neither_is_diskretion(synthetic, laesoe):
    table, organisations = synthetic
    _path, book = laesoe
    headers, rows = sheet_records(book[excel_tidy.SHEET_TIDY])
    col = {h: i for i, h in enumerate(headers)}
    kommune = table[(table["level"] == "kommune") & (table["unit_id"] == "825")]
    status_of = {(r.indicator, r.year): r.status for r in kommune.itertuples(index=False)}
    words = {}
    for row in rows:
        if row[0].value == "kommune":
            key = (row[col["Kode"]].value, row[col["År"]].value)
            words[key] = row[col["Status"]].value
            assert words[key] == excel_tidy.STATUS_WORDS_DA[status_of[key]]
    assert status_of[("E4", 2021)] == "not_applicable" and words[("E4", 2021)] == "ikke relevant"
    assert status_of[("S1", 2021)] == "missing" and words[("S1", 2021)] == "mangler"
    assert status_of[("G2", 2025)] == "suppressed" or "diskretion" in words.values()
    assert {"indberettet", "mangler", "diskretion", "ikke relevant"} == set(words.values())
    # The dimension sheets use the same words.
    social = {(r[0], r[3]): r[4] for r in book["Miljø"].iter_rows(min_row=excel.FIRST_DATA_ROW, values_only=True)}
    assert social[("E4", 2021)] == "ikke relevant"
    expected = own_rows(table, "825", set(excel_tidy.supervised_organisations(organisations, "825")))
    assert len(rows) == len(expected)


def test_national_workbook_has_every_kommune_and_indicator(synthetic, tmp_path_factory):
    table, _organisations = synthetic
    path = tmp_path_factory.mktemp("national") / reportset.NATIONAL_EXCEL_FILE
    excel_national.write_national_workbook(
        path, table, 2025, provenance={"synthetic": True}, data_hash="cd" * 32, version="9.9.9", generated=GENERATED
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Overblik 2025", excel_tidy.SHEET_TIDY, "Om data"]
    years = sorted(table["year"].unique())
    headers, rows = sheet_records(book[excel_tidy.SHEET_TIDY])
    assert headers == NATIONAL_HEADERS
    assert len(rows) == 98 * len(registry.CODES) * len(years)
    col = {h: i for i, h in enumerate(headers)}
    keys = {(r[col["Kommunekode"]].value, r[col["Kode"]].value, r[col["År"]].value) for r in rows}
    assert keys == {(k, c, int(y)) for k in kommuner.table()["kommune_code"] for c in registry.CODES for y in years}
    ranked = 0
    for row in rows:
        rank, low, high = (row[col[H[key]]].value for key in ("rank", "rank_low", "rank_high"))
        assert (rank is None) == (low is None) == (high is None)
        if rank is not None:
            assert all(isinstance(v, int) for v in (rank, low, high)) and low <= rank <= high
            assert not registry.get(row[col["Kode"]].value).is_context
            ranked += 1
        for header in NUMERIC & set(headers):
            assert row[col[header]].value is None or row[col[header]].data_type == "n"
    assert ranked > 1000
    assert any(r[col[H["rank_low"]]].value < r[col[H["rank_high"]]].value for r in rows if r[col[H["rank"]]].value)
    # The wide sheet: one row per kommune, a column per indicator with its unit, the same values as the tidy sheet.
    wide = read(path, "Overblik 2025")
    assert len(wide) == 98 and list(wide.columns[:3]) == ["Kommunekode", "Kommune", "Region"]
    assert list(wide.columns[3:]) == [excel_tidy.wide_header(c) for c in registry.CODES]
    assert "E3 Energimærkning (%)" in wide.columns
    tidy = read(path, excel_tidy.SHEET_TIDY)
    latest = tidy[tidy["År"] == 2025].set_index(["Kommunekode", "Kode"])["Værdi"]
    for code in registry.CODES:
        column = wide.set_index("Kommunekode")[excel_tidy.wide_header(code)]
        expected = latest.xs(code, level="Kode").reindex(column.index)
        pd.testing.assert_series_equal(column, expected, check_names=False, check_dtype=False)
    pd.testing.assert_frame_equal(tidy, excel_tidy.national_frame(table), check_dtype=False, rtol=1e-15)
    about = {row[0]: row[1] for row in book["Om data"].iter_rows(values_only=True) if row[0]}
    assert about["Procenter"] == excel_tidy.PERCENT_RULE_DA and about["Data"] == fmt.SYNTHETIC_BANNER_DA


def test_the_kommune_rows_agree_between_the_two_workbooks(synthetic, laesoe):
    table, _organisations = synthetic
    path, _book = laesoe
    own = read(path, excel_tidy.SHEET_TIDY)
    own = own[own["Niveau"] == "kommune"][[H[k] for k in excel_tidy.NATIONAL_KEYS if k != "region"]]
    national = excel_tidy.national_frame(table)
    national = national[national["Kommunekode"] == "825"].drop(columns="Region")
    assert len(own) == len(registry.CODES) * len(table["year"].unique())
    pd.testing.assert_frame_equal(
        own.reset_index(drop=True), national.reset_index(drop=True), check_dtype=False, rtol=1e-15
    )


def test_a_failed_national_write_is_reported_and_keeps_the_earlier_file(tmp_path):
    earlier = tmp_path / reportset.NATIONAL_EXCEL_FILE
    earlier.write_bytes(b"the earlier workbook")
    meta = {"data_hash": "0" * 64, "provenance": {"synthetic": True}}  # no slices were ever written for this hash
    entry = excel_national.write_for_run(tmp_path, 2025, meta, "9.9.9")
    assert entry["status"] == reportset.FAILED and "FileNotFoundError" in entry["error"]
    assert json.loads(json.dumps(entry))["file"] == reportset.NATIONAL_EXCEL_FILE
    assert earlier.read_bytes() == b"the earlier workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == [reportset.NATIONAL_EXCEL_FILE]


# -- the data rows written as XML against openpyxl's own cells -----------------------------------------------------


def tricky_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The handmade kommune's tidy frame with texts XML must escape or keep as they are, and extreme numbers."""
    frame = excel_tidy.tidy_frame(table, own_rows(table, "101", set(table["organisation_id"].dropna().astype(str))))
    frame = frame.copy()
    texts = ["A & B <Bolig> \"1\" 'x'", "  indrykket", "æøå ÆØÅ – “citat” ₂", "", "x" * 40000, "tab\there"]
    name = H["afdeling_name"]
    for i, text in enumerate(texts):
        frame.loc[i, name] = text
    value = H["value"]
    frame.loc[0, value], frame.loc[1, value], frame.loc[2, value] = 1e-12, 123456789.12345678, -0.1
    frame.loc[3, value], frame.loc[4, value] = np.inf, 2.0 / 3.0
    return frame


def cells_of(path) -> list[list[tuple]]:
    """Every cell of the only sheet as (value, type, number format), empty cells as None."""
    sheet = openpyxl.load_workbook(path).worksheets[0]
    return [
        [None if c.value is None else (c.value, c.data_type, c.number_format) for c in row] for row in sheet.iter_rows()
    ]


def test_the_xml_rows_read_back_as_openpyxls_own_cells(handmade_case, tmp_path):
    table = handmade_case[0]
    frame = tricky_frame(table)
    cols = excel_tidy.columns(excel_tidy.KOMMUNE_KEYS)
    with excel_tidy.streamed_workbook(tmp_path / "fast.xlsx") as book:
        excel_tidy.write_sheet(book.create_sheet("Alle tal"), frame, cols, "titel", "note", True)
    reference = openpyxl.Workbook(write_only=True)
    sheet = reference.create_sheet("Alle tal")
    excel_tidy._write_top(sheet, frame, cols, "titel", "note", True)
    excel_tidy.append_rows(sheet, frame.replace([np.inf], np.nan), cols)  # openpyxl would write inf as an empty <v>
    reference.save(tmp_path / "reference.xlsx")

    fast, slow = cells_of(tmp_path / "fast.xlsx"), cells_of(tmp_path / "reference.xlsx")
    assert len(fast) == excel_tidy.HEADER_ROW + len(frame)
    assert fast == slow
    first = excel_tidy.FIRST_DATA_ROW - 1
    names = [row[KOMMUNE_HEADERS.index(H["afdeling_name"])] for row in fast[first : first + 6]]
    assert names[0][0] == "A & B <Bolig> \"1\" 'x'" and names[1][0] == "  indrykket"
    assert names[3] is None and len(names[4][0]) == 32767 and names[5][0] == "tab\there"
    values = [row[KOMMUNE_HEADERS.index(H["value"])] for row in fast[first : first + 5]]
    assert [v[0] if v else None for v in values] == [1e-12, stored(123456789.12345678), -0.1, None, stored(2 / 3)]
    # pandas reads the same frame back from both (the analysts' way in)
    pd.testing.assert_frame_equal(
        read(tmp_path / "fast.xlsx", "Alle tal"), read(tmp_path / "reference.xlsx", "Alle tal")
    )


def test_a_text_that_looks_like_a_formula_stays_text(handmade_case, tmp_path):
    frame = tricky_frame(handmade_case[0]).head(3).copy()
    frame.loc[0, H["afdeling_name"]] = '=HYPERLINK("http://x")'
    frame.loc[1, H["afdeling_name"]] = "#N/A"
    with excel_tidy.streamed_workbook(tmp_path / "a.xlsx") as book:
        excel_tidy.write_sheet(
            book.create_sheet("x"), frame, excel_tidy.columns(excel_tidy.KOMMUNE_KEYS), "t", "n", False
        )
    rows = cells_of(tmp_path / "a.xlsx")[excel_tidy.FIRST_DATA_ROW - 1 :]
    column = KOMMUNE_HEADERS.index(H["afdeling_name"])
    assert rows[0][column] == ('=HYPERLINK("http://x")', "s", "General")
    assert rows[1][column] == ("#N/A", "s", "General")


def test_a_character_xml_cannot_hold_names_column_and_row_and_keeps_the_earlier_file(handmade_case, tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"earlier")
    frame = tricky_frame(handmade_case[0]).head(4).copy()
    frame.loc[2, H["afdeling_name"]] = "bell\x07"
    error = pytest.raises(openpyxl.utils.exceptions.IllegalCharacterError, match=r"«Afdeling», række 7")
    with error, excel_tidy.streamed_workbook(path) as book:
        excel_tidy.write_sheet(
            book.create_sheet("x"), frame, excel_tidy.columns(excel_tidy.KOMMUNE_KEYS), "t", "n", False
        )
    assert path.read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]


def test_write_sheet_needs_a_streamed_workbook(handmade_case):
    book = openpyxl.Workbook(write_only=True)
    frame = tricky_frame(handmade_case[0]).head(2)
    with pytest.raises(TypeError, match="streamed_workbook"):
        excel_tidy.write_sheet(
            book.create_sheet("x"), frame, excel_tidy.columns(excel_tidy.KOMMUNE_KEYS), "t", "n", False
        )
