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

TABLE_COLUMNS = [
    "indicator", "dimension", "year", "level", "unit_id", "unit_name", "kommune_code", "region",
    "organisation_id", "value", "numerator", "denominator", "n_units", "n_dwellings", "n_persons", "coverage",
    "status", "change", "rank", "percentile",
]  # fmt: skip


class _Vocab:
    """Fixed category lists, so that every part of the table shares them and concatenation stays categorical."""

    def __init__(self, dataset: Dataset):
        k = kommuner()
        self.kommune_code = list(k["kommune_code"])
        self.region = sorted(k["region"].unique())
        self.organisation_id = sorted(dataset.organisations["organisation_id"].astype(str))
        afd_ids = sorted(dataset.afdelinger["afdeling_id"].astype(str))
        self.unit_id = list(dict.fromkeys([*afd_ids, *self.organisation_id, *self.kommune_code, *self.region,
                                           NATIONAL_ID]))  # fmt: skip
        self.indicator = list(registry.CODES)
        self.level = list(LEVELS)

    def cat(self, name: str, values) -> pd.Categorical:
        return pd.Categorical(values, categories=getattr(self, name))

    def recode(self, series: pd.Series, name: str) -> pd.Categorical:
        """A categorical column moved onto the shared categories (cheap: works on the categories only)."""
        if isinstance(series.dtype, pd.CategoricalDtype):
            return series.cat.set_categories(getattr(self, name)).array
        return self.cat(name, series.astype(object))


def _measure_arrays(dataset: Dataset, level: str, ids: np.ndarray, years: list[int]) -> dict[str, np.ndarray]:
    """Measures of one level as flat arrays over the (year, unit) grid; absent rows and NaN both stay NaN."""
    names = [n for n in registry.input_measures() if registry.measure_level(n) == level]
    m = dataset.measures
    # Factorise once, then look up the few distinct names: hashing millions of strings twice is the slow part.
    measure_codes, measure_names = pd.factorize(m["measure"])
    measure_idx = pd.Index(names).get_indexer(measure_names)[measure_codes]
    keep = measure_idx >= 0
    m = m[keep]
    measure_idx = measure_idx[keep]
    year_idx = pd.Index(years).get_indexer(m["year"])
    unit_codes, unit_names = pd.factorize(m["unit_id"])
    unit_idx = pd.Index(ids).get_indexer(unit_names)[unit_codes]
    ok = (year_idx >= 0) & (unit_idx >= 0)
    cube = np.full((len(names), len(years), len(ids)), np.nan)
    cube[measure_idx[ok], year_idx[ok], unit_idx[ok]] = m["value"].to_numpy(dtype=float)[ok]
    return {name: cube[i].reshape(-1) for i, name in enumerate(names)}


def _unit_rows(
    dataset: Dataset,
    vocab: _Vocab,
    frame: pd.DataFrame,
    id_col: str,
    level: str,
    years: list[int],
    attrs: dict[str, np.ndarray],
) -> pd.DataFrame:
    """One row per indicator × year × unit of `level` with numerator, denominator, persons and flags."""
    indicators = [i for i in registry.INDICATORS.values() if i.level == level]
    ids = frame[id_col].astype(str).to_numpy()
    measures = _measure_arrays(dataset, level, ids, years)
    n_years, n_ind = len(years), len(indicators)
    grid_year = np.repeat(np.asarray(years, dtype="int64"), len(ids))
    dwellings = np.tile(attrs["dwellings"], n_years)

    def column(name: str) -> np.ndarray:
        if registry.MEASURES[name].source == "measures":
            return measures[name]
        return np.tile(frame[name].to_numpy(dtype=float), n_years)

    num, den, persons, applicable = [], [], [], []
    for ind in indicators:
        num.append(column(ind.numerator))
        den.append(column(ind.denominator))
        persons.append(column(ind.persons_measure) if ind.persons_measure else np.full(len(grid_year), np.nan))
        applicable.append(np.full(len(grid_year), True) if ind.first_year is None else grid_year >= ind.first_year)
    num, den, persons, applicable = map(np.concatenate, (num, den, persons, applicable))
    reported = applicable & ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    size = len(grid_year)
    out = pd.DataFrame(
        {
            "indicator": vocab.cat("indicator", np.repeat([i.code for i in indicators], size)),
            "year": np.tile(grid_year, n_ind),
            "level": vocab.cat("level", np.full(size * n_ind, level)),
            "unit_id": vocab.cat("unit_id", np.tile(ids, n_years * n_ind)),
            "numerator": np.where(reported, num, np.nan),
            "denominator": np.where(reported, den, np.nan),
            "persons": np.where(reported, persons, np.nan),
            "applicable": applicable,
            "n_units": reported.astype("int64"),
            "dwellings_all": np.tile(dwellings, n_ind),
        }
    )
    out["n_dwellings"] = np.where(reported, out["dwellings_all"], 0.0)
    for name, values in attrs.items():
        if name != "dwellings":
            out[name] = np.tile(np.tile(values, n_years), n_ind) if not isinstance(values, pd.Categorical) else (
                pd.Categorical.from_codes(np.tile(np.tile(values.codes, n_years), n_ind), dtype=values.dtype)
            )  # fmt: skip
    return out


