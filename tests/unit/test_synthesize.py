"""The synthetic dataset: deterministic, shaped like the real sector, consistent with the model and registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from kompas_helpers import agreements, compute, kommuner, model, registry, synthesize, synthetic_agreements
from kompas_helpers.io import datasets

SMALL = 0.05
YEARS = list(range(2021, 2026))
SECTOR_DWELLINGS = 592_959


@pytest.fixture(scope="module")
def full() -> model.Dataset:
    return synthesize.synthesize(seed=2025, scale=1.0)


@pytest.fixture(scope="module")
def small() -> model.Dataset:
    return synthesize.synthesize(seed=7, scale=SMALL)


@pytest.fixture(scope="module")
def wide(full: model.Dataset) -> pd.DataFrame:
    """Measures as one row per (year, unit_id), one column per measure, with static afdeling columns joined."""
    table = full.measures.pivot(index=["year", "unit_id"], columns="measure", values="value").reset_index()
    return table.merge(full.afdelinger.rename(columns={"afdeling_id": "unit_id"}), on="unit_id", how="left")


def _ratio(frame: pd.DataFrame, numerator: str, denominator: str) -> float:
    both = frame[[numerator, denominator]].dropna()
    return float(both[numerator].sum() / both[denominator].sum())


# --- determinism -------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_frames(small: model.Dataset) -> None:
    again = synthesize.synthesize(seed=7, scale=SMALL)
    for name in model.INPUT_TABLES:
        pdt.assert_frame_equal(small.table(name), again.table(name))
    assert small.provenance == again.provenance


def test_other_seed_gives_other_data(small: model.Dataset) -> None:
    other = synthesize.synthesize(seed=8, scale=SMALL)
    assert not other.afdelinger.equals(small.afdelinger)
    assert not other.measures.equals(small.measures)


def test_provenance_marks_the_data_as_synthetic(small: model.Dataset) -> None:
    assert small.synthetic
    assert small.provenance["seed"] == 7
    assert small.provenance["scale"] == SMALL
    assert small.provenance["generator"] == "kompas_helpers.synthesize"
    assert "Syntetiske data" in small.provenance["note_da"]
    assert not any("time" in key or "date" in key for key in small.provenance)


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="scale"):
        synthesize.synthesize(scale=0)


# --- model conformance -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(model.INPUT_TABLES))
def test_columns_dtypes_and_keys_match_the_model(full: model.Dataset, name: str) -> None:
    table = model.INPUT_TABLES[name]
    frame = full.table(name)
    assert list(frame.columns) == table.column_names
    for column in table.columns:
        values = frame[column.name]
        assert values.dtype == pd.api.types.pandas_dtype(model.canonical_dtype(column)), column.name
        if not column.nullable:
            assert values.notna().all(), column.name
        if column.allowed:
            assert set(values.dropna().unique()) <= set(column.allowed), column.name
        if column.min_value is not None:
            assert (values.dropna() >= column.min_value).all(), column.name
        if column.max_value is not None:
            assert (values.dropna() <= column.max_value).all(), column.name
    assert not frame.duplicated(list(table.key)).any()


def test_foreign_keys_hold(full: model.Dataset) -> None:
    codes = set(kommuner.table()["kommune_code"])
    assert set(full.afdelinger["organisation_id"]) == set(full.organisations["organisation_id"])
    assert set(full.afdelinger["kommune_code"]) <= codes
    assert set(full.organisations["hjemsted_kommune_code"]) <= codes
    assert set(full.kommune_context["kommune_code"]) == codes


def test_default_dataset_passes_input_validation(full: model.Dataset, tmp_path) -> None:
    """Every rule of `kompas data validate` holds, e.g. valid energy labels never exceed the afdeling's dwellings."""
    datasets.export_dataset(full, tmp_path / "export", "parquet")
    back = datasets.read_input([tmp_path / "export"])
    assert len(back.measures) == len(full.measures)
    pdt.assert_frame_equal(back.aftaler, full.aftaler)
    for name in registry.PART_OF_DWELLINGS:  # the rule is exercised, not vacuous
        counted = full.measures[full.measures["measure"] == name].merge(
            full.afdelinger[["afdeling_id", "dwellings"]], left_on="unit_id", right_on="afdeling_id"
        )
        assert counted["value"].notna().sum() > 0, name
        assert not (counted["value"] > counted["dwellings"]).any(), name


