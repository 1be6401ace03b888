"""The whole indicator table: every indicator × year × level, computed once from a dataset."""

from __future__ import annotations

from dataclasses import dataclass

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
        self._indexes: dict[str, pd.Index] = {}
        # The region of each kommune, as region codes in kommune order.
        self.region_of_kommune = self.codes("region", k["region"])
        self._unit_codes = {name: self.codes("unit_id", getattr(self, name)) for name in
                            ("kommune_code", "region", "organisation_id")}  # fmt: skip

    def cat(self, name: str, values) -> pd.Categorical:
        return pd.Categorical(values, categories=getattr(self, name))

    def index(self, name: str) -> pd.Index:
        if name not in self._indexes:
            self._indexes[name] = pd.Index(getattr(self, name))
        return self._indexes[name]

    def codes(self, name: str, values) -> np.ndarray:
        """Category codes of a few values (-1 where absent); rows then repeat codes, never strings."""
        return self.index(name).get_indexer(pd.Index(values).astype(object))

    def from_codes(self, name: str, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=getattr(self, name))

    def unit_codes(self, name: str, codes: np.ndarray) -> np.ndarray:
        """Codes of `name` (e.g. kommune_code) as codes of the unit_id categories."""
        return np.where(codes >= 0, self._unit_codes[name][codes], -1)


@dataclass
class _Part:
    """Rows of one level laid out as blocks (one per indicator × year), each block the same units in table order.

    `rows` holds per-row arrays (indicator-major, then year, then unit); `units` holds per-unit arrays that repeat
    in every block. The regular layout lets every aggregation be a bincount over dense group numbers, the previous
    year of a row be the same position one block earlier, and the table's order be a gather of whole blocks: linear
    in the rows, with no hashing or sorting of millions of keys and no full-size temporary frames.
    """

    level: str
    block_indicator: np.ndarray  # indicator code of each block
    block_year: np.ndarray
    block_applicable: np.ndarray
    rows: dict[str, np.ndarray]  # numerator, denominator, persons, n_units, n_dwellings
    units: dict[str, np.ndarray]  # unit_id, kommune_code, region, organisation_id codes; dwellings_all; residents

    @property
    def block_size(self) -> int:
        return len(self.units["unit_id"])


def _in_table_order(vocab: _Vocab, ids, kommune_codes: np.ndarray) -> np.ndarray:
    """Positions that put units in the table's order: by kommune, then by unit."""
    return np.lexsort((vocab.codes("unit_id", ids), kommune_codes))


