"""One indicator in the dimension reports: what it measures, the kommune against region and country, organisations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kompas_helpers import cuts, danish, fmt, kommuner, peers, registry
from kompas_helpers.report import answers
from kompas_helpers.report.markup import esc, note, table_html, wrap
from kompas_helpers.report.overview import (
    PEERS_DA,
    cell,
    change_cell,
    coverage_cell,
    interval_cell,
    mark_da,
    peer_cell,
    verdict_mark,
)
from kompas_helpers.report.stock import almene_stock_data, organisation_dwellings

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def indicator_intro_html(code: str) -> str:
    """Heading, what the indicator measures, why it matters and its unit/direction line, as HTML."""
    i = registry.get(code)
    meta = [f"Enhed: {i.unit}", i.direction_da, f"Opgøres pr. {danish.LEVEL_DA[i.level]}"]
    if i.first_year:
        meta.append(f"opgjort fra {i.first_year}")
    if i.target_band:
        meta.append(f"målbånd {fmt.number(i.target_band[0])}–{fmt.number(i.target_band[1])} %")
    return (
        f'<h3 id="{esc(code)}">{esc(code)} {esc(i.name_da)}</h3>'
        f'<p class="kompas-lead"><strong>Hvad måles:</strong> {esc(i.description_da)}<br>'
        f"<strong>Hvorfor det er vigtigt:</strong> {esc(i.why_da)}</p>"
        f'<p class="kompas-meta">{esc(" · ".join(meta))}</p>'
    )


def comparison_table(b: Bundle, kommune_code: str, year: int, code: str) -> pd.DataFrame:
    """The kommune against its sammenligningskommuner, its region and the country for one indicator and year.

    Rows: kommune, Sammenligningskommuner, region, Hele landet. Columns: Niveau, Værdi (<unit>), 95 %-interval,
    Ændring fra <year-1>, Dækning, Enheder indberettet, Vurdering (kommune row only, from the table's verdict;
    context indicators get no better/worse mark).
    """
    name, region = kommuner.kommune_info(kommune_code)
    i = registry.get(code)
    sel = cuts.indicator_year_rows(b.table, code, year)
    level = sel["level"]
    parts = {
        name: sel[((level == "kommune") & (sel["kommune_code"] == kommune_code)).to_numpy()],
        region: sel[((level == "region") & (sel["region"] == region)).to_numpy()],
        "Hele landet": sel[(level == "national").to_numpy()],
    }
    kom = parts[name]
    singular, plural = {
        "afdeling": ("afdeling", "afdelinger"),
        "organisation": ("boligorganisation", "boligorganisationer"),
        "kommune": ("kommune", "kommuner"),
    }[i.level]
    rows = []
    for label, rows_ in parts.items():
        if len(rows_) == 0:
            rows.append([label, danish.NO_ROW_DA, "–", "–", "–", danish.count_da(0, singular, plural), ""])
            continue
        r = rows_.iloc[0]
        status = str(cuts.unit_status([r["status"]], [r["coverage"]])[0])
        rows.append(
            [
                label,
                fmt.cell(r["value"], status, i.decimals),
                interval_cell(r["interval_low"], r["interval_high"], i.decimals),
                change_cell(r["change"], status, i.decimals),
                coverage_cell(r["coverage"], status),
                danish.count_da(r["n_units"], singular, plural),
                "",
            ]
        )
    if len(kom):
        r = kom.iloc[0]
        rows[0][6] = mark_da(verdict_mark(r["verdict"], r["value"], code), code)
        members = peers.peer_groups_of(b).of("kommune", kommune_code)
        peer = [PEERS_DA, peer_cell(r["peer_value"], i.decimals), "–", "–", "–",
                danish.count_da(len(members), "kommune", "kommuner"), ""]  # fmt: skip
        rows.insert(1, peer)
    columns = ["Niveau", f"Værdi ({i.unit})", "95 %-interval", f"Ændring fra {year - 1}", "Dækning",
               "Enheder indberettet", "Vurdering"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def organisation_table(b: Bundle, kommune_code: str, year: int, code: str) -> pd.DataFrame:
    """Each organisation's figure for one indicator and year, as a display table (empty for kommune-level S2).

    Afdeling-level indicators: organisations with afdelinger in the kommune, their figure for those afdelinger
    (organisation_kommune rows) beside the whole organisation's figure; columns Boligorganisation, Afdelinger
    indberettet, I kommunen, Hele organisationen, Dækning i kommunen, Hjemsted. Organisation-level indicators: the
    organisations with hjemsted in the kommune; columns Boligorganisation, Værdi, Ændring fra <year-1>, Dækning,
    Boliger i alt.
    """
    i = registry.get(code)
    sel = cuts.indicator_year_rows(b.table, code, year)
    level = sel["level"]
    if i.level == "kommune":
        return pd.DataFrame()
    stock = almene_stock_data(b, kommune_code)
    if i.level == "organisation":
        orgs = sel[((level == "organisation") & (sel["kommune_code"] == kommune_code)).to_numpy()]
        orgs = orgs.sort_values("unit_name", kind="stable")
        total = organisation_dwellings(b)
        return pd.DataFrame(
            {
                "Boligorganisation": orgs["unit_name"].astype(str).to_numpy(),
                f"Værdi ({i.unit})": [
                    fmt.cell(v, s, i.decimals) for v, s in zip(orgs["value"], orgs["status"].astype(str), strict=True)
                ],
                f"Ændring fra {year - 1}": [
                    change_cell(c, s, i.decimals)
                    for c, s in zip(orgs["change"], orgs["status"].astype(str), strict=True)
                ],
                "Dækning": [
                    coverage_cell(c, s) for c, s in zip(orgs["coverage"], orgs["status"].astype(str), strict=True)
                ],
                "Boliger i alt": [
                    fmt.number(v) for v in total.reindex(orgs["organisation_id"].astype(str)).fillna(0).to_numpy()
                ],
            }
        )
    ok = sel[((level == "organisation_kommune") & (sel["kommune_code"] == kommune_code)).to_numpy()]
    ok = _by_org(ok)
    whole = _by_org(sel[(level == "organisation").to_numpy()])
    ids = stock["organisation_id"].to_numpy()
    ok = ok.reindex(ids)
    whole = whole.reindex(ids)
    lookup = kommuner.lookup()
    ok_status = ok["status"].astype(object).fillna("none").to_numpy()
    whole_status = whole["status"].astype(object).fillna("none").to_numpy()
    return pd.DataFrame(
        {
            "Boligorganisation": stock["organisation_name"].to_numpy(),
            "Afdelinger indberettet": [
                f"{fmt.number(n)} af {fmt.number(a)}"
                for n, a in zip(ok["n_units"].fillna(0).to_numpy(), stock["afdelinger"], strict=True)
            ],
            "I kommunen": [cell(v, s, i.decimals) for v, s in zip(ok["value"], ok_status, strict=True)],
            "Hele organisationen": [cell(v, s, i.decimals) for v, s in zip(whole["value"], whole_status, strict=True)],
            "Dækning i kommunen": [coverage_cell(c, s) for c, s in zip(ok["coverage"], ok_status, strict=True)],
            "Hjemsted": [
                "i kommunen" if here else lookup.get(c, (c,))[0]
                for here, c in zip(stock["hjemsted_here"], stock["hjemsted_kommune_code"], strict=True)
            ],
        }
    )


def _by_org(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.set_index(rows["organisation_id"].astype(str).to_numpy())[["value", "status", "coverage", "n_units"]]


def indicator_html(b: Bundle, kommune_code: str, year: int, code: str, part: str) -> str:
    """HTML for one indicator section: part 'top' (intro and comparison) or 'bottom' (organisations, questions)."""
    name, _region = kommuner.kommune_info(kommune_code)
    i = registry.get(code)
    if part == "top":
        comp = comparison_table(b, kommune_code, year, code)
        return wrap(
            indicator_intro_html(code),
            table_html(
                comp,
                numeric=list(comp.columns[1:6]),
                caption=f"{name}, sammenligningskommunerne, regionen og hele landet, {year}",
            ),
            cls="kompas-indicator",
        )
    parts = []
    orgs = organisation_table(b, kommune_code, year, code)
    if i.level == "afdeling":
        parts.append(
            table_html(
                orgs,
                numeric=["Afdelinger indberettet", "I kommunen", "Hele organisationen", "Dækning i kommunen"],
                caption=f"Boligorganisationernes afdelinger i {name} og hele organisationen, {year} ({i.unit})",
            )
        )
    elif i.level == "organisation":
        if len(orgs):
            parts.append(
                table_html(
                    orgs,
                    numeric=list(orgs.columns[1:5]),
                    caption=f"Boligorganisationer med hjemsted i {name}, {year}",
                )
            )
            parts.append(note("Målepunktet opgøres for hele boligorganisationen, ikke pr. afdeling."))
        else:
            parts.append(note(f"Ingen boligorganisationer har hjemsted i {name}, så kommunen har intet eget tal."))
    parts += ["<p><strong>Spørgsmål til dialogen:</strong></p>", answers.questions_html(b, kommune_code, year, code)]
    return wrap(*parts, cls="kompas-indicator")
