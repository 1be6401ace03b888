"""The kommune's figures on every indicator against its region and the country, with the verdict rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import cuts, danish, fmt, kommuner, peers, registry
from kompas_helpers.report.markup import note, table_html, wrap

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

# The mark for each verdict of the indicator table (comparison.py).
VERDICT_MARK = {
    "better": "better",
    "worse": "worse",
    "as_expected": "same",
    "too_few": "too_few",
    "context": "context",
    "not_judged": "none",
}


def _pick(frame: pd.DataFrame, codes: list[str], columns: list[str]) -> pd.DataFrame:
    """One row per indicator code (in registry order), NaN for codes without a row."""
    frame = frame.drop_duplicates("indicator")
    return frame.set_index(frame["indicator"].astype(str).to_numpy())[columns].reindex(codes)


def marks(verdict, value, bands: list, decimals=None) -> np.ndarray:
    """The mark key per figure (a key of danish.MARK_DA): the table's verdict, or for an indicator with a target
    band where its published value lies against the band (as displayed, at `decimals`, so that «40 %» is never
    «under 40–60 %»)."""
    verdict = pd.Series(verdict, dtype=object).fillna("not_judged").to_numpy()
    value = np.asarray(value, dtype=float)
    if decimals is not None:
        value = np.array([round(v, int(d)) if not np.isnan(v) else v for v, d in zip(value, decimals, strict=True)])
    lo = np.array([b[0] if b else np.nan for b in bands], float)
    hi = np.array([b[1] if b else np.nan for b in bands], float)
    with np.errstate(invalid="ignore"):
        band = np.select([value < lo, value > hi], ["below_band", "above_band"], "in_band")
    key = np.array([VERDICT_MARK[v] for v in verdict], dtype=object)
    return np.where(~np.isnan(lo) & ~np.isnan(value), band, key)


def verdict_mark(verdict: object, value: float, code: str) -> str:
    """The mark key for one figure."""
    i = registry.get(code)
    return str(marks([verdict], [value], [i.target_band], [i.decimals])[0])


def overview_data(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> pd.DataFrame:
    """The kommune's figures for every indicator (or one dimension's), unformatted, indexed by indicator code.

    Columns: name, unit, decimals, direction, level, value, status (reported/missing/suppressed/not_applicable,
    or 'none' when the kommune has no row, e.g. no organisation with hjemsted there), change, coverage, n_units,
    rank, n_ranked, interval_low, interval_high (95 %), peer_value (the sammenligningskommuner together), verdict,
    region_value, region_status, national_value, national_status, deviation (kommune minus national as a share of
    the national value), mark (a key of danish.MARK_DA).
    """
    _name, region = kommuner.kommune_info(kommune_code)
    codes = registry.codes(dimension)
    t = cuts.summary_rows(b.table)
    yr = t[(t["year"] == year).to_numpy()]
    level = yr["level"]
    kom_all = yr[(level == "kommune").to_numpy()]
    k = _pick(
        kom_all[(kom_all["kommune_code"] == kommune_code).to_numpy()],
        codes,
        ["value", "status", "change", "coverage", "n_units", "rank", "interval_low", "interval_high", "peer_value",
         "verdict"],
    )  # fmt: skip
    r = _pick(yr[((level == "region") & (yr["region"] == region)).to_numpy()], codes, ["value", "status"])
    n = _pick(yr[(level == "national").to_numpy()], codes, ["value", "status"])
    ranked = kom_all[(kom_all["status"] == "reported").to_numpy()]["indicator"].astype(str).value_counts()
    inds = [registry.get(c) for c in codes]
    out = pd.DataFrame(
        {
            "name": [i.name_da for i in inds],
            "unit": [i.unit for i in inds],
            "decimals": [i.decimals for i in inds],
            "direction": [i.direction for i in inds],
            "level": [i.level for i in inds],
            "value": k["value"].to_numpy(dtype=float),
            "status": cuts.unit_status(k["status"].to_numpy(), k["coverage"].to_numpy()),
            "change": k["change"].to_numpy(dtype=float),
            "coverage": k["coverage"].to_numpy(dtype=float),
            "n_units": k["n_units"].to_numpy(dtype=float),
            "rank": k["rank"].to_numpy(dtype=float),
            "interval_low": k["interval_low"].to_numpy(dtype=float),
            "interval_high": k["interval_high"].to_numpy(dtype=float),
            "peer_value": k["peer_value"].to_numpy(dtype=float),
            "verdict": k["verdict"].astype(object).to_numpy(),
            "n_ranked": ranked.reindex(codes).fillna(0).astype(int).to_numpy(),
            "region_value": r["value"].to_numpy(dtype=float),
            "region_status": cuts.unit_status(r["status"].to_numpy(), np.zeros(len(r))),
            "national_value": n["value"].to_numpy(dtype=float),
            "national_status": cuts.unit_status(n["status"].to_numpy(), np.zeros(len(n))),
        },
        index=pd.Index(codes, name="indicator"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["deviation"] = (out["value"] - out["national_value"]) / out["national_value"].abs()
    out["mark"] = marks(
        out["verdict"].to_numpy(), out["value"].to_numpy(), [i.target_band for i in inds], [i.decimals for i in inds]
    )
    return out


def cell(value: float, status: object, decimals: int) -> str:
    if status == "none":
        return danish.NO_ROW_DA
    return fmt.cell(value, str(status), decimals)


def change_cell(change: float, status: object, decimals: int) -> str:
    return fmt.signed(change, decimals) if status == "reported" else "–"


def coverage_cell(coverage: float, status: object) -> str:
    """Coverage as a percentage, with '(lav)' below registry.LOW_COVERAGE so that a weak basis is visible in print."""
    if status in ("none", "not_applicable"):
        return "–"
    low = status == "reported" and coverage < registry.LOW_COVERAGE
    return f"{fmt.percent(coverage)} (lav)" if low else fmt.percent(coverage)


def mark_da(key: str, code: str) -> str:
    """The Danish mark text; band marks name the band, e.g. 'inden for målbåndet 40–60 %'."""
    band = registry.get(code).target_band
    if key.endswith("band") and band:
        return f"{danish.MARK_DA[key]} {fmt.number(band[0])}–{fmt.number(band[1])} %"
    return danish.MARK_DA[key]


def interval_cell(low: float, high: float, decimals: int) -> str:
    """'108–132': the 95 % interval at the indicator's precision, or '–' where there is none."""
    if np.isnan(low) or np.isnan(high):
        return "–"
    if fmt.number(low, decimals) == fmt.number(high, decimals):
        decimals += 1  # a narrow interval keeps one more decimal rather than read '5–5'
    return f"{fmt.number(low, decimals)}–{fmt.number(high, decimals)}"


