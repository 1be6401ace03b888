"""The whole indicator table: every indicator × year × level, computed once from a dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kompas_helpers import comparison, disclosure, kommuner, peers, registry, uncertainty
from kompas_helpers.model import Dataset
from kompas_helpers.registry import LEVELS, STATUSES, VERDICTS
from kompas_helpers.schemas import INDICATOR_TABLE_SCHEMA

NATIONAL_ID = "DK"
NATIONAL_NAME_DA = "Hele landet"

TABLE_COLUMNS = [
    "indicator", "dimension", "year", "level", "unit_id", "unit_name", "kommune_code", "region",
    "organisation_id", "value", "numerator", "denominator", "n_units", "n_dwellings", "n_persons", "coverage",
    "status", "change", "rank", "percentile", "interval_low", "interval_high", "peer_group", "peer_value", "verdict",
]  # fmt: skip


class _Vocab:
    """Fixed category lists: every categorical column of the table is built as integer codes into these."""

    COLUMNS = ("indicator", "dimension", "level", "unit_id", "kommune_code", "region", "organisation_id", "status")

    def __init__(self, dataset: Dataset):
        k = kommuner.table()
        self.kommune_code = list(k["kommune_code"])
        self.region = sorted(k["region"].unique())
        self.organisation_id = sorted(dataset.organisations["organisation_id"].astype(str))
        afd_ids = sorted(dataset.afdelinger["afdeling_id"].astype(str))
        self.unit_id = list(dict.fromkeys([*afd_ids, *self.organisation_id, *self.kommune_code, *self.region,
                                           NATIONAL_ID]))  # fmt: skip
        self.indicator = list(registry.CODES)
        self.dimension = list(registry.DIMENSIONS)
        self.level = list(LEVELS)
        self.status = list(STATUSES)
        self._indexes: dict[str, pd.Index] = {}
        # The region of each kommune, as region codes in kommune order.
        self.region_of_kommune = self.codes("region", k["region"])
        self._unit_codes = {name: self.codes("unit_id", getattr(self, name)) for name in
                            ("kommune_code", "region", "organisation_id")}  # fmt: skip

    def index(self, name: str) -> pd.Index:
        if name not in self._indexes:
            self._indexes[name] = pd.Index(getattr(self, name))
        return self._indexes[name]

    def codes(self, name: str, values) -> np.ndarray:
        """Category codes of a few values (-1 where absent); rows then repeat codes, never strings."""
        return self.index(name).get_indexer(pd.Index(values).astype(object))

    def unit_codes(self, name: str, codes: np.ndarray) -> np.ndarray:
        """Codes of `name` (e.g. kommune_code) as codes of the unit_id categories."""
        return np.where(codes >= 0, self._unit_codes[name][codes], -1)


@dataclass
class _Part:
    """Rows of one level for one indicator, laid out as year blocks of the same units in table order.

    `rows` holds per-row arrays (year-major, then unit); `units` holds per-unit arrays that repeat in every block.
    The regular layout lets every aggregation be a bincount over dense group numbers, the previous year of a row be
    the same position one block earlier, and the table's order be a gather of whole blocks.
    """

    level: str
    block_year: np.ndarray
    applicable: np.ndarray  # per block
    rows: dict[str, np.ndarray]  # numerator, denominator, persons, n_units, n_dwellings
    units: dict[str, np.ndarray]  # unit_id, kommune_code, region, organisation_id codes; dwellings_all; residents

    @property
    def block_size(self) -> int:
        return len(self.units["unit_id"])


@dataclass
class _Grouping:
    """Units of one level grouped into the units of the level above: group number per unit, and the groups."""

    level: str
    source: int  # index of the level it sums, in its family's list of levels
    group: np.ndarray
    units: dict[str, np.ndarray]


@dataclass
class _Family:
    """The units an indicator is measured on (afdelinger, organisations or kommuner) and the levels above them."""

    level: str
    ids: np.ndarray
    units: dict[str, np.ndarray]
    groupings: list[_Grouping]
    attributes: dict[str, np.ndarray]  # measures that are columns of the units' own table, over the grid
    measures: _Measures | None = None

    def column(self, name: str) -> np.ndarray:
        """A measure's values over the (year, unit) grid, year-major."""
        return self.attributes[name] if name in self.attributes else self.measures.values(self.level, name)

    def all_units(self) -> list[dict[str, np.ndarray]]:
        return [self.units, *(g.units for g in self.groupings)]


