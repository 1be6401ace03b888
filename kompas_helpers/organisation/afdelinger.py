"""An organisation's afdelinger: size, building year, heating and context flags, and the afdelinger with the highest
and lowest figures (named only where discretion lets their figure be shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kompas_helpers import cuts, fmt, kommuner, registry
from kompas_helpers.organisation.facts import get

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

AREA_DA = {
    "ingen": "",
    "forebyggelse": "forebyggelsesområde",
    "udsat": "udsat boligområde",
    "parallelsamfund": "parallelsamfund",
    "omdannelse": "omdannelsesområde",
}
HOUSING_DA = {"familie": "familieboliger", "ældre": "ældreboliger", "ungdom": "ungdomsboliger"}
# The indicators where the spread between afdelinger is worth a look in the meeting.
EXTREMES = ("E1", "E3", "S4", "S8", "G1", "G3")
N_EXTREMES = 3


def flags_da(area_status: str, helhedsplan: bool) -> str:
    """'udsat boligområde, helhedsplan': the context an afdeling's figures should be read in."""
    parts = [AREA_DA.get(str(area_status), str(area_status)), "helhedsplan" if helhedsplan else ""]
    return ", ".join(p for p in parts if p)


def afdelinger_table(b: Bundle, organisation_id: str) -> pd.DataFrame:
    """Every afdeling of the organisation (the tilsynskommune's first): Afdeling, Kommune, Boliger, Byggeår,
    Boligtype, Opvarmning, Forhold (area designation and helhedsplan)."""
    org = get(b, organisation_id)
    afd = b.dataset.afdelinger
    mine = afd[(afd["organisation_id"] == org.organisation_id).to_numpy()].copy()
    order = {k: i for i, k in enumerate(org.kommuner)}
    mine = mine.assign(_order=mine["kommune_code"].astype(str).map(order)).sort_values(
        ["_order", "afdeling_id"], kind="stable"
    )
    return pd.DataFrame(
        {
            "Afdeling": [f"{n} ({i})" for n, i in zip(mine["afdeling_name"], mine["afdeling_id"], strict=True)],
            "Kommune": [kommuner.name(str(k)) for k in mine["kommune_code"]],
            "Boliger": [fmt.number(v) for v in mine["dwellings"]],
            "Byggeår": [str(int(v)) for v in mine["year_built"]],
            "Boligtype": [HOUSING_DA.get(str(v), str(v)) for v in mine["housing_type"]],
            "Opvarmning": [str(v) for v in mine["heating"]],
            "Forhold": [flags_da(a, h) for a, h in zip(mine["area_status"], mine["helhedsplan"], strict=True)],
        }
    )


def extremes(b: Bundle, organisation_id: str, year: int, code: str) -> pd.DataFrame:
    """The afdelinger with the highest and the lowest published figure on one indicator (never a suppressed one),
    with their flags: Placering (højeste/laveste), Afdeling, Kommune, value, Forhold."""
    org = get(b, organisation_id)
    i = registry.get(code)
    t = cuts.indicator_year_rows(b.table, code, year)
    shown = t[
        (
            (t["level"] == "afdeling") & (t["organisation_id"] == org.organisation_id) & (t["status"] == "reported")
        ).to_numpy()
    ].sort_values("value", ascending=False, kind="stable")
    if len(shown) < 2 * N_EXTREMES:
        return pd.DataFrame()
    afd = b.dataset.afdelinger.set_index(b.dataset.afdelinger["afdeling_id"].astype(str))
    picks = [("højeste", shown.head(N_EXTREMES)), ("laveste", shown.tail(N_EXTREMES).iloc[::-1])]
    rows = []
    for label, part in picks:
        for r in part.itertuples(index=False):
            a = afd.loc[str(r.unit_id)]
            rows.append(
                [
                    label,
                    f"{a['afdeling_name']} ({r.unit_id})",
                    kommuner.name(str(r.kommune_code)),
                    fmt.number(r.value, i.decimals),
                    flags_da(a["area_status"], bool(a["helhedsplan"])),
                ]
            )
    return pd.DataFrame(rows, columns=["Placering", "Afdeling", "Kommune", f"{code} ({i.unit})", "Forhold"])
