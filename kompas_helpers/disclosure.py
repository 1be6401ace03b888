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


def per_indicator(table: pd.DataFrame, attribute: str) -> np.ndarray:
    """A registry attribute for every row, looked up per category (the indicator column is categorical)."""
    indicator = table["indicator"]
    if isinstance(indicator.dtype, pd.CategoricalDtype):
        values = np.array([getattr(registry.INDICATORS[c], attribute) for c in indicator.cat.categories], dtype=object)
        return values[indicator.cat.codes.to_numpy()]
    return indicator.map({c: getattr(i, attribute) for c, i in registry.INDICATORS.items()}).to_numpy(dtype=object)


def primary(table: pd.DataFrame) -> np.ndarray:
    """Rows whose figure is about too few persons (or, for register data, too few residents)."""
    disc = per_indicator(table, "disclosure")
    reported = (table["status"] == "reported").to_numpy()
    persons = table["persons"].to_numpy(dtype=float)
    small = np.nan_to_num(persons, nan=0.0) < registry.MIN_PERSONS
    register = disc == "register"
    mask = (register | (disc == "persons")) & small
    den_small = np.nan_to_num(table["denominator"].to_numpy(dtype=float), nan=0.0) < registry.MIN_REGISTER_DENOMINATOR
    afd_small = (table["level"] == "afdeling").to_numpy() & (
        np.nan_to_num(table["residents"].to_numpy(dtype=float), nan=0.0) < registry.MIN_REGISTER_RESIDENTS
    )
    mask |= register & (den_small | afd_small)
    return mask & reported


def _codes(series: pd.Series) -> np.ndarray:
    """Integer codes of a column (categorical codes, or factorised values), -1 for missing."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(dtype="int64")
    return pd.factorize(series)[0].astype("int64")


def row_keys(table: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """One int64 per row identifying its combination of `cols`."""
    key = np.zeros(len(table), dtype="int64")
    for col in cols:
        codes = _codes(table[col]) + 1
        key = key * (int(codes.max(initial=0)) + 1) + codes
    return key


def _links(table: pd.DataFrame, rel: Relation) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of each contributing part and of its total."""
    base = (per_indicator(table, "level") == rel.indicator_level) & (per_indicator(table, "disclosure") != "none")
    level = table["level"]
    contributing = table["status"].isin(["reported", "suppressed"]).to_numpy()
    part_rows = np.flatnonzero(base & (level == rel.part).to_numpy() & contributing)
    total_rows = np.flatnonzero(base & (level == rel.total).to_numpy())
    if len(part_rows) == 0 or len(total_rows) == 0:
        return np.array([], int), np.array([], int)
    keys = row_keys(table, ["indicator", "year", *rel.keys])
    found = pd.Index(keys[total_rows]).get_indexer(keys[part_rows])
    ok = found >= 0
    return part_rows[ok], total_rows[found[ok]]


def secondary(table: pd.DataFrame, suppressed: np.ndarray) -> np.ndarray:
    """Extend the suppression until no suppressed figure follows from a total and its published parts."""
    supp = suppressed.copy()
    size = np.nan_to_num(table["denominator"].to_numpy(dtype=float), nan=np.inf)
    published_total = (table["status"] == "reported").to_numpy()
    # Ties between equally small siblings are broken by unit, not by row order, so input order cannot matter.
    identity = np.empty(len(table), dtype="int64")
    identity[row_keys(table, ["unit_id", "kommune_code"]).argsort(kind="stable")] = np.arange(len(table))
    links = []
    for rel in RELATIONS:
        part, total = _links(table, rel)
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
            tot_pub = published_total[tot_ids] & ~tot_supp
            # A published total with one suppressed part: with no published sibling the total is that part.
            hide_total = tot_pub & (n_supp == 1) & (n_pub == 0)
            # ...otherwise hide the smallest sibling; a hidden total whose parts are all visible is their sum.
            need_part = (tot_pub & (n_supp == 1) & (n_pub >= 1)) | (tot_supp & (n_supp == 0) & (n_pub >= 1))
            if hide_total.any():
                supp[tot_ids[hide_total]] = True
                changed = True
            if need_part.any():
                cand = np.flatnonzero(~part_supp & need_part[inv])
                order = np.lexsort((identity[part[cand]], size[part[cand]], inv[cand]))
                first = np.r_[True, inv[cand][order][1:] != inv[cand][order][:-1]]
                supp[part[cand][order][first]] = True
                changed = True
    return supp


def apply(table: pd.DataFrame) -> pd.DataFrame:
    """Mark small figures and their complements as suppressed and blank their values."""
    first = primary(table)
    supp = secondary(table, first)
    table["n_persons"] = table["persons"].where(~supp)
    table.loc[supp, ["value", "numerator", "denominator"]] = np.nan
    table.loc[supp, "status"] = "suppressed"
    return table


def violations(table: pd.DataFrame) -> list[str]:
    """Audit a finished table: every way a suppressed figure could still be read (empty when none)."""
    problems = []
    pub = table["status"] == "reported"
    disc = table["indicator"].map({c: i.disclosure for c, i in registry.INDICATORS.items()})
    sup = (table["status"] == "suppressed").to_numpy()
    for rel in RELATIONS:
        part, total = _links(table, rel)
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
