"""Synthetic AlmenKompas dataset: realistic, made-up boligorganisationer, afdelinger and yearly measures.

The sector totals and distributions follow the reference notes (indicators.md §2; mostly estimates).
Kommune sizes come from data/reference/synthetic_weights.csv, rough estimates used only here: almene_weight is
the relative size of a kommune's almene stock (≈ thousands of dwellings), normalised within each region to the
regional split; almene_share_pct is the almene share of all dwellings (S2); coastal_exposed marks the coastal
kommuner that the reference notes name for E4.
Everything is drawn from one numpy Generator in a fixed order, so a seed and scale always give the same frames; the
agreements (synthetic_agreements.py) come from a second Generator of the same seed, drawn after the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import kompas_helpers
from kompas_helpers import kommuner, model, paths, synthetic_agreements, synthetic_measures
from kompas_helpers.synthetic_measures import PRICE_YEAR, TYPE_TRAITS, YEARS

WEIGHTS_CSV = paths.REFERENCE_DIR / "synthetic_weights.csv"


# Sector structure at scale 1 (indicators.md §2.1).
SECTOR_DWELLINGS = 592_959


SECTOR_AFDELINGER = 7_400


SECTOR_ORGANISATIONS = 550


REGION_SHARES = {
    "Region Hovedstaden": 0.37,
    "Region Midtjylland": 0.22,
    "Region Syddanmark": 0.19,
    "Region Sjælland": 0.12,
    "Region Nordjylland": 0.10,
}


# Dwellings per afdeling: lognormal; these parameters give median ≈44, p90 ≈175, ≈8 % below 10 dwellings.
SIZE_MEDIAN, SIZE_SIGMA, SIZE_MAX = 44.0, 1.07, 2_000


# Organisations: Pareto weights; reach is how many kommune steps (code order within a region) an org spreads.
ORG_PARETO_ALPHA, ORG_MAX_WEIGHT = 1.3, 80.0


MAX_REACH = 4.0


CROSS_REGION_STEPS = 9.0  # another region counts as this many steps away, so only the largest cross it


# Government area lists at scale 1 (Dec 2024 lists have 12 udsatte, 8 parallelsamfund, 7 omdannelsesområder;
# forebyggelse is kept at a few dozen afdelinger).
DESIGNATED = (("omdannelse", 7), ("parallelsamfund", 8), ("udsat", 12), ("forebyggelse", 40))


# Building year: (share, earliest, most common, latest) per construction period.
BUILD_PERIODS = ((0.08, 1900, 1935, 1949), (0.57, 1950, 1968, 1985), (0.23, 1986, 1995, 2009), (0.12, 2010, 2020, 2024))


HEATING_P = (0.915, 0.03, 0.005, 0.03, 0.015, 0.005)  # model.HEATING_TYPES order


HEATING_P_NEW = (0.85, 0.0, 0.0, 0.13, 0.02, 0.0)  # post-2010 builds: more heat pumps, no oil or gas


# Word lists for made-up names.
# fmt: off
NAME_STEMS = ("Fjord", "Eng", "Lyng", "Skov", "Bakke", "Strand", "Kilde", "Mose", "Hede", "Sol", "Birke", "Ege",
              "Linde", "Rønne", "Hyld", "Kløver", "Valmue", "Svane", "Ravne", "Lærke", "Vibe", "Mølle", "Dal", "Å",
              "Sø", "Ager", "Hasle", "Tjørne", "Pile", "Rose")


ORG_PREFIXES = ("Boligselskabet", "Boligforeningen", "Andelsboligforeningen", "Den almene boligforening")


ORG_ENDINGS = ("bo", "hus", "hjem", "gård", "lund", "bolig")


AFDELING_ENDINGS = ("gården", "parken", "haven", "vænget", "toften", "bakken", "lunden", "højen", "huse", "stien",
                    "hegnet", "volden")


# fmt: on
AFDELING_PREFIX = {"familie": "", "ældre": "Ældreboligerne ", "ungdom": "Kollegiet "}


# The agreements' own random stream: default_rng([seed, AGREEMENTS_STREAM]) is independent of default_rng(seed).
AGREEMENTS_STREAM = 1


NOTE_DA = "Syntetiske data: realistiske, men opdigtede tal. Ikke virkelige afdelinger eller boligorganisationer."


def synthesize(seed: int = 2025, scale: float = 1.0) -> model.Dataset:
    """A complete synthetic dataset; scale 1 is the size of the real sector (≈7,400 afdelinger)."""
    if not scale > 0:
        raise ValueError(f"scale skal være større end 0 (fik {scale})")
    rng = np.random.default_rng(seed)
    kom = _kommuner_with_weights()
    afd = _afdeling_sizes(kom, scale, rng)
    afd, orgs = _assign_organisations(afd, kom, scale, rng)
    afd = _afdeling_attributes(afd, kom, scale, rng)
    orgs, afd = _ids_and_names(orgs, afd, kom, rng)
    measures = synthetic_measures.measures(afd, orgs, kom, rng)
    organisations = model.canonicalise(model.ORGANISATIONS, orgs)
    afdelinger = model.canonicalise(model.AFDELINGER, afd)
    measures = model.canonicalise(model.MEASURES, measures)
    # The agreements draw from a generator of their own, so the other tables stay as they were without them.
    aftaler = synthetic_agreements.agreements(
        organisations, afdelinger, measures, np.random.default_rng([seed, AGREEMENTS_STREAM])
    )
    provenance = {
        "synthetic": True,
        "seed": seed,
        "scale": scale,
        "generator": "kompas_helpers.synthesize",
        "generator_version": kompas_helpers.__version__,
        "note_da": NOTE_DA,
    }
    return model.Dataset(
        organisations=organisations,
        afdelinger=afdelinger,
        measures=measures,
        kommune_context=model.canonicalise(model.KOMMUNE_CONTEXT, _kommune_context(afd, kom)),
        aftaler=aftaler,
        provenance=provenance,
    )


def _kommuner_with_weights() -> pd.DataFrame:
    """The 98 kommuner in code order with their target share of almene dwellings, urbanity and region position."""
    weights = pd.read_csv(WEIGHTS_CSV, dtype={"kommune_code": str}, encoding="utf-8")
    kom = kommuner.table().merge(weights, on="kommune_code", how="left", validate="one_to_one")
    if kom["almene_weight"].isna().any() or not kom["region"].isin(list(REGION_SHARES)).all():
        raise ValueError(f"{WEIGHTS_CSV.name} skal have en række for hver af de 98 kommuner")
    kom = kom.assign(code_int=kom["kommune_code"].astype(int)).sort_values("code_int", ignore_index=True)
    region_weight = kom.groupby("region")["almene_weight"].transform("sum")
    kom["target_share"] = kom["region"].map(REGION_SHARES) * kom["almene_weight"] / region_weight
    # Urbanity 0–1 from the size of the housing stock and the almene share (suburbs with big estates count as urban).
    all_dwellings = SECTOR_DWELLINGS * kom["target_share"] / (kom["almene_share_pct"] / 100)
    size_part = np.clip((np.log10(all_dwellings) - 3.5) / 2.0, 0, 1)
    kom["urbanity"] = 0.6 * size_part + 0.4 * np.clip(kom["almene_share_pct"] / 40, 0, 1)
    # DST codes run roughly geographically, so code order within a region stands in for "nearby".
    kom["position"] = kom.groupby("region").cumcount()
    kom["coastal_exposed"] = kom["coastal_exposed"].astype(str).str.lower().eq("true")
    return kom


def _afdeling_sizes(kom: pd.DataFrame, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """Afdelinger per kommune (at least one each) with lognormal sizes; regional totals are hit exactly."""
    n_target = max(len(kom), round(SECTOR_AFDELINGER * scale))
    # Urban afdelinger are larger; count afdelinger per kommune from its dwellings and its mean size.
    median = SIZE_MEDIAN * (0.75 + 0.5 * kom["urbanity"].to_numpy())
    expected = kom["target_share"].to_numpy() / (median * np.exp(SIZE_SIGMA**2 / 2))
    counts = np.maximum(1, np.round(n_target * expected / expected.sum())).astype(int)
    k = np.repeat(np.arange(len(kom)), counts)
    raw = np.minimum(median[k] * np.exp(SIZE_SIGMA * rng.standard_normal(k.size)), SIZE_MAX)
    region = kom["region"].to_numpy()[k]
    target = SECTOR_DWELLINGS * scale * pd.Series(region).map(REGION_SHARES).to_numpy()
    factor = target / pd.Series(raw).groupby(region).transform("sum").to_numpy()
    dwellings = np.clip(np.round(raw * factor), 1, SIZE_MAX).astype(np.int64)
    return pd.DataFrame({"kommune_idx": k, "dwellings": dwellings})


def _assign_organisations(
    afd: pd.DataFrame, kom: pd.DataFrame, scale: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give each afdeling an owner: few large organisations spanning a region, many small local ones."""
    n_afd = len(afd)
    n_org = int(np.clip(round(SECTOR_ORGANISATIONS * scale), 1, n_afd))
    kommune_idx = afd["kommune_idx"].to_numpy()
    # Each organisation starts from one anchor afdeling, whose kommune becomes its hjemsted.
    anchors = rng.choice(n_afd, size=n_org, replace=False)
    hjemsted = kommune_idx[anchors]
    weight = np.minimum(1.0 + rng.pareto(ORG_PARETO_ALPHA, n_org), ORG_MAX_WEIGHT)
    # Reach in kommune steps: small organisations stay at home, the largest span up to ≈20 kommuner.
    reach = np.minimum(0.3 + 1.4 * np.log10(weight), MAX_REACH)
    position = kom["position"].to_numpy()
    region = kom["region"].to_numpy()
    same_region = region[:, None] == region[hjemsted][None, :]
    steps = np.where(same_region, np.abs(position[:, None] - position[hjemsted][None, :]), CROSS_REGION_STEPS)
    affinity = weight * np.exp(-((steps / reach) ** 2))
    affinity = np.maximum(affinity, 1e-300)  # every kommune keeps a valid probability row
    owner = np.full(n_afd, -1)
    owner[anchors] = np.arange(n_org)
    for k in range(len(kom)):  # one vectorised draw per kommune
        free = np.flatnonzero((kommune_idx == k) & (owner < 0))
        if free.size:
            owner[free] = rng.choice(n_org, size=free.size, p=affinity[k] / affinity[k].sum())
    afd = afd.assign(org_idx=owner)
    orgs = pd.DataFrame({"org_idx": np.arange(n_org), "hjemsted_idx": hjemsted})
    orgs["dwellings"] = afd.groupby("org_idx")["dwellings"].sum().reindex(orgs["org_idx"]).to_numpy()
    return afd, orgs


