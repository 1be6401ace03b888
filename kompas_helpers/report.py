"""Report content for templates and pages: tables, texts, dialogue questions, method notes and HTML snippets."""

from __future__ import annotations

import datetime as dt
import html
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import fmt, model, registry

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

# A kommune is "bedre"/"dårligere" than the country when the difference exceeds this share of the national value.
MARK_THRESHOLD = 0.05
# Coverage (share of dwellings reported) below which a figure is flagged and raises a question.
LOW_COVERAGE = 0.8
# A year-on-year change in the unfavourable direction larger than this share of last year's value raises a question.
TREND_THRESHOLD = 0.02
MAX_DATA_QUESTIONS = {"deviation": 3, "band": 2, "trend": 2, "coverage": 3, "suppressed": 2}
HEADLINE_INDICATOR = "E1"

# The six standing questions of AlmenKompas' folder for kommuner ("Forslag til dialogspørgsmål"), verbatim.
STANDING_QUESTIONS_SOURCE_DA = "AlmenKompas' folder til kommunerne, «Forslag til dialogspørgsmål»"
STANDING_QUESTIONS_DA = (
    "Hvilke af boligorganisationens ESG-målepunkter er særligt interessante for jer som kommune at følge?",
    "Ser I områder, hvor vores ESG-arbejde kan understøtte kommunens egne klima- eller socialpolitiske mål?",
    "Hvordan kan vi sammen bruge ESG som et redskab til at prioritere og udvikle nye løsninger i boligområderne?",
    "Hvordan kan vi bedst synliggøre vores bidrag, så det også bliver en del af kommunens fortælling og resultater?",
    "Hvilke fælles udfordringer i kommunen kunne vi arbejde sammen om at løse via en fælles ESG-tilgang?",
    "Hvilke analyser eller cases kunne gøre styringsdialogen mere konkret for jer?",
)

MARK_DA = {
    "better": "bedre",
    "worse": "dårligere",
    "same": "som landet",
    "in_band": "inden for målbåndet",
    "below_band": "under målbåndet",
    "above_band": "over målbåndet",
    "context": "kontekst",
    "none": "–",
}
# The word shown when a unit has no row at all (e.g. no organisation has its hjemsted in the kommune).
NO_ROW_DA = "–"
LEVEL_DA = {"afdeling": "afdeling", "organisation": "boligorganisation", "kommune": "kommune"}
SUBJECT_DA = {
    "afdeling": "de almene afdelinger i kommunen",
    "organisation": "boligorganisationerne med hjemsted i kommunen",
    "kommune": "kommunen",
}
QUESTION_KIND_DA = {
    "deviation": "Afvigelse fra landet",
    "band": "Uden for målbåndet",
    "trend": "Udvikling",
    "coverage": "Datadækning",
    "suppressed": "Diskretion",
}

CSS = """
.kompas { font-family: "Source Sans Pro", "Segoe UI", Roboto, Arial, sans-serif; font-size: 10.5pt; color: #111; }
.kompas h2, .kompas h3 { margin: 0.8em 0 0.3em; }
.kompas .kompas-banner { border: 3px solid #111; background: #fff1b8; color: #111; padding: 0.6em 0.9em;
  font-weight: 700; margin: 0.4em 0 0.9em; }
.kompas .kompas-meta { color: #333; font-size: 9.5pt; margin: 0.2em 0 0.6em; }
.kompas .kompas-note { color: #333; font-size: 9pt; margin: 0.3em 0 0.8em; max-width: 60em; }
.kompas .kompas-lead { max-width: 60em; }
/* Two classes deep, to win over JupyterLab's right-aligned table cells in notebooks and HTML exports. */
.kompas table.kompas-table { border-collapse: collapse; margin: 0.4em 0 0.5em; font-size: 9.5pt;
  font-variant-numeric: tabular-nums; table-layout: auto; }
.kompas table.kompas-table caption { caption-side: top; text-align: left; font-weight: 700;
  padding-bottom: 0.3em; }
.kompas table.kompas-table th, .kompas table.kompas-table td { border: none; border-bottom: 1px solid #aaa;
  padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
.kompas table.kompas-table thead th { border-bottom: 2px solid #111; background: #f0f0f0; }
.kompas table.kompas-table .num { text-align: right; white-space: nowrap; }
.kompas table.kompas-table tr.kompas-total td { font-weight: 700; border-top: 2px solid #111; }
.kompas .kompas-status { font-style: italic; color: #444; }
.kompas .kompas-mark { font-weight: 700; padding: 0 0.3em; border-radius: 2px; }
.kompas .kompas-mark-better { background: #d6e9f8; }
.kompas .kompas-mark-worse { background: #fbdcb8; text-decoration: underline; }
.kompas ol li, .kompas ul li { margin-bottom: 0.25em; max-width: 60em; }
@media print {
  .kompas { font-size: 10pt; }
  .kompas .kompas-banner { background: none; }
  .kompas table.kompas-table thead { display: table-header-group; }
  .kompas table.kompas-table tr { page-break-inside: avoid; }
  .kompas .kompas-mark-better, .kompas .kompas-mark-worse { background: none; }
}
"""


# Danish month names (as Babel's da_DK 'MMMM'), so that dating a report does not load Babel's locale data.
MONTHS_DA = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
             "november", "december")  # fmt: skip