def _in_table_order(vocab: _Vocab, ids, kommune_codes: np.ndarray) -> np.ndarray:
    """Positions that put units in the table's order: by kommune, then by unit."""
    return np.lexsort((vocab.codes("unit_id", ids), kommune_codes))


class _Measures:
    """The measures table as (year, unit) grids per measure, for afdelinger and organisations.

    The long table is read in slices, so that its temporaries stay small (and cheap) whatever its length.
    """

    SLICE = 1_000_000

    def __init__(self, dataset: Dataset, years: list[int], ids: dict[str, np.ndarray]):
        self.names = {
            level: [n for n in registry.input_measures() if registry.measure_level(n) == level] for level in ids
        }
        self.size = {level: len(years) * len(level_ids) for level, level_ids in ids.items()}
        cubes = {level: np.full(len(self.names[level]) * self.size[level], np.nan) for level in ids}
        m = dataset.measures
        year_index, id_index = pd.Index(years), {level: pd.Index(level_ids) for level, level_ids in ids.items()}
        for start in range(0, len(m), self.SLICE):
            part = m.iloc[start : start + self.SLICE]
            # Factorise the slice, then look up its few distinct names: hashing strings per row is the slow part.
            measure_codes, measure_names = pd.factorize(part["measure"])
            unit_codes, unit_names = pd.factorize(part["unit_id"])
            year_idx = year_index.get_indexer(part["year"])
            value = part["value"].to_numpy(dtype=float)
            for level, cube in cubes.items():
                measure_idx = pd.Index(self.names[level]).get_indexer(measure_names)[measure_codes]
                unit_idx = id_index[level].get_indexer(unit_names)[unit_codes]
                ok = (measure_idx >= 0) & (unit_idx >= 0) & (year_idx >= 0)
                cell = measure_idx.astype("int64") * self.size[level] + year_idx * len(ids[level]) + unit_idx
                cube[cell[ok]] = value[ok]
        self.cubes = cubes

    def values(self, level: str, name: str) -> np.ndarray:
        i, size = self.names[level].index(name), self.size[level]
        return self.cubes[level][i * size : (i + 1) * size]


def _grid(family: _Family, indicator: registry.Indicator, years: list[int]) -> _Part:
    """One row per year × unit with numerator, denominator and persons where reported (zero elsewhere)."""
    n_units = len(family.units["unit_id"])
    block_year = np.asarray(years, dtype="int64")
    applicable = block_year >= (indicator.first_year or 0)
    num, den = family.column(indicator.numerator), family.column(indicator.denominator)
    reported = np.repeat(applicable, n_units) & ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    if indicator.persons_measure:
        persons = family.column(indicator.persons_measure)
        persons = np.where(reported & ~np.isnan(persons), persons, 0.0)
    else:
        persons = np.zeros(len(reported))
    # Zero where not reported, so that sums need no NaN handling; _finish blanks rows with no units.
    rows = {
        "numerator": np.where(reported, num, 0.0),
        "denominator": np.where(reported, den, 0.0),
        "persons": persons,
        "n_units": reported.astype("int64"),
        "n_dwellings": np.where(reported, np.tile(family.units["dwellings_all"], len(years)), 0.0),
    }
    if indicator.interval == "units":  # the sums a ratio's interval over units needs (uncertainty.py)
        rows["sq_numerator"] = rows["numerator"] ** 2
        rows["sq_denominator"] = rows["denominator"] ** 2
        rows["cross"] = rows["numerator"] * rows["denominator"]
    return _Part(family.level, block_year, applicable, rows, family.units)