def peer_cell(value: float, decimals: int) -> str:
    return "–" if np.isnan(value) else fmt.number(value, decimals)


PEERS_DA = "Sammenligningskommuner"


def overview_table(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> pd.DataFrame:
    """All indicators (or one dimension's) for the kommune as a display table of Danish-formatted text.

    Columns: Kode, Målepunkt, Enhed, <kommune>, 95 %-interval, <region>, Sammenligningskommuner, Hele landet,
    Ændring fra <year-1>, Dækning, Vurdering. Missing and suppressed cells read «mangler» and «diskretion», never 0.
    """
    name, region = kommuner.kommune_info(kommune_code)
    d = overview_data(b, kommune_code, year, dimension)
    rows = []
    for code, r in d.iterrows():
        dec = int(r["decimals"])
        rows.append(
            [
                code,
                r["name"],
                r["unit"],
                cell(r["value"], r["status"], dec),
                interval_cell(r["interval_low"], r["interval_high"], dec),
                cell(r["region_value"], r["region_status"], dec),
                peer_cell(r["peer_value"], dec),
                cell(r["national_value"], r["national_status"], dec),
                change_cell(r["change"], r["status"], dec),
                coverage_cell(r["coverage"], r["status"]),
                mark_da(r["mark"], code),
            ]
        )
    columns = ["Kode", "Målepunkt", "Enhed", name, "95 %-interval", region, PEERS_DA, "Hele landet",
               f"Ændring fra {year - 1}", "Dækning", "Vurdering"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def mark_rule_da() -> str:
    """The rule behind the Vurdering column in plain Danish, generated from the registry's thresholds."""
    context = [i for i in registry.INDICATORS.values() if i.is_context]
    plain = [f"{i.code} {i.name_da}" for i in context if not i.target_band]
    banded = [
        f"{i.code} {i.name_da} holdes op mod målbåndet {fmt.number(i.target_band[0])}–{fmt.number(i.target_band[1])} %"
        for i in context
        if i.target_band
    ]
    text = (
        "Vurderingen sammenligner kommunens tal med hele landets samme år og tager højde for, hvor sikkert tallet "
        "er. «bedre» eller «dårligere»: landstallet ligger uden for kommunens 95 %-interval, i den retning "
        "målepunktet peger (højere eller lavere er bedre). «ingen klar forskel»: landstallet ligger inden for "
        "intervallet. «for få data»: tallet bygger på under "
        f"{fmt.percent(registry.MIN_COVERAGE_FOR_VERDICT)} af boligerne eller (for afdelingsmålepunkter) på færre "
        f"end {registry.MIN_UNITS_FOR_VERDICT} afdelinger; så vurderes og rangeres det ikke."
    )
    if plain:
        text += (
            f" Kontekstmålepunkter beskriver forholdene og vurderes ikke som bedre eller dårligere ({', '.join(plain)})"
        )
        text += f"; {', '.join(banded)}." if banded else "."
    text += (
        " «–»: intet tal at vurdere, eller ingen enheder at opgøre (fx ingen boligorganisation med hjemsted i "
        "kommunen)."
    )
    return text


def overview_html(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> str:
    """The overview table with the mark rule and the status legend under it, as HTML."""
    table = overview_table(b, kommune_code, year, dimension)
    numeric = list(table.columns[3:10])
    return wrap(
        table_html(table, numeric=numeric, caption=f"{kommuner.name(kommune_code)}, regionen og hele landet, {year}"),
        note(mark_rule_da()),
        note(
            "95 %-interval: usikkerheden på kommunens tal. Det er bredt, når tallet bygger på få personer, boliger "
            "eller afdelinger; ligger landstallet inden for intervallet, kan forskellen skyldes tilfældigheder. "
            f"{PEERS_DA}: de {peers.PEER_SIZE} kommuner, der ligner kommunen mest på almene boliger, "
            "boligbestand og opvarmning (se metoden), lagt sammen."
        ),
        note(
            f"Dækning: andel af kommunens almene boliger (for organisationsmålepunkter: boligorganisationernes "
            f"boliger), som tallet bygger på. Under {fmt.percent(registry.LOW_COVERAGE)} står der «(lav)»: "
            "læs tallet med forsigtighed."
        ),
        note(f"Ændring: forskellen fra {year - 1} i målepunktets enhed (procentpoint for andele i %)."),
        note(fmt.STATUS_NOTE_DA),
    )