def _afdeling_attributes(afd: pd.DataFrame, kom: pd.DataFrame, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """Housing type, building year, areas, residents, heating and area designation."""
    n = len(afd)
    d = afd["dwellings"].to_numpy()
    urbanity = kom["urbanity"].to_numpy()[afd["kommune_idx"]]
    # Youth housing sits in the cities; overall ≈8 % ungdom, 17 % ældre, 75 % familie.
    p_ungdom = 0.02 + 0.11 * urbanity
    u = rng.random(n)
    housing_type = np.where(u < p_ungdom, "ungdom", np.where(u < p_ungdom + 0.17, "ældre", "familie"))
    period = rng.choice(len(BUILD_PERIODS), size=n, p=[p[0] for p in BUILD_PERIODS])
    lo, mode, hi = (np.array([p[i] for p in BUILD_PERIODS])[period] for i in (1, 2, 3))
    year_built = np.floor(rng.triangular(lo, mode, hi + 0.999)).astype(np.int64)
    status, helhedsplan = _designate_areas(d, housing_type, urbanity, scale, rng)
    designated = status != "ingen"
    year_built = np.where(designated, np.floor(rng.triangular(1964, 1970, 1980.999, n)).astype(np.int64), year_built)
    traits = TYPE_TRAITS.loc[housing_type]
    m2_per_dwelling = np.maximum(20.0, rng.normal(traits["m2_mean"], traits["m2_sd"]))
    # Designated estates are family housing with more children per dwelling.
    per_dwelling = traits["residents_per_dwelling"].to_numpy() * np.where(designated, 1.25, 1.0)
    residents = np.round(d * per_dwelling * np.exp(rng.normal(0, 0.12, n)))
    outdoor = np.round(15_000 * np.sqrt(d / SIZE_MEDIAN) * np.exp(rng.normal(0, 0.35, n)))
    new_build = year_built >= 2010
    heating = np.where(
        new_build,
        rng.choice(model.HEATING_TYPES, size=n, p=HEATING_P_NEW),
        rng.choice(model.HEATING_TYPES, size=n, p=HEATING_P),
    )
    return afd.assign(
        housing_type=housing_type,
        year_built=year_built,
        floor_area_m2=np.round(d * m2_per_dwelling, 1),
        outdoor_area_m2=outdoor,
        residents=residents.astype(np.int64),
        heating=heating,
        area_status=status,
        helhedsplan=helhedsplan,
        period=np.where(designated, 1, period),
    )


def _designate_areas(
    d: np.ndarray, housing_type: np.ndarray, urbanity: np.ndarray, scale: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Area status (large family estates, mostly urban) and helhedsplan flags."""
    status = np.full(d.size, "ingen", dtype=object)
    candidates = np.flatnonzero((housing_type == "familie") & (d >= 150))
    wanted = [(name, round(count * scale)) for name, count in DESIGNATED]
    n_pick = min(sum(c for _, c in wanted), candidates.size)
    if n_pick:
        p = d[candidates] * (0.2 + urbanity[candidates])
        picked = rng.choice(candidates, size=n_pick, replace=False, p=p / p.sum())
        status[picked] = np.repeat([name for name, _ in wanted], [c for _, c in wanted])[:n_pick]
    # Boligsociale helhedsplaner cover all designated areas and some other large family estates.
    helhedsplan = (status != "ingen") | ((housing_type == "familie") & (d >= 150) & (rng.random(d.size) < 0.12))
    return status.astype(str), helhedsplan


def _ids_and_names(
    orgs: pd.DataFrame, afd: pd.DataFrame, kom: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Organisation ids by hjemsted (like LBF numbers), afdeling ids per organisation, made-up Danish names."""
    codes = kom["kommune_code"].to_numpy()
    hjemsted = orgs["hjemsted_idx"].to_numpy()
    orgs = orgs.assign(hjemsted_kommune_code=codes[hjemsted], code_int=kom["code_int"].to_numpy()[hjemsted])
    orgs = orgs.sort_values(
        ["code_int", "dwellings", "org_idx"], ascending=[True, False, True], kind="stable", ignore_index=True
    )
    width = max(4, len(str(len(orgs))))
    orgs["organisation_id"] = pd.Series(np.arange(1, len(orgs) + 1)).astype(str).str.zfill(width)
    orgs["organisation_name"] = _org_names(len(orgs), rng)
    new_id = orgs.set_index("org_idx")["organisation_id"]
    afd = afd.assign(
        organisation_id=new_id.reindex(afd["org_idx"]).to_numpy(),
        kommune_code=codes[afd["kommune_idx"]],
        code_int=kom["code_int"].to_numpy()[afd["kommune_idx"]],
    )
    afd = afd.sort_values(["organisation_id", "code_int", "year_built", "dwellings"], kind="stable", ignore_index=True)
    number = afd.groupby("organisation_id").cumcount() + 1
    afd_width = max(3, len(str(number.max())))
    afd["afdeling_id"] = afd["organisation_id"] + "-" + number.astype(str).str.zfill(afd_width)
    afd["afdeling_name"] = _afdeling_names(afd, rng)
    return orgs, afd


def _org_names(n: int, rng: np.random.Generator) -> pd.Series:
    """'Boligselskabet Fjordbo'; repeats get a founding year ('af 1948') and, if still repeated, a number."""
    names = pd.Series(
        np.asarray(ORG_PREFIXES)[rng.integers(len(ORG_PREFIXES), size=n)]
        + " "
        + np.asarray(NAME_STEMS)[rng.integers(len(NAME_STEMS), size=n)]
        + np.asarray(ORG_ENDINGS)[rng.integers(len(ORG_ENDINGS), size=n)]
    )
    founded = pd.Series(rng.integers(1919, 1976, size=n)).astype(str)
    names = names.where(names.groupby(names).cumcount() == 0, names + " af " + founded)
    repeat = names.groupby(names).cumcount()
    return names.where(repeat == 0, names + " " + (repeat + 1).astype(str))


def _afdeling_names(afd: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """'Solgården', 'Ældreboligerne Engparken', 'Kollegiet Lyngbakken'; repeats within an organisation numbered."""
    n = len(afd)
    stem = np.asarray(NAME_STEMS)[rng.integers(len(NAME_STEMS), size=n)]
    ending = np.asarray(AFDELING_ENDINGS)[rng.integers(len(AFDELING_ENDINGS), size=n)]
    names = pd.Series(afd["housing_type"].map(AFDELING_PREFIX).to_numpy() + stem + ending)
    repeat = names.groupby([afd["organisation_id"], names]).cumcount()
    return names.where(repeat == 0, names + " " + (repeat + 1).astype(str))


def _kommune_context(afd: pd.DataFrame, kom: pd.DataFrame) -> pd.DataFrame:
    """All dwellings per kommune and year: the almene dwellings over the kommune's share, growing 0.8 %/year."""
    almene = afd.groupby("kommune_idx")["dwellings"].sum().reindex(range(len(kom)), fill_value=0).to_numpy()
    total_base = almene / (kom["almene_share_pct"].to_numpy() / 100)
    growth = 1.008 ** (YEARS - PRICE_YEAR)
    totals = np.maximum(np.round(total_base[:, None] * growth[None, :]), np.maximum(almene, 1)[:, None])
    return pd.DataFrame(
        {
            "year": np.tile(YEARS, len(kom)),
            "kommune_code": np.repeat(kom["kommune_code"].to_numpy(), len(YEARS)),
            "dwellings_total": totals.ravel().astype(np.int64),
        }
    )