class ParameterError(ValueError):
    """A report parameter that does not fit the data (unknown kommune code, year not in the data)."""


# --------------------------------------------------------------------------------------------------------------
# Fast access to a loaded table. Tables are never modified after loading, so a split made once per table object
# serves every later call (one entry per kind, replaced when a different table comes along).

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


# --------------------------------------------------------------------------------------------------------------
# Parameters and kommune facts


@lru_cache(maxsize=1)
def _kommune_lookup() -> dict[str, tuple[str, str]]:
    k = model.kommuner()
    return dict(zip(k["kommune_code"], zip(k["kommune_name"], k["region"], strict=True), strict=True))


def kommune_info(kommune_code: str) -> tuple[str, str]:
    """(kommune name, region) for a kommune code; ParameterError with a Danish message for an unknown code."""
    try:
        return _kommune_lookup()[str(kommune_code)]
    except KeyError:
        raise ParameterError(_unknown_kommune_message(kommune_code)) from None


def _unknown_kommune_message(kommune_code: object) -> str:
    text = f"Ukendt kommunekode {kommune_code!r}: koden er ikke en af de 98 kommuner."
    normalised = model.normalise_kommune_code(kommune_code)
    if normalised in _kommune_lookup():
        text += (
            f" Mente du {normalised!r} ({_kommune_lookup()[normalised][0]})? Koden skrives med cifre og uden "
            "foranstillet nul."
        )
    else:
        text += " Brug Danmarks Statistiks kommunekode uden foranstillet nul, fx '101' for København."
    return text


def count_da(n: float, singular: str, plural: str) -> str:
    """'1 afdeling', '2 afdelinger', '1.234 afdelinger' (Danish number format)."""
    return f"{fmt.number(n)} {singular if n == 1 else plural}"


def genitive(name: str) -> str:
    """Danish genitive of a name: 'Københavns', but 'Nordfyns'' for names ending in s, x or z."""
    return f"{name}'" if name[-1:].lower() in "sxz" else f"{name}s"


def year_span(years: list[int]) -> str:
    """'2021–2025' for consecutive years, otherwise '2019, 2021, 2022'."""
    years = sorted(years)
    if not years:
        return "ingen år"
    if years == list(range(years[0], years[-1] + 1)) and len(years) > 1:
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(y) for y in years)


def check_params(b: Bundle, kommune_code: str, year: int) -> int:
    """Validate a report's parameters against the data and return the report year (0 means the latest year).

    Raises ParameterError with a Danish message for a kommune code that is not one of the 98 kommuner (or not
    text) and for a year that is not in the data.
    """
    if not isinstance(kommune_code, str):
        raise ParameterError(
            f"Kommunekoden skal være tekst, fx '101', ikke {type(kommune_code).__name__} {kommune_code!r}. "
            "Med papermill på kommandolinjen: brug -r kommune_code 101 (rå tekst) i stedet for -p."
        )
    if kommune_code not in _kommune_lookup():
        raise ParameterError(_unknown_kommune_message(kommune_code))
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise ParameterError(f"Året skal være et heltal, fx 2024 (eller 0 for det seneste år), ikke {year!r}.")
    if int(year) == 0:
        return int(b.latest_year)
    if int(year) not in b.years:
        raise ParameterError(
            f"Året {int(year)} findes ikke i data. Data dækker {year_span(b.years)}; vælg et af de år, "
            "eller 0 for det seneste år."
        )
    return int(year)


# --------------------------------------------------------------------------------------------------------------
# HTML helpers


def style_html() -> str:
    """The report CSS as a <style> element (included once by `header_html`; pages without a header use this)."""
    return f"<style>{CSS}</style>"


def _esc(value: object) -> str:
    return html.escape(str(value))


_STATUS_WORDS = set(fmt.STATUS_MARK_DA.values())
_MARK_CLASS = {MARK_DA["better"]: "kompas-mark-better", MARK_DA["worse"]: "kompas-mark-worse"}


def table_html(
    frame: pd.DataFrame,
    *,
    numeric: tuple[str, ...] | list[str] = (),
    caption: str | None = None,
    total_last: bool = False,
) -> str:
    """A DataFrame of formatted text cells as a print-friendly HTML table (class kompas-table).

    `numeric` columns are right-aligned; status words (mangler, diskretion, ikke opgjort) are set in italics,
    marks (bedre, dårligere) in bold; with `total_last` the last row is styled as a total.
    """
    numeric = set(numeric)
    head = "".join(f'<th class="{"num" if c in numeric else ""}" scope="col">{_esc(c)}</th>' for c in frame.columns)
    body = []
    rows = frame.astype(str).to_numpy()
    for i, row in enumerate(rows):
        cells = []
        for col, text in zip(frame.columns, row, strict=True):
            inner = _esc(text)
            if text in _STATUS_WORDS:
                inner = f'<span class="kompas-status">{inner}</span>'
            elif text in _MARK_CLASS:
                inner = f'<span class="kompas-mark {_MARK_CLASS[text]}">{inner}</span>'
            cells.append(f'<td class="{"num" if col in numeric else ""}">{inner}</td>')
        cls = ' class="kompas-total"' if total_last and i == len(rows) - 1 else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f'<table class="kompas-table">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _note(text: str) -> str:
    return f'<p class="kompas-note">{_esc(text)}</p>'