def _grouping(units: dict[str, np.ndarray], vocab: _Vocab, level: str, source: int) -> _Grouping:
    """How the units of one level group into `level`: every kommune gets a group (missing when no unit lies in
    it); other levels have a group per combination that has at least one unit, in the table's order."""
    n_kommuner, n_units = len(vocab.kommune_code), len(units["unit_id"])
    unit_source = {"organisation_kommune": "organisation_id", "organisation": "organisation_id",
                   "kommune": "kommune_code", "region": "region"}.get(level)  # fmt: skip
    if level == "kommune":
        group, group_codes, n_groups = units["kommune_code"], {"kommune_code": np.arange(n_kommuner)}, n_kommuner
    elif unit_source is None:
        group, group_codes, n_groups = np.zeros(n_units, dtype="int64"), {}, 1
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
    national = vocab.codes("unit_id", [NATIONAL_ID])
    grouped = {
        "unit_id": national if unit_source is None else vocab.unit_codes(unit_source, group_codes[unit_source]),
        **{
            name: group_codes.get(name, np.full(n_groups, -1)) for name in ("kommune_code", "region", "organisation_id")
        },
        "dwellings_all": np.bincount(group, weights=units["dwellings_all"], minlength=n_groups),
    }
    return _Grouping(level, source, group, grouped)


def _sum(part: _Part, grouping: _Grouping) -> _Part:
    """Ratio of sums over the units of each group: sum numerators and denominators, never average ratios."""
    n_groups, n_blocks = len(grouping.units["unit_id"]), len(part.block_year)
    gid = (np.arange(n_blocks)[:, None] * n_groups + grouping.group.reshape(1, -1)).reshape(-1)
    rows = {name: np.bincount(gid, weights=values, minlength=n_blocks * n_groups) for name, values in part.rows.items()}
    rows["n_units"] = rows["n_units"].astype("int64")
    return _Part(grouping.level, part.block_year, part.applicable, rows, grouping.units)


def _chain(vocab: _Vocab, units: dict[str, np.ndarray], steps: list[tuple[str, int]]) -> list[_Grouping]:
    """Groupings for each (level, source) step; source indexes the unit level (0) or an earlier step (1, 2, ...)."""
    groupings: list[_Grouping] = []
    for level, source in steps:
        source_units = units if source == 0 else groupings[source - 1].units
        groupings.append(_grouping(source_units, vocab, level, source))
    return groupings


def _unit_family(dataset: Dataset, vocab: _Vocab, years: list[int], level: str) -> _Family:
    """The afdeling or organisation units in table order, with their kommune, region and organisation."""
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
        # organisation_kommune sums afdelinger; organisation and kommune sum those; region sums kommuner; ...
        steps = [("organisation_kommune", 0), ("organisation", 1), ("kommune", 1), ("region", 3), ("national", 4)]
    else:
        org_dwellings = dataset.afdelinger.groupby("organisation_id", observed=True)["dwellings"].sum()
        dwellings = frame["organisation_id"].map(org_dwellings).fillna(0).to_numpy(dtype=float)
        extra = {}
        steps = [("kommune", 0), ("region", 1), ("national", 2)]
    units = {
        "unit_id": vocab.codes("unit_id", ids),
        "kommune_code": kommune,
        "region": vocab.region_of_kommune[kommune],
        "organisation_id": vocab.codes("organisation_id", frame["organisation_id"].astype(str)),
        "dwellings_all": dwellings,
        **extra,
    }
    attributes = {name: np.tile(frame[name].to_numpy(dtype=float), len(years)) for name in registry.MEASURES
                  if registry.MEASURES[name].source != "measures" and name in frame}  # fmt: skip
    return _Family(level, ids, units, _chain(vocab, units, steps), attributes)


