"""The dialogue sheet of one organisation, on the hand-built dataset (every expectation worked out from handmade.py).

O1 Boligselskabet Nord has its hjemsted in København (101) and afdelinger there (Solgården, 100 dwellings) and in
Frederiksberg (Engparken, 50); O2 Boligforeningen Syd has its hjemsted in Aarhus (751: Fjordhusene, 200) and an
afdeling in København (Lille Toft, 4). Frederiksberg supervises no organisation.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from kompas_helpers import compute, registry
from kompas_helpers.bundle import Bundle
from kompas_helpers.errors import ParameterError
from kompas_helpers.organisation import afdelinger, agreements_view, completeness, facts, indicators, listing, questions
from tests.fixtures import handmade


def make_bundle(extra: list[tuple] | None = None) -> Bundle:
    dataset = handmade.dataset(handmade.all_2024() + (extra or []))
    return Bundle(dataset, compute.indicator_table(dataset), Path("handmade"), "0" * 64)


@pytest.fixture(scope="module")
def b() -> Bundle:
    return make_bundle()


def test_an_organisation_in_two_kommuner_has_its_tilsynskommune_first(b):
    o1 = facts.get(b, "O1")
    assert (o1.tilsynskommune, o1.kommuner, o1.afdelinger, o1.dwellings) == ("101", ("101", "147"), 2, 150)
    assert facts.get(b, "O2").kommuner == ("751", "101")  # the tilsynskommune first
    assert o1.sheet_path() == "101-københavn/organisationer/O1-boligselskabet-nord.html"
    with pytest.raises(ParameterError, match="Ukendt boligorganisation: «O9»"):
        facts.get(b, "O9")


def test_figures_are_split_by_kommune(b):
    split = indicators.kommune_table(b, "O1", 2024)
    assert list(split.columns) == ["Kode", "Målepunkt", "Enhed", "København", "Frederiksberg"]
    e1 = split[split["Kode"] == "E1"].iloc[0].tolist()
    # Solgården 960000/8000 = 120; Engparken 520000/4000 = 130.
    assert e1[3:] == ["120", "130"]
    whole = indicators.indicator_table(b, "O1", 2024)
    # The whole organisation: (960000 + 520000) / 12000 = 123.3; its tilsynskommune's figure 120; the country 110.
    row = whole[whole["Kode"] == "E1"].iloc[0]
    assert (row["Hele organisationen"], row["København"], row["Hele landet"]) == ("123", "120", "110")
    # Organisation-level indicators are not split: G4 for O1 is 7 of 10 policies.
    assert whole[whole["Kode"] == "G4"].iloc[0]["Hele organisationen"] == "70"
    assert "G4" not in set(split["Kode"])


def test_completeness_counts_and_reasons(monkeypatch):
    # Lille Toft reports 3 respondents (suppressed), and E4 is moved to start in 2025 (not applicable in 2024).
    e4 = dataclasses.replace(registry.get("E4"), first_year=2025)
    monkeypatch.setitem(registry.INDICATORS, "E4", e4)
    b = make_bundle([(2024, "O2-002", "survey_respondents", 3.0), (2024, "O2-002", "satisfied_respondents", 2.0)])
    c = completeness.completeness(b, "O2", 2024)
    # E1: Fjordhusene reported, Lille Toft did not (200 of 204 dwellings).
    assert (c.loc["E1", "reported_units"], c.loc["E1", "units"]) == (1, 2)
    assert c.loc["E1", "coverage"] == pytest.approx(200 / 204)
    assert c.loc["E1", "absent"] == [("Lille Toft", "ikke indberettet")]
    # S4: Lille Toft's 3 respondents are reported but hidden, and Fjordhusene with them (O2's total minus
    # Fjordhusene would give Lille Toft away).
    assert sorted(c.loc["S4", "absent"]) == [
        ("Fjordhusene", "udeladt af diskretionshensyn"),
        ("Lille Toft", "udeladt af diskretionshensyn"),
    ]
    assert bool(c.loc["S4", "complete"])  # the organisation's figure stands on all its dwellings
    assert not c.loc["E4", "applicable"]
    table = completeness.completeness_table(b, "O2", 2024)
    assert table[table["Kode"] == "E4"].iloc[0].tolist()[2:] == ["–", "–", "opgøres fra 2025"]
    assert table[table["Kode"] == "E1"].iloc[0].tolist()[2:] == [
        "1 af 2 afdelinger",
        "98 %",
        "Lille Toft (ikke indberettet)",
    ]
    done, of = completeness.score(b, "O2", 2024)
    assert of == 18  # 19 indicators an organisation reports, less E4 before its first year
    assert completeness.score_da(b, "O2", 2024) == f"{done} af 18 målepunkter indberettet for mindst 80 % af boligerne"


def test_no_afdeling_below_the_discretion_thresholds_is_named_with_its_figure(monkeypatch):
    monkeypatch.setattr(afdelinger, "N_EXTREMES", 1)
    b = make_bundle([(2024, "O2-002", "survey_respondents", 3.0), (2024, "O2-002", "satisfied_respondents", 2.0)])
    # S4: Lille Toft (3 respondents) is suppressed, and Fjordhusene with it (secondary): neither may be named.
    assert afdelinger.extremes(b, "O2", 2024, "S4").empty
    b_ok = make_bundle()
    shown = afdelinger.extremes(b_ok, "O2", 2024, "S4")
    # With Lille Toft's 8 respondents (6 satisfied, 75 %) both may be shown.
    assert shown["Afdeling"].tolist() == ["Lille Toft (O2-002)", "Fjordhusene (O2-001)"]
    assert shown["S4 (%)"].tolist() == ["75", "70"]


def test_afdelinger_table_has_flags_beside_the_facts(b):
    table = afdelinger.afdelinger_table(b, "O2")
    assert table["Afdeling"].tolist() == ["Fjordhusene (O2-001)", "Lille Toft (O2-002)"]  # Aarhus first
    assert table.iloc[0].tolist()[1:4] == ["Aarhus", "200", "2012"]
    assert afdelinger.flags_da("udsat", True) == "udsat boligområde, helhedsplan"


def test_a_kommune_without_supervised_organisations_points_to_those_that_hold_the_dialogue(b):
    html = listing.listing_html(b, "147", 2024)
    assert "Frederiksberg fører ikke tilsyn med nogen boligorganisation" in html
    assert 'href="../101-k%C3%B8benhavn/organisationer/O1-boligselskabet-nord.html"' in html
    assert "styringsdialog i København" in html
    own = listing.listing_html(b, "101", 2024)
    assert 'href="organisationer/O1-boligselskabet-nord.html"' in own
    assert "Boligforeningen Syd" in own and "styringsdialog i Aarhus" in own  # Lille Toft lies in København


def test_questions_name_the_organisation(b):
    q = questions.organisation_questions(b, "O1", 2024)
    assert list(q.columns) == ["Anledning", "Målepunkt", "Spørgsmål"]
    assert all("Boligselskabet Nord" in text or not text.startswith("For ") for text in q["Spørgsmål"])
    assert "Diskretion" not in set(q["Anledning"])


def _with_agreements() -> Bundle:
    from kompas_helpers import model

    dataset = handmade.dataset(handmade.all_2024())
    rows = pd.DataFrame(
        {
            "kommune_code": ["101", "101", "751"],
            "organisation_id": ["O1", "O1", "O2"],
            "agreement_id": ["A1", "A2", "B1"],
            "year_made": [2024, 2024, 2024],
            "text": ["Varmeforbruget sænkes til 100 kWh/m².", "Et fælles møde om boligsocial indsats.", "Mere A–C."],
            "indicator": ["E1", None, "E3"],
            "baseline": [120.0, None, 90.0],
            "target": [100.0, None, 99.0],
            "deadline_year": [2025, None, 2026],
        }
    )
    dataset.aftaler = model.canonicalise(model.AFTALER, rows)
    return Bundle(dataset, compute.indicator_table(dataset), Path("handmade"), "0" * 64)


def test_agreements_are_followed_up_in_the_sheet_and_counted_for_the_kommune():
    b = _with_agreements()
    table = agreements_view.agreements_table(b, "O1", 2025)
    assert table["Aftale"].tolist() == ["A1", "A2"]
    # A1: Solgården's heat in København fell from 120 to 110 kWh/m² in 2025 (880000/8000); the target 100 by 2025
    # is missed.
    a1 = table.iloc[0]
    assert (a1["Udgangspunkt"], a1["Mål"], a1["Frist"], a1["Tal 2025"], a1["Status"]) == (
        "120 kWh/m²", "100 kWh/m²", "2025", "110 kWh/m²", "ikke på vej",
    )  # fmt: skip
    assert table.iloc[1]["Status"] == "fri tekst"
    assert agreements_view.counts(b, "O1", 2025, "101") == (1, 2)
    assert "1 af 2 aftaler ikke på vej" in listing.listing_html(b, "101", 2025)


def test_the_kommunes_workbook_has_its_agreements_with_status(tmp_path):
    import openpyxl

    from kompas_helpers import agreements, excel

    b = _with_agreements()
    made = b.dataset.aftaler[b.dataset.aftaler["kommune_code"] == "101"].reset_index(drop=True)
    path = tmp_path / "nøgletal.xlsx"
    excel.write_workbook(
        path, b.table, "101", provenance={"synthetic": True}, data_hash="0" * 64, version="0",
        organisations=b.dataset.organisations, agreements=agreements.status(made, b.table, 2025),
    )  # fmt: skip
    sheet = openpyxl.load_workbook(path)[excel.SHEET_AGREEMENTS]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=excel.FIRST_DATA_ROW)]
    assert [r[2] for r in rows] == ["A1", "A2"]
    assert rows[0][6:11] == [120, 100, 2025, pytest.approx(880000 / 8000), "ikke på vej"]
    assert rows[1][5] is None and rows[1][10] == "fri tekst"  # no indicator: the cells stay empty, not 0


def test_the_dashboard_links_to_each_organisations_page(b):
    html = listing.page_links_html(b, "101")
    assert 'href="organisation.ipynb?organisation=O1"' in html and 'href="organisation.ipynb?organisation=O2"' in html
    assert "(tilsyn: Aarhus)" in html  # O2 is supervised elsewhere