def test_sector_totals_at_scale_1(full: model.Dataset) -> None:
    assert 500 <= len(full.organisations) <= 600
    assert 7_000 <= len(full.afdelinger) <= 8_000
    assert abs(full.afdelinger["dwellings"].sum() / SECTOR_DWELLINGS - 1) <= 0.03
    assert full.years == YEARS
    assert sorted(full.kommune_context["year"].unique()) == YEARS


@pytest.mark.parametrize("fixture", ["full", "small"])
def test_every_kommune_has_an_afdeling(fixture: str, request: pytest.FixtureRequest) -> None:
    dataset = request.getfixturevalue(fixture)
    assert set(dataset.afdelinger["kommune_code"]) == set(kommuner.table()["kommune_code"])


def test_small_scale_shrinks_the_sector(small: model.Dataset) -> None:
    assert 20 <= len(small.organisations) <= 35
    assert abs(small.afdelinger["dwellings"].sum() / (SECTOR_DWELLINGS * SMALL) - 1) <= 0.03


def test_dwellings_per_afdeling_are_right_skewed(full: model.Dataset) -> None:
    dwellings = full.afdelinger["dwellings"]
    assert (dwellings < 10).mean() >= 0.05
    assert (dwellings < 5).sum() >= 1
    assert 30 <= dwellings.median() <= 60
    assert 120 <= dwellings.quantile(0.9) <= 260
    assert dwellings.max() <= 2_000


def test_regional_split(full: model.Dataset) -> None:
    afd = full.afdelinger.merge(kommuner.table(), on="kommune_code")
    share = afd.groupby("region")["dwellings"].sum() / afd["dwellings"].sum()
    expected = pd.Series(synthesize.REGION_SHARES)
    assert np.allclose(share.reindex(expected.index), expected, atol=0.02)


def test_organisations_are_pareto_like_and_local(full: model.Dataset) -> None:
    per_org = full.afdelinger.groupby("organisation_id").agg(
        dwellings=("dwellings", "sum"), kommuner=("kommune_code", "nunique")
    )
    assert per_org["dwellings"].median() < 1_000 < per_org["dwellings"].max() / 5
    assert (per_org["kommuner"] <= 3).mean() >= 0.7
    assert per_org["kommuner"].max() <= 25


def test_hjemsted_is_a_kommune_with_own_afdelinger(full: model.Dataset) -> None:
    own = set(zip(full.afdelinger["organisation_id"], full.afdelinger["kommune_code"], strict=True))
    orgs = full.organisations
    assert all(pair in own for pair in zip(orgs["organisation_id"], orgs["hjemsted_kommune_code"], strict=True))


def test_ids_and_names(full: model.Dataset) -> None:
    org_ids = full.organisations["organisation_id"]
    assert org_ids.str.fullmatch(r"\d{4,}").all() and org_ids.str.len().nunique() == 1
    afd = full.afdelinger
    assert afd["afdeling_id"].str.fullmatch(r"\d{4,}-\d{3,}").all()
    assert (afd["afdeling_id"].str.split("-").str[0] == afd["organisation_id"]).all()
    assert full.organisations["organisation_name"].is_unique
    assert not afd.duplicated(["organisation_id", "afdeling_name"]).any()


def test_area_designations(full: model.Dataset) -> None:
    status = full.afdelinger["area_status"].value_counts()
    assert status["udsat"] == 12 and status["parallelsamfund"] == 8 and status["omdannelse"] == 7
    assert 20 <= status["forebyggelse"] <= 80
    designated = full.afdelinger[full.afdelinger["area_status"] != "ingen"]
    assert designated["helhedsplan"].all() and (designated["dwellings"] >= 150).all()


# --- measures ----------------------------------------------------------------------------------------------------


def test_every_measure_is_known_and_at_its_level(full: model.Dataset) -> None:
    measures = full.measures
    assert set(measures["measure"].unique()) == set(registry.input_measures())
    units = {
        "afdeling": set(full.afdelinger["afdeling_id"]),
        "organisation": set(full.organisations["organisation_id"]),
    }
    for name, rows in measures.groupby("measure"):
        assert set(rows["unit_id"]) <= units[registry.measure_level(name)], name


def test_integer_measures_are_whole_and_within_bounds(full: model.Dataset) -> None:
    for name, rows in full.measures.dropna(subset=["value"]).groupby("measure"):
        measure = registry.MEASURES[name]
        values = rows["value"]
        assert (values >= measure.min_value).all(), name
        if measure.max_value is not None:
            assert (values <= measure.max_value).all(), name
        if measure.integer:
            assert (values == np.round(values)).all(), name


