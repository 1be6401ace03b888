"""Dialogue questions: the folder's standing questions and the rules drawing questions from the figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import danish, fmt, kommuner, registry
from kompas_helpers.report.markup import bullets, esc, note, table_html, wrap
from kompas_helpers.report.overview import MARK_THRESHOLD, mark_da, overview_data

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

# A year-on-year change in the unfavourable direction larger than this share of last year's value raises a question.
TREND_THRESHOLD = 0.02
MAX_DATA_QUESTIONS = {"deviation": 3, "band": 2, "trend": 2, "coverage": 3, "suppressed": 2}

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
    "trend": "Udvikling",
    "coverage": "Datadækning",
    "suppressed": "Diskretion",
}


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
    low = d[reported & (d["coverage"] < registry.LOW_COVERAGE)].sort_values("coverage", kind="stable")
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
                f"{danish.count_da(r['n_afd'], 'afdelings', 'afdelingers')} tal for {year} er udeladt af "
                "diskretionshensyn. Hvordan følger boligorganisationerne op i de afdelinger, uden at enkeltpersoner "
                "kan genkendes?"
            )
        add("suppressed", code, text)
    return pd.DataFrame(found, columns=["Anledning", "Målepunkt", "Spørgsmål"])


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
        parts.append(table_html(questions))
        parts.append(
            note(
                "Spørgsmålene er dannet automatisk: de største afvigelser fra landet i den ugunstige retning "
                f"(mere end {fmt.number(100 * MARK_THRESHOLD)} %), den værste udvikling fra {year - 1} (mere end "
                f"{fmt.number(100 * TREND_THRESHOLD)} %), manglende tal og dækning under "
                f"{fmt.percent(registry.LOW_COVERAGE)} samt tal udeladt af diskretionshensyn."
            )
        )
    else:
        parts.append(note("Ingen af kommunens tal skiller sig ud efter reglerne for de automatiske spørgsmål."))
    return wrap(*parts)
