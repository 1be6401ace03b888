"""The whole indicator table: every indicator × year × level, computed once from a dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kompas_helpers import disclosure, registry
from kompas_helpers.model import Dataset, kommuner
from kompas_helpers.schemas import INDICATOR_TABLE_SCHEMA

LEVELS = ("afdeling", "organisation", "organisation_kommune", "kommune", "region", "national")
STATUSES = ("reported", "missing", "suppressed", "not_applicable")
NATIONAL_ID = "DK"
NATIONAL_NAME_DA = "Hele landet"

# Columns of the unit-level frame that every aggregation sums.
_SUMMED = ["numerator", "denominator", "persons", "n_units", "n_dwellings", "dwellings_all"]

# Text columns are categorical: compact, fast to filter, and kept as dictionaries in Parquet.
CATEGORICAL = ("indicator", "dimension", "level", "unit_id", "unit_name", "kommune_code", "region", "organisation_id",
               "status")  # fmt: skip

TABLE_COLUMNS = [
    "indicator", "dimension", "year", "level", "unit_id", "unit_name", "kommune_code", "region",
    "organisation_id", "value", "numerator", "denominator", "n_units", "n_dwellings", "n_persons", "coverage",
    "status", "change", "rank", "percentile",
]  # fmt: skip


def _afdeling_frame(dataset: Dataset) -> pd.DataFrame:
    """Afdelinger with their region and organisation name attached."""
    k = kommuner()[["kommune_code", "region"]]
    afd = dataset.afdelinger.merge(k, on="kommune_code", how="left")
    return afd


def _measure_arrays(dataset: Dataset, level: str, ids: np.ndarray, years: list[int]) -> dict[str, np.ndarray]:
    """Measures of one level as flat arrays over the (year, unit) grid; absent rows and NaN both stay NaN."""
    names = [n for n in registry.input_measures() if registry.measure_level(n) == level]
    m = dataset.measures
    m = m[m["measure"].isin(names)]
    year_idx = pd.Index(years).get_indexer(m["year"])
    unit_idx = pd.Index(ids).get_indexer(m["unit_id"])
    measure_idx = pd.Index(names).get_indexer(m["measure"])
    ok = (year_idx >= 0) & (unit_idx >= 0)
    cube = np.full((len(names), len(years), len(ids)), np.nan)
    cube[measure_idx[ok], year_idx[ok], unit_idx[ok]] = m["value"].to_numpy(dtype=float)[ok]
    return {name: cube[i].reshape(-1) for i, name in enumerate(names)}


def _unit_values(
    dataset: Dataset, frame: pd.DataFrame, years: list[int], id_col: str, indicators: list[registry.Indicator]
) -> pd.DataFrame:
    """One row per indicator × year × unit with numerator, denominator, persons and reporting flags."""
    ids = frame[id_col].to_numpy()
    level = indicators[0].level
    measures = _measure_arrays(dataset, level, ids, years)
    n_years = len(years)
    year_arr = np.repeat(np.asarray(years, dtype="int64"), len(ids))
    unit_arr = pd.Categorical(np.tile(ids, n_years))
    parts = []
    for ind in indicators:

        def column(name: str) -> np.ndarray:
            if registry.MEASURES[name].source == "measures":
                return measures[name]
            return np.tile(frame[name].to_numpy(dtype=float), n_years)

        num, den = column(ind.numerator), column(ind.denominator)
        persons = column(ind.persons_measure) if ind.persons_measure else np.full(len(num), np.nan)
        applicable = np.ones(len(num), bool) if ind.first_year is None else year_arr >= ind.first_year
        reported = applicable & ~np.isnan(num) & ~np.isnan(den) & (den > 0)
        parts.append(
            pd.DataFrame(
                {
                    "indicator": ind.code,
                    "year": year_arr,
                    "unit_id": unit_arr,
                    "numerator": np.where(reported, num, np.nan),
                    "denominator": np.where(reported, den, np.nan),
                    "persons": np.where(reported, persons, np.nan),
                    "applicable": applicable,
                    "reported": reported,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["indicator"] = out["indicator"].astype("category")
    return out


def _finish(groups: pd.DataFrame, scale: pd.Series) -> pd.DataFrame:
    """Value, coverage and status from summed numerators and denominators."""
    g = groups
    has = g["n_units"] > 0
    g["value"] = np.where(has, g["numerator"] / g["denominator"] * scale.to_numpy(), np.nan)
    g.loc[~has, ["numerator", "denominator", "persons"]] = np.nan
    has_persons = g["indicator"].map({c: i.persons_measure is not None for c, i in registry.INDICATORS.items()})
    g.loc[~has_persons.astype(bool), "persons"] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        g["coverage"] = np.where(g["dwellings_all"] > 0, g["n_dwellings"] / g["dwellings_all"], np.nan)
    g["status"] = np.where(~g["applicable"], "not_applicable", np.where(has, "reported", "missing"))
    return g


def _aggregate(units: pd.DataFrame, keys: list[str], level: str) -> pd.DataFrame:
    """Ratio of sums over the units of each group."""
    u = units
    agg = u.groupby(["indicator", "year", *keys], observed=True, sort=False).agg(
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        persons=("persons", "sum"),
        n_units=("n_units", "sum"),
        n_dwellings=("n_dwellings", "sum"),
        dwellings_all=("dwellings_all", "sum"),
        applicable=("applicable", "any"),
    )
    agg = agg.reset_index()
    agg["level"] = level
    return agg


def _scale(frame: pd.DataFrame) -> pd.Series:
    scales = {code: ind.scale for code, ind in registry.INDICATORS.items()}
    return frame["indicator"].map(scales).astype(float)


def _prepare_units(units: pd.DataFrame, dwellings: pd.Series) -> pd.DataFrame:
    units["n_units"] = units["reported"].astype(int)
    units["dwellings_all"] = units["unit_id"].map(dwellings).to_numpy(dtype=float)
    units["n_dwellings"] = np.where(units["reported"], units["dwellings_all"], 0.0)
    return units


def _afdeling_levels(dataset: Dataset, afd: pd.DataFrame, years: list[int]) -> list[pd.DataFrame]:
    indicators = [i for i in registry.INDICATORS.values() if i.level == "afdeling"]
    units = _unit_values(dataset, afd, years, "afdeling_id", indicators)
    units = _prepare_units(units, afd.set_index("afdeling_id")["dwellings"])
    info = afd.set_index("afdeling_id")
    for col in ("organisation_id", "kommune_code", "region"):
        units[col] = pd.Categorical(units["unit_id"].map(info[col]).to_numpy())
    units["residents"] = units["unit_id"].map(info["residents"]).to_numpy()
    afd_rows = units.copy()
    afd_rows["level"] = "afdeling"
    out = [afd_rows]
    for level, keys in (
        ("organisation_kommune", ["organisation_id", "kommune_code", "region"]),
        ("organisation", ["organisation_id"]),
        ("kommune", ["kommune_code", "region"]),
        ("region", ["region"]),
        ("national", []),
    ):
        out.append(_aggregate(units, keys, level))
    return out


def _organisation_levels(
    dataset: Dataset, afd: pd.DataFrame, years: list[int], org_dwellings: pd.Series
) -> list[pd.DataFrame]:
    indicators = [i for i in registry.INDICATORS.values() if i.level == "organisation"]
    orgs = dataset.organisations.rename(columns={"hjemsted_kommune_code": "kommune_code"})
    orgs = orgs.merge(kommuner()[["kommune_code", "region"]], on="kommune_code", how="left")
    units = _unit_values(dataset, orgs, years, "organisation_id", indicators)
    units = _prepare_units(units, org_dwellings)
    info = orgs.set_index("organisation_id")
    for col in ("kommune_code", "region"):
        units[col] = units["unit_id"].map(info[col]).to_numpy()
    units["organisation_id"] = units["unit_id"]
    org_rows = units.copy()
    org_rows["level"] = "organisation"
    out = [org_rows]
    for level, keys in (("kommune", ["kommune_code", "region"]), ("region", ["region"]), ("national", [])):
        out.append(_aggregate(units, keys, level))
    return out


def _kommune_levels(dataset: Dataset, afd: pd.DataFrame, years: list[int]) -> list[pd.DataFrame]:
    """Indicators measured on the kommune itself (S2): Σ almene dwellings / all dwellings."""
    indicators = [i for i in registry.INDICATORS.values() if i.level == "kommune"]
    k = kommuner()[["kommune_code", "region"]]
    almene = afd.groupby("kommune_code")["dwellings"].sum()
    ctx = dataset.kommune_context.set_index(["year", "kommune_code"])["dwellings_total"]
    out = []
    for ind in indicators:
        grid = pd.MultiIndex.from_product([years, k["kommune_code"]], names=["year", "kommune_code"])
        frame = grid.to_frame(index=False)
        frame["region"] = np.tile(k["region"].to_numpy(), len(years))
        num = frame["kommune_code"].map(almene).fillna(0).to_numpy(dtype=float)
        den = ctx.reindex(grid).to_numpy(dtype=float)
        reported = ~np.isnan(den) & (den > 0)
        frame["indicator"] = ind.code
        frame["unit_id"] = frame["kommune_code"]
        frame["numerator"] = np.where(reported, num, np.nan)
        frame["denominator"] = np.where(reported, den, np.nan)
        frame["persons"] = np.nan
        frame["applicable"] = True
        frame["reported"] = reported
        frame["n_units"] = reported.astype(int)
        frame["dwellings_all"] = num
        frame["n_dwellings"] = np.where(reported, num, 0.0)
        frame["level"] = "kommune"
        out.append(frame)
        out.append(_aggregate(frame, ["region"], "region"))
        out.append(_aggregate(frame, [], "national"))
    return out


def _names(dataset: Dataset, table: pd.DataFrame) -> pd.Series:
    """A readable name for each row's unit."""
    names = pd.Series(pd.NA, index=table.index, dtype="string")
    level = table["level"]
    afd_names = dataset.afdelinger.set_index("afdeling_id")["afdeling_name"]
    org_names = dataset.organisations.set_index("organisation_id")["organisation_name"]
    kom_names = kommuner().set_index("kommune_code")["kommune_name"]
    is_afd = level == "afdeling"
    names[is_afd] = table.loc[is_afd, "unit_id"].map(afd_names).to_numpy()
    is_org = level.isin(["organisation", "organisation_kommune"])
    names[is_org] = table.loc[is_org, "organisation_id"].map(org_names).to_numpy()
    is_kom = level == "kommune"
    names[is_kom] = table.loc[is_kom, "kommune_code"].map(kom_names).to_numpy()
    is_reg = level == "region"
    names[is_reg] = table.loc[is_reg, "region"].to_numpy()
    names[level == "national"] = NATIONAL_NAME_DA
    return names


