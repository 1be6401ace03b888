"""Dialogue questions: the folder's standing questions and the rules drawing questions from the figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import cuts, danish, fmt, kommuner, registry
from kompas_helpers.report.markup import bullets, esc, note, table_html, wrap
from kompas_helpers.report.overview import mark_da, overview_data

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

# A year-on-year change in the unfavourable direction larger than this share of last year's value raises a question.
TREND_THRESHOLD = 0.02
MAX_DATA_QUESTIONS = {"deviation": 3, "band": 2, "context": 2, "trend": 2, "coverage": 3}

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
SUBJECT_DA = {
    "afdeling": "de almene afdelinger i kommunen",
    "organisation": "boligorganisationerne med hjemsted i kommunen",
    "kommune": "kommunen",
}
QUESTION_KIND_DA = {
    "deviation": "Afvigelse fra landet",
    "band": "Uden for målbåndet",
    "context": "Forhold i kommunen",
    "trend": "Udvikling",
    "coverage": "Datadækning",
}


def shown(value: float, code: str) -> float:
    """A value as the reader sees it: rounded to the indicator's decimals (differences are taken from these)."""
    return round(float(value), registry.get(code).decimals)


def _difference_da(value: float, national: float, code: str) -> str:
    """'12 %' for a relative difference; '6 procentpoint' when the indicator itself is a percentage. Taken from the
    numbers as displayed, so that '62 % mod 68 %' reads '6 procentpoint'."""
    v, n = shown(value, code), shown(national, code)
    if registry.get(code).unit == "%":
        return f"{fmt.number(abs(v - n), registry.get(code).decimals)} procentpoint"
    return f"{fmt.number(100 * abs(v - n) / abs(n))} %" if n else "–"


def change_unit_da(code: str) -> str:
    """The unit of a change: 'procentpoint' for percentages, otherwise the indicator's unit."""
    unit = registry.get(code).unit
    return "procentpoint" if unit == "%" else unit


def _v(value: float, code: str) -> str:
    ind = registry.get(code)
    return fmt.with_unit(value, ind.unit, ind.decimals)


def _judged(d: pd.DataFrame) -> pd.Series:
    """Published figures with enough data behind them for a question about their level or development."""
    return (d["status"] == "reported") & ~d["verdict"].isin(["too_few", "not_judged"])