def _aggregate(units: pd.DataFrame, vocab: _Vocab, keys: list[str], level: str) -> pd.DataFrame:
    """Ratio of sums over the units of each group: sum numerators and denominators, never average ratios."""
    agg = units.groupby(["indicator", "year", *keys], observed=True, sort=False).agg(
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        persons=("persons", "sum"),
        n_units=("n_units", "sum"),
        n_dwellings=("n_dwellings", "sum"),
        dwellings_all=("dwellings_all", "sum"),
        applicable=("applicable", "any"),
    )
    agg = agg.reset_index()
    for name in ("kommune_code", "region", "organisation_id"):
        if name not in agg:
            agg[name] = vocab.cat(name, np.full(len(agg), None))
    agg["level"] = vocab.cat("level", np.full(len(agg), level))
    unit_source = {"organisation_kommune": "organisation_id", "organisation": "organisation_id",
                   "kommune": "kommune_code", "region": "region"}.get(level)  # fmt: skip
    if unit_source is None:
        agg["unit_id"] = vocab.cat("unit_id", np.full(len(agg), NATIONAL_ID))
    else:
        agg["unit_id"] = vocab.recode(agg[unit_source], "unit_id")
    return agg


def _afdeling_levels(dataset: Dataset, vocab: _Vocab, years: list[int]) -> list[pd.DataFrame]:
    afd = dataset.afdelinger
    region_of = kommuner().set_index("kommune_code")["region"]
    attrs = {
        "dwellings": afd["dwellings"].to_numpy(dtype=float),
        "organisation_id": vocab.cat("organisation_id", afd["organisation_id"].astype(str)),
        "kommune_code": vocab.cat("kommune_code", afd["kommune_code"].astype(str)),
        "region": vocab.cat("region", afd["kommune_code"].astype(str).map(region_of)),
        "residents": afd["residents"].to_numpy(dtype=float),
    }
    units = _unit_rows(dataset, vocab, afd, "afdeling_id", "afdeling", years, attrs)
    out = [units]
    for level, keys in (
        ("organisation_kommune", ["organisation_id", "kommune_code", "region"]),
        ("organisation", ["organisation_id"]),
        ("kommune", ["kommune_code", "region"]),
        ("region", ["region"]),
        ("national", []),
    ):
        out.append(_aggregate(units, vocab, keys, level))
    out.append(_missing_kommuner(out[3], vocab, years, "afdeling"))
    return out


def _organisation_levels(dataset: Dataset, vocab: _Vocab, years: list[int]) -> list[pd.DataFrame]:
    orgs = dataset.organisations
    region_of = kommuner().set_index("kommune_code")["region"]
    org_dwellings = dataset.afdelinger.groupby("organisation_id", observed=True)["dwellings"].sum()
    hjemsted = orgs["hjemsted_kommune_code"].astype(str)
    attrs = {
        "dwellings": orgs["organisation_id"].map(org_dwellings).fillna(0).to_numpy(dtype=float),
        "organisation_id": vocab.cat("organisation_id", orgs["organisation_id"].astype(str)),
        "kommune_code": vocab.cat("kommune_code", hjemsted),
        "region": vocab.cat("region", hjemsted.map(region_of)),
    }
    units = _unit_rows(dataset, vocab, orgs, "organisation_id", "organisation", years, attrs)
    out = [units]
    for level, keys in (("kommune", ["kommune_code", "region"]), ("region", ["region"]), ("national", [])):
        out.append(_aggregate(units, vocab, keys, level))
    out.append(_missing_kommuner(out[1], vocab, years, "organisation"))
    return out


