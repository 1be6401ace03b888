"""Cuts of a loaded indicator table, made once per table object and kept for every later caller."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Tables are never modified after loading, so a split made once per table object serves every later call (one entry
# per kind, replaced when a different table comes along).
_CACHE: dict[str, tuple[object, object]] = {}
_SUMMARY_LEVELS = ("kommune", "region", "national")


def cached(kind: str, source: object, make):
    """`make()`, computed once per `source` object and kind."""
    hit = _CACHE.get(kind)
    if hit is None or hit[0] is not source:
        hit = (source, make())
        _CACHE[kind] = hit
    return hit[1]


def cached_item(kind: str, source: object, key: object, make):
    """`make()` for one key, computed when first asked for and kept per `source` object and kind."""
    found = cached(kind, source, dict)
    if key not in found:
        found[key] = make()
    return found[key]


def indicator_rows(table: pd.DataFrame, code: str) -> pd.DataFrame:
    """All rows of one indicator (every year and level), cut once per table and kept for the next caller.

    Cut when first asked for, not all at once: a dimension report reads 6 to 8 of the 20 indicators, the overview 1.
    """
    return cached_item("by_indicator", table, code, lambda: table[(table["indicator"] == code).to_numpy()])


def indicator_year_rows(table: pd.DataFrame, code: str, year: int) -> pd.DataFrame:
    """The rows of one indicator in one year (every level), cut once per table and kept for the next caller."""

    def make() -> pd.DataFrame:
        t = indicator_rows(table, code)
        return t[(t["year"] == year).to_numpy()]

    return cached_item("by_indicator_year", table, (code, int(year)), make)


def summary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The kommune, region and national rows of the table (cached per table)."""
    return cached("summary", table, lambda: table[table["level"].isin(_SUMMARY_LEVELS).to_numpy()])


def unit_status(status, coverage) -> np.ndarray:
    """Statuses with 'none' where there is nothing to report, as an array.

    'none' replaces a missing row and 'missing' without any units behind it (coverage undefined, e.g. no
    organisation with hjemsted in the kommune), as opposed to units that did not report (coverage 0).
    """
    status = pd.Series(status, dtype=object).fillna("none").to_numpy()
    coverage = np.asarray(coverage, dtype=float)
    return np.where((status == "missing") & np.isnan(coverage), "none", status)


COMPARISON_COLUMNS = ["unit_id", "unit_name", "value", "interval_low", "interval_high", "peer_group", "peer_value",
                      "verdict", "rank", "coverage", "n_units"]  # fmt: skip


def comparison_rows(table: pd.DataFrame, code: str, year: int, level: str = "kommune") -> pd.DataFrame:
    """One indicator's kommune (or organisation) rows in one year with their interval, peer value and verdict."""
    rows = indicator_year_rows(table, code, year)
    return rows.loc[(rows["level"] == level).to_numpy(), COMPARISON_COLUMNS].reset_index(drop=True)