def data_questions(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> pd.DataFrame:
    """Questions drawn from the kommune's own figures, each citing the figure behind it.

    In order: figures clearly worse than the country (the national value outside the kommune's 95 % interval),
    figures outside a target band, context figures that clearly differ from the country (asked how they play in,
    not how to close the gap), developments worse than the country's in the same years, missing data and low
    coverage. No question about a figure with too little data behind it. Returns a DataFrame with columns
    Anledning, Målepunkt, Spørgsmål (empty when nothing stands out).
    """
    d = overview_data(b, kommune_code, year, dimension)
    return from_figures(d, national_change(b, year, list(d.index)), year, subject=SUBJECT_DA.__getitem__)


def from_figures(
    d: pd.DataFrame,
    national: pd.DataFrame,
    year: int,
    subject,
    coverage_of: str = "boligerne",
    where: str = "i kommunen",
) -> pd.DataFrame:
    """The question rules over one unit's figures (a frame shaped like `overview.overview_data`), for a kommune or an
    organisation alike; `subject(level)` names who the figure is about, `national` holds the country's value the
    year before and in the year (`national_change`)."""
    judged = _judged(d)
    found: list[tuple[str, str, str]] = []

    def add(kind: str, code: str, text: str) -> None:
        found.append((QUESTION_KIND_DA[kind], f"{code} {registry.get(code).name_da}", text))

    worse = d[judged & (d["mark"] == "worse")]
    worse = worse.assign(size=worse["deviation"].abs()).sort_values("size", ascending=False, kind="stable")
    for code, r in worse.head(MAX_DATA_QUESTIONS["deviation"]).iterrows():
        higher = "højere" if shown(r["value"], code) > shown(r["national_value"], code) else "lavere"
        add(
            "deviation",
            code,
            f"For {subject(r['level'])} er {code} {r['name'].lower()} {_v(r['value'], code)} "
            f"(95 %-interval {_interval(r, code)}) mod {_v(r['national_value'], code)} i hele landet i {year}: "
            f"{_difference_da(r['value'], r['national_value'], code)} {higher}, hvor "
            f"{registry.get(code).direction_da.lower()}. Hvad forklarer forskellen, og hvad gøres der for at nærme "
            "sig landsniveauet?",
        )
    band = d[(d["status"] == "reported") & d["mark"].isin(["below_band", "above_band"])]
    for code, r in band.head(MAX_DATA_QUESTIONS["band"]).iterrows():
        add(
            "band",
            code,
            f"For {subject(r['level'])} er {code} {r['name'].lower()} {_v(r['value'], code)} i {year}, "
            f"{mark_da(r['mark'], code)}. Hvordan arbejder boligorganisationerne med at komme inden for båndet?",
        )
    context = d[judged.to_numpy() & d.index.map(lambda c: registry.get(c).context).to_numpy()]
    context = context[(context["national_value"] < context["interval_low"]) | (
        context["national_value"] > context["interval_high"])]  # fmt: skip
    for code, r in context.head(MAX_DATA_QUESTIONS["context"]).iterrows():
        add(
            "context",
            code,
            f"{code} {r['name']} er {_v(r['value'], code)} {where} mod {_v(r['national_value'], code)} i hele "
            f"landet i {year}. Hvordan spiller det ind i boligorganisationernes arbejde og i kommunens planer?",
        )
    for code, text in _trend_questions(d, judged, national, year)[: MAX_DATA_QUESTIONS["trend"]]:
        add("trend", code, text)
    low = d[(d["status"] == "reported") & (d["coverage"] < registry.LOW_COVERAGE)].sort_values("coverage")
    for code, r in low.head(MAX_DATA_QUESTIONS["coverage"]).iterrows():
        add(
            "coverage",
            code,
            f"{code} {r['name']}: tallet for {year} bygger kun på {fmt.percent(r['coverage'])} af {coverage_of}. Hvem "
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
    return pd.DataFrame(found, columns=["Anledning", "Målepunkt", "Spørgsmål"])


def _interval(r: pd.Series, code: str) -> str:
    dec = registry.get(code).decimals
    return f"{fmt.number(r['interval_low'], dec)}–{fmt.number(r['interval_high'], dec)}"


def national_change(b: Bundle, year: int, codes: list[str]) -> pd.DataFrame:
    """The country's value in the year before and in the year, per indicator."""
    t = cuts.summary_rows(b.table)
    nat = t[(t["level"] == "national").to_numpy() & t["year"].isin([year - 1, year]).to_numpy()]
    wide = nat.pivot_table(index="indicator", columns="year", values="value", observed=True)
    return wide.reindex(index=codes, columns=[year - 1, year])


def _trend_questions(d: pd.DataFrame, judged: pd.Series, national: pd.DataFrame, year: int) -> list[tuple[str, str]]:
    """Developments in the unfavourable direction that are also worse than the country's in the same years (by more
    than TREND_THRESHOLD of last year's value), judged on the numbers as displayed; context indicators are left
    out."""
    out = []
    for code, r in d[judged].iterrows():
        i = registry.get(code)
        if i.is_context or np.isnan(r["change"]):
            continue
        before, now = shown(r["value"] - r["change"], code), shown(r["value"], code)
        nat_before, nat_now = (shown(v, code) if not np.isnan(v) else np.nan for v in national.loc[code])
        if before == now or np.isnan(nat_before) or np.isnan(nat_now) or before == 0:
            continue
        sign = 1.0 if i.direction == "higher_better" else -1.0
        worsening = -sign * ((now - before) - (nat_now - nat_before)) / abs(before)
        if sign * (now - before) >= 0 or worsening <= TREND_THRESHOLD:
            continue  # it went the right way, or no worse than the country's
        verb = "steget" if now > before else "faldet"
        if nat_now == nat_before:
            country = f"mens hele landet lå uændret på {_v(nat_now, code)}"
        else:
            nat_verb = "steg" if nat_now > nat_before else "faldt"
            country = f"mens hele landet {nat_verb} fra {_v(nat_before, code)} til {_v(nat_now, code)}"
        text = (
            f"{code} {r['name']} er {verb} fra {_v(before, code)} i {year - 1} til {_v(now, code)} i {year} "
            f"({fmt.signed(now - before, i.decimals)} {change_unit_da(code)}), {country}, og "
            f"{i.direction_da.lower()}. Hvad er årsagen, og hvad gøres der for at vende udviklingen?"
        )
        out.append((worsening, code, text))
    return [(code, text) for _, code, text in sorted(out, key=lambda item: -item[0])]


def questions_html(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> str:
    """The standing questions (overview only, i.e. without a dimension) followed by the data questions, as HTML."""
    name, _region = kommuner.kommune_info(kommune_code)
    parts = []
    if dimension is None:
        parts += [
            "<h3>Faste dialogspørgsmål</h3>",
            bullets(STANDING_QUESTIONS_DA, ordered=True),
            note(f"Kilde: {STANDING_QUESTIONS_SOURCE_DA}."),
        ]
    questions = data_questions(b, kommune_code, year, dimension)
    parts.append(f"<h3>Spørgsmål ud fra {esc(danish.genitive(name))} egne tal</h3>")
    if len(questions):
        parts.append(table_html(questions, caption=f"Spørgsmål ud fra {danish.genitive(name)} tal for {year}"))
        parts.append(
            note(
                "Spørgsmålene er dannet automatisk: tal, der er klart dårligere end landets (landstallet ligger uden "
                "for kommunens 95 %-interval), konteksttal, der skiller sig ud, en udvikling fra "
                f"{year - 1}, der er mere end {fmt.number(100 * TREND_THRESHOLD)} % ringere end landets i de samme år, "
                f"manglende tal og dækning under {fmt.percent(registry.LOW_COVERAGE)}. Tal med for få data bag "
                "giver ingen spørgsmål om niveau eller udvikling."
            )
        )
    else:
        parts.append(note("Ingen af kommunens tal skiller sig ud efter reglerne for de automatiske spørgsmål."))
    return wrap(*parts)