def _kommune_family(dataset: Dataset, vocab: _Vocab, years: list[int]) -> _Family:
    """Indicators measured on the kommune itself (S2): Σ almene dwellings / all dwellings."""
    k = kommuner.table()
    codes = k["kommune_code"].to_numpy()
    almene = dataset.afdelinger.groupby("kommune_code", observed=True)["dwellings"].sum()
    almene = pd.Series(almene.to_numpy(dtype=float), index=almene.index.astype(str)).reindex(codes).fillna(0)
    ctx = dataset.kommune_context
    ctx = pd.Series(
        ctx["dwellings_total"].to_numpy(dtype=float),
        index=pd.MultiIndex.from_arrays([ctx["year"].to_numpy(), ctx["kommune_code"].astype(str)]),
    )
    dwellings_total = ctx.reindex(pd.MultiIndex.from_product([years, codes])).to_numpy(dtype=float)
    units = {
        "unit_id": vocab.codes("unit_id", codes),
        "kommune_code": np.arange(len(codes)),
        "region": vocab.region_of_kommune,
        "organisation_id": np.full(len(codes), -1),
        "dwellings_all": almene.to_numpy(),
    }

    attributes = {"dwellings": np.tile(almene.to_numpy(), len(years)), "dwellings_total": dwellings_total}
    return _Family("kommune", codes, units, _chain(vocab, units, [("region", 0), ("national", 1)]), attributes)


def _families(dataset: Dataset, vocab: _Vocab, years: list[int]) -> dict[str, _Family]:
    families = {level: _unit_family(dataset, vocab, years, level) for level in ("afdeling", "organisation")}
    measures = _Measures(dataset, years, {level: family.ids for level, family in families.items()})
    for family in families.values():
        family.measures = measures
    return {**families, "kommune": _kommune_family(dataset, vocab, years)}


def _parts(family: _Family, indicator: registry.Indicator, years: list[int]) -> list[_Part]:
    """The indicator's rows at every level of its family."""
    parts = [_grid(family, indicator, years)]
    for grouping in family.groupings:
        parts.append(_sum(parts[grouping.source], grouping))
    return parts


class _Layout:
    """Where each part's year blocks go in one indicator's slice of the table: by year, level, kommune, unit."""

    def __init__(self, parts: list[_Part]):
        blocks = sorted(
            (int(year), LEVELS.index(part.level), p, b)
            for p, part in enumerate(parts)
            for b, year in enumerate(part.block_year)
        )
        self.parts = parts
        self.blocks = [(p, b) for *_, p, b in blocks]
        self.size = np.array([parts[p].block_size for p, _ in self.blocks], dtype="int64")
        self.start = np.r_[0, np.cumsum(self.size)[:-1]].astype("int64")
        self.n_rows = int(self.size.sum())
        self.where = {pb: i for i, pb in enumerate(self.blocks)}  # (part, block) -> position in self.blocks

    def _fill(self, table: str, name: str, dtype, fill) -> np.ndarray:
        out = np.empty(self.n_rows, dtype=dtype)
        for (p, b), start, size in zip(self.blocks, self.start, self.size, strict=True):
            values = getattr(self.parts[p], table).get(name)
            if values is None:
                out[start : start + size] = fill
            else:
                out[start : start + size] = values if table == "units" else values[b * size : (b + 1) * size]
        return out

    def rows(self, name: str, dtype, fill) -> np.ndarray:
        """A per-row column of every part gathered into table order (`fill` where a part has none)."""
        return self._fill("rows", name, dtype, fill)

    def units(self, name: str, dtype, fill) -> np.ndarray:
        """A per-unit column repeated in each of its part's blocks, in table order."""
        return self._fill("units", name, dtype, fill)

    def per_block(self, values) -> np.ndarray:
        """One value per block (its year, level, ...) repeated over the block's rows."""
        return np.repeat(np.asarray(values), self.size)

    def previous_year(self) -> np.ndarray:
        """For each row, the position of the same unit's row a year earlier (-1 where there is none)."""
        out = np.full(self.n_rows, -1, dtype="int64")
        for (p, b), start, size in zip(self.blocks, self.start, self.size, strict=True):
            part = self.parts[p]
            if b > 0 and part.block_year[b - 1] == part.block_year[b] - 1:
                earlier = self.start[self.where[(p, b - 1)]]
                out[start : start + size] = np.arange(earlier, earlier + size)
        return out


