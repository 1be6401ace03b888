"""Pandera schemas guarding the seam where the computed indicator table leaves the package."""

from __future__ import annotations

import numpy as np
import pandera.pandas as pa

from kompas_helpers import registry
from kompas_helpers.disclosure import row_keys
from kompas_helpers.registry import LEVELS, STATUSES, VERDICTS

# The table's order; strictly increasing keys mean no two rows describe the same indicator, year, level and unit.
TABLE_ORDER = ["indicator", "year", "level", "kommune_code", "unit_id"]


def _unique_and_in_order(df, chunk: int = 500_000) -> bool:
    """Sort keys strictly increase down the table; checked in overlapping slices so temporaries stay small."""
    for start in range(0, max(len(df) - 1, 0), chunk):
        if not (np.diff(row_keys(df.iloc[start : start + chunk + 1], TABLE_ORDER)) > 0).all():
            return False
    return True


def _in_range(low: float, high: float = np.inf, include_low: bool = True) -> pa.Check:
    """Missing or within [low, high] (or (low, high]). Built-in checks drop the missing values first, which copies
    the whole column; comparing with NaN is simply false, so this checks the column as it is."""

    def check(series):
        below = series < low if include_low else series <= low
        return ~(below | (series > high))

    bound = "≥" if include_low else ">"
    name = f"missing or {bound} {low}" + ("" if high == np.inf else f" and ≤ {high}")
    return pa.Check(check, ignore_na=False, name=name, error=name)


def _value_matches_status(df):
    # One boolean rather than a column of them: pandera post-processes a column result by transposing the frame.
    has_value = df["value"].notna().to_numpy()
    return bool((has_value == (df["status"] == "reported").to_numpy()).all())


def _interval_only_where_published(df):
    """Suppressed and missing figures carry no interval; an interval holds its own value."""
    low, high, value = (df[name].to_numpy() for name in ("interval_low", "interval_high", "value"))
    has = ~np.isnan(low) | ~np.isnan(high)
    published = (df["status"] == "reported").to_numpy()
    with np.errstate(invalid="ignore"):
        holds = (low <= value + 1e-9) & (value <= high + 1e-9)
    return bool((~has | (published & holds)).all())


def _verdict_only_at_judged_levels(df):
    judged = df["level"].isin(["kommune", "organisation"]).to_numpy()
    return bool((df["verdict"].isna().to_numpy() != judged).all())


INDICATOR_TABLE_SCHEMA = pa.DataFrameSchema(
    {
        "indicator": pa.Column("category", pa.Check.isin(list(registry.CODES))),
        "dimension": pa.Column("category", pa.Check.isin(list(registry.DIMENSIONS))),
        "year": pa.Column("int64", pa.Check.in_range(2000, 2100)),
        "level": pa.Column("category", pa.Check.isin(list(LEVELS))),
        "unit_id": pa.Column("category"),
        "unit_name": pa.Column("category", nullable=True),
        "kommune_code": pa.Column("category", nullable=True),
        "region": pa.Column("category", nullable=True),
        "organisation_id": pa.Column("category", nullable=True),
        "value": pa.Column("float64", nullable=True),
        "numerator": pa.Column("float64", _in_range(0), nullable=True),
        "denominator": pa.Column("float64", _in_range(0, include_low=False), nullable=True),
        "n_units": pa.Column("int64", pa.Check.ge(0)),
        "n_dwellings": pa.Column("float64", pa.Check.ge(0)),
        "n_persons": pa.Column("float64", _in_range(0), nullable=True),
        "coverage": pa.Column("float64", _in_range(0, 1), nullable=True),
        "status": pa.Column("category", pa.Check.isin(list(STATUSES))),
        "change": pa.Column("float64", nullable=True),
        "rank": pa.Column("float64", _in_range(1), nullable=True),
        "percentile": pa.Column("float64", _in_range(0, 100), nullable=True),
        "interval_low": pa.Column("float64", nullable=True),
        "interval_high": pa.Column("float64", nullable=True),
        "peer_group": pa.Column("category", nullable=True),
        "peer_value": pa.Column("float64", nullable=True),
        "verdict": pa.Column("category", pa.Check.isin(list(VERDICTS)), nullable=True),
    },
    checks=[
        pa.Check(_value_matches_status, error="a value is present exactly when the status is 'reported'"),
        pa.Check(_interval_only_where_published, error="intervals only on published figures, around their value"),
        pa.Check(_verdict_only_at_judged_levels, error="a verdict exactly on kommune and organisation rows"),
        # A linear check on the sorted table instead of hashing every row's five keys.
        pa.Check(_unique_and_in_order, error=f"rows are unique and sorted by {', '.join(TABLE_ORDER)}"),
    ],
    strict=True,
    ordered=True,
)