def _missing_kommuner(kommune_rows: pd.DataFrame, vocab: _Vocab, years: list[int], level: str) -> pd.DataFrame:
    """Missing rows for kommuner with no afdeling (or no organisation's seat), so every kommune has a row."""
    k = kommuner()
    codes = [i.code for i in registry.INDICATORS.values() if i.level == level]
    grid = pd.MultiIndex.from_product([codes, years, k["kommune_code"]], names=["indicator", "year", "kommune_code"])
    present = pd.MultiIndex.from_arrays(
        [kommune_rows["indicator"].astype(str), kommune_rows["year"], kommune_rows["kommune_code"].astype(str)]
    )
    absent = grid[~grid.isin(present)].to_frame(index=False)
    region_of = k.set_index("kommune_code")["region"]
    return pd.DataFrame(
        {
            "indicator": vocab.cat("indicator", absent["indicator"]),
            "year": absent["year"].to_numpy(dtype="int64"),
            "level": vocab.cat("level", np.full(len(absent), "kommune")),
            "unit_id": vocab.cat("unit_id", absent["kommune_code"]),
            "kommune_code": vocab.cat("kommune_code", absent["kommune_code"]),
            "region": vocab.cat("region", absent["kommune_code"].map(region_of)),
            "organisation_id": vocab.cat("organisation_id", np.full(len(absent), None)),
            "numerator": np.nan,
            "denominator": np.nan,
            "persons": np.nan,
            "applicable": True,
            "n_units": np.zeros(len(absent), dtype="int64"),
            "dwellings_all": 0.0,
            "n_dwellings": 0.0,
        }
    )


def _kommune_levels(dataset: Dataset, vocab: _Vocab, years: list[int]) -> list[pd.DataFrame]:
    """Indicators measured on the kommune itself (S2): Σ almene dwellings / all dwellings."""
    k = kommuner()
    almene = dataset.afdelinger.groupby("kommune_code", observed=True)["dwellings"].sum()
    almene.index = almene.index.astype(str)
    ctx = dataset.kommune_context
    ctx_index = pd.MultiIndex.from_arrays([ctx["year"].to_numpy(), ctx["kommune_code"].astype(str)])
    ctx = pd.Series(ctx["dwellings_total"].to_numpy(dtype=float), index=ctx_index)
    out = []
    for ind in (i for i in registry.INDICATORS.values() if i.level == "kommune"):
        grid = pd.MultiIndex.from_product([years, k["kommune_code"]], names=["year", "kommune_code"])
        num = np.tile(k["kommune_code"].map(almene).fillna(0).to_numpy(dtype=float), len(years))
        den = ctx.reindex(grid).to_numpy(dtype=float)
        reported = ~np.isnan(den) & (den > 0)
        frame = pd.DataFrame(
            {
                "indicator": vocab.cat("indicator", np.full(len(grid), ind.code)),
                "year": grid.get_level_values("year").to_numpy(dtype="int64"),
                "level": vocab.cat("level", np.full(len(grid), "kommune")),
                "unit_id": vocab.cat("unit_id", grid.get_level_values("kommune_code")),
                "kommune_code": vocab.cat("kommune_code", grid.get_level_values("kommune_code")),
                "region": vocab.cat("region", np.tile(k["region"].to_numpy(), len(years))),
                "organisation_id": vocab.cat("organisation_id", np.full(len(grid), None)),
                "numerator": np.where(reported, num, np.nan),
                "denominator": np.where(reported, den, np.nan),
                "persons": np.nan,
                "applicable": True,
                "n_units": reported.astype("int64"),
                "dwellings_all": num,
                "n_dwellings": np.where(reported, num, 0.0),
            }
        )
        out += [frame, _aggregate(frame, vocab, ["region"], "region"), _aggregate(frame, vocab, [], "national")]
    return out