def _code_dtype(n_categories: int) -> str:
    """The integer type pandas keeps category codes in, so that codes gathered in it need no copy."""
    return "int8" if n_categories < 127 else "int16" if n_categories < 32767 else "int32"


class _Names:
    """A readable name for each unit category, as codes into a short list of names."""

    def __init__(self, dataset: Dataset, vocab: _Vocab):
        k = kommuner.table()
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
        codes, uniques = pd.factorize(names.reindex(vocab.unit_id).to_numpy(dtype=object))
        self.of_unit = codes.astype(_code_dtype(len(uniques)))
        self.categories = pd.Index(uniques).astype(str)


def _indicator_rows(
    family: _Family,
    indicator: registry.Indicator,
    years: list[int],
    vocab: _Vocab,
    names: _Names,
    comparisons: comparison.Comparisons,
) -> dict[str, np.ndarray]:
    """One indicator's slice of the table, every column as codes or values, in table order."""
    layout = _Layout(_parts(family, indicator, years))
    unit = layout.units("unit_id", _code_dtype(len(vocab.unit_id)), -1)
    columns = {
        "indicator": np.full(layout.n_rows, vocab.indicator.index(indicator.code), dtype="int8"),
        "dimension": np.full(layout.n_rows, vocab.dimension.index(indicator.dimension), dtype="int8"),
        "year": layout.per_block([layout.parts[p].block_year[b] for p, b in layout.blocks]).astype("int64"),
        "level": layout.per_block([LEVELS.index(layout.parts[p].level) for p, _ in layout.blocks]).astype("int8"),
        "unit_id": unit,
        "unit_name": names.of_unit[unit],
        **{name: layout.units(name, _code_dtype(len(getattr(vocab, name))), -1)
           for name in ("kommune_code", "region", "organisation_id")},
        **{name: layout.rows(name, "float64", np.nan) for name in ("numerator", "denominator", "persons",
                                                                   "n_dwellings")},
        "n_units": layout.rows("n_units", "int64", 0),
    }  # fmt: skip
    if indicator.interval == "units":
        columns.update({name: layout.rows(name, "float64", np.nan) for name in uncertainty.MOMENTS})
    applicable = layout.per_block([layout.parts[p].applicable[b] for p, b in layout.blocks])
    _finish(columns, indicator, applicable, layout.units("dwellings_all", "float64", np.nan))
    comparison.add_intervals(columns, indicator)
    for name in uncertainty.MOMENTS:
        columns.pop(name, None)
    _suppress(columns, indicator, layout.units("residents", "float64", np.nan), vocab)
    comparison.add_peers_and_verdicts(columns, indicator, comparisons)
    columns["change"] = _change(layout.previous_year(), columns["value"])
    columns["rank"], columns["percentile"] = _rank(columns, indicator)
    return columns


def _finish(columns: dict, indicator: registry.Indicator, applicable: np.ndarray, dwellings_all: np.ndarray) -> None:
    """Value, coverage and status from summed numerators and denominators (in place, on the column arrays)."""
    has = columns["n_units"] > 0
    for name in ("numerator", "denominator"):
        np.copyto(columns[name], np.nan, where=~has)
    if indicator.persons_measure is None:
        columns["persons"].fill(np.nan)
    else:
        np.copyto(columns["persons"], np.nan, where=~has)
    value = columns["numerator"] / columns["denominator"]
    value *= indicator.scale
    columns["value"] = value
    coverage = np.full(len(value), np.nan)
    np.divide(columns["n_dwellings"], dwellings_all, out=coverage, where=dwellings_all > 0)
    columns["coverage"] = coverage
    status = np.where(has, np.int8(STATUSES.index("reported")), np.int8(STATUSES.index("missing")))
    status[~applicable] = STATUSES.index("not_applicable")
    columns["status"] = status


