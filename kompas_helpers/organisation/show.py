"""The dialogue sheet (dialogark) of one organisation, section by section, for the template and the Voilà page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kompas_helpers import agreements, danish, fmt, kommuner, peers
from kompas_helpers.organisation import afdelinger, agreements_view, completeness, indicators, questions
from kompas_helpers.organisation.facts import get
from kompas_helpers.report.header import banner_html, vintage_da
from kompas_helpers.report.markup import bullets, display, esc, note, style_html, table_html, wrap
from kompas_helpers.report.method import method_html
from kompas_helpers.report.overview import mark_rule_da

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def header_html(b: Bundle, organisation_id: str, year: int, level: int = 1) -> str:
    """The sheet's header: CSS, synthetic banner, the organisation, its tilsynskommune, its size and the vintage.

    The organisation's name is the page's H1 (`level` 2 where the page has an H1 of its own, as the Voilà page).
    """
    org = get(b, organisation_id)
    seat = kommuner.name(org.tilsynskommune)
    where = ", ".join(kommuner.name(k) for k in org.kommuner)
    meta = (
        f"Tilsynskommune: {seat} · {danish.count_da(org.afdelinger, 'afdeling', 'afdelinger')} med "
        f"{danish.count_da(org.dwellings, 'bolig', 'boliger')} i {where} · rapportår {year} · {vintage_da(b)}"
    )
    return style_html() + wrap(
        banner_html(b),
        f"<h{level}>{esc(org.name)}: dialogark {year}</h{level}>",
        f'<p class="kompas-meta">{esc(meta)}</p>',
        note(f"Indberetning: {completeness.score_da(b, organisation_id, year)}."),
    )


def indicators_html(b: Bundle, organisation_id: str, year: int) -> str:
    org = get(b, organisation_id)
    table = indicators.indicator_table(b, organisation_id, year)
    numeric = [c for c in table.columns[3:-2]]
    development = indicators.development_table(b, organisation_id, year)
    split = indicators.kommune_table(b, organisation_id, year)
    twins = peers.peer_groups_of(b).of("organisation", org.organisation_id)
    return wrap(
        table_html(table, numeric=numeric, caption=f"{org.name}: de 20 målepunkter, {year}"),
        table_html(split, numeric=list(split.columns[3:]), caption=f"Afdelingerne i hver kommune, {year}"),
        table_html(development, numeric=list(development.columns[3:]), caption="Udviklingen for hele organisationen"),
        note(
            "Hele organisationen: alle dens afdelinger; «Afdelingerne i hver kommune» deler tallet op efter kommune. "
            f"{indicators.TWINS_DA}: de {danish.count_da(len(twins), 'boligorganisation', 'boligorganisationer')}, "
            "der ligner den mest på størrelse, byggeår, boligtype og opvarmning, lagt sammen. Kommunens tal er alle "
            "almene boliger i tilsynskommunen."
        ),
        note(mark_rule_da()),
        note(fmt.STATUS_NOTE_DA),
    )


def completeness_html(b: Bundle, organisation_id: str, year: int) -> str:
    table = completeness.completeness_table(b, organisation_id, year)
    return wrap(
        f"<p><strong>{esc(completeness.score_da(b, organisation_id, year))}.</strong></p>",
        table_html(table, numeric=["Andel af boligerne"], caption=f"Indberetning pr. målepunkt, {year}"),
        note(
            "Mangler: afdelinger uden tal og hvorfor – ikke indberettet, udeladt af diskretionshensyn (tallet findes, "
            "men handler om for få personer) eller før målepunktets første år."
        ),
    )


def afdelinger_html(b: Bundle, organisation_id: str, year: int) -> str:
    table = afdelinger.afdelinger_table(b, organisation_id)
    parts = [table_html(table, numeric=["Boliger", "Byggeår"], caption="Afdelingerne")]
    for code in afdelinger.EXTREMES:
        ext = afdelinger.extremes(b, organisation_id, year, code)
        if len(ext):
            parts.append(table_html(ext, numeric=[ext.columns[3]], caption=f"{code}: højeste og laveste, {year}"))
    parts.append(
        note(
            "Kun afdelinger, hvis tal må vises, nævnes med tal. Forhold: udpegning (udsat, forebyggelse, "
            "parallelsamfund, omdannelse) og helhedsplan, som tallene skal læses i lyset af."
        )
    )
    return wrap(*parts)


def questions_html(b: Bundle, organisation_id: str, year: int) -> str:
    org = get(b, organisation_id)
    found = questions.organisation_questions(b, organisation_id, year)
    parts = ["<h3>Faste dialogspørgsmål</h3>", bullets(questions.STANDING_QUESTIONS_DA, ordered=True)]
    parts.append(f"<h3>Spørgsmål ud fra {esc(danish.genitive(org.name))} egne tal</h3>")
    if len(found):
        parts.append(table_html(found, caption=f"Spørgsmål ud fra {danish.genitive(org.name)} tal for {year}"))
    else:
        parts.append(note("Ingen af organisationens tal skiller sig ud efter reglerne for de automatiske spørgsmål."))
    return wrap(*parts)


def header(b: Bundle, organisation_id: str, year: int) -> None:
    display(header_html(b, organisation_id, year))


def indicator_overview(b: Bundle, organisation_id: str, year: int) -> None:
    display(indicators_html(b, organisation_id, year))


def reporting(b: Bundle, organisation_id: str, year: int) -> None:
    display(completeness_html(b, organisation_id, year))


def afdelinger_section(b: Bundle, organisation_id: str, year: int) -> None:
    display(afdelinger_html(b, organisation_id, year))


def dialogue_questions(b: Bundle, organisation_id: str, year: int) -> None:
    display(questions_html(b, organisation_id, year))


def method(b: Bundle, organisation_id: str) -> None:
    """The method notes and discretion rules, with the organisation's twins by name."""
    org = get(b, organisation_id)
    twins = peers.peer_groups_of(b).of("organisation", org.organisation_id)
    names = dict(zip(b.dataset.organisations["organisation_id"].astype(str),
                     b.dataset.organisations["organisation_name"].astype(str), strict=True))  # fmt: skip
    listed = ", ".join(f"{names.get(t, t)} ({t})" for t in twins) or "ingen"
    display(wrap(f"<p>{esc(danish.genitive(org.name))} tvillinger: {esc(listed)}.</p>") + method_html(None))


def agreements_html(b: Bundle, organisation_id: str, year: int) -> str:
    table = agreements_view.agreements_table(b, organisation_id, year)
    if table.empty:
        return wrap(note("Der er ingen aftaler med boligorganisationen i data."))
    return wrap(
        table_html(table, numeric=["Udgangspunkt", "Mål", f"Tal {year}"], caption=f"Aftaler fulgt op, {year}"),
        note(agreements.status_rule_da()),
        note("Aftaler uden målepunkt («fri tekst») vurderes på mødet; konklusionen skrives i referatet."),
    )


def agreements_section(b: Bundle, organisation_id: str, year: int) -> None:
    display(agreements_html(b, organisation_id, year))
