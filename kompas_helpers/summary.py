"""A short text summary of the indicator table per dimension, for the command line."""

from __future__ import annotations

import pandas as pd

from kompas_helpers import fmt, registry
from kompas_helpers.model import Dataset


def national_latest(table: pd.DataFrame) -> pd.DataFrame:
    """The national row of every indicator in the latest year it was reported."""
    nat = table[(table["level"] == "national") & (table["status"] == "reported")]
    return nat.sort_values("year").groupby("indicator", sort=False, observed=True).tail(1).set_index("indicator")


def dimension_summary(table: pd.DataFrame, dataset: Dataset) -> str:
    lines = []
    if dataset.synthetic:
        lines += [fmt.SYNTHETIC_BANNER_DA, ""]
    latest = national_latest(table)
    kommune_rows = table[table["level"] == "kommune"]
    for dim, name in registry.DIMENSION_NAMES_DA.items():
        lines.append(f"{name} ({dim})")
        for ind in registry.by_dimension(dim):
            if ind.code not in latest.index:
                lines.append(f"  {ind.code} {ind.name_da}: ingen data")
                continue
            row = latest.loc[ind.code]
            k = kommune_rows[(kommune_rows["indicator"] == ind.code) & (kommune_rows["year"] == row["year"])]
            n_pub = int((k["status"] == "reported").sum())
            lines.append(
                f"  {ind.code} {ind.name_da}: {fmt.with_unit(row['value'], ind.unit, ind.decimals)} "
                f"(hele landet {row['year']}, dækning {fmt.percent(row['coverage'])}, "
                f"{n_pub} af {len(k)} kommuner med tal)"
            )
        lines.append("")
    return "\n".join(lines).rstrip()