def _finish(table: pd.DataFrame) -> None:
    """Value, coverage and status from summed numerators and denominators (in place)."""
    has = table["n_units"].to_numpy() > 0
    scale = disclosure.per_indicator(table, "scale").astype(float)
    for col in ("numerator", "denominator"):
        table[col] = np.where(has, table[col].to_numpy(), np.nan)
    with_persons = disclosure.per_indicator(table, "persons_measure") != None  # noqa: E711 - elementwise
    table["persons"] = np.where(has & with_persons, table["persons"].to_numpy(), np.nan)
    table["value"] = table["numerator"].to_numpy() / table["denominator"].to_numpy() * scale
    dwellings_all = table["dwellings_all"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        table["coverage"] = np.where(dwellings_all > 0, table["n_dwellings"].to_numpy() / dwellings_all, np.nan)
    codes = np.where(~table["applicable"].to_numpy(dtype=bool), 3, np.where(has, 0, 1))
    table["status"] = pd.Categorical.from_codes(codes, categories=list(STATUSES))


def _names(dataset: Dataset, table: pd.DataFrame) -> pd.Categorical:
    """A readable name for each row's unit, looked up per category rather than per row."""
    k = kommuner()
    afd, orgs = dataset.afdelinger, dataset.organisations
    names = pd.concat(
        [
            pd.Series(afd["afdeling_name"].astype(str).to_numpy(), index=afd["afdeling_id"].astype(str)),
            pd.Series(orgs["organisation_name"].astype(str).to_numpy(), index=orgs["organisation_id"].astype(str)),
            pd.Series(k["kommune_name"].to_numpy(), index=k["kommune_code"]),
            pd.Series(k["region"].unique(), index=k["region"].unique()),
            pd.Series([NATIONAL_NAME_DA], index=[NATIONAL_ID]),
        ]
    )
    names = names[~names.index.duplicated()]
    # Name each category once; factorise the few category names instead of millions of row strings.
    unit = table["unit_id"]
    per_category = names.reindex(unit.cat.categories.astype(str)).to_numpy(dtype=object)
    codes, uniques = pd.factorize(per_category)
    row_codes = np.where(unit.cat.codes.to_numpy() >= 0, codes[unit.cat.codes.to_numpy()], -1)
    return pd.Categorical.from_codes(row_codes, categories=pd.Index(uniques).astype(str))


def _change(table: pd.DataFrame) -> np.ndarray:
    """Change in value since the previous year for the same indicator, level and unit (hash lookup, O(n))."""
    unit = disclosure.row_keys(table, ["indicator", "level", "unit_id", "kommune_code"])
    year = table["year"].to_numpy(dtype="int64")
    span = int(year.max(initial=0) - year.min(initial=0)) + 2
    offset = year - year.min(initial=0) + 1
    previous_row = pd.Index(unit * span + offset).get_indexer(unit * span + offset - 1)
    value = table["value"].to_numpy()
    previous = np.where(previous_row >= 0, value[previous_row], np.nan)
    return value - previous


def _rank(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1 = best among the kommuner with a published value (context indicators: 1 = highest value)."""
    rank = np.full(len(table), np.nan)
    pct = np.full(len(table), np.nan)
    mask = ((table["level"] == "kommune") & (table["status"] == "reported")).to_numpy()
    k = table.loc[mask, ["indicator", "year", "value"]]
    sign = k["indicator"].map(
        {c: (1.0 if i.direction == "lower_better" else -1.0) for c, i in registry.INDICATORS.items()}
    )
    k = k.assign(score=k["value"] * sign.to_numpy(dtype=float))
    groups = k.groupby(["indicator", "year"], observed=True)["score"]
    r = groups.rank(method="min").to_numpy()
    n = groups.transform("count").to_numpy()
    rank[mask] = r
    pct[mask] = np.where(n > 1, 100.0 * (n - r) / np.maximum(n - 1, 1), 100.0)
    return rank, pct


def indicator_table(dataset: Dataset, validate: bool = True) -> pd.DataFrame:
    """Every indicator × year × level with value, numerator, denominator, coverage, status, change and rank."""
    years = dataset.years
    vocab = _Vocab(dataset)
    parts = [
        *_afdeling_levels(dataset, vocab, years),
        *_organisation_levels(dataset, vocab, years),
        *_kommune_levels(dataset, vocab, years),
    ]
    table = pd.concat(parts, ignore_index=True)
    _finish(table)
    table = disclosure.apply(table)
    dims = np.array([registry.INDICATORS[c].dimension for c in table["indicator"].cat.categories])
    table["dimension"] = pd.Categorical(dims[table["indicator"].cat.codes.to_numpy()], categories=["E", "S", "G"])
    table["unit_name"] = _names(dataset, table)
    table["change"] = _change(table)
    table["rank"], table["percentile"] = _rank(table)
    table["n_dwellings"] = table["n_dwellings"].astype("float64")
    # One int64 sort key (indicator, year, level, kommune, unit) sorts far faster than a five-key lexsort.
    order = np.argsort(
        disclosure.row_keys(table, ["indicator", "year", "level", "kommune_code", "unit_id"]), kind="stable"
    )
    table = table[TABLE_COLUMNS].take(order).reset_index(drop=True)
    if validate:
        table = INDICATOR_TABLE_SCHEMA.validate(table)
    return table
