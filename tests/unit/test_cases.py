"""The cases a kommune analyst found misleading, pinned on the default synthetic data."""

from __future__ import annotations

import pytest

from kompas_helpers import bundle, paths, registry


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
