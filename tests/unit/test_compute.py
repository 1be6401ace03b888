"""The indicator table on a hand-built dataset: every expected value below was computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompas_helpers import compute, registry
from tests.fixtures import handmade


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return compute.indicator_table(handmade.dataset(handmade.all_2024()))


def row(table: pd.DataFrame, indicator: str, year: int, level: str, unit_id: str, kommune_code: str | None = None):
    sel = (
        (table["indicator"] == indicator)
        & (table["year"] == year)
        & (table["level"] == level)
        & (table["unit_id"] == unit_id)
    )
    if kommune_code is not None:
        sel &= table["kommune_code"] == kommune_code
    found = table[sel]
    assert len(found) == 1, f"expected one row for {indicator} {year} {level} {unit_id}, got {len(found)}"
    return found.iloc[0]


# (indicator, level, unit, expected unit value, expected national value) for 2024, by hand from handmade.py.
EXPECTED_2024 = [
    ("E1", "afdeling", "O1-001", 120.0, 2980000 / 27000),
    ("E2", "afdeling", "O1-001", 12.0, 256000 / 27000),
    ("E3", "afdeling", "O1-001", 80.0, 330 / 354 * 100),
    ("E4", "afdeling", "O1-001", 10.0, 14 / 354 * 100),
    ("E5", "afdeling", "O2-001", 20.0, 5000 / 35000 * 100),
    ("E6", "afdeling", "O1-002", 300.0, 131200 / 354),
    ("S1", "organisation", "O1", None, 3210 / 43),
    ("S2", "kommune", "101", 20.0, 354 / 2020 * 100),
    ("S3", "organisation", "O1", 121 / 165 * 100, 243 / 369 * 100),
    ("S4", "afdeling", "O2-001", 70.0, 151 / 198 * 100),
    ("S5", "organisation", "O2", 60.0, 38 / 80 * 100),
    ("S6", "afdeling", "O1-002", 50.0, 275 / 354 * 100),
    ("S7", "afdeling", "O1-001", 10.0, 29 / 354 * 100),
    ("S8", "afdeling", "O1-001", 950.0, 23270000 / 27300),
    ("G1", "afdeling", "O2-001", 15.0, 47 / 350 * 100),
    # O1-001 (5 volunteers) is hidden too: O1-002 in another kommune has 2, and O1 as a whole would give them away.
    ("G2", "afdeling", "O2-001", 5.0, 17 / 350 * 100),
    ("G3", "afdeling", "O1-002", 5.0, 74000 / 27300),
    ("G4", "organisation", "O1", 70.0, 16 / 20 * 100),
    ("G5", "organisation", "O1", 75.0, 21 / 30 * 100),
    ("G6", "organisation", "O2", 75.0, 14 / 16 * 100),
]


def test_every_registry_entry_has_a_hand_computed_case():
    assert [c for c, *_ in EXPECTED_2024] == list(registry.CODES)


@pytest.mark.parametrize("code,level,unit,expected_unit,expected_national", EXPECTED_2024)
def test_indicator_values(table, code, level, unit, expected_unit, expected_national):
    r = row(table, code, 2024, level, unit)
    if expected_unit is None:
        assert r["status"] == "suppressed"
        assert np.isnan(r["value"])
    else:
        assert r["status"] == "reported"
        assert r["value"] == pytest.approx(expected_unit)
    nat = row(table, code, 2024, "national", "DK")
    assert nat["status"] == "reported"
    assert nat["value"] == pytest.approx(expected_national)


def test_registry_both_ways(table):
    computed = set(table["indicator"].unique())
    assert computed == set(registry.CODES)
    for code in registry.CODES:
        reported = table[(table["indicator"] == code) & (table["status"] == "reported")]
        assert not reported.empty, f"{code} computed no figure"


def test_e1_every_level_by_hand(table):
    assert row(table, "E1", 2024, "organisation", "O1")["value"] == pytest.approx(1480000 / 12000)
    assert row(table, "E1", 2024, "organisation_kommune", "O1", "147")["value"] == pytest.approx(130.0)
    k101 = row(table, "E1", 2024, "kommune", "101")
    assert k101["value"] == pytest.approx(120.0)  # the small afdeling did not report and is not counted as zero
    assert k101["coverage"] == pytest.approx(100 / 104)
    assert k101["n_units"] == 1
    assert k101["n_dwellings"] == 100
    hov = row(table, "E1", 2024, "region", "Region Hovedstaden")
    assert hov["value"] == pytest.approx(1480000 / 12000)
    assert row(table, "E1", 2024, "organisation_kommune", "O2", "101")["status"] == "missing"


def test_ratio_of_sums_not_mean_of_ratios(table):
    org = row(table, "E1", 2025, "organisation", "O2")
    # (1,425,000 + 30,000) / (15,000 + 300), not (95 + 100) / 2
    assert org["value"] == pytest.approx(1455000 / 15300)
    assert org["value"] != pytest.approx(97.5)


def test_kommuner_with_too_few_afdelinger_are_not_ranked(table):
    # Every kommune of the hand-made data has one or two afdelinger: below the minimum for a verdict or a rank.
    kommuner = table[(table["level"] == "kommune") & (table["indicator"] == "E1") & (table["status"] == "reported")]
    assert len(kommuner) and kommuner["rank"].isna().all()
    assert set(kommuner["verdict"]) == {"too_few"}


def test_change_and_rank(monkeypatch):
    monkeypatch.setattr(registry, "MIN_UNITS_FOR_VERDICT", 1)
    table = compute.indicator_table(handmade.dataset(handmade.all_2024()))
    assert row(table, "E1", 2025, "afdeling", "O1-001")["change"] == pytest.approx(-10.0)
    assert np.isnan(row(table, "E1", 2024, "afdeling", "O1-001")["change"])
    assert row(table, "E1", 2025, "national", "DK")["change"] == pytest.approx(2335000 / 23300 - 2980000 / 27000)
    # lower is better for E1: Aarhus (100) ranks first, Frederiksberg (130) last
    assert row(table, "E1", 2024, "kommune", "751")["rank"] == 1
    assert row(table, "E1", 2024, "kommune", "147")["rank"] == 3
    assert row(table, "E1", 2024, "kommune", "751")["percentile"] == 100
    assert row(table, "E1", 2024, "kommune", "147")["percentile"] == 0
    # higher is better for E3: Frederiksberg and Aarhus at 100 % share first place
    assert row(table, "E3", 2024, "kommune", "147")["rank"] == 1
    assert row(table, "E3", 2024, "kommune", "101")["rank"] == 3


def test_not_applicable_before_first_year():
    extra = [(2022, "O1-001", "dwellings_climate_exposed", 5.0), (2022, "O1-001", "heat_kwh", 900000.0)]
    t = compute.indicator_table(handmade.dataset(extra))
    assert row(t, "E4", 2022, "afdeling", "O1-001")["status"] == "not_applicable"
    assert row(t, "E1", 2022, "afdeling", "O1-001")["status"] == "reported"


def test_primary_suppression_of_small_counts(table):
    # S1: 3 respondents in O2
    assert row(table, "S1", 2024, "organisation", "O2")["status"] == "suppressed"
    assert row(table, "S4", 2024, "afdeling", "O2-002")["status"] == "reported"
    # G1: an afdeling of 4 households
    t = compute.indicator_table(handmade.dataset([(2025, "O2-002", "households_represented", 2.0)]))
    assert row(t, "G1", 2025, "afdeling", "O2-002")["status"] == "suppressed"
    # S3 is register data: afdelinger under 100 residents are never shown
    assert row(table, "S3", 2024, "afdeling", "O1-002")["status"] == "suppressed"


def test_survey_with_few_respondents_is_hidden_with_its_complement():
    extra = [(2025, "O1-001", "survey_respondents", 60.0), (2025, "O1-001", "satisfied_respondents", 48.0),
             (2025, "O2-001", "survey_respondents", 100.0), (2025, "O2-001", "satisfied_respondents", 70.0),
             (2025, "O2-002", "survey_respondents", 3.0), (2025, "O2-002", "satisfied_respondents", 3.0)]  # fmt: skip
    t = compute.indicator_table(handmade.dataset(extra))
    assert row(t, "S4", 2025, "afdeling", "O2-002")["status"] == "suppressed"
    # Kommune 101 = O1-001 + O2-002: publishing O1's part there would reveal O2-002.
    assert row(t, "S4", 2025, "organisation_kommune", "O1", "101")["status"] == "suppressed"
    assert row(t, "S4", 2025, "national", "DK")["value"] == pytest.approx(121 / 163 * 100)


def test_secondary_suppression_protects_the_complement(table):
    # O2's S1 figure would follow from the national total minus O1's, so O1 is hidden as well.
    assert row(table, "S1", 2024, "organisation", "O1")["status"] == "suppressed"
    nat = row(table, "S1", 2024, "national", "DK")
    assert nat["status"] == "reported" and nat["n_persons"] == 43


def test_suppressed_rows_carry_no_numbers(table):
    sup = table[table["status"] == "suppressed"]
    assert not sup.empty
    assert sup[["value", "numerator", "denominator", "n_persons", "change", "rank"]].isna().all().all()


def test_audit_finds_no_leak(table):
    from kompas_helpers import disclosure

    assert disclosure.violations(table) == []


def test_kommune_share_is_context_and_ranked_by_size(table):
    assert registry.get("S2").direction == "context"
    assert row(table, "S2", 2024, "region", "Region Hovedstaden")["value"] == pytest.approx(154 / 1020 * 100)
    assert row(table, "S2", 2024, "kommune", "147")["rank"] == 3


def test_missing_is_not_zero():
    ds = handmade.dataset()
    t = compute.indicator_table(ds)
    r = row(t, "E1", 2024, "afdeling", "O2-002")
    assert r["status"] == "missing" and np.isnan(r["value"])


def test_every_kommune_has_a_row_for_every_indicator_and_year(table):
    k = table[table["level"] == "kommune"]
    counts = k.groupby(["indicator", "year"], observed=True).size()
    assert len(counts) == 20 * 2
    assert (counts == 98).all()
    # Læsø has no almene organisations in the fixture: its S1 row says missing, not zero.
    laeso = row(table, "S1", 2024, "kommune", "825")
    assert laeso["status"] == "missing" and np.isnan(laeso["value"])


def test_every_region_has_a_row_for_every_indicator_and_year(table):
    regions = table[table["level"] == "region"]
    counts = regions.groupby(["indicator", "year"], observed=True).size()
    assert len(counts) == 20 * 2 and (counts == 5).all()
    # The fixture has no afdeling in Region Nordjylland: its rows say missing, never zero.
    nord = row(table, "E1", 2024, "region", "Region Nordjylland")
    assert nord["status"] == "missing" and nord["n_units"] == 0 and np.isnan(nord["value"])


def test_kommune_without_units_before_first_year_is_not_applicable():
    t = compute.indicator_table(handmade.dataset())
    years = sorted(t["year"].unique())
    before = [y for y in years if y < registry.get("G5").first_year]
    for year in before:
        assert row(t, "G5", year, "kommune", "825")["status"] == "not_applicable"


def test_table_is_sorted_by_indicator_year_level_kommune_unit(table):
    from kompas_helpers import disclosure

    key = disclosure.row_keys(table, ["indicator", "year", "level", "kommune_code", "unit_id"])
    assert (np.diff(key) > 0).all()
    assert list(table["level"].cat.categories) == list(compute.LEVELS)


def test_change_is_the_difference_to_the_same_unit_a_year_earlier():
    from kompas_helpers import synthesize

    t = compute.indicator_table(synthesize.synthesize(seed=7, scale=0.02))
    keys = ["indicator", "level", "unit_id", "kommune_code"]
    prev = t.assign(year=t["year"] + 1)[[*keys, "year", "value"]].rename(columns={"value": "previous"})
    merged = t.merge(prev, on=[*keys, "year"], how="left", validate="one_to_one")
    expected = merged["value"] - merged["previous"]
    assert merged["change"].notna().sum() > 1000
    np.testing.assert_allclose(merged["change"].to_numpy(), expected.to_numpy(), equal_nan=True)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda t: t.assign(coverage=t["coverage"].where(
            t.index != t["coverage"].notna().idxmax(), 1.5)), id="coverage above 1"),
        pytest.param(lambda t: t.assign(denominator=t["denominator"].where(
            t.index != t["denominator"].notna().idxmax(), 0.0)), id="zero denominator"),
        pytest.param(lambda t: t.assign(rank=t["rank"].where(t.index != t["rank"].notna().idxmax(), 0.0)),
                     id="rank below 1"),
        pytest.param(lambda t: t.iloc[::-1].reset_index(drop=True), id="rows out of order"),
        pytest.param(lambda t: pd.concat([t.iloc[:1], t]).reset_index(drop=True), id="duplicate row"),
    ],
)  # fmt: skip
def test_schema_rejects_a_spoilt_table(table, spoil):
    import pandera.errors

    from kompas_helpers.schemas import INDICATOR_TABLE_SCHEMA

    INDICATOR_TABLE_SCHEMA.validate(table)
    with pytest.raises(pandera.errors.SchemaError):
        INDICATOR_TABLE_SCHEMA.validate(spoil(table.copy()))


def test_order_check_works_across_its_slices(table):
    from kompas_helpers.schemas import _unique_and_in_order

    assert _unique_and_in_order(table, chunk=7)
    # Swap the rows on either side of a slice boundary: only the overlap between slices can see it.
    swapped = table.take([*range(6), 7, 6, *range(8, len(table))]).reset_index(drop=True)
    assert not _unique_and_in_order(swapped, chunk=7)
    assert not _unique_and_in_order(pd.concat([table.iloc[:8], table.iloc[7:]]).reset_index(drop=True), chunk=7)
