"""All kommuner on one indicator and year: the ranking table of the compare page, with ranks only where the data
allows and the ranks each kommune's interval allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import comparison, fmt, kommuner, registry
from kompas_helpers.report.overview import interval_cell, mark_da, verdict_mark

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

# Dwellings behind a kommune figure below which the comparison page marks it (beside registry.LOW_COVERAGE).
FEW_DWELLINGS = 100


def kommune_ranking_table(b: Bundle, code: str, year: int) -> pd.DataFrame:
    """All 98 kommuner for one indicator and year as a display table, best first, kommuner without a figure last.

    Columns: Nr. (only kommuner with enough data are ranked), Kommune, Region, Værdi (<unit>), 95 %-interval,
    Dækning, Vurdering, Boliger bag tallet, Bemærkning (low coverage, few dwellings, or the status word for a figure
    that is missing or suppressed).
    """
    ind = registry.get(code)
    t = b.table
    rows = t[((t["indicator"] == code) & (t["year"] == year) & (t["level"] == "kommune")).to_numpy()]
    k = kommuner.table().set_index("kommune_code")
    rows = rows.set_index(rows["kommune_code"].astype(str).to_numpy()).reindex(k.index)
    status = rows["status"].astype(object).fillna("none").to_numpy()
    order = pd.DataFrame({"reported": status == "reported", "rank": rows["rank"].to_numpy(), "name": k["kommune_name"]})
    order = order.sort_values(["reported", "rank", "name"], ascending=[False, True, True], kind="stable").index
    rows, k = rows.reindex(order), k.reindex(order)
    status = rows["status"].astype(object).fillna("none").to_numpy()
    notes = []
    for s, coverage, dwellings in zip(status, rows["coverage"], rows["n_dwellings"], strict=True):
        if s == "none":
            notes.append("ingen enheder at opgøre")
        elif s != "reported":
            notes.append(fmt.STATUS_DA[s])
        else:
            flags = []
            if coverage < registry.LOW_COVERAGE:
                flags.append(f"dækning under {fmt.percent(registry.LOW_COVERAGE)}")
            if dwellings < FEW_DWELLINGS:
                flags.append(f"under {fmt.number(FEW_DWELLINGS)} boliger")
            notes.append(", ".join(flags))
    return pd.DataFrame(
        {
            "Nr.": _rank_cells(rows, status, ind),
            "Kommune": k["kommune_name"].to_numpy(),
            "Region": k["region"].to_numpy(),
            f"Værdi ({ind.unit})": [
                "–" if s == "none" else fmt.cell(v, s, ind.decimals) for v, s in zip(rows["value"], status, strict=True)
            ],
            "95 %-interval": [
                interval_cell(lo, hi, ind.decimals)
                for lo, hi in zip(rows["interval_low"], rows["interval_high"], strict=True)
            ],  # fmt: skip
            "Dækning": [
                fmt.percent(c) if s in ("reported", "missing", "suppressed") else "–"
                for c, s in zip(rows["coverage"], status, strict=True)
            ],
            "Vurdering": [
                mark_da(verdict_mark(v, x, code), code) if s == "reported" else "–"
                for v, x, s in zip(rows["verdict"].astype(object), rows["value"], status, strict=True)
            ],
            "Boliger bag tallet": [
                fmt.number(n) if s == "reported" else "–" for n, s in zip(rows["n_dwellings"], status, strict=True)
            ],
            "Bemærkning": notes,
        }
    )


def _rank_cells(rows: pd.DataFrame, status, ind) -> list[str]:
    """'12 (5–20)': the rank with the ranks its interval allows; empty for kommuner that are not ranked."""
    ranked = rows["rank"].notna().to_numpy()
    values = rows["value"].to_numpy(dtype=float)
    cells = []
    for i, (rank, s) in enumerate(zip(rows["rank"], status, strict=True)):
        if s != "reported" or pd.isna(rank):
            cells.append("")
            continue
        others = values[ranked & (np.arange(len(values)) != i)]
        span = comparison.rank_range(
            rows["interval_low"].iloc[i], rows["interval_high"].iloc[i], others, ind.direction, rank=float(rank)
        )
        extra = f" ({span[0]}–{span[1]})" if span and span[0] != span[1] and not ind.is_context else ""
        cells.append(f"{fmt.number(rank)}{extra}")
    return cells