def test_numerators_never_exceed_denominators_for_shares(full: model.Dataset, wide: pd.DataFrame) -> None:
    for indicator in registry.INDICATORS.values():
        if indicator.unit != "%" or indicator.level == "kommune":
            continue
        both = wide[[indicator.numerator, indicator.denominator]].dropna()
        assert len(both), indicator.code
        assert (both[indicator.numerator] <= both[indicator.denominator]).all(), indicator.code
    # The labels' supporting figure and S2 (almene against all dwellings in the kommune).
    labels = wide[["dwellings_label_valid", "dwellings_label_ac", "dwellings"]].dropna()
    assert (labels["dwellings_label_ac"] <= labels["dwellings_label_valid"]).all()
    assert (labels["dwellings_label_valid"] <= labels["dwellings"]).all()
    almene = full.afdelinger.groupby("kommune_code")["dwellings"].sum()
    context = full.kommune_context.set_index("kommune_code")
    assert (context["dwellings_total"] >= almene.reindex(context.index)).all()


def test_no_measure_before_its_first_year(full: model.Dataset) -> None:
    first_year = full.measures.groupby("measure")["year"].min()
    for indicator in registry.INDICATORS.values():
        if indicator.first_year is None:
            continue
        for name in (indicator.numerator, indicator.denominator, *(s.measure for s in indicator.supporting)):
            if registry.MEASURES[name].source == "measures":
                assert first_year[name] == indicator.first_year, (indicator.code, name)
    assert first_year.min() == YEARS[0]


def test_missing_values_exist_as_empty_values_and_absent_rows(full: model.Dataset, wide: pd.DataFrame) -> None:
    measures = full.measures
    assert measures["value"].isna().any()
    # Absent rows: organisation measures are reported by fewer organisations than exist, more so in 2021.
    reported = measures[measures["measure"] == "employees"].dropna().groupby("year")["unit_id"].nunique()
    assert reported.max() < len(full.organisations)
    assert reported[2021] < reported[2025]
    # Register-based figures and rent exist for nearly every afdeling.
    afdeling_rows = wide[wide["dwellings"].notna()]
    for name in ("residents_18_64", "residents_18_64_in_work_or_education", "rent_kr"):
        present = afdeling_rows.groupby("year")[name].count() / len(full.afdelinger)
        assert (present >= 0.97).all(), name


def test_small_cells_occur_so_suppression_is_exercised(wide: pd.DataFrame, full: model.Dataset) -> None:
    survey = wide["survey_respondents"].dropna()
    assert ((survey > 0) & (survey < registry.MIN_PERSONS)).any()
    employees = full.measures.query("measure == 'employees'")["value"].dropna()
    assert (employees < registry.MIN_PERSONS).mean() > 0.2
    assert (full.afdelinger["residents"] < registry.MIN_REGISTER_RESIDENTS).mean() > 0.3


def test_national_ratios_are_plausible(full: model.Dataset, wide: pd.DataFrame) -> None:
    y2023 = wide[wide["year"] == 2023]
    assert 95 <= _ratio(y2023, "heat_kwh", "floor_area_m2") <= 140
    assert 8 <= _ratio(y2023, "co2e_kg", "floor_area_m2") <= 20
    assert 820 <= _ratio(y2023, "rent_kr", "floor_area_m2") <= 980
    assert 0.65 <= _ratio(y2023, "dwellings_label_ac", "dwellings") <= 0.8
    assert 0.6 <= _ratio(y2023, "residents_18_64_in_work_or_education", "residents_18_64") <= 0.75
    assert 0.7 <= _ratio(y2023, "satisfied_respondents", "survey_respondents") <= 0.9
    assert 300 <= _ratio(y2023, "residual_waste_kg", "dwellings") <= 400
    total = full.kommune_context.query("year == 2023")["dwellings_total"].sum()
    assert 0.18 <= full.afdelinger["dwellings"].sum() / total <= 0.23
    dwellings = full.afdelinger["dwellings"]
    assert 0.7 <= (full.afdelinger["floor_area_m2"].sum() / dwellings.sum()) / 76 <= 1.3
    assert 1.5 <= full.afdelinger["residents"].sum() / dwellings.sum() <= 1.9
    assert (full.afdelinger["heating"] == "fjernvarme").mean() > 0.9