def _list(items, ordered: bool = False) -> str:
    tag = "ol" if ordered else "ul"
    return f"<{tag}>{''.join(f'<li>{_esc(i)}</li>' for i in items)}</{tag}>"


def _wrap(*parts: str, cls: str = "") -> str:
    return f'<div class="kompas {cls}">{"".join(parts)}</div>'


def _display(*snippets: str) -> None:
    from IPython.display import HTML, display

    display(HTML("".join(snippets)))


# --------------------------------------------------------------------------------------------------------------
# Header


def banner_html(b: Bundle) -> str:
    """The synthetic-data banner as HTML when the data is synthetic, otherwise an empty string."""
    if not b.synthetic:
        return ""
    return _wrap(f'<div class="kompas-banner" role="note">{_esc(fmt.SYNTHETIC_BANNER_DA)}</div>')


def vintage_da(b: Bundle, today: dt.date | None = None) -> str:
    """'Data for 2021–2025 · datasæt a05a09a30ef2 · dannet 27. november 2025' (the data's vintage in one line)."""
    today = today or dt.date.today()
    return (
        f"Data for {year_span(b.years)} · datasæt {b.data_hash[:12]} · "
        f"dannet {today.day}. {MONTHS_DA[today.month - 1]} {today.year}"
    )


def header_html(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> str:
    """The report header: CSS, synthetic banner, kommune name, region, report year and data vintage, as HTML."""
    name, region = kommune_info(kommune_code)
    if dimension is None:
        title = f"{name}: ESG-overblik {year}"
    else:
        title = f"{name}: {registry.DIMENSION_NAMES_DA[dimension].lower()} ({dimension}) {year}"
    meta = f"{region} · rapportår {year} · {vintage_da(b)}"
    return style_html() + _wrap(banner_html(b), f"<h2>{_esc(title)}</h2>", f'<p class="kompas-meta">{_esc(meta)}</p>')


def show_header(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> None:
    """Display the header (with the report CSS and, for synthetic data, the banner)."""
    _display(header_html(b, kommune_code, year, dimension))


# --------------------------------------------------------------------------------------------------------------
# Overview of the indicators


def _codes(dimension: str | None) -> list[str]:
    return [c for c in registry.CODES if dimension is None or registry.get(c).dimension == dimension]


def unit_status(status, coverage) -> np.ndarray:
    """Statuses with 'none' where there is nothing to report, as an array.

    'none' replaces a missing row and 'missing' without any units behind it (coverage undefined, e.g. no
    organisation with hjemsted in the kommune), as opposed to units that did not report (coverage 0).
    """
    status = pd.Series(status, dtype=object).fillna("none").to_numpy()
    coverage = np.asarray(coverage, dtype=float)
    return np.where((status == "missing") & np.isnan(coverage), "none", status)


def _pick(frame: pd.DataFrame, codes: list[str], columns: list[str]) -> pd.DataFrame:
    """One row per indicator code (in registry order), NaN for codes without a row."""
    frame = frame.drop_duplicates("indicator")
    return frame.set_index(frame["indicator"].astype(str).to_numpy())[columns].reindex(codes)


def judge(direction: str, value: float, national: float, target_band: tuple[float, float] | None = None) -> str:
    """The mark key for one figure: better/worse/same against the country, a band position, context or none."""
    return _marks(np.array([direction]), np.array([value], float), np.array([national], float), [target_band])[0]


def _marks(direction: np.ndarray, value: np.ndarray, national: np.ndarray, bands: list) -> np.ndarray:
    lo = np.array([b[0] if b else np.nan for b in bands], float)
    hi = np.array([b[1] if b else np.nan for b in bands], float)
    has_band = ~np.isnan(lo)
    sign = np.where(direction == "higher_better", 1.0, -1.0)
    with np.errstate(invalid="ignore"):
        diff = sign * (value - national)
        limit = MARK_THRESHOLD * np.abs(national)
        directional = np.select([diff > limit, diff < -limit], ["better", "worse"], "same")
        band = np.select([value < lo, value > hi], ["below_band", "above_band"], "in_band")
    out = np.where(direction == "context", "context", directional)
    out = np.where(has_band, band, out)
    missing_value = np.isnan(value)
    missing_national = np.isnan(national) & ~has_band & (direction != "context")
    return np.where(missing_value | missing_national, "none", out)


def overview_data(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> pd.DataFrame:
    """The kommune's figures for every indicator (or one dimension's), unformatted, indexed by indicator code.

    Columns: name, unit, decimals, direction, level, value, status (reported/missing/suppressed/not_applicable,
    or 'none' when the kommune has no row, e.g. no organisation with hjemsted there), change, coverage, n_units,
    rank, n_ranked, region_value, region_status, national_value, national_status, deviation (kommune minus
    national as a share of the national value), mark (a key of MARK_DA).
    """
    _name, region = kommune_info(kommune_code)
    codes = _codes(dimension)
    t = summary_rows(b.table)
    yr = t[(t["year"] == year).to_numpy()]
    level = yr["level"]
    kom_all = yr[(level == "kommune").to_numpy()]
    k = _pick(
        kom_all[(kom_all["kommune_code"] == kommune_code).to_numpy()],
        codes,
        ["value", "status", "change", "coverage", "n_units", "rank"],
    )
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
            "status": unit_status(k["status"].to_numpy(), k["coverage"].to_numpy()),
            "change": k["change"].to_numpy(dtype=float),
            "coverage": k["coverage"].to_numpy(dtype=float),
            "n_units": k["n_units"].to_numpy(dtype=float),
            "rank": k["rank"].to_numpy(dtype=float),
            "n_ranked": ranked.reindex(codes).fillna(0).astype(int).to_numpy(),
            "region_value": r["value"].to_numpy(dtype=float),
            "region_status": unit_status(r["status"].to_numpy(), np.zeros(len(r))),
            "national_value": n["value"].to_numpy(dtype=float),
            "national_status": unit_status(n["status"].to_numpy(), np.zeros(len(n))),
        },
        index=pd.Index(codes, name="indicator"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["deviation"] = (out["value"] - out["national_value"]) / out["national_value"].abs()
    out["mark"] = _marks(
        out["direction"].to_numpy(),
        out["value"].to_numpy(),
        out["national_value"].to_numpy(),
        [i.target_band for i in inds],
    )
    return out


def _cell(value: float, status: object, decimals: int) -> str:
    if status == "none":
        return NO_ROW_DA
    return fmt.cell(value, str(status), decimals)


def _change_cell(change: float, status: object, decimals: int) -> str:
    return fmt.signed(change, decimals) if status == "reported" else "–"


def _coverage_cell(coverage: float, status: object) -> str:
    """Coverage as a percentage, with '(lav)' below LOW_COVERAGE so that a weak basis is visible in print."""
    if status in ("none", "not_applicable"):
        return "–"
    low = status == "reported" and coverage < LOW_COVERAGE
    return f"{fmt.percent(coverage)} (lav)" if low else fmt.percent(coverage)


def mark_da(key: str, code: str) -> str:
    """The Danish mark text; band marks name the band, e.g. 'inden for målbåndet 40–60 %'."""
    band = registry.get(code).target_band
    if key.endswith("band") and band:
        return f"{MARK_DA[key]} {fmt.number(band[0])}–{fmt.number(band[1])} %"
    return MARK_DA[key]


def overview_table(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> pd.DataFrame:
    """All indicators (or one dimension's) for the kommune as a display table of Danish-formatted text.

    Columns: Kode, Målepunkt, Enhed, <kommune>, <region>, Hele landet, Ændring fra <year-1>, Dækning, Vurdering.
    Missing and suppressed cells read «mangler» and «diskretion», never 0.
    """
    name, region = kommune_info(kommune_code)
    d = overview_data(b, kommune_code, year, dimension)
    rows = []
    for code, r in d.iterrows():
        dec = int(r["decimals"])
        rows.append(
            [
                code,
                r["name"],
                r["unit"],
                _cell(r["value"], r["status"], dec),
                _cell(r["region_value"], r["region_status"], dec),
                _cell(r["national_value"], r["national_status"], dec),
                _change_cell(r["change"], r["status"], dec),
                _coverage_cell(r["coverage"], r["status"]),
                mark_da(r["mark"], code),
            ]
        )
    columns = ["Kode", "Målepunkt", "Enhed", name, region, "Hele landet", f"Ændring fra {year - 1}", "Dækning",
               "Vurdering"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def mark_rule_da() -> str:
    """The rule behind the Vurdering column in plain Danish, generated from the registry and MARK_THRESHOLD."""
    pct = fmt.number(100 * MARK_THRESHOLD)
    context = [i for i in registry.INDICATORS.values() if i.direction == "context"]
    plain = [f"{i.code} {i.name_da}" for i in context if not i.target_band]
    banded = [
        f"{i.code} {i.name_da} holdes op mod målbåndet {fmt.number(i.target_band[0])}–{fmt.number(i.target_band[1])} %"
        for i in context
        if i.target_band
    ]
    text = (
        f"Vurderingen sammenligner kommunens tal med hele landets samme år. «bedre» eller «dårligere»: forskellen er "
        f"større end {pct} % af landstallet, i den retning målepunktet peger (højere eller lavere er bedre). "
        f"«som landet»: forskellen er højst {pct} % af landstallet."
    )
    if plain:
        text += f" Kontekstmålepunkter vurderes ikke som bedre eller dårligere ({', '.join(plain)})"
        text += f"; {', '.join(banded)}." if banded else "."
    text += (
        " «–»: intet tal at vurdere, eller ingen enheder at opgøre (fx ingen boligorganisation med hjemsted i "
        "kommunen)."
    )
    return text


def overview_html(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> str:
    """The overview table with the mark rule and the status legend under it, as HTML."""
    table = overview_table(b, kommune_code, year, dimension)
    numeric = list(table.columns[3:8])
    return _wrap(
        table_html(table, numeric=numeric),
        _note(mark_rule_da()),
        _note(
            f"Dækning: andel af kommunens almene boliger (for organisationsmålepunkter: boligorganisationernes "
            f"boliger), som tallet bygger på. Under {fmt.percent(LOW_COVERAGE)} står der «(lav)»: læs tallet med "
            "forsigtighed."
        ),
        _note(f"Ændring: forskellen fra {year - 1} i målepunktets enhed (procentpoint for andele i %)."),
        _note(fmt.STATUS_NOTE_DA),
    )


def show_overview(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> None:
    """Display the overview table of all indicators (or one dimension's) with its notes."""
    _display(overview_html(b, kommune_code, year, dimension))


# --------------------------------------------------------------------------------------------------------------
# The almene stock in the kommune


def almene_stock_data(b: Bundle, kommune_code: str) -> pd.DataFrame:
    """Organisations with afdelinger in the kommune, unformatted, largest first.

    Columns: organisation_id, organisation_name, afdelinger, dwellings (in the kommune), share (of the kommune's
    almene dwellings, 0–1), dwellings_total (whole organisation), hjemsted_kommune_code, hjemsted_here (bool).
    """
    kommune_info(kommune_code)
    return cached(f"stock {kommune_code}", b.dataset.afdelinger, lambda: _almene_stock(b, kommune_code)).copy()


def _organisation_dwellings(b: Bundle) -> pd.Series:
    """Almene dwellings per organisation (all its afdelinger), cached per dataset."""
    afd = b.dataset.afdelinger
    return cached("org_dwellings", afd, lambda: afd.groupby("organisation_id", observed=True)["dwellings"].sum())


def _almene_stock(b: Bundle, kommune_code: str) -> pd.DataFrame:
    afd = b.dataset.afdelinger
    orgs = b.dataset.organisations
    here = afd[(afd["kommune_code"] == kommune_code).to_numpy()]
    g = here.groupby("organisation_id", observed=True).agg(
        afdelinger=("afdeling_id", "size"), dwellings=("dwellings", "sum")
    )
    total = _organisation_dwellings(b)
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
    lookup = _kommune_lookup()
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
        f"I alt ({count_da(len(d), 'boligorganisation', 'boligorganisationer')})",
        fmt.number(d["afdelinger"].sum()),
        fmt.number(d["dwellings"].sum()),
        fmt.percent(1.0 if len(d) else np.nan, 1),
        "",
        f"{fmt.number(int(d['hjemsted_here'].sum()))} med hjemsted i kommunen",
    ]
    return pd.concat([table, pd.DataFrame([total], columns=table.columns)], ignore_index=True)


def almene_stock_html(b: Bundle, kommune_code: str) -> str:
    """The almene stock table with an explanatory note, as HTML."""
    name, _region = kommune_info(kommune_code)
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
            f"{count_da(len(seat_here - active), 'boligorganisation', 'boligorganisationer')} har hjemsted i {name} "
            "uden at have afdelinger "
            "her."
        )
    return _wrap(table_html(table, numeric=list(table.columns[1:5]), total_last=True), *(_note(n) for n in notes))


def show_almene_stock(b: Bundle, kommune_code: str) -> None:
    """Display the almene stock in the kommune (organisations, afdelinger, dwellings, shares, hjemsted)."""
    _display(almene_stock_html(b, kommune_code))


# --------------------------------------------------------------------------------------------------------------
# Dialogue questions


def _afdeling_status_counts(b: Bundle, kommune_code: str, year: int) -> pd.DataFrame:
    t = b.table
    a = t[((t["level"] == "afdeling") & (t["kommune_code"] == kommune_code) & (t["year"] == year)).to_numpy()]
    counts = a.groupby([a["indicator"].astype(str), a["status"].astype(str)]).size().unstack(fill_value=0)
    return counts.reindex(columns=["reported", "missing", "suppressed", "not_applicable"], fill_value=0)


def _difference_da(r: pd.Series, code: str) -> str:
    """'12 %' for a relative difference; '9 procentpoint (93 %)' when the indicator itself is a percentage."""
    relative = f"{fmt.number(100 * abs(r['deviation']))} %"
    if registry.get(code).unit != "%":
        return relative
    points = fmt.number(abs(r["value"] - r["national_value"]), registry.get(code).decimals)
    return f"{points} procentpoint ({relative})"


def change_unit_da(code: str) -> str:
    """The unit of a change: 'procentpoint' for percentages, otherwise the indicator's unit."""
    unit = registry.get(code).unit
    return "procentpoint" if unit == "%" else unit


def _v(value: float, code: str) -> str:
    ind = registry.get(code)
    return fmt.with_unit(value, ind.unit, ind.decimals)


def data_questions(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> pd.DataFrame:
    """Questions drawn from the kommune's own figures, each citing the figure behind it.

    In order: the largest deviations from the country in the unfavourable direction, figures outside a target
    band, the worst year-on-year developments, missing data and low coverage, suppressed figures. Returns a
    DataFrame with columns Anledning, Målepunkt, Spørgsmål (empty when nothing stands out).
    """
    d = overview_data(b, kommune_code, year, dimension)
    reported = d["status"] == "reported"
    found: list[tuple[str, str, str]] = []

    def add(kind: str, code: str, text: str) -> None:
        found.append((QUESTION_KIND_DA[kind], f"{code} {registry.get(code).name_da}", text))

    worse = d[reported & (d["mark"] == "worse")]
    worse = worse.assign(size=worse["deviation"].abs()).sort_values("size", ascending=False, kind="stable")
    for code, r in worse.head(MAX_DATA_QUESTIONS["deviation"]).iterrows():
        higher = "højere" if r["value"] > r["national_value"] else "lavere"
        add(
            "deviation",
            code,
            f"For {SUBJECT_DA[r['level']]} er {code} {r['name'].lower()} {_v(r['value'], code)} mod "
            f"{_v(r['national_value'], code)} i hele landet i {year}: {_difference_da(r, code)} {higher}, hvor "
            f"{registry.get(code).direction_da.lower()}. Hvad forklarer forskellen, og hvad gøres der for at nærme "
            "sig landsniveauet?",
        )
    band = d[reported & d["mark"].isin(["below_band", "above_band"])]
    for code, r in band.head(MAX_DATA_QUESTIONS["band"]).iterrows():
        add(
            "band",
            code,
            f"For {SUBJECT_DA[r['level']]} er {code} {r['name'].lower()} {_v(r['value'], code)} i {year}, "
            f"{mark_da(r['mark'], code)}. Hvordan arbejder boligorganisationerne med at komme inden for båndet?",
        )
    sign = np.where(d["direction"] == "higher_better", 1.0, -1.0)
    previous = d["value"] - d["change"]
    with np.errstate(invalid="ignore", divide="ignore"):
        worsening = -sign * d["change"] / previous.abs()
    trend = d.assign(worsening=worsening, previous=previous)
    # A change that rounds to zero at the indicator's precision would read "from 5 % to 5 %": leave it out.
    scale = 10.0 ** d["decimals"].astype(float)
    visible = (trend["previous"] * scale).round() != (trend["value"] * scale).round()
    trend = trend[reported & (d["direction"] != "context") & (trend["worsening"] > TREND_THRESHOLD) & visible]
    for code, r in (
        trend.sort_values("worsening", ascending=False, kind="stable").head(MAX_DATA_QUESTIONS["trend"]).iterrows()
    ):
        verb = "steget" if r["change"] > 0 else "faldet"
        add(
            "trend",
            code,
            f"{code} {r['name']} er {verb} fra {_v(r['previous'], code)} i {year - 1} til {_v(r['value'], code)} i "
            f"{year} ({fmt.signed(r['change'], int(r['decimals']))} {change_unit_da(code)}), og "
            f"{registry.get(code).direction_da.lower()}. Hvad er årsagen, og hvad gøres der for at vende udviklingen?",
        )
    low = d[reported & (d["coverage"] < LOW_COVERAGE)].sort_values("coverage", kind="stable")
    for code, r in low.head(MAX_DATA_QUESTIONS["coverage"]).iterrows():
        add(
            "coverage",
            code,
            f"{code} {r['name']}: tallet for {year} bygger kun på {fmt.percent(r['coverage'])} af boligerne. Hvem "
            "mangler at indberette, og hvornår kommer tallene?",
        )
    missing = d[d["status"] == "missing"]
    if len(missing):
        found.append(
            (
                QUESTION_KIND_DA["coverage"],
                ", ".join(missing.index),
                f"Der er ingen indberetninger for {year} til "
                + ", ".join(f"{c} {n.lower()}" for c, n in zip(missing.index, missing["name"], strict=True))
                + ". Hvornår kan tallene opgøres, og hvad skal der til?",
            )
        )
    counts = _afdeling_status_counts(b, kommune_code, year).reindex(d.index, fill_value=0)
    n_afd = counts[["reported", "missing", "suppressed"]].sum(axis=1)
    supp = d.assign(n_supp=counts["suppressed"], n_afd=n_afd)
    supp = supp[(supp["status"] == "suppressed") | (supp["n_supp"] > 0)]
    supp = supp.assign(kommune_hidden=supp["status"] == "suppressed").sort_values(
        ["kommune_hidden", "n_supp"], ascending=False, kind="stable"
    )
    for code, r in supp.head(MAX_DATA_QUESTIONS["suppressed"]).iterrows():
        if r["kommune_hidden"]:
            text = (
                f"{code} {r['name']}: kommunens samlede tal for {year} er udeladt af diskretionshensyn, fordi det "
                "bygger på for få personer. Hvordan kan udviklingen drøftes, uden at enkeltpersoner kan genkendes?"
            )
        else:
            text = (
                f"{code} {r['name']}: {fmt.number(r['n_supp'])} af "
                f"{count_da(r['n_afd'], 'afdelings', 'afdelingers')} tal for {year} er udeladt af "
                "diskretionshensyn. Hvordan følger boligorganisationerne op i de afdelinger, uden at enkeltpersoner "
                "kan genkendes?"
            )
        add("suppressed", code, text)
    return pd.DataFrame(found, columns=["Anledning", "Målepunkt", "Spørgsmål"])


def questions_html(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> str:
    """The standing questions (overview only, i.e. without a dimension) followed by the data questions, as HTML."""
    name, _region = kommune_info(kommune_code)
    parts = []
    if dimension is None:
        parts += [
            "<h3>Faste dialogspørgsmål</h3>",
            _list(STANDING_QUESTIONS_DA, ordered=True),
            _note(f"Kilde: {STANDING_QUESTIONS_SOURCE_DA}."),
        ]
    questions = data_questions(b, kommune_code, year, dimension)
    parts.append(f"<h3>Spørgsmål ud fra {_esc(genitive(name))} egne tal</h3>")
    if len(questions):
        parts.append(table_html(questions))
        parts.append(
            _note(
                "Spørgsmålene er dannet automatisk: de største afvigelser fra landet i den ugunstige retning "
                f"(mere end {fmt.number(100 * MARK_THRESHOLD)} %), den værste udvikling fra {year - 1} (mere end "
                f"{fmt.number(100 * TREND_THRESHOLD)} %), manglende tal og dækning under {fmt.percent(LOW_COVERAGE)} "
                "samt tal udeladt af diskretionshensyn."
            )
        )
    else:
        parts.append(_note("Ingen af kommunens tal skiller sig ud efter reglerne for de automatiske spørgsmål."))
    return _wrap(*parts)


def show_questions(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> None:
    """Display the dialogue questions: standing ones (overview) and those drawn from the kommune's figures."""
    _display(questions_html(b, kommune_code, year, dimension))


# --------------------------------------------------------------------------------------------------------------
# Method notes


def _measure_da(name: str) -> str:
    m = registry.MEASURES[name]
    return f"{m.label_da} ({m.unit})"


def method_notes(dimension: str | None = None) -> pd.DataFrame:
    """Method notes per indicator from the registry, as a display table.

    Columns: Kode, Målepunkt, Definition, Tæller, Nævner, Beregning, Kilde, Retning, Niveau, Første år.
    """
    rows = []
    for code in _codes(dimension):
        i = registry.get(code)
        formula = f"Σ tæller / Σ nævner × {fmt.number(i.scale)}" if i.scale != 1 else "Σ tæller / Σ nævner"
        rows.append(
            [
                code,
                i.name_da,
                f"{i.description_da} Enhed: {i.unit}.",
                _measure_da(i.numerator),
                _measure_da(i.denominator),
                f"{formula}. {i.aggregation}.",
                i.source,
                i.direction_da,
                LEVEL_DA[i.level],
                str(i.first_year) if i.first_year else "alle år",
            ]
        )
    columns = ["Kode", "Målepunkt", "Definition", "Tæller", "Nævner", "Beregning", "Kilde", "Retning", "Niveau",
               "Første år"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def discretion_rules_da() -> list[str]:
    """The discretion (statistical disclosure) rules in plain Danish, generated from the registry's thresholds."""
    persons = [i.code for i in registry.INDICATORS.values() if i.disclosure == "persons"]
    register = [i.code for i in registry.INDICATORS.values() if i.disclosure == "register"]
    return [
        f"Et tal vises ikke, hvis det handler om færre end {registry.MIN_PERSONS} personer, fx besvarelser i en "
        f"måling eller medarbejdere ({', '.join(persons)}).",
        f"Tal fra registre ({', '.join(register)}) vises kun for afdelinger med mindst "
        f"{fmt.number(registry.MIN_REGISTER_RESIDENTS)} beboere og kun, når mindst "
        f"{registry.MIN_REGISTER_DENOMINATOR} personer indgår i beregningen.",
        "Hvis et udeladt tal ville kunne regnes ud fra en sum og de andre tal (fx kommunens tal minus de øvrige "
        "afdelingers), udelades også det mindste af de andre tal (sekundær diskretion).",
        "Udeladte tal står som «diskretion» i tabellerne og er udeladt af figurerne; de tæller aldrig som nul.",
        "Manglende indberetninger står som «mangler» og er heller ikke nul. Dækningen viser, hvor stor en del af "
        "boligerne et tal bygger på.",
        "Alle tal over afdelingsniveau er forholdet mellem summer (Σ tæller / Σ nævner), ikke et gennemsnit af "
        "afdelingernes tal, så store afdelinger vejer mere end små.",
    ]


def method_html(dimension: str | None = None) -> str:
    """Method notes per indicator and the discretion rules, as HTML."""
    table = method_notes(dimension)
    return _wrap(
        table_html(table),
        "<h3>Diskretion og manglende tal</h3>",
        _list(discretion_rules_da()),
        _note(fmt.STATUS_NOTE_DA),
        _note(mark_rule_da()),
    )


def show_method_notes(dimension: str | None = None) -> None:
    """Display the method notes (all indicators, or one dimension's) and the discretion rules."""
    _display(method_html(dimension))


# --------------------------------------------------------------------------------------------------------------
# One indicator in the dimension reports


def indicator_intro_html(code: str) -> str:
    """Heading, what the indicator measures, why it matters and its unit/direction line, as HTML."""
    i = registry.get(code)
    meta = [f"Enhed: {i.unit}", i.direction_da, f"Opgøres pr. {LEVEL_DA[i.level]}"]
    if i.first_year:
        meta.append(f"opgjort fra {i.first_year}")
    if i.target_band:
        meta.append(f"målbånd {fmt.number(i.target_band[0])}–{fmt.number(i.target_band[1])} %")
    return (
        f'<h3 id="{_esc(code)}">{_esc(code)} {_esc(i.name_da)}</h3>'
        f'<p class="kompas-lead"><strong>Hvad måles:</strong> {_esc(i.description_da)}<br>'
        f"<strong>Hvorfor det er vigtigt:</strong> {_esc(i.why_da)}</p>"
        f'<p class="kompas-meta">{_esc(" · ".join(meta))}</p>'
    )


def comparison_table(b: Bundle, kommune_code: str, year: int, code: str) -> pd.DataFrame:
    """The kommune against its region and the country for one indicator and year, as a display table.

    Rows: kommune, region, Hele landet. Columns: Niveau, Værdi (<unit>), Ændring fra <year-1>, Dækning, Enheder
    indberettet, Vurdering (kommune row only; context indicators get no better/worse mark).
    """
    name, region = kommune_info(kommune_code)
    i = registry.get(code)
    sel = indicator_year_rows(b.table, code, year)
    level = sel["level"]
    parts = {
        name: sel[((level == "kommune") & (sel["kommune_code"] == kommune_code)).to_numpy()],
        region: sel[((level == "region") & (sel["region"] == region)).to_numpy()],
        "Hele landet": sel[(level == "national").to_numpy()],
    }
    kom, nat = parts[name], parts["Hele landet"]
    mark = judge(
        i.direction,
        kom["value"].iloc[0] if len(kom) else np.nan,
        nat["value"].iloc[0] if len(nat) else np.nan,
        i.target_band,
    )
    singular, plural = {
        "afdeling": ("afdeling", "afdelinger"),
        "organisation": ("boligorganisation", "boligorganisationer"),
        "kommune": ("kommune", "kommuner"),
    }[i.level]
    rows = []
    for label, rows_ in parts.items():
        if len(rows_) == 0:
            rows.append([label, NO_ROW_DA, "–", "–", count_da(0, singular, plural), ""])
            continue
        r = rows_.iloc[0]
        status = str(unit_status([r["status"]], [r["coverage"]])[0])
        rows.append(
            [
                label,
                fmt.cell(r["value"], status, i.decimals),
                _change_cell(r["change"], status, i.decimals),
                _coverage_cell(r["coverage"], status),
                count_da(r["n_units"], singular, plural),
                "",
            ]
        )
    rows[0][5] = mark_da(mark, code)
    columns = ["Niveau", f"Værdi ({i.unit})", f"Ændring fra {year - 1}", "Dækning", "Enheder indberettet", "Vurdering"]
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
    sel = indicator_year_rows(b.table, code, year)
    level = sel["level"]
    if i.level == "kommune":
        return pd.DataFrame()
    stock = almene_stock_data(b, kommune_code)
    if i.level == "organisation":
        orgs = sel[((level == "organisation") & (sel["kommune_code"] == kommune_code)).to_numpy()]
        orgs = orgs.sort_values("unit_name", kind="stable")
        total = _organisation_dwellings(b)
        return pd.DataFrame(
            {
                "Boligorganisation": orgs["unit_name"].astype(str).to_numpy(),
                f"Værdi ({i.unit})": [
                    fmt.cell(v, s, i.decimals) for v, s in zip(orgs["value"], orgs["status"].astype(str), strict=True)
                ],
                f"Ændring fra {year - 1}": [
                    _change_cell(c, s, i.decimals)
                    for c, s in zip(orgs["change"], orgs["status"].astype(str), strict=True)
                ],
                "Dækning": [
                    _coverage_cell(c, s) for c, s in zip(orgs["coverage"], orgs["status"].astype(str), strict=True)
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
    lookup = _kommune_lookup()
    ok_status = ok["status"].astype(object).fillna("none").to_numpy()
    whole_status = whole["status"].astype(object).fillna("none").to_numpy()
    return pd.DataFrame(
        {
            "Boligorganisation": stock["organisation_name"].to_numpy(),
            "Afdelinger indberettet": [
                f"{fmt.number(n)} af {fmt.number(a)}"
                for n, a in zip(ok["n_units"].fillna(0).to_numpy(), stock["afdelinger"], strict=True)
            ],
            "I kommunen": [_cell(v, s, i.decimals) for v, s in zip(ok["value"], ok_status, strict=True)],
            "Hele organisationen": [_cell(v, s, i.decimals) for v, s in zip(whole["value"], whole_status, strict=True)],
            "Dækning i kommunen": [_coverage_cell(c, s) for c, s in zip(ok["coverage"], ok_status, strict=True)],
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
    name, _region = kommune_info(kommune_code)
    i = registry.get(code)
    if part == "top":
        comp = comparison_table(b, kommune_code, year, code)
        return _wrap(
            indicator_intro_html(code),
            table_html(comp, numeric=list(comp.columns[1:5]), caption=f"{name}, regionen og hele landet, {year}"),
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
            parts.append(_note("Målepunktet opgøres for hele boligorganisationen, ikke pr. afdeling."))
        else:
            parts.append(_note(f"Ingen boligorganisationer har hjemsted i {name}, så kommunen har intet eget tal."))
    parts += ["<p><strong>Spørgsmål til dialogen:</strong></p>", _list(i.questions_da)]
    return _wrap(*parts, cls="kompas-indicator")


def show_indicator(b: Bundle, kommune_code: str, year: int, code: str) -> None:
    """Display one indicator: intro, comparison table, trend and spread chart, organisations, questions."""
    from kompas_helpers import plots

    _display(indicator_html(b, kommune_code, year, code, "top"))
    plots.show(plots.indicator_figure(b, kommune_code, year, code, reuse=True))
    _display(indicator_html(b, kommune_code, year, code, "bottom"))


def show_dimension(b: Bundle, kommune_code: str, year: int, dimension: str) -> None:
    """Display every indicator of a dimension (E, S or G) in registry order with `show_indicator`."""
    for code in _codes(dimension):
        show_indicator(b, kommune_code, year, code)


def show_map(b: Bundle, kommune_code: str, year: int, code: str = HEADLINE_INDICATOR) -> None:
    """Display the tile map and the ranking of all kommuner for a headline indicator, the kommune highlighted."""
    from kompas_helpers import plots

    plots.show(plots.tile_map(b.table, code, year, highlight=kommune_code))
    plots.show(plots.ranking_chart(b.table, code, year, highlight=kommune_code))
