"""The almene stock in a kommune: the organisations with afdelinger there, their dwellings and hjemsted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import cuts, danish, fmt, kommuner
from kompas_helpers.report.markup import note, table_html, wrap

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def almene_stock_data(b: Bundle, kommune_code: str) -> pd.DataFrame:
    """Organisations with afdelinger in the kommune, unformatted, largest first.

    Columns: organisation_id, organisation_name, afdelinger, dwellings (in the kommune), share (of the kommune's
    almene dwellings, 0–1), dwellings_total (whole organisation), hjemsted_kommune_code, hjemsted_here (bool).
    """
    kommuner.kommune_info(kommune_code)
    return cuts.cached(f"stock {kommune_code}", b.dataset.afdelinger, lambda: _almene_stock(b, kommune_code)).copy()


def organisation_dwellings(b: Bundle) -> pd.Series:
    """Almene dwellings per organisation (all its afdelinger), cached per dataset."""
    afd = b.dataset.afdelinger
    return cuts.cached("org_dwellings", afd, lambda: afd.groupby("organisation_id", observed=True)["dwellings"].sum())


def _almene_stock(b: Bundle, kommune_code: str) -> pd.DataFrame:
    afd = b.dataset.afdelinger
    orgs = b.dataset.organisations
    here = afd[(afd["kommune_code"] == kommune_code).to_numpy()]
    g = here.groupby("organisation_id", observed=True).agg(
        afdelinger=("afdeling_id", "size"), dwellings=("dwellings", "sum")
    )
    total = organisation_dwellings(b)
    info = orgs.set_index("organisation_id")
    out = pd.DataFrame(
        {
            "organisation_id": g.index.astype(str),
            "organisation_name": info["organisation_name"].reindex(g.index).astype(str).to_numpy(),
            "afdelinger": g["afdelinger"].to_numpy(dtype=int),
            "dwellings": g["dwellings"].to_numpy(dtype=int),
            "dwellings_total": total.reindex(g.index).to_numpy(dtype=int),
            "hjemsted_kommune_code": info["hjemsted_kommune_code"].reindex(g.index).astype(str).to_numpy(),
        }
    )
    out["share"] = out["dwellings"] / out["dwellings"].sum() if len(out) else []
    out["hjemsted_here"] = out["hjemsted_kommune_code"] == kommune_code
    return out.sort_values(["dwellings", "organisation_name"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def almene_stock_table(b: Bundle, kommune_code: str) -> pd.DataFrame:
    """The almene stock in the kommune as a display table with an 'I alt' row last.

    Columns: Boligorganisation, Afdelinger i kommunen, Boliger i kommunen, Andel af kommunens almene boliger,
    Boliger i hele organisationen, Hjemsted.
    """
    d = almene_stock_data(b, kommune_code)
    lookup = kommuner.lookup()
    hjemsted = [
        "i kommunen" if here else lookup.get(code, (code,))[0]
        for here, code in zip(d["hjemsted_here"], d["hjemsted_kommune_code"], strict=True)
    ]
    table = pd.DataFrame(
        {
            "Boligorganisation": d["organisation_name"],
            "Afdelinger i kommunen": [fmt.number(v) for v in d["afdelinger"]],
            "Boliger i kommunen": [fmt.number(v) for v in d["dwellings"]],
            "Andel af kommunens almene boliger": [fmt.percent(v, 1) for v in d["share"]],
            "Boliger i hele organisationen": [fmt.number(v) for v in d["dwellings_total"]],
            "Hjemsted": hjemsted,
        }
    )
    total = [
        f"I alt ({danish.count_da(len(d), 'boligorganisation', 'boligorganisationer')})",
        fmt.number(d["afdelinger"].sum()),
        fmt.number(d["dwellings"].sum()),
        fmt.percent(1.0 if len(d) else np.nan, 1),
        "",
        f"{fmt.number(int(d['hjemsted_here'].sum()))} med hjemsted i kommunen",
    ]
    return pd.concat([table, pd.DataFrame([total], columns=table.columns)], ignore_index=True)


def almene_stock_html(b: Bundle, kommune_code: str) -> str:
    """The almene stock table with an explanatory note, as HTML."""
    name, _region = kommuner.kommune_info(kommune_code)
    table = almene_stock_table(b, kommune_code)
    orgs = b.dataset.organisations
    seat_here = set(orgs.loc[(orgs["hjemsted_kommune_code"] == kommune_code).to_numpy(), "organisation_id"].astype(str))
    active = set(almene_stock_data(b, kommune_code)["organisation_id"])
    notes = [
        f"Boligorganisationer med afdelinger i {name}. Kommunen fører tilsyn med de organisationer, der har hjemsted "
        "i kommunen; de øvrige har hjemsted i en anden kommune, som fører tilsynet."
    ]
    if seat_here - active:
        notes.append(
            f"{danish.count_da(len(seat_here - active), 'boligorganisation', 'boligorganisationer')} har hjemsted i "
            f"{name} uden at have afdelinger her."
        )
    return wrap(
        table_html(
            table,
            numeric=list(table.columns[1:5]),
            caption=f"Almene boliger i {name} pr. boligorganisation",
            total_last=True,
        ),
        *(note(n) for n in notes),
    )
