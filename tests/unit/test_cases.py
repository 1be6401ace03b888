"""The cases a kommune analyst found misleading, pinned on the default synthetic data."""

from __future__ import annotations

import pandas as pd
import pytest

from kompas_helpers import bundle, paths, peers, registry
from kompas_helpers.report import indicator, overview, questions


@pytest.fixture(scope="module")
def table():
    if not (paths.DEFAULT_DATA_DIR / "provenance.json").exists():
        pytest.fail("the synthetic default data is missing: run `make data`")
    return bundle.load().table


def rows(table, code: str, year: int, kommune_code: str):
    t = table
    return t[(t["indicator"] == code) & (t["year"] == year) & (t["kommune_code"] == kommune_code)]


def test_laesoe_volunteers_are_not_revealed_at_any_level(table):
    # Læsø (825) has one afdeling; in 2025 it reported 4 volunteers for 79 dwellings. Shown as 5,1 per 100 boliger
    # the figure revealed the four persons; now it is suppressed at the afdeling, organisation and kommune level.
    g2 = rows(table, "G2", 2025, "825")
    assert set(g2["level"].astype(str)) == {"afdeling", "organisation_kommune", "kommune"}
    assert (g2["status"] == "suppressed").all()
    assert g2["value"].isna().all()


def test_no_person_based_figure_about_fewer_than_five_persons_anywhere(table):
    about = {"S1": "denominator", "S4": "denominator", "S5": "denominator", "G1": "numerator", "G2": "numerator"}
    for code, column in about.items():
        shown = table[(table["indicator"] == code) & (table["status"] == "reported")]
        assert (shown[column] >= registry.MIN_PERSONS).all(), code


@pytest.fixture(scope="module")
def default_bundle():
    return bundle.load()


def test_laesoe_gets_no_verdict_and_no_rank_from_a_single_afdeling(table):
    for code in ("G1", "G3", "E1"):
        kommune = rows(table, code, 2025, "825")
        kommune = kommune[kommune["level"] == "kommune"].iloc[0]
        assert kommune["verdict"] == "too_few", code
        assert pd.isna(kommune["rank"]), code


def test_aarhus_s4_at_18_percent_coverage_gets_no_verdict_and_no_question(table, default_bundle):
    s4 = rows(table, "S4", 2025, "751")
    s4 = s4[s4["level"] == "kommune"].iloc[0]
    assert s4["coverage"] < registry.MIN_COVERAGE_FOR_VERDICT
    assert s4["verdict"] == "too_few" and pd.isna(s4["rank"])
    q = questions.data_questions(default_bundle, "751", 2025)
    s4_questions = q[q["Målepunkt"] == "S4 Livskvalitet og sundhed"]
    assert list(s4_questions["Anledning"]) == ["Datadækning"]  # asked who has not reported, not why it differs


def test_aarhus_rent_rising_with_the_country_raises_no_trend_question(default_bundle):
    q = questions.data_questions(default_bundle, "751", 2025)
    assert "S8 Almenboligers betalbarhed" not in set(q.loc[q["Anledning"] == "Udvikling", "Målepunkt"])


def test_aarhus_context_figures_are_not_asked_to_approach_the_country(default_bundle):
    q = questions.data_questions(default_bundle, "751", 2025)
    for code in ("S3 Livschancer", "E4 Sårbarhed for klimaændringer", "S6 Funktioner i området"):
        asked = q[q["Målepunkt"] == code]
        assert not asked["Spørgsmål"].str.contains("landsniveauet").any()
        assert set(asked["Anledning"]) <= {"Forhold i kommunen", "Datadækning"}


def test_koebenhavn_rent_is_compared_with_similar_kommuner(default_bundle):
    groups = peers.peer_groups_of(default_bundle)
    members = groups.of("kommune", "101")
    assert len(members) == peers.PEER_SIZE and "101" not in members
    # The big cities are København's nearest peers on size, share and building stock.
    assert {"751", "851", "461"} <= set(members)
    table = indicator.comparison_table(default_bundle, "101", 2025, "S8")
    assert table["Niveau"].tolist()[:2] == ["København", overview.PEERS_DA]
    t = default_bundle.table
    peer_rows = t[(t["indicator"] == "S8") & (t["year"] == 2025) & (t["level"] == "kommune")]
    peer_rows = peer_rows[peer_rows["kommune_code"].isin(members)]
    expected = peer_rows["numerator"].sum() / peer_rows["denominator"].sum()
    kbh = rows(t, "S8", 2025, "101")
    assert kbh[kbh["level"] == "kommune"].iloc[0]["peer_value"] == pytest.approx(expected)
