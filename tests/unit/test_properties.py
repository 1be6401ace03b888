"""Property tests: aggregation and suppression invariants on random small datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kompas_helpers import compute, disclosure, model, registry

KOMMUNER = ["101", "147", "751", "461"]
ORGS = ["A", "B", "C"]


@st.composite
def datasets(draw) -> model.Dataset:
    n = draw(st.integers(min_value=1, max_value=10))
    afd = pd.DataFrame(
        {
            "afdeling_id": [f"X{i:02d}" for i in range(n)],
            "organisation_id": draw(st.lists(st.sampled_from(ORGS), min_size=n, max_size=n)),
            "kommune_code": draw(st.lists(st.sampled_from(KOMMUNER), min_size=n, max_size=n)),
            "afdeling_name": [f"Afdeling {i}" for i in range(n)],
            "dwellings": draw(st.lists(st.integers(1, 300), min_size=n, max_size=n)),
            "outdoor_area_m2": 1000.0,
            "residents": draw(st.lists(st.integers(0, 500), min_size=n, max_size=n)),
            "year_built": 1970,
            "housing_type": "familie",
            "heating": "fjernvarme",
            "area_status": "ingen",
            "helhedsplan": False,
        }
    )
    afd["floor_area_m2"] = afd["dwellings"] * 75.0
    rows = []
    for year in (2024, 2025):
        for a in afd.itertuples():
            if draw(st.booleans()):
                rows.append((year, a.afdeling_id, "heat_kwh", a.floor_area_m2 * draw(st.floats(40, 220))))
            respondents = draw(st.integers(0, 40))
            rows.append((year, a.afdeling_id, "survey_respondents", float(respondents)))
            rows.append((year, a.afdeling_id, "satisfied_respondents", float(draw(st.integers(0, respondents)))))
            rows.append((year, a.afdeling_id, "households_represented", float(draw(st.integers(0, a.dwellings)))))
    measures = pd.DataFrame(rows, columns=["year", "unit_id", "measure", "value"])
    orgs = pd.DataFrame({"organisation_id": ORGS, "organisation_name": ORGS, "hjemsted_kommune_code": "101"})
    ctx = pd.DataFrame({"year": [2024, 2025], "kommune_code": "101", "dwellings_total": 100000})
    return model.Dataset(
        model.canonicalise(model.ORGANISATIONS, orgs),
        model.canonicalise(model.AFDELINGER, afd),
        model.canonicalise(model.MEASURES, measures),
        model.canonicalise(model.KOMMUNE_CONTEXT, ctx),
    )


SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _select(t: pd.DataFrame, code: str, level: str, year: int, reported: bool = False) -> pd.DataFrame:
    sel = (t["indicator"] == code) & (t["level"] == level) & (t["year"] == year)
    if reported:
        sel &= t["status"] == "reported"
    return t[sel]


@SETTINGS
@given(datasets())
def test_ratio_of_sums_at_every_level(ds):
    t = compute.indicator_table(ds)
    for year in (2024, 2025):
        afd = _select(t, "E1", "afdeling", year, reported=True)
        nat = _select(t, "E1", "national", year).iloc[0]
        if afd.empty:
            assert nat["status"] == "missing"
            continue
        assert nat["numerator"] == pytest.approx(afd["numerator"].sum())
        assert nat["denominator"] == pytest.approx(afd["denominator"].sum())
        assert nat["value"] == pytest.approx(afd["numerator"].sum() / afd["denominator"].sum())
        assert afd["value"].min() - 1e-9 <= nat["value"] <= afd["value"].max() + 1e-9
        for level in ("kommune", "organisation", "organisation_kommune", "region"):
            parts = _select(t, "E1", level, year, reported=True)
            assert parts["numerator"].sum() == pytest.approx(nat["numerator"])
            assert parts["n_units"].sum() == nat["n_units"]


@SETTINGS
@given(datasets(), st.randoms())
def test_order_of_input_rows_does_not_matter(ds, rnd):
    t1 = compute.indicator_table(ds)
    order = list(range(len(ds.afdelinger)))
    rnd.shuffle(order)
    shuffled = model.Dataset(
        ds.organisations,
        ds.afdelinger.iloc[order].reset_index(drop=True),
        ds.measures.sample(frac=1.0, random_state=rnd.randint(0, 10**6)).reset_index(drop=True),
        ds.kommune_context,
    )
    t2 = compute.indicator_table(shuffled)
    pd.testing.assert_frame_equal(t1, t2)


@SETTINGS
@given(datasets())
def test_no_published_figure_about_fewer_than_five_persons(ds):
    t = compute.indicator_table(ds)
    person_based = [c for c, i in registry.INDICATORS.items() if i.disclosure != "none"]
    published = t[t["indicator"].isin(person_based) & (t["status"] == "reported")]
    assert (published["n_persons"] >= registry.MIN_PERSONS).all()
    s3 = published[(published["indicator"] == "S3") & (published["level"] == "afdeling")]
    assert s3.empty or (s3["unit_id"].map(ds.afdelinger.set_index("afdeling_id")["residents"]) >= 100).all()


@SETTINGS
@given(datasets())
def test_no_suppressed_value_follows_from_a_total_and_its_parts(ds):
    t = compute.indicator_table(ds)
    assert disclosure.violations(t) == []
    # The audit itself can fail: check it directly on S4 and G1 too.
    for code in ("S4", "G1"):
        for year in (2024, 2025):
            totals = _select(t, code, "organisation_kommune", year).set_index(["organisation_id", "kommune_code"])
            for key, grp in _select(t, code, "afdeling", year).groupby(
                ["organisation_id", "kommune_code"], observed=True
            ):
                total = totals.loc[[key]]
                contributing = grp[grp["status"].isin(["reported", "suppressed"])]
                if total.iloc[0]["status"] == "reported":
                    assert (contributing["status"] == "suppressed").sum() != 1


def test_audit_detects_a_leak():
    """The audit used above must be able to fail."""
    from tests.fixtures import handmade

    extra = [(2025, "O1-001", "households_represented", 20.0), (2025, "O2-002", "households_represented", 2.0)]
    t = compute.indicator_table(handmade.dataset(extra))
    leaky = t.copy()
    leaky.loc[(leaky["indicator"] == "G1") & (leaky["year"] == 2025) & (leaky["unit_id"] == "O1-001"), "status"] = (
        "reported"
    )
    hidden_o1 = (
        (leaky["indicator"] == "G1")
        & (leaky["year"] == 2025)
        & (leaky["level"] == "organisation_kommune")
        & (leaky["unit_id"] == "O1")
        & (leaky["kommune_code"] == "101")
    )
    leaky.loc[hidden_o1, "status"] = "reported"
    assert disclosure.violations(t) == []
    assert disclosure.violations(leaky) != []
    assert np.isnan(t.loc[hidden_o1, "value"]).all()


# Who each person-based figure is about, written out by hand (not read from the registry): the count that must reach
# five before the figure may be shown.
PERSONS_ABOUT = {"S1": "denominator", "S4": "denominator", "S5": "denominator", "G1": "numerator", "G2": "numerator"}
SINGLE_AFDELING_KOMMUNER = ["825", "492", "741"]  # Læsø, Ærø, Samsø


@st.composite
def single_afdeling_kommuner(draw) -> model.Dataset:
    """Each of a few small kommuner holds exactly one afdeling, of one organisation seated there, with few persons."""
    n = len(SINGLE_AFDELING_KOMMUNER)
    dwellings = draw(st.lists(st.integers(1, 120), min_size=n, max_size=n))
    afd = pd.DataFrame(
        {
            "afdeling_id": [f"L{i}" for i in range(n)],
            "organisation_id": [f"O{i}" for i in range(n)],
            "kommune_code": SINGLE_AFDELING_KOMMUNER,
            "afdeling_name": [f"Afdeling {i}" for i in range(n)],
            "dwellings": dwellings,
            "outdoor_area_m2": 1000.0,
            "residents": [2 * d for d in dwellings],
            "year_built": 1970,
            "housing_type": "familie",
            "heating": "fjernvarme",
            "area_status": "ingen",
            "helhedsplan": False,
        }
    )
    afd["floor_area_m2"] = afd["dwellings"] * 75.0
    rows = []
    for year in (2024, 2025):
        for a in afd.itertuples():
            respondents = draw(st.integers(0, 12))
            rows += [
                (year, a.afdeling_id, "volunteers", float(draw(st.integers(0, 9)))),
                (year, a.afdeling_id, "households_represented", float(draw(st.integers(0, min(9, a.dwellings))))),
                (year, a.afdeling_id, "survey_respondents", float(respondents)),
                (year, a.afdeling_id, "satisfied_respondents", float(draw(st.integers(0, respondents)))),
            ]
            employees = draw(st.integers(1, 9))
            wellbeing = draw(st.integers(0, 9))
            rows += [
                (year, a.organisation_id, "employees", float(employees)),
                (year, a.organisation_id, "women_employees", float(draw(st.integers(0, employees)))),
                (year, a.organisation_id, "wellbeing_respondents", float(wellbeing)),
                (year, a.organisation_id, "wellbeing_score_sum", float(70 * wellbeing)),
            ]
    measures = pd.DataFrame(rows, columns=["year", "unit_id", "measure", "value"])
    orgs = pd.DataFrame(
        {
            "organisation_id": afd["organisation_id"],
            "organisation_name": afd["organisation_id"],
            "hjemsted_kommune_code": SINGLE_AFDELING_KOMMUNER,
        }
    )
    ctx = pd.DataFrame({"year": [2024, 2025], "kommune_code": "825", "dwellings_total": 1000})
    return model.Dataset(
        model.canonicalise(model.ORGANISATIONS, orgs),
        model.canonicalise(model.AFDELINGER, afd),
        model.canonicalise(model.MEASURES, measures),
        model.canonicalise(model.KOMMUNE_CONTEXT, ctx),
    )


def test_every_person_based_indicator_counts_the_persons_it_is_about():
    person_units = {"personer", "husstande"}
    for code, i in registry.INDICATORS.items():
        if i.disclosure != "persons":
            continue
        assert i.persons_measure == getattr(i, PERSONS_ABOUT[code]), code
        assert registry.MEASURES[i.persons_measure].unit in person_units, code


@SETTINGS
@given(single_afdeling_kommuner())
def test_a_kommune_with_one_afdeling_shows_no_figure_about_fewer_than_five_persons(ds):
    t = compute.indicator_table(ds)
    published = t[t["indicator"].isin(list(PERSONS_ABOUT)) & (t["status"] == "reported")]
    about = np.array([row[PERSONS_ABOUT[row["indicator"]]] for _, row in published.iterrows()], dtype=float)
    assert (about >= registry.MIN_PERSONS).all(), published.loc[about < registry.MIN_PERSONS, ["indicator", "level"]]
    # Every level shows something in some example, so the rule is exercised where the breach was (kommune level).
    assert disclosure.violations(t) == []