def _change(table: pd.DataFrame) -> pd.Series:
    """Change in value since the previous year for the same indicator, level and unit."""
    key = table.groupby(
        ["indicator", "level", "unit_id", "kommune_code"], observed=True, sort=False, dropna=False
    ).ngroup()
    values = pd.Series(table["value"].to_numpy(), index=pd.MultiIndex.from_arrays([key, table["year"]]))
    previous = values.reindex(pd.MultiIndex.from_arrays([key, table["year"] - 1])).to_numpy()
    return pd.Series(table["value"].to_numpy() - previous, index=table.index)


def _rank(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Rank 1 = best among the kommuner with a published value (context indicators: 1 = highest value)."""
    rank = pd.Series(np.nan, index=table.index)
    pct = pd.Series(np.nan, index=table.index)
    mask = (table["level"] == "kommune") & (table["status"] == "reported")
    k = table.loc[mask, ["indicator", "year", "value"]]
    sign = k["indicator"].map(
        {c: (1.0 if i.direction == "lower_better" else -1.0) for c, i in registry.INDICATORS.items()}
    )
    k = k.assign(score=k["value"] * sign)
    groups = k.groupby(["indicator", "year"], observed=True)["score"]
    r = groups.rank(method="min")
    n = groups.transform("count")
    rank[mask] = r.to_numpy()
    pct[mask] = np.where(n > 1, 100.0 * (n - r) / (n - 1).clip(lower=1), 100.0)
    return rank, pct


def indicator_table(dataset: Dataset, validate: bool = True) -> pd.DataFrame:
    """Every indicator × year × level with value, numerator, denominator, coverage, status, change and rank."""
    years = dataset.years
    afd = _afdeling_frame(dataset)
    org_dwellings = afd.groupby("organisation_id")["dwellings"].sum()
    parts = [
        *_afdeling_levels(dataset, afd, years),
        *_organisation_levels(dataset, afd, years, org_dwellings),
        *_kommune_levels(dataset, afd, years),
    ]
    table = pd.concat(parts, ignore_index=True)
    level = table["level"].to_numpy()
    unit = table["unit_id"].to_numpy(dtype=object)
    unit = np.where(level == "national", NATIONAL_ID, unit)
    unit = np.where(level == "region", table["region"].to_numpy(dtype=object), unit)
    unit = np.where(np.isin(level, ["organisation", "organisation_kommune"]), table["organisation_id"], unit)
    table["unit_id"] = np.where(level == "kommune", table["kommune_code"].to_numpy(dtype=object), unit)
    for col in ("indicator", "level", "region", "kommune_code", "organisation_id", "unit_id"):
        table[col] = table[col].astype("category")
    table = _finish(table, _scale(table))
    table["status"] = pd.Categorical(table["status"], categories=list(STATUSES))

    table = disclosure.apply(table)

    table["dimension"] = table["indicator"].map({c: i.dimension for c, i in registry.INDICATORS.items()})
    table["unit_name"] = _names(dataset, table)
    table["change"] = _change(table)
    table["rank"], table["percentile"] = _rank(table)
    for col in CATEGORICAL:
        table[col] = table[col].astype("category")
    table["year"] = table["year"].astype("int64")
    table["n_units"] = table["n_units"].astype("int64")
    table["n_dwellings"] = table["n_dwellings"].astype("float64")
    table = table[TABLE_COLUMNS]
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    table = (
        table.assign(
            _lvl=table["level"].map(order), _ind=table["indicator"].map({c: i for i, c in enumerate(registry.CODES)})
        )
        .sort_values(["_ind", "year", "_lvl", "kommune_code", "unit_id"], kind="stable")
        .drop(columns=["_lvl", "_ind"])
        .reset_index(drop=True)
    )
    if validate:
        table = INDICATOR_TABLE_SCHEMA.validate(table)
    return table
