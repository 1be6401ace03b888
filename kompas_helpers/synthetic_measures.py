"""The synthetic dataset's yearly measures: energy, environment, social, economy and governance per unit and year."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kompas_helpers import model, registry

YEARS = np.arange(2021, 2026)


PRICE_YEAR = 2023  # the year sector totals, rents and emission factors refer to


YEAR_OFFSETS = (YEARS - PRICE_YEAR)[None, :]  # a (1, years) row that broadcasts against (units, 1) columns


S3_DESIGNATION_OFFSET = {
    "ingen": 0.0,
    "forebyggelse": -8.0,
    "udsat": -12.0,
    "parallelsamfund": -14.0,
    "omdannelse": -15.0,
}


E1_MEDIAN_BY_PERIOD = (135.0, 128.0, 105.0, 52.0)  # kWh/m²; post-2010 builds ≈50


# kg CO₂e/kWh. Fjernvarme and el: BR18 bilag 2 tabel 8 (2023 and 2025), linear in between and beyond.
GAS_FACTOR, OIL_FACTOR, OTHER_FACTOR, HEAT_PUMP_COP = 0.204, 0.267, 0.03, 3.0  # [E]
FJERNVARME_FACTOR = {2023: 0.105, 2025: 0.0878}


EL_FACTOR = {2023: 0.187, 2025: 0.135}


RENT_M2_2023 = {  # kr./m² (indicators.md §2.2 S8)
    "Region Hovedstaden": 960.0,
    "Region Sjælland": 910.0,
    "Region Midtjylland": 860.0,
    "Region Syddanmark": 780.0,
    "Region Nordjylland": 770.0,
}


# The type and new-build premia lift the average; this brings the 2023 national mean back to ≈899 kr./m² (LBF).
RENT_LEVEL = 0.943


VACANCY_REGION_FACTOR = {"Region Nordjylland": 1.6, "Region Sjælland": 1.2}


# Per housing type: m² per dwelling (mean, sd), residents per dwelling, share of residents aged 18–64,
# rent factor, S3 offset (pp), housing-cost burden offset (pp).
TYPE_TRAITS = pd.DataFrame(
    {
        "m2_mean": [82.5, 65.0, 45.0],
        "m2_sd": [12.0, 8.0, 8.0],
        "residents_per_dwelling": [1.85, 1.2, 1.1],
        "share_18_64": [0.6, 0.15, 0.9],
        "rent_factor": [1.0, 1.30, 1.12],
        "s3_offset": [0.0, -18.0, 14.0],
        "burden_offset": [0.0, 9.0, 5.0],
    },
    index=list(model.HOUSING_TYPES),
)


# Afdeling measures that the organisation itself collects: missing when the organisation does not report.
ORG_COLLECTED = (
    "survey_respondents",
    "satisfied_respondents",
    "social_events",
    "households_represented",
    "volunteers",
    "outdoor_area_biodiversity_m2",
)


NON_REPORTING_RATE = np.linspace(0.10, 0.05, len(YEARS))  # share of organisations silent per year


# Sporadic gaps per group of measures that are missing together (share of unit-years).
AFDELING_GAPS = (
    (("heat_kwh", "co2e_kg"), 0.03),
    (("dwellings_label_ac", "dwellings_label_valid"), 0.02),
    (("dwellings_climate_exposed",), 0.04),
    (("outdoor_area_biodiversity_m2",), 0.08),
    (("residual_waste_kg", "sorting_rate_pct"), 0.05),
    (("residents_18_64", "residents_18_64_in_work_or_education"), 0.005),
    (("dwellings_near_functions",), 0.01),
    (("social_events",), 0.04),
    (("rent_kr",), 0.005),
    (("housing_cost_burden_pct",), 0.01),
    (("households_represented",), 0.05),
    (("volunteers",), 0.08),
    (("vacancy_loss_kr", "efficiency_index"), 0.01),
)


ORGANISATION_GAPS = (
    (("wellbeing_score_sum", "wellbeing_respondents"), 0.02),
    (("sickness_absence_pct",), 0.03),
    (("employees", "women_employees"), 0.01),
    (("trainees_per_100_fte",), 0.04),
    (("policies_adopted", "policies_checklist_items"), 0.02),
    (("qualifying_contracts", "contracts_with_clause"), 0.04),
    (("compliance_items", "compliance_items_met"), 0.01),
)


ABSENT_SHARE = 0.55  # of missing unit-years, the share written as absent rows rather than empty values


def measures(afd: pd.DataFrame, orgs: pd.DataFrame, kom: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The long measures table: every measures-table measure, per unit and year, with realistic gaps."""
    org_pos = pd.Series(np.arange(len(orgs)), index=orgs["organisation_id"]).reindex(afd["organisation_id"])
    afd = afd.assign(org_pos=org_pos.to_numpy())
    traits = _org_traits(orgs, rng)
    afd_values = {
        **_energy(afd, kom, rng),
        **_environment(afd, kom, traits, rng),
        **_social(afd, kom, traits, rng),
        **_economy(afd, kom, rng),
        **_democracy(afd, traits, rng),
    }
    org_values = _organisation_measures(orgs, traits, rng)
    _check_coverage(afd_values, org_values)
    silent = rng.random((len(orgs), YEARS.size)) < NON_REPORTING_RATE
    _blank(org_values, list(org_values), silent)
    _blank(afd_values, ORG_COLLECTED, silent[afd["org_pos"].to_numpy()])
    kommune_gap = rng.random((len(kom), YEARS.size)) < np.linspace(0.2, 0.1, YEARS.size)  # waste data per kommune
    _blank(afd_values, ("residual_waste_kg", "sorting_rate_pct"), kommune_gap[afd["kommune_idx"].to_numpy()])
    for group, rate in AFDELING_GAPS:
        _blank(afd_values, group, rng.random((len(afd), YEARS.size)) < rate)
    for group, rate in ORGANISATION_GAPS:
        _blank(org_values, group, rng.random((len(orgs), YEARS.size)) < rate)
    units = np.concatenate([orgs["organisation_id"].to_numpy(), afd["afdeling_id"].to_numpy()])
    org_part = _long(org_values, np.arange(len(orgs)), rng)
    afd_part = _long(afd_values, np.arange(len(afd)) + len(orgs), rng)
    year_i, unit_i, measure, value = (np.concatenate(pair) for pair in zip(org_part, afd_part, strict=True))
    names = sorted(registry.input_measures())
    return pd.DataFrame(
        {
            "year": YEARS[year_i],
            "unit_id": pd.Categorical.from_codes(unit_i, categories=units),
            "measure": pd.Categorical.from_codes(measure, categories=names),
            "value": value,
        }
    )