def test_trends_over_the_years(wide: pd.DataFrame) -> None:
    by_year = {year: frame for year, frame in wide.groupby("year")}
    assert _ratio(by_year[2025], "heat_kwh", "floor_area_m2") < _ratio(by_year[2021], "heat_kwh", "floor_area_m2")
    assert _ratio(by_year[2025], "rent_kr", "floor_area_m2") > _ratio(by_year[2021], "rent_kr", "floor_area_m2")


def test_designated_areas_have_lower_life_chances(wide: pd.DataFrame) -> None:
    rows = wide[wide["year"] == 2023]
    designated = rows[rows["area_status"].isin(["udsat", "parallelsamfund", "omdannelse"])]
    others = rows[rows["area_status"] == "ingen"]
    work, adults = "residents_18_64_in_work_or_education", "residents_18_64"
    assert _ratio(designated, work, adults) < 0.6 < _ratio(others, work, adults)


# --- agreements (aftaler) ----------------------------------------------------------------------------------------


def test_agreements_for_every_organisation_made_in_its_tilsynskommune(full: model.Dataset) -> None:
    aftaler = full.aftaler
    per_org = aftaler.groupby("organisation_id").size()
    assert set(per_org.index) == set(full.organisations["organisation_id"])
    assert per_org.between(2, 4).all() and set(per_org) == {2, 3, 4}
    hjemsted = full.organisations.set_index("organisation_id")["hjemsted_kommune_code"]
    assert (aftaler["kommune_code"] == aftaler["organisation_id"].map(hjemsted)).all()
    assert set(aftaler["year_made"]) == {2021, 2022, 2023, 2024}
    assert aftaler["text"].str.len().min() > 20


def test_agreements_mix_indicators_and_free_text_and_due_and_not_due(full: model.Dataset) -> None:
    aftaler = full.aftaler
    tied = aftaler[aftaler["indicator"].notna()]
    free = aftaler[aftaler["indicator"].isna()]
    assert 0.35 <= len(tied) / len(aftaler) <= 0.65
    assert tied["indicator"].nunique() >= 8
    assert set(tied["indicator"]) <= set(synthetic_agreements.TIED_TEXTS)
    assert tied[["baseline", "target", "deadline_year"]].notna().all().all()
    assert free[["baseline", "target"]].isna().all().all()
    assert free["deadline_year"].notna().any() and free["deadline_year"].isna().any()
    assert set(free["text"]) <= set(synthetic_agreements.FREE_TEXTS)
    deadlines = aftaler["deadline_year"].dropna()
    assert deadlines.between(2024, 2027).all() and (deadlines >= aftaler.loc[deadlines.index, "year_made"]).all()
    assert (tied["deadline_year"] < 2025).any() and (tied["deadline_year"] > 2025).any()  # overdue and not yet due
    for row in tied.itertuples():  # every target is an improvement in the indicator's direction (or the top)
        indicator = registry.get(row.indicator)
        better = row.target > row.baseline if indicator.direction == "higher_better" else row.target < row.baseline
        assert better or row.target == row.baseline, row
        assert f"senest i {row.deadline_year}" in row.text


def test_agreements_draw_from_their_own_random_stream(small: model.Dataset, monkeypatch) -> None:
    """The other tables are the same with or without the agreements: they are drawn from a generator of their own."""
    monkeypatch.setattr(synthetic_agreements, "agreements", lambda *args: model.empty(model.AFTALER))
    without = synthesize.synthesize(seed=7, scale=SMALL)
    for name in ("organisations", "afdelinger", "measures", "kommune_context"):
        pdt.assert_frame_equal(without.table(name), small.table(name), check_exact=True)
    assert len(without.aftaler) == 0 < len(small.aftaler)


def test_agreement_baselines_are_the_computed_figures_and_every_status_occurs(small: model.Dataset) -> None:
    table = compute.indicator_table(small)
    tied = small.aftaler[small.aftaler["indicator"].notna()]
    for row in tied.itertuples(index=False):
        then = agreements.status(pd.DataFrame([row._asdict()]).astype(small.aftaler.dtypes), table, row.year_made)
        decimals = registry.get(row.indicator).decimals
        assert then["level"].iloc[0] in ("organisation_kommune", "organisation")
        assert round(then["current"].iloc[0], decimals) == row.baseline, row
    now = agreements.status(small.aftaler, table, 2025)
    assert {"opfyldt", "ikke på vej", "fri tekst", "kan ikke vurderes"} <= set(now["status"])
