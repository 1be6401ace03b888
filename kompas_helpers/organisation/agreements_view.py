"""The agreements (aftaler) of the styringsdialog for display: per organisation with their computed status, and as
counts for the kommune overview."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import agreements, fmt, registry

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

NOT_ON_TRACK = "ikke på vej"


def organisation_agreements(b: Bundle, organisation_id: str, year: int, kommune_code: str | None = None):
    """The organisation's agreements (with one kommune, or all) with status and reason for `year`."""
    a = b.dataset.aftaler
    mine = a[(a["organisation_id"].astype(str) == str(organisation_id)).to_numpy()]
    if kommune_code is not None:
        mine = mine[(mine["kommune_code"].astype(str) == str(kommune_code)).to_numpy()]
    return agreements.status(mine.reset_index(drop=True), b.table, year)


def _value(value: float, code: object) -> str:
    if pd.isna(code) or value is None or np.isnan(value):
        return "–"
    i = registry.get(str(code))
    return fmt.with_unit(value, i.unit, i.decimals)


def agreements_table(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """A display table: Aftale, Indgået, Indhold, Målepunkt, Udgangspunkt, Mål, Frist, Tal <year>, Status,
    Begrundelse; the meeting's conclusion is left for the minutes."""
    s = organisation_agreements(b, organisation_id, year)
    rows = []
    for r in s.itertuples(index=False):
        code = None if pd.isna(r.indicator) else str(r.indicator)
        rows.append(
            [
                str(r.agreement_id),
                str(int(r.year_made)),
                str(r.text),
                f"{code} {registry.get(code).name_da}" if code else "–",
                _value(r.baseline, code),
                _value(r.target, code),
                "–" if pd.isna(r.deadline_year) else str(int(r.deadline_year)),
                _value(r.current, code),
                str(r.status),
                str(r.reason),
            ]
        )
    columns = ["Aftale", "Indgået", "Indhold", "Målepunkt", "Udgangspunkt", "Mål", "Frist", f"Tal {year}", "Status",
               "Begrundelse"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def counts(b: Bundle, organisation_id: str, year: int, kommune_code: str) -> tuple[int, int]:
    """(agreements not on track, all agreements) of the organisation with the kommune."""
    s = organisation_agreements(b, organisation_id, year, kommune_code)
    return int((s["status"] == NOT_ON_TRACK).sum()), len(s)