def _first_year(measure: str) -> int:
    """The first year any indicator using this measure is reported (registry `first_year`)."""
    return min(
        i.first_year or int(YEARS[0])
        for i in registry.INDICATORS.values()
        if measure in (i.numerator, i.denominator, *(s.measure for s in i.supporting))
    )


def _check_coverage(afd_values: dict, org_values: dict) -> None:
    """Fail loudly if the registry gains or moves a measure that the generator does not produce."""
    expected = {n: registry.measure_level(n) for n in registry.input_measures()}
    produced = {**{n: "afdeling" for n in afd_values}, **{n: "organisation" for n in org_values}}
    if produced != expected:
        raise RuntimeError(f"synthesize skal opdateres: registret forventer {sorted(expected.items())}")


def _blank(values: dict[str, np.ndarray], names: tuple[str, ...] | list[str], mask: np.ndarray) -> None:
    """Mark these measures as not reported (NaN) where mask is true."""
    for name in names:
        values[name] = np.where(mask, np.nan, values[name])


def _long(values: dict[str, np.ndarray], unit_codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Flatten {measure: (units, years)} to arrays; some missing unit-years become absent rows, some NaN values."""
    names = sorted(registry.input_measures())
    absent = rng.random((unit_codes.size, YEARS.size)) < ABSENT_SHARE  # shared by all measures of a unit-year
    parts = []
    for name in sorted(values):
        v = values[name]
        keep = ~(np.isnan(v) & absent) & (_first_year(name) <= YEARS)[None, :]
        unit_i, year_i = np.nonzero(keep)
        parts.append((year_i, unit_codes[unit_i], np.full(unit_i.size, names.index(name)), v[unit_i, year_i]))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _per_year(static: np.ndarray) -> np.ndarray:
    """Repeat a per-unit value for every year."""
    return np.repeat(np.asarray(static, dtype=float)[:, None], YEARS.size, axis=1)


def _factor(points: dict[int, float]) -> np.ndarray:
    """A yearly factor, linear through two anchor years (interpolated and extrapolated)."""
    (y0, f0), (y1, f1) = sorted(points.items())
    return f0 + (f1 - f0) / (y1 - y0) * (YEARS - y0)


def _binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Binomial counts as floats (the measures table stores floats), with p clipped to [0, 1]."""
    return rng.binomial(np.asarray(n, dtype=np.int64), np.clip(p, 0.0, 1.0)).astype(float)


def _org_traits(orgs: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Lasting organisation habits that shape several measures (digital voting, surveys, strategies)."""
    n = len(orgs)
    never = 9999
    large = orgs["dwellings"].to_numpy() >= 1_000
    digital_from = np.where(rng.random(n) < np.where(large, 0.45, 0.2), rng.integers(2019, 2026, n), never)
    survey_period = rng.choice([2, 3], size=n)
    return pd.DataFrame(
        {
            "digital_from": digital_from,
            "runs_survey": rng.random(n) < 0.65,
            "survey_period": survey_period,
            "survey_offset": rng.integers(0, 3, n) % survey_period,
            "bio_strategy": rng.random(n) < np.where(large, 0.5, 0.2),
        }
    )


def _energy(afd: pd.DataFrame, kom: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """E1 heat, E2 CO₂e and E3 energy labels."""
    n = len(afd)
    t = YEAR_OFFSETS
    d = afd["dwellings"].to_numpy()
    area = afd["floor_area_m2"].to_numpy()
    region = kom["region"].to_numpy()[afd["kommune_idx"]]
    median = np.asarray(E1_MEDIAN_BY_PERIOD)[afd["period"]] * np.where(region == "Region Nordjylland", 1.05, 1.0)
    e1_base = np.clip(median * np.exp(rng.normal(0, 0.22, n)), 35, 220)
    # Renovations lower consumption ≈1.5 %/year; weather correction leaves a little yearly noise.
    e1 = np.clip(e1_base[:, None] * 0.985**t * np.exp(rng.normal(0, 0.04, (n, YEARS.size))), 30, 240)
    heat = e1 * area[:, None]
    heat_factor = _heat_factor(afd["heating"].to_numpy())
    common_el = rng.uniform(3, 15, n)[:, None] * area[:, None]
    co2e = heat * heat_factor + common_el * _factor(EL_FACTOR)[None, :]
    valid_share = np.where(rng.random(n) < 0.8, 1.0, rng.beta(6, 2, n))
    valid = np.round(d * valid_share)
    # Labels are calculated demand, so they rank with consumption: ≈73 % of dwellings are A–C nationally.
    z = 1.55 - 4.0 * (np.log(e1) - np.log(120.0)) + rng.normal(0, 1.0, n)[:, None]
    label_ac = np.round(valid[:, None] / (1 + np.exp(-z)))
    return {
        "heat_kwh": np.round(heat),
        "co2e_kg": np.round(co2e),
        "dwellings_label_ac": label_ac,
        "dwellings_label_valid": _per_year(valid),
    }


def _heat_factor(heating: np.ndarray) -> np.ndarray:
    """kg CO₂e per kWh of heat, per afdeling and year, by heating type."""
    el = _factor(EL_FACTOR)[None, :]
    by_type = {
        "fjernvarme": _factor(FJERNVARME_FACTOR)[None, :],
        "naturgas": np.full((1, YEARS.size), GAS_FACTOR),
        "olie": np.full((1, YEARS.size), OIL_FACTOR),
        "varmepumpe": el / HEAT_PUMP_COP,
        "el": el,
        "andet": np.full((1, YEARS.size), OTHER_FACTOR),
    }
    table = np.vstack([by_type[h] for h in model.HEATING_TYPES])
    return table[pd.Categorical(heating, categories=model.HEATING_TYPES).codes]


def _environment(
    afd: pd.DataFrame, kom: pd.DataFrame, traits: pd.DataFrame, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """E4 climate exposure, E5 biodiversity, E6 waste and sorting."""
    n = len(afd)
    t = YEAR_OFFSETS
    d = afd["dwellings"].to_numpy()
    coastal = kom["coastal_exposed"].to_numpy()[afd["kommune_idx"]]
    exposed = np.where(rng.random(n) < np.where(coastal, 0.4, 0.17), np.round(d * rng.beta(2, 3, n)), 0.0)
    strategy = traits["bio_strategy"].to_numpy()[afd["org_pos"]]
    bio_share = np.where(rng.random(n) < np.where(strategy, 0.2, 0.45), 0.0, rng.beta(1.5, 12, n))
    bio_share = np.clip(bio_share[:, None] * np.where(strategy, 2.0, 1.0)[:, None] * 1.08**t, 0, 0.95)
    kg_per_dwelling = rng.normal(350, 70, n)[:, None] * 0.98**t + rng.normal(0, 20, (n, YEARS.size))
    kommune_sorting = rng.normal(0, 4, len(kom))[afd["kommune_idx"]]
    sorting = rng.beta(6, 10, n) * 100 + kommune_sorting
    return {
        "dwellings_climate_exposed": _per_year(exposed),
        "outdoor_area_biodiversity_m2": np.round(afd["outdoor_area_m2"].to_numpy()[:, None] * bio_share),
        "residual_waste_kg": np.round(d[:, None] * np.clip(kg_per_dwelling, 120, 700)),
        "sorting_rate_pct": np.round(np.clip(sorting[:, None] + 1.5 * (t + 1), 5, 85), 1),
    }


def _social(
    afd: pd.DataFrame, kom: pd.DataFrame, traits: pd.DataFrame, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """S3 work or education, S4 resident survey, S6 nearby functions, S7 social events."""
    n = len(afd)
    t = YEAR_OFFSETS
    d = afd["dwellings"].to_numpy()
    k = afd["kommune_idx"].to_numpy()
    type_traits = TYPE_TRAITS.loc[afd["housing_type"]]
    adults = np.round(
        afd["residents"].to_numpy()[:, None]
        * type_traits["share_18_64"].to_numpy()[:, None]
        * np.exp(rng.normal(0, 0.03, (n, YEARS.size)))
    )
    adults = np.minimum(adults, afd["residents"].to_numpy()[:, None])
    # Lower where almene housing dominates the kommune and in designated areas; employment rose a little.
    kommune_effect = rng.normal(0, 3, len(kom))[k] - 0.15 * (kom["almene_share_pct"].to_numpy()[k] - 18)
    s3 = (
        68
        + kommune_effect
        + type_traits["s3_offset"].to_numpy()
        + afd["area_status"].map(S3_DESIGNATION_OFFSET).to_numpy()
        + rng.normal(0, 6, n)
    )
    s3_share = np.clip(s3[:, None] + 0.5 * t + rng.normal(0, 1.5, (n, YEARS.size)), 40, 90) / 100
    in_work = _binomial(rng, adults, s3_share)
    respondents, satisfied = _survey(afd, traits, s3_share, rng)
    urban = rng.random(n) < 0.25 + 0.7 * kom["urbanity"].to_numpy()[k]
    near_share = np.where(urban, rng.beta(9, 2, n), rng.beta(3, 3, n))
    events_mean = 4 + 0.05 * d + 3 * afd["helhedsplan"].to_numpy()
    return {
        "residents_18_64": adults,
        "residents_18_64_in_work_or_education": in_work,
        "survey_respondents": respondents,
        "satisfied_respondents": satisfied,
        "dwellings_near_functions": _per_year(np.round(d * near_share)),
        "social_events": np.minimum(rng.poisson(events_mean[:, None], (n, YEARS.size)), 40).astype(float),
    }


def _survey(
    afd: pd.DataFrame, traits: pd.DataFrame, s3_share: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Resident survey: only organisations with a survey programme, every 2–3 years; small ones get few answers."""
    n = len(afd)
    org = afd["org_pos"].to_numpy()
    period = traits["survey_period"].to_numpy()[org][:, None]
    in_cycle = (YEARS[None, :] + traits["survey_offset"].to_numpy()[org][:, None]) % period == 0
    runs = traits["runs_survey"].to_numpy()[org][:, None] & in_cycle & (rng.random((n, YEARS.size)) < 0.9)
    respondents = _binomial(rng, afd["dwellings"].to_numpy()[:, None], rng.beta(3, 6, (n, YEARS.size)))
    share = rng.beta(16, 4, (n, YEARS.size)) + 0.4 * (s3_share - 0.68)
    satisfied = _binomial(rng, respondents, np.clip(share, 0.3, 0.99))
    reported = runs & (respondents > 0)
    return np.where(reported, respondents, np.nan), np.where(reported, satisfied, np.nan)


def _economy(afd: pd.DataFrame, kom: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """S8 rent and housing-cost burden, G3 vacancy loss and LBF efficiency index."""
    n = len(afd)
    t = YEAR_OFFSETS
    area = afd["floor_area_m2"].to_numpy()
    k = afd["kommune_idx"].to_numpy()
    region = pd.Series(kom["region"].to_numpy()[k])
    type_traits = TYPE_TRAITS.loc[afd["housing_type"]]
    year_built = afd["year_built"].to_numpy()
    age_factor = np.select([year_built >= 2010, year_built >= 1986], [1.2, 1.05], 1.0)
    rent_m2 = (
        rng.normal(region.map(RENT_M2_2023).to_numpy(), 140)
        * type_traits["rent_factor"].to_numpy()
        * age_factor
        * RENT_LEVEL
    )
    rent_m2 = np.clip(rent_m2, 450, 1_800)[:, None] * 1.029**t * np.exp(rng.normal(0, 0.01, (n, YEARS.size)))
    # Housing-cost burden: ≈24 % on average, varying by kommune (income level) and housing type.
    burden_level = 24 + rng.normal(0, 2.5, len(kom))[k] + type_traits["burden_offset"].to_numpy() + rng.normal(0, 2, n)
    burden = burden_level[:, None] + rng.normal(0, 0.5, (n, YEARS.size))
    vacancy_m2 = (
        3.0
        * region.map(VACANCY_REGION_FACTOR).fillna(1.0).to_numpy()[:, None]
        * np.exp(rng.normal(0, 0.8, n)[:, None] + rng.normal(0, 0.5, (n, YEARS.size)))
    )
    efficiency = rng.normal(85, 8, n)[:, None] + rng.normal(0, 2, (n, YEARS.size))
    return {
        "rent_kr": np.round(rent_m2 * area[:, None]),
        "housing_cost_burden_pct": np.round(np.clip(burden, 8, 60), 1),
        "vacancy_loss_kr": np.round(vacancy_m2 * area[:, None]),
        "efficiency_index": np.round(np.clip(efficiency, 55, 100), 1),
    }


def _democracy(afd: pd.DataFrame, traits: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """G1 households at the afdelingsmøde (higher with digital voting) and G2 volunteers."""
    n = len(afd)
    d = afd["dwellings"].to_numpy()
    digital = YEARS[None, :] >= traits["digital_from"].to_numpy()[afd["org_pos"]][:, None]
    turnout = np.where(digital, rng.beta(4, 8, (n, YEARS.size)), rng.beta(2, 18, (n, YEARS.size)))
    rate = rng.gamma(2, 2.5, n) * np.where(afd["helhedsplan"].to_numpy(), 1.3, 1.0)  # per 100 dwellings
    volunteers = rng.poisson((rate * d / 100)[:, None] * np.exp(rng.normal(0, 0.2, (n, YEARS.size))))
    return {
        "households_represented": _binomial(rng, d[:, None], turnout),
        "volunteers": volunteers.astype(float),
    }


def _organisation_measures(orgs: pd.DataFrame, traits: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """S1 wellbeing and absence, S5 staff, G4 policies, G5 social clauses, G6 compliance (per organisation)."""
    n = len(orgs)
    t = YEAR_OFFSETS
    shape = (n, YEARS.size)
    org_dwellings = orgs["dwellings"].to_numpy()
    # About one employee per 55 dwellings, so many small organisations have fewer than 5.
    base_staff = org_dwellings / 55 * np.exp(rng.normal(0, 0.35, n))
    employees = np.maximum(1, np.round(base_staff[:, None] * (1 + 0.01 * t) * np.exp(rng.normal(0, 0.05, shape))))
    women = _binomial(rng, employees, np.clip(rng.normal(0.40, 0.10, n), 0.1, 0.8)[:, None])
    trainees = rng.poisson(0.035 * employees * rng.gamma(4, 0.25, n)[:, None])
    runs_wellbeing = rng.random(n) < np.where(base_staff >= 5, 0.95, 0.6)
    respondents = np.maximum(1, _binomial(rng, employees, rng.beta(7, 3, shape)))
    index = np.clip(rng.normal(74, 6, n)[:, None] + rng.normal(0, 2, shape), 50, 92)
    absence_year = np.array([-0.2, 0.5, 0.1, -0.1, -0.2])[None, :]  # 2022 peak, as in DA's statistics
    absence = rng.normal(4.5, 1.2, n)[:, None] + absence_year + rng.normal(0, 0.3 + 1.5 / np.sqrt(employees))
    qualifying = 1 + rng.poisson(np.repeat((org_dwellings / 500)[:, None], YEARS.size, axis=1))
    clause_share = np.clip(rng.beta(5, 2, n)[:, None] + 0.04 * (YEARS[None, :] - 2022), 0, 1)
    remarks = (rng.random(shape) < rng.beta(1, 9, n)[:, None]) * (1 + rng.binomial(2, 0.3, shape))
    return {
        "employees": employees,
        "women_employees": women,
        "trainees_per_100_fte": np.round(trainees / employees * 100, 1),
        "wellbeing_respondents": np.where(runs_wellbeing[:, None], respondents, np.nan),
        "wellbeing_score_sum": np.where(runs_wellbeing[:, None], np.round(respondents * index, 1), np.nan),
        "sickness_absence_pct": np.round(np.clip(absence, 0.5, 15), 1),
        "policies_checklist_items": np.full(shape, 10.0),
        "policies_adopted": _policies(orgs, rng),
        "qualifying_contracts": qualifying.astype(float),
        "contracts_with_clause": _binomial(rng, qualifying, clause_share),
        "compliance_items": np.full(shape, 8.0),
        "compliance_items_met": 8.0 - remarks,
    }


def _policies(orgs: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Adopted policies out of 10: larger organisations start higher, and some add one most years."""
    n = len(orgs)
    p = np.clip(rng.beta(7, 3, n) + 0.05 * np.log10(orgs["dwellings"].to_numpy() / 500), 0.05, 1)
    adopted = rng.binomial(10, p).astype(float)
    columns = [adopted]
    for _ in YEARS[1:]:  # cumulative over the years, so adopted policies are not withdrawn
        adopted = adopted + rng.binomial((10 - adopted).astype(np.int64), 0.08)
        columns.append(adopted)
    return np.column_stack(columns)