class _Measures:
    """The measures table as integer codes, made once and shared by the afdeling and organisation levels."""

    def __init__(self, dataset: Dataset, years: list[int]):
        m = dataset.measures
        # Factorise once, then look up the few distinct names: hashing millions of strings is the slow part.
        self.measure_codes, self.measure_names = pd.factorize(m["measure"])
        self.unit_codes, self.unit_names = pd.factorize(m["unit_id"])
        self.year_idx = pd.Index(years).get_indexer(m["year"])
        self.value = m["value"].to_numpy(dtype=float)
        self.n_years = len(years)

    def arrays(self, level: str, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Measures of one level as flat arrays over the (year, unit) grid; absent rows and NaN both stay NaN."""
        names = [n for n in registry.input_measures() if registry.measure_level(n) == level]
        measure_idx = pd.Index(names).get_indexer(self.measure_names)[self.measure_codes]
        unit_idx = pd.Index(ids).get_indexer(self.unit_names)[self.unit_codes]
        ok = (measure_idx >= 0) & (unit_idx >= 0) & (self.year_idx >= 0)
        cell = (measure_idx.astype("int64") * self.n_years + self.year_idx) * len(ids) + unit_idx
        cube = np.full(len(names) * self.n_years * len(ids), np.nan)
        cube[cell[ok]] = self.value[ok]
        size = self.n_years * len(ids)
        return {name: cube[i * size : (i + 1) * size] for i, name in enumerate(names)}


def _grid(vocab: _Vocab, level: str, years: list[int], units: dict[str, np.ndarray], column) -> _Part:
    """One row per indicator × year × unit of `level` with numerator, denominator and persons where reported.

    `column(name)` gives a measure's values over the (year, unit) grid, year-major.
    """
    indicators = [i for i in registry.INDICATORS.values() if i.level == level]
    n_years, n_units = len(years), len(units["unit_id"])
    block_year = np.tile(np.asarray(years, dtype="int64"), len(indicators))
    block_indicator = np.repeat(vocab.codes("indicator", [i.code for i in indicators]), n_years).astype("int64")
    first = np.repeat([i.first_year if i.first_year is not None else -1 for i in indicators], n_years)
    block_applicable = block_year >= first
    nan = np.full(n_years * n_units, np.nan)

    def stacked(name_of) -> np.ndarray:
        return np.concatenate([column(name_of(i)) if name_of(i) else nan for i in indicators] or [np.empty(0)])

    num, den = stacked(lambda i: i.numerator), stacked(lambda i: i.denominator)
    persons = stacked(lambda i: i.persons_measure)
    reported = np.repeat(block_applicable, n_units) & ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    # Zero where not reported, so that sums need no NaN handling; _finish blanks rows with no units.
    rows = {
        "numerator": np.where(reported, num, 0.0),
        "denominator": np.where(reported, den, 0.0),
        "persons": np.where(reported & ~np.isnan(persons), persons, 0.0),
        "n_units": reported.astype("int64"),
        "n_dwellings": np.where(reported, np.tile(units["dwellings_all"], len(block_year)), 0.0),
    }
    return _Part(level, block_indicator, block_year, block_applicable, rows, units)


def _unit_level(dataset: Dataset, vocab: _Vocab, years: list[int], level: str, measures: _Measures) -> _Part:
    """The afdeling or organisation rows, units in table order, with their kommune, region and organisation."""
    if level == "afdeling":
        frame, id_col, kommune_col = dataset.afdelinger, "afdeling_id", "kommune_code"
    else:
        frame, id_col, kommune_col = dataset.organisations, "organisation_id", "hjemsted_kommune_code"
    frame = frame.iloc[
        _in_table_order(vocab, frame[id_col].astype(str), vocab.codes("kommune_code", frame[kommune_col].astype(str)))
    ]
    ids = frame[id_col].astype(str).to_numpy()
    kommune = vocab.codes("kommune_code", frame[kommune_col].astype(str))
    if level == "afdeling":
        dwellings = frame["dwellings"].to_numpy(dtype=float)
        extra = {"residents": frame["residents"].to_numpy(dtype=float)}
    else:
        org_dwellings = dataset.afdelinger.groupby("organisation_id", observed=True)["dwellings"].sum()
        dwellings = frame["organisation_id"].map(org_dwellings).fillna(0).to_numpy(dtype=float)
        extra = {}
    units = {
        "unit_id": vocab.codes("unit_id", ids),
        "kommune_code": kommune,
        "region": vocab.region_of_kommune[kommune],
        "organisation_id": vocab.codes("organisation_id", frame["organisation_id"].astype(str)),
        "dwellings_all": dwellings,
        **extra,
    }
    values = measures.arrays(level, ids)

    def column(name: str) -> np.ndarray:
        if registry.MEASURES[name].source == "measures":
            return values[name]
        return np.tile(frame[name].to_numpy(dtype=float), len(years))

    return _grid(vocab, level, years, units, column)


def _aggregate(part: _Part, vocab: _Vocab, level: str) -> _Part:
    """Ratio of sums over the units of each group: sum numerators and denominators, never average ratios.

    `part` may itself be an aggregate (its groups are then the units): sums of sums, so each level sums the few
    rows of the level below it instead of every afdeling again. Every kommune gets a kommune row (missing when no
    unit lies in it); other levels have a row per group with at least one unit, in the table's order.
    """
    units = part.units
    n_kommuner, n_units = len(vocab.kommune_code), part.block_size
    unit_source = {"organisation_kommune": "organisation_id", "organisation": "organisation_id",
                   "kommune": "kommune_code", "region": "region"}.get(level)  # fmt: skip
    if level == "kommune":
        group, n_groups = units["kommune_code"], n_kommuner
        group_codes = {"kommune_code": np.arange(n_kommuner)}
    elif unit_source is None:
        group, n_groups, group_codes = np.zeros(n_units, dtype="int64"), 1, {}
    else:
        unit = vocab.unit_codes(unit_source, units[unit_source])
        kommune = units["kommune_code"] if level == "organisation_kommune" else np.full(n_units, -1)
        key = (kommune + 1).astype("int64") * (len(vocab.unit_id) + 1) + unit + 1
        _, first, group = np.unique(key, return_index=True, return_inverse=True)
        n_groups = len(first)
        group_codes = {unit_source: units[unit_source][first]}
        if level == "organisation_kommune":
            group_codes["kommune_code"] = units["kommune_code"][first]
    if "kommune_code" in group_codes:
        group_codes["region"] = vocab.region_of_kommune[group_codes["kommune_code"]]
    n_blocks = len(part.block_year)
    gid = (np.arange(n_blocks)[:, None] * n_groups + group.reshape(1, -1)).reshape(-1)
    rows = {name: np.bincount(gid, weights=values, minlength=n_blocks * n_groups) for name, values in part.rows.items()}
    rows["n_units"] = rows["n_units"].astype("int64")
    national = vocab.codes("unit_id", [NATIONAL_ID])
    grouped = {
        "unit_id": national if unit_source is None else vocab.unit_codes(unit_source, group_codes[unit_source]),
        **{
            name: group_codes.get(name, np.full(n_groups, -1)) for name in ("kommune_code", "region", "organisation_id")
        },
        "dwellings_all": np.bincount(group, weights=units["dwellings_all"], minlength=n_groups),
    }
    return _Part(level, part.block_indicator, part.block_year, part.block_applicable, rows, grouped)


def _afdeling_levels(dataset: Dataset, vocab: _Vocab, years: list[int], measures: _Measures) -> list[_Part]:
    afdeling = _unit_level(dataset, vocab, years, "afdeling", measures)
    org_kommune = _aggregate(afdeling, vocab, "organisation_kommune")
    kommune = _aggregate(org_kommune, vocab, "kommune")
    region = _aggregate(kommune, vocab, "region")
    national = _aggregate(region, vocab, "national")
    return [afdeling, org_kommune, _aggregate(org_kommune, vocab, "organisation"), kommune, region, national]


def _organisation_levels(dataset: Dataset, vocab: _Vocab, years: list[int], measures: _Measures) -> list[_Part]:
    organisation = _unit_level(dataset, vocab, years, "organisation", measures)
    kommune = _aggregate(organisation, vocab, "kommune")
    region = _aggregate(kommune, vocab, "region")
    return [organisation, kommune, region, _aggregate(region, vocab, "national")]


def _kommune_levels(dataset: Dataset, vocab: _Vocab, years: list[int]) -> list[_Part]:
    """Indicators measured on the kommune itself (S2): Σ almene dwellings / all dwellings."""
    k = kommuner()
    codes = k["kommune_code"].to_numpy()
    almene = dataset.afdelinger.groupby("kommune_code", observed=True)["dwellings"].sum()
    almene = pd.Series(almene.to_numpy(dtype=float), index=almene.index.astype(str)).reindex(codes).fillna(0)
    ctx = dataset.kommune_context
    ctx = pd.Series(
        ctx["dwellings_total"].to_numpy(dtype=float),
        index=pd.MultiIndex.from_arrays([ctx["year"].to_numpy(), ctx["kommune_code"].astype(str)]),
    )
    dwellings_total = ctx.reindex(pd.MultiIndex.from_product([years, codes])).to_numpy(dtype=float)

    def column(name: str) -> np.ndarray:
        return dwellings_total if name == "dwellings_total" else np.tile(almene.to_numpy(), len(years))

    kommune = np.arange(len(codes))
    units = {
        "unit_id": vocab.codes("unit_id", codes),
        "kommune_code": kommune,
        "region": vocab.region_of_kommune,
        "organisation_id": np.full(len(codes), -1),
        "dwellings_all": almene.to_numpy(),
    }
    grid = _grid(vocab, "kommune", years, units, column)
    region = _aggregate(grid, vocab, "region")
    return [grid, region, _aggregate(region, vocab, "national")]


class _Layout:
    """Where each part's blocks go in the table, which is ordered by indicator, year, level, kommune and unit."""

    def __init__(self, parts: list[_Part]):
        blocks = []  # (indicator, year, level, part, block)
        for p, part in enumerate(parts):
            level = LEVELS.index(part.level)
            for b, (indicator, year) in enumerate(zip(part.block_indicator, part.block_year, strict=True)):
                blocks.append((int(indicator), int(year), level, p, b))
        blocks.sort()
        self.parts = parts
        self.blocks = [(p, b) for *_, p, b in blocks]
        sizes = np.array([parts[p].block_size for p, _ in self.blocks], dtype="int64")
        self.start = np.r_[0, np.cumsum(sizes)[:-1]].astype("int64")
        self.size = sizes
        self.n_rows = int(sizes.sum())
        self.where = {pb: i for i, pb in enumerate(self.blocks)}  # (part, block) -> position in self.blocks

    def rows(self, name: str, dtype, fill) -> np.ndarray:
        """A per-row column of every part gathered into table order (`fill` where a part has none)."""
        out = np.empty(self.n_rows, dtype=dtype)
        for (p, b), start, size in zip(self.blocks, self.start, self.size, strict=True):
            values = self.parts[p].rows.get(name)
            out[start : start + size] = fill if values is None else values[b * size : (b + 1) * size]
        return out

    def units(self, name: str, dtype, fill) -> np.ndarray:
        """A per-unit column repeated in each of its part's blocks, in table order."""
        out = np.empty(self.n_rows, dtype=dtype)
        for (p, _), start, size in zip(self.blocks, self.start, self.size, strict=True):
            values = self.parts[p].units.get(name)
            out[start : start + size] = fill if values is None else values
        return out

    def blocks_of(self, attribute: str, dtype) -> np.ndarray:
        """A per-block attribute (indicator, year, applicable) repeated over the block's rows."""
        values = np.array([getattr(self.parts[p], attribute)[b] for p, b in self.blocks], dtype=dtype)
        return np.repeat(values, self.size)

    def previous_year(self) -> np.ndarray:
        """For each row, the position of the same unit's row a year earlier (-1 where there is none)."""
        out = np.full(self.n_rows, -1, dtype="int64")
        for (p, b), start, size in zip(self.blocks, self.start, self.size, strict=True):
            part = self.parts[p]
            if b == 0 or part.block_indicator[b - 1] != part.block_indicator[b]:
                continue
            if part.block_year[b - 1] == part.block_year[b] - 1:
                earlier = self.start[self.where[(p, b - 1)]]
                out[start : start + size] = np.arange(earlier, earlier + size)
        return out


def _code_dtype(n_categories: int) -> str:
    """The integer type pandas keeps category codes in, so that codes gathered in it need no copy."""
    return "int8" if n_categories < 127 else "int16" if n_categories < 32767 else "int32"


def _assemble(layout: _Layout, vocab: _Vocab) -> dict[str, np.ndarray | pd.Categorical]:
    """The parts' rows in table order, one array per column (nothing is concatenated twice)."""

    def categorical(name: str, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=vocab.index(name))

    def unit_codes(name: str) -> pd.Categorical:
        return categorical(name, layout.units(name, _code_dtype(len(getattr(vocab, name))), -1))

    level = np.array([LEVELS.index(layout.parts[p].level) for p, _ in layout.blocks], dtype="int8")
    return {
        "indicator": categorical("indicator", layout.blocks_of("block_indicator", "int8")),
        "year": layout.blocks_of("block_year", "int64"),
        "level": categorical("level", np.repeat(level, layout.size)),
        **{name: unit_codes(name) for name in ("unit_id", "kommune_code", "region", "organisation_id")},
        **{name: layout.rows(name, "float64", np.nan) for name in ("numerator", "denominator", "persons",
                                                                   "n_dwellings")},
        "n_units": layout.rows("n_units", "int64", 0),
        "applicable": layout.blocks_of("block_applicable", bool),
        "dwellings_all": layout.units("dwellings_all", "float64", np.nan),
        "residents": layout.units("residents", "float64", np.nan),
    }  # fmt: skip


def _per_indicator(columns: dict, attribute: str, dtype) -> np.ndarray:
    """A registry attribute for every row, looked up per category."""
    indicator = columns["indicator"]
    values = np.array([getattr(registry.INDICATORS[c], attribute) for c in indicator.categories], dtype=dtype)
    return values[indicator.codes]


def _finish(columns: dict) -> None:
    """Value, coverage and status from summed numerators and denominators (in place, on the column arrays)."""
    has = columns["n_units"] > 0
    for name in ("numerator", "denominator"):
        np.copyto(columns[name], np.nan, where=~has)
    indicator = columns["indicator"]
    with_persons = np.array([registry.INDICATORS[c].persons_measure is not None for c in indicator.categories])
    np.copyto(columns["persons"], np.nan, where=~(has & with_persons[indicator.codes]))
    value = columns["numerator"] / columns["denominator"]
    value *= _per_indicator(columns, "scale", float)
    columns["value"] = value
    dwellings_all = columns["dwellings_all"]
    coverage = np.full(len(value), np.nan)
    np.divide(columns["n_dwellings"], dwellings_all, out=coverage, where=dwellings_all > 0)
    columns["coverage"] = coverage
    status = np.where(has, np.int8(STATUSES.index("reported")), np.int8(STATUSES.index("missing")))
    status[~columns["applicable"]] = STATUSES.index("not_applicable")
    columns["status"] = pd.Categorical.from_codes(status, categories=list(STATUSES))


def _suppress(columns: dict) -> None:
    """Statistical discretion (see disclosure.py): blank suppressed figures in place and mark them suppressed."""
    supp = disclosure.suppressed(pd.DataFrame(columns, copy=False))
    for name in ("value", "numerator", "denominator", "persons"):
        np.copyto(columns[name], np.nan, where=supp)
    columns["n_persons"] = columns.pop("persons")
    status = columns["status"]
    codes = status.codes.copy()
    codes[supp] = STATUSES.index("suppressed")
    columns["status"] = pd.Categorical.from_codes(codes, dtype=status.dtype)


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


def _change(layout: _Layout, value: np.ndarray) -> np.ndarray:
    """Change in value since the previous year for the same indicator, level and unit."""
    previous_row = layout.previous_year()
    previous = np.where(previous_row >= 0, value[np.maximum(previous_row, 0)], np.nan)
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
    measures = _Measures(dataset, years)
    parts = [
        *_afdeling_levels(dataset, vocab, years, measures),
        *_organisation_levels(dataset, vocab, years, measures),
        *_kommune_levels(dataset, vocab, years),
    ]
    del measures
    # Every part is built in table order block by block, so ordering the table is a gather of whole blocks.
    layout = _Layout(parts)
    columns = _assemble(layout, vocab)
    _finish(columns)
    _suppress(columns)
    dims = np.array([["E", "S", "G"].index(registry.INDICATORS[c].dimension) for c in vocab.indicator], "int8")
    columns["dimension"] = pd.Categorical.from_codes(dims[columns["indicator"].codes], categories=["E", "S", "G"])
    table = pd.DataFrame(columns, copy=False)
    table["unit_name"] = _names(dataset, table)
    table["change"] = _change(layout, columns["value"])
    table["rank"], table["percentile"] = _rank(table)
    table = pd.DataFrame({name: table[name] for name in TABLE_COLUMNS}, copy=False)
    if validate:
        table = INDICATOR_TABLE_SCHEMA.validate(table, inplace=True)
    return table
