"""Statistical discretion: primary suppression of small figures and secondary suppression of their complements."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kompas_helpers import registry


@dataclass(frozen=True)
class Relation:
    """Rows of level `part` sum to the row of level `total` that shares the key columns."""

    part: str
    total: str
    keys: tuple[str, ...]
    indicator_level: str


# Every published total together with its published parts; secondary suppression works through all of them.
RELATIONS = (
    Relation("afdeling", "organisation_kommune", ("organisation_id", "kommune_code"), "afdeling"),
    Relation("organisation_kommune", "organisation", ("organisation_id",), "afdeling"),
    Relation("organisation_kommune", "kommune", ("kommune_code",), "afdeling"),
    Relation("organisation", "kommune", ("kommune_code",), "organisation"),
    Relation("kommune", "region", ("region",), "afdeling"),
    Relation("kommune", "region", ("region",), "organisation"),
    Relation("region", "national", (), "afdeling"),
    Relation("region", "national", (), "organisation"),
)


def indicator_flag(table: pd.DataFrame, attribute: str, *allowed: object) -> np.ndarray:
    """Rows whose indicator's registry attribute is one of `allowed` (a boolean per category, then per row)."""
    indicator = table["indicator"]
    if isinstance(indicator.dtype, pd.CategoricalDtype):
        flags = np.array([getattr(registry.INDICATORS[c], attribute) in allowed for c in indicator.cat.categories])
        codes = indicator.cat.codes.to_numpy()
        return np.where(codes >= 0, flags[codes], False)
    return indicator.map({c: getattr(i, attribute) in allowed for c, i in registry.INDICATORS.items()}).to_numpy(
        dtype=bool, na_value=False
    )


