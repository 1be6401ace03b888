"""Standing questions the data already answers: the answer is shown in place of the question (registry `answers`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import cuts, danish, fmt, registry
from kompas_helpers.report.markup import esc, table_html

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

TOP_AFDELINGER = 5
# The measures (beside the indicator table) that answers read.
ANSWER_MEASURES = registry.READ_BESIDE_TABLE
# LBF's effektivitetstal: afdelinger below this are the «røde» ones in LBF's own presentation.
EFFICIENCY_RED = 70.0


def _afdeling_rows(b: Bundle, kommune_code: str, year: int, code: str) -> pd.DataFrame:
    """The kommune's afdelinger with a published figure (after discretion) for one indicator and year."""
    t = cuts.indicator_year_rows(b.table, code, year)
    keep = (t["level"] == "afdeling") & (t["kommune_code"] == kommune_code) & (t["status"] == "reported")
    return t[keep.to_numpy()]


def _measure(b: Bundle, kommune_code: str, year: int, name: str) -> pd.Series:
    """One measure for the kommune's afdelinger in one year, by afdeling id (from the dataset's measures table)."""

    m = cuts.cached("answer_measures", b.dataset, lambda: b.dataset.measures_of(ANSWER_MEASURES))
    afd = b.dataset.afdelinger
    ids = set(afd.loc[(afd["kommune_code"] == kommune_code).to_numpy(), "afdeling_id"].astype(str))
    part = m[((m["measure"] == name) & (m["year"] == year)).to_numpy()]
    part = part[part["unit_id"].astype(str).isin(ids).to_numpy()]
    return pd.Series(part["value"].to_numpy(dtype=float), index=part["unit_id"].astype(str).to_numpy())


def highest(b: Bundle, kommune_code: str, year: int, code: str) -> str:
    """The afdelinger with the highest figure in the kommune (named only where the figure is published)."""
    i = registry.get(code)
    rows = _afdeling_rows(b, kommune_code, year, code).sort_values("value", ascending=False, kind="stable")
    if rows.empty:
        return f"<p>Ingen afdelinger i kommunen har et offentliggjort tal for {esc(code)} i {year}.</p>"
    top = rows.head(TOP_AFDELINGER)
    orgs = b.dataset.organisations.set_index(b.dataset.organisations["organisation_id"].astype(str))
    afd = b.dataset.afdelinger.set_index(b.dataset.afdelinger["afdeling_id"].astype(str))
    ids = top["unit_id"].astype(str).to_numpy()
    table = pd.DataFrame(
        {
            "Afdeling": [f"{afd.loc[a, 'afdeling_name']} ({a})" for a in ids],
            "Boligorganisation": [str(orgs.loc[str(afd.loc[a, "organisation_id"]), "organisation_name"]) for a in ids],
            f"{code} ({i.unit})": [fmt.number(v, i.decimals) for v in top["value"]],
            "Byggeår": [str(int(afd.loc[a, "year_built"])) for a in ids],
            "Boliger": [fmt.number(afd.loc[a, "dwellings"]) for a in ids],
        }
    )
    caption = f"De {danish.count_da(len(top), 'afdeling', 'afdelinger')} med det højeste {i.name_da.lower()}, {year}"
    return table_html(table, numeric=[f"{code} ({i.unit})", "Byggeår", "Boliger"], caption=caption)


def unlabelled_dwellings(b: Bundle, kommune_code: str, year: int, code: str) -> str:
    """Dwellings in the kommune's afdelinger without a valid energy label."""
    valid = _measure(b, kommune_code, year, "dwellings_label_valid")
    afd = b.dataset.afdelinger
    here = afd[(afd["kommune_code"] == kommune_code).to_numpy()]
    dwellings = pd.Series(here["dwellings"].to_numpy(dtype=float), index=here["afdeling_id"].astype(str).to_numpy())
    reported = dwellings.reindex(valid.index)
    if valid.empty:
        return f"<p>Ingen afdelinger har indberettet gyldige energimærker for {year}.</p>"
    missing = float((reported - valid).clip(lower=0).sum())
    return (
        f"<p>{fmt.number(missing)} af {fmt.number(reported.sum())} boliger i de "
        f"{danish.count_da(len(valid), 'afdeling', 'afdelinger')}, der har indberettet, mangler et gyldigt "
        f"energimærke ({year}).</p>"
    )


def efficiency(b: Bundle, kommune_code: str, year: int, code: str) -> str:
    """LBF's effektivitetstal of the kommune's afdelinger: the spread and how many lie below the red line."""
    index = _measure(b, kommune_code, year, "efficiency_index").dropna()
    if index.empty:
        return f"<p>Ingen afdelinger har et effektivitetstal for {year}.</p>"
    red = int((index < EFFICIENCY_RED).sum())
    return (
        f"<p>LBF's effektivitetstal for {danish.count_da(len(index), 'afdeling', 'afdelinger')} i {year}: median "
        f"{fmt.number(float(np.median(index)))}, fra {fmt.number(index.min())} til {fmt.number(index.max())}. "
        f"{danish.count_da(red, 'afdeling', 'afdelinger')} ligger under {fmt.number(EFFICIENCY_RED)}.</p>"
    )


ANSWERS = {"highest": highest, "unlabelled_dwellings": unlabelled_dwellings, "efficiency": efficiency}


def questions_html(b: Bundle, kommune_code: str, year: int, code: str) -> str:
    """The indicator's standing questions as a list; a question the data answers is replaced by the answer and,
    where there is one, the question that is still open after it."""
    i = registry.get(code)
    answered = {n: (kind, follow_up) for n, kind, follow_up in i.answers}
    items = []
    for n, question in enumerate(i.questions_da):
        if n in answered:
            kind, follow_up = answered[n]
            answer = ANSWERS[kind](b, kommune_code, year, code)
            then = f"<p>{esc(follow_up)}</p>" if follow_up else ""
            items.append(f'<li class="kompas-answer"><em>Svar fra data:</em>{answer}{then}</li>')
        else:
            items.append(f"<li>{esc(question)}</li>")
    return f"<ul>{''.join(items)}</ul>"