def _suppress(columns: dict, indicator: registry.Indicator, residents: np.ndarray, vocab: _Vocab) -> None:
    """Statistical discretion (see disclosure.py): blank suppressed figures in place and mark them suppressed."""
    if indicator.disclosure != "none":
        frame = pd.DataFrame(
            {
                **{name: pd.Categorical.from_codes(columns[name], categories=vocab.index(name))
                   for name in ("indicator", "unit_id", "kommune_code", "region", "organisation_id", "level",
                                "status")},
                "year": columns["year"],
                "persons": columns["persons"],
                "denominator": columns["denominator"],
                "residents": residents,
            },
            copy=False,
        )  # fmt: skip
        supp = disclosure.suppressed(frame)
        for name in ("value", "numerator", "denominator", "persons", "interval_low", "interval_high"):
            np.copyto(columns[name], np.nan, where=supp)
        columns["status"][supp] = STATUSES.index("suppressed")
    columns["n_persons"] = columns.pop("persons")


def _change(previous_row: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Change in value since the previous year for the same level and unit."""
    previous = np.where(previous_row >= 0, value[np.maximum(previous_row, 0)], np.nan)
    return value - previous


def _rank(columns: dict, indicator: registry.Indicator) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1 = best among the kommuner with a published value (context indicators: 1 = highest value)."""
    rank = np.full(len(columns["value"]), np.nan)
    pct = np.full(len(columns["value"]), np.nan)
    # Ranked only among the kommuner whose figure has enough data behind it.
    mask = (columns["level"] == LEVELS.index("kommune")) & (columns["status"] == STATUSES.index("reported"))
    mask &= comparison.enough_data(columns, indicator)
    sign = 1.0 if indicator.direction == "lower_better" else -1.0
    scores = pd.Series(columns["value"][mask] * sign)
    groups = scores.groupby(columns["year"][mask])
    r = groups.rank(method="min").to_numpy()
    n = groups.transform("count").to_numpy()
    rank[mask] = r
    pct[mask] = np.where(n > 1, 100.0 * (n - r) / np.maximum(n - 1, 1), 100.0)
    return rank, pct


def indicator_table(dataset: Dataset, validate: bool = True) -> pd.DataFrame:
    """Every indicator × year × level with value, numerator, denominator, coverage, status, change and rank.

    The table is made one indicator at a time (its rows are one slice of the table, in table order), so every
    temporary array is one indicator's size and the work grows linearly with the data.
    """
    years = dataset.years
    vocab = _Vocab(dataset)
    families = _families(dataset, vocab, years)
    names = _Names(dataset, vocab)
    comparisons = comparison.Comparisons(peers.peer_groups(dataset), vocab.kommune_code, vocab.organisation_id)
    indicators = list(registry.INDICATORS.values())
    # Rows per indicator: every year, every unit of its family and every group above them.
    sizes = [len(years) * sum(len(u["unit_id"]) for u in families[i.level].all_units()) for i in indicators]
    bounds = np.r_[0, np.cumsum(sizes)]
    table: dict[str, np.ndarray] = {}
    for indicator, start, stop in zip(indicators, bounds[:-1], bounds[1:], strict=True):
        piece = _indicator_rows(families[indicator.level], indicator, years, vocab, names, comparisons)
        for name in TABLE_COLUMNS:
            if name not in table:
                table[name] = np.empty(bounds[-1], dtype=piece[name].dtype)
            table[name][start:stop] = piece[name]
    del families
    frame = {}
    for name in TABLE_COLUMNS:
        values = table.pop(name)
        if name == "unit_name":
            values = pd.Categorical.from_codes(values, categories=names.categories)
        elif name == "peer_group":
            values = pd.Categorical.from_codes(values, categories=comparisons.group_ids)
        elif name == "verdict":
            values = pd.Categorical.from_codes(values, categories=list(VERDICTS))
        elif name in vocab.COLUMNS:
            values = pd.Categorical.from_codes(values, categories=vocab.index(name))
        frame[name] = values
    result = pd.DataFrame(frame, copy=False)
    if validate:
        result = INDICATOR_TABLE_SCHEMA.validate(result, inplace=True)
    return result