def primary(table: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """Rows whose figure is about too few persons (or, for register data, too few residents).

    With `rows`, only those rows are judged (the rest are not under a discretion rule) and a mask over them is
    returned.
    """
    rows = np.arange(len(table)) if rows is None else rows

    def column(name: str) -> np.ndarray:
        return table[name].to_numpy()[rows]

    register = indicator_flag(table, "disclosure", "register")[rows]
    under_rule = register | indicator_flag(table, "disclosure", "persons")[rows]
    reported = is_value(table["status"], "reported")[rows]
    small = np.nan_to_num(column("persons").astype(float), nan=0.0) < registry.MIN_PERSONS
    den = np.nan_to_num(column("denominator").astype(float), nan=0.0)
    afd_small = is_value(table["level"], "afdeling")[rows] & (
        np.nan_to_num(column("residents").astype(float), nan=0.0) < registry.MIN_REGISTER_RESIDENTS
    )
    mask = under_rule & small
    mask |= register & ((den < registry.MIN_REGISTER_DENOMINATOR) | afd_small)
    return mask & reported


def is_value(series: pd.Series, value: object) -> np.ndarray:
    """Rows equal to `value`, compared on category codes where the column is categorical (no strings per row)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = list(series.cat.categories)
        code = categories.index(value) if value in categories else -2
        return series.cat.codes.to_numpy() == code
    return (series == value).to_numpy(dtype=bool, na_value=False)


def _codes(series: pd.Series, rows: np.ndarray | None = None) -> np.ndarray:
    """Integer codes of a column (categorical codes, or factorised values), -1 for missing; only `rows` if given."""
    categorical = isinstance(series.dtype, pd.CategoricalDtype)
    codes = series.cat.codes.to_numpy() if categorical else pd.factorize(series)[0]
    return (codes if rows is None else codes[rows]).astype("int64")


def _combine(n_rows: int, codes: list[np.ndarray], highest: list[int]) -> np.ndarray:
    """One int64 per row from per-column codes (-1 for missing, at most `highest`), ordered column by column."""
    key = np.zeros(n_rows, dtype="int64")
    for column, top in zip(codes, highest, strict=True):
        key *= top + 2
        key += column
        key += 1
    return key


def row_keys(table: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """One int64 per row identifying its combination of `cols`, ordered as the columns' categories (or numbers)."""
    codes = []
    for col in cols:
        series = table[col]
        # Categorical codes stay in their small integer type: the only full-size array made here is the key.
        if isinstance(series.dtype, pd.CategoricalDtype):
            codes.append(series.cat.codes.to_numpy())
        elif pd.api.types.is_integer_dtype(series.dtype) and len(series):
            codes.append(series.to_numpy() - series.min())  # numbers keep their order
        else:
            codes.append(_codes(series))
    return _combine(len(table), codes, [int(c.max(initial=-1)) for c in codes])


class _Rows:
    """The rows under a discretion rule, with the few columns the relations need as integer arrays.

    Secondary suppression only concerns person-based indicators, so everything below works on those rows alone.
    """

    def __init__(self, table: pd.DataFrame):
        rows = self.rows = np.flatnonzero(~indicator_flag(table, "disclosure", "none"))
        self.codes = {col: _codes(table[col], rows) for col in ("indicator", "year", "kommune_code",
                                                                "organisation_id", "region", "unit_id")}  # fmt: skip
        self.indicator_level = {lvl: indicator_flag(table, "level", lvl)[rows] for lvl in ("afdeling", "organisation")}
        self.level = {lvl: is_value(table["level"], lvl)[rows] for lvl in {r.part for r in RELATIONS} | {
            r.total for r in RELATIONS}}  # fmt: skip
        self.published = is_value(table["status"], "reported")[rows]
        self.contributing = self.published | is_value(table["status"], "suppressed")[rows]
        self.size = np.nan_to_num(table["denominator"].to_numpy(dtype=float)[rows], nan=np.inf)

    def key(self, cols: list[str], at: np.ndarray) -> np.ndarray:
        """One int64 per row in `at` identifying its combination of `cols` (comparable across calls)."""
        highest = [int(self.codes[col].max(initial=0)) for col in cols]
        return _combine(len(at), [self.codes[col][at] for col in cols], highest)

    def links(self, rel: Relation) -> tuple[np.ndarray, np.ndarray]:
        """Positions (within these rows) of each contributing part and of its total."""
        base = self.indicator_level[rel.indicator_level]
        part_rows = np.flatnonzero(base & self.level[rel.part] & self.contributing)
        total_rows = np.flatnonzero(base & self.level[rel.total])
        if len(part_rows) == 0 or len(total_rows) == 0:
            return np.array([], int), np.array([], int)
        cols = ["indicator", "year", *rel.keys]
        found = pd.Index(self.key(cols, total_rows)).get_indexer(self.key(cols, part_rows))
        ok = found >= 0
        return part_rows[ok], total_rows[found[ok]]


def secondary(rows: _Rows, suppressed: np.ndarray) -> np.ndarray:
    """Extend the suppression until no suppressed figure follows from a total and its published parts.

    `suppressed` and the result are masks over `rows`.
    """
    supp = suppressed.copy()
    # Ties between equally small siblings are broken by unit, not by row order, so input order cannot matter.
    identity = rows.key(["unit_id", "kommune_code"], np.arange(len(rows.rows)))
    links = []
    for rel in RELATIONS:
        part, total = rows.links(rel)
        if len(part):
            tot_ids, inv = np.unique(total, return_inverse=True)
            links.append((part, tot_ids, inv, np.bincount(inv, minlength=len(tot_ids))))
    changed = True
    while changed:
        changed = False
        for part, tot_ids, inv, count in links:
            part_supp = supp[part]
            n_supp = np.bincount(inv, weights=part_supp, minlength=len(tot_ids))
            n_pub = count - n_supp
            tot_supp = supp[tot_ids]
            tot_pub = rows.published[tot_ids] & ~tot_supp
            # A published total with one suppressed part: with no published sibling the total is that part.
            hide_total = tot_pub & (n_supp == 1) & (n_pub == 0)
            # ...otherwise hide the smallest sibling; a hidden total whose parts are all visible is their sum.
            need_part = (tot_pub & (n_supp == 1) & (n_pub >= 1)) | (tot_supp & (n_supp == 0) & (n_pub >= 1))
            if hide_total.any():
                supp[tot_ids[hide_total]] = True
                changed = True
            if need_part.any():
                cand = np.flatnonzero(~part_supp & need_part[inv])
                order = np.lexsort((identity[part[cand]], rows.size[part[cand]], inv[cand]))
                first = np.r_[True, inv[cand][order][1:] != inv[cand][order][:-1]]
                supp[part[cand][order][first]] = True
                changed = True
    return supp


def suppressed(table: pd.DataFrame) -> np.ndarray:
    """Rows to suppress: small figures and, through every relation, the complements that would reveal them."""
    rows = _Rows(table)
    supp = np.zeros(len(table), dtype=bool)
    supp[rows.rows] = secondary(rows, primary(table, rows.rows))
    return supp


def violations(table: pd.DataFrame) -> list[str]:
    """Audit a finished table: every way a suppressed figure could still be read (empty when none)."""
    problems = []
    pub = table["status"] == "reported"
    disc = table["indicator"].map({c: i.disclosure for c, i in registry.INDICATORS.items()})
    sup = (table["status"] == "suppressed").to_numpy()
    rows = _Rows(table)
    for rel in RELATIONS:
        part, total = (rows.rows[i] for i in rows.links(rel))
        if len(part) == 0:
            continue
        frame = pd.DataFrame({"total": total, "supp": sup[part]})
        counts = frame.groupby("total")["supp"].agg(["sum", "count"])
        ids = counts.index.to_numpy()
        one_hidden = pub.to_numpy()[ids] & (counts["sum"].to_numpy() == 1)
        all_visible = sup[ids] & (counts["sum"].to_numpy() == 0)
        for i in ids[one_hidden | all_visible]:
            row = table.iloc[i]
            problems.append(f"{rel.part}->{rel.total}: {row['indicator']} {row['year']} {row['unit_id']}")
    small = pub & disc.isin(["persons", "register"]) & ~(table["n_persons"] >= registry.MIN_PERSONS)
    problems += [f"published with n < 5: {r.indicator} {r.year} {r.unit_id}" for r in table.loc[small].itertuples()]
    return problems
