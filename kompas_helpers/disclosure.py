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


def primary(table: pd.DataFrame) -> np.ndarray:
    """Rows whose figure is about too few persons (or, for register data, too few residents)."""
    disc = table["indicator"].map({c: i.disclosure for c, i in registry.INDICATORS.items()})
    reported = (table["status"] == "reported").to_numpy()
    persons = table["persons"].to_numpy(dtype=float)
    small = np.nan_to_num(persons, nan=0.0) < registry.MIN_PERSONS
    mask = disc.isin(["persons", "register"]).to_numpy() & small
    register = (disc == "register").to_numpy()
    den_small = np.nan_to_num(table["denominator"].to_numpy(dtype=float), nan=0.0) < registry.MIN_REGISTER_DENOMINATOR
    afd_small = (table["level"] == "afdeling").to_numpy() & (
        np.nan_to_num(table["residents"].to_numpy(dtype=float), nan=0.0) < registry.MIN_REGISTER_RESIDENTS
    )
    mask |= register & (den_small | afd_small)
    return mask & reported


def _links(table: pd.DataFrame, rel: Relation) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of each contributing part and of its total."""
    ind_level = table["indicator"].map({c: i.level for c, i in registry.INDICATORS.items()})
    sensitive = table["indicator"].map({c: i.disclosure != "none" for c, i in registry.INDICATORS.items()})
    base = (ind_level == rel.indicator_level) & sensitive.astype(bool)
    cols = ["indicator", "year", *rel.keys]
    parts = table.loc[base & (table["level"] == rel.part) & table["status"].isin(["reported", "suppressed"]), cols]
    totals = table.loc[base & (table["level"] == rel.total), cols]
    if parts.empty or totals.empty:
        return np.array([], int), np.array([], int)
    totals = totals.assign(_total=np.arange(len(table))[totals.index])
    merged = parts.assign(_part=np.arange(len(table))[parts.index]).merge(totals, on=cols, how="inner")
    return merged["_part"].to_numpy(), merged["_total"].to_numpy()


def secondary(table: pd.DataFrame, suppressed: np.ndarray) -> np.ndarray:
    """Extend the suppression until no suppressed figure follows from a total and its published parts."""
    supp = suppressed.copy()
    size = np.nan_to_num(table["denominator"].to_numpy(dtype=float), nan=np.inf)
    published_total = (table["status"] == "reported").to_numpy()
    links = [_links(table, rel) for rel in RELATIONS]
    changed = True
    while changed:
        changed = False
        for part, total in links:
            if len(part) == 0:
                continue
            frame = pd.DataFrame({"part": part, "total": total, "supp": supp[part], "size": size[part]})
            counts = frame.groupby("total")["supp"].agg(["sum", "count"])
            n_supp = counts["sum"].to_numpy()
            n_pub = (counts["count"] - counts["sum"]).to_numpy()
            tot_ids = counts.index.to_numpy()
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
                cand = frame[~frame["supp"] & frame["total"].isin(tot_ids[need_part])]
                pick = cand.sort_values(["size", "part"], kind="stable").drop_duplicates("total")["part"].to_numpy()
                supp[pick] = True
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
