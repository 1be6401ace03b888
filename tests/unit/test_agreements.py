"""The status of agreements (aftaler), judged by hand from a hand-made indicator table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompas_helpers import agreements, model

NA = np.nan
YEAR = 2025

# A hand-made slice of the indicator table: boligorganisation 0101 in kommune 101 in 2025.
TABLE = pd.DataFrame(
    [
        ("E1", YEAR, "organisation_kommune", "0101", "101", 104.4, "reported"),
        ("E3", YEAR, "organisation_kommune", "0101", "101", 62.0, "reported"),
        ("E6", YEAR, "organisation_kommune", "0101", "101", NA, "not_applicable"),
        ("G4", YEAR, "organisation", "0101", "101", NA, "suppressed"),
        ("G5", YEAR, "organisation", "0101", "101", NA, "missing"),
        ("S5", YEAR, "organisation", "0101", "101", 45.0, "reported"),
    ],
    columns=["indicator", "year", "level", "unit_id", "kommune_code", "value", "status"],
).astype({"indicator": "category", "level": "category", "unit_id": "category", "kommune_code": "category"})

# id: (kommune, year made, indicator, baseline, target, deadline) -> (level, current, expected, status, reason)
CASES = {
    "reached-at-shown-precision": (
        ("101", 2022, "E1", 120.0, 104.0, 2026),
        ("organisation_kommune", 104.4, NA, "opfyldt", "målet er nået: 104 kWh/m² i 2025 (mål: 104 kWh/m²)"),
    ),
    "ahead-of-the-line": (
        ("101", 2023, "E1", 120.0, 100.0, 2027),
        (
            "organisation_kommune", 104.4, 110.0, "på vej",
            "104 kWh/m² i 2025 er mindst lige så godt som 110 kWh/m² på den lige linje fra 120 kWh/m² i 2023 til "
            "100 kWh/m² i 2027",
        ),
    ),
    "behind-the-line": (
        ("101", 2022, "E3", 50.0, 80.0, 2026),
        (
            "organisation_kommune", 62.0, 72.5, "ikke på vej",
            "62 % i 2025 er bagefter den lige linje fra 50 % i 2022 til 80 % i 2026, som giver 72 %",
        ),
    ),
    "deadline-passed": (
        ("101", 2021, "E3", 50.0, 70.0, 2024),
        (
            "organisation_kommune", 62.0, NA, "ikke på vej",
            "målet skulle være nået i 2024, men tallet er 62 % i 2025 (mål: 70 %)",
        ),
    ),
    "deadline-year-itself-counts": (
        ("101", 2021, "E3", 50.0, 70.0, 2025),
        (
            "organisation_kommune", 62.0, NA, "ikke på vej",
            "målet skulle være nået i 2025, men tallet er 62 % i 2025 (mål: 70 %)",
        ),
    ),
    "suppressed": (
        ("101", 2023, "G4", 70.0, 90.0, 2026),
        ("organisation", NA, NA, "kan ikke vurderes", "tallet for 2025 er udeladt af diskretionshensyn"),
    ),
    "missing-after-deadline": (
        ("101", 2022, "G5", 60.0, 80.0, 2024),
        ("organisation", NA, NA, "kan ikke vurderes", "mangler data for 2025"),
    ),
    "missing-before-deadline": (
        ("101", 2024, "G5", 60.0, 80.0, 2027),
        (
            "organisation", NA, NA, "kan ikke vurderes",
            "fristen (2027) er ikke nået, og der er ingen tal for 2025 endnu",
        ),
    ),
    "not-measured": (
        ("101", 2022, "E6", 400.0, 360.0, 2026),
        ("organisation_kommune", NA, NA, "kan ikke vurderes", "målepunktet er ikke opgjort for 2025"),
    ),
    "no-baseline-before-deadline": (
        ("101", 2023, "E1", NA, 100.0, 2027),
        (
            "organisation_kommune", 104.4, NA, "kan ikke vurderes",
            "aftalen har ingen udgangsværdi, så fremdriften kan ikke måles før fristen (2027)",
        ),
    ),
    "made-after-the-year": (
        ("101", 2026, "E1", 104.0, 95.0, 2028),
        ("organisation_kommune", NA, NA, "kan ikke vurderes", "aftalen er først indgået i 2026"),
    ),
    "no-afdelinger-in-the-kommune": (
        ("147", 2023, "E1", 120.0, 100.0, 2027),
        ("organisation_kommune", NA, NA, "kan ikke vurderes", "boligorganisationen har ingen afdelinger i kommunen"),
    ),
    "no-direction-without-baseline": (
        ("101", 2023, "S5", NA, 50.0, 2027),
        (
            "organisation", 45.0, NA, "kan ikke vurderes",
            "målepunktet har ingen bedre eller dårligere retning, og aftalen har ingen udgangsværdi at måle fra",
        ),
    ),
    "direction-from-baseline-to-target": (
        ("101", 2023, "S5", 40.0, 50.0, 2027),
        (
            "organisation", 45.0, 45.0, "på vej",
            "45 % i 2025 er mindst lige så godt som 45 % på den lige linje fra 40 % i 2023 til 50 % i 2027",
        ),
    ),
    "free-text": (
        ("101", 2023, None, NA, NA, None),
        (None, NA, NA, "fri tekst", "aftalen har intet målepunkt og vurderes på mødet"),
    ),
    "free-text-with-deadline": (
        ("101", 2022, None, NA, NA, 2024),
        (None, NA, NA, "fri tekst", "aftalen har intet målepunkt og vurderes på mødet; fristen er 2024"),
    ),
}  # fmt: skip


def _aftaler(cases: dict) -> pd.DataFrame:
    rows = [
        (kommune, "0101", name, made, f"Aftale {name}", code, baseline, target, deadline)
        for name, ((kommune, made, code, baseline, target, deadline), _) in cases.items()
    ]
    frame = pd.DataFrame(rows, columns=model.AFTALER.column_names)
    return model.canonicalise(model.AFTALER, frame)


@pytest.fixture(scope="module")
def judged() -> pd.DataFrame:
    return agreements.status(_aftaler(CASES), TABLE, YEAR).set_index("agreement_id")


@pytest.mark.parametrize("name", list(CASES))
def test_each_status_and_reason(judged: pd.DataFrame, name: str) -> None:
    level, current, expected, status, reason = CASES[name][1]
    row = judged.loc[name]
    assert (row["level"] if pd.notna(row["level"]) else None) == level
    np.testing.assert_equal(row["current"], current)
    assert row["expected"] == pytest.approx(expected, nan_ok=True)
    assert row["status"] == status
    assert row["reason"] == reason


def test_every_status_occurs_and_the_columns_are_the_input_plus_the_judgement(judged: pd.DataFrame) -> None:
    assert set(judged["status"]) == set(agreements.STATUSES)
    out = agreements.status(_aftaler(CASES), TABLE, YEAR)
    assert list(out.columns) == [*model.AFTALER.column_names, *agreements.STATUS_COLUMNS]
    pd.testing.assert_frame_equal(out[model.AFTALER.column_names], _aftaler(CASES))
    assert str(out["status"].dtype) == "string" and out["current"].dtype == "float64"


def test_no_agreements_give_an_empty_frame_with_every_column() -> None:
    out = agreements.status(model.empty(model.AFTALER), TABLE, YEAR)
    assert len(out) == 0
    assert list(out.columns) == [*model.AFTALER.column_names, *agreements.STATUS_COLUMNS]


def test_the_rule_is_written_in_danish() -> None:
    rule = agreements.status_rule_da()
    for word in ("fri tekst", "opfyldt", "ikke på vej", "på vej", "kan ikke vurderes", "lige linje", "decimaler"):
        assert word in rule, word
    for status in agreements.STATUSES:  # and the module's docstring states the same rule in English
        assert f"``{status}``" in agreements.__doc__, status
