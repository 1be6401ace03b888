"""The organisations in a kommune for its overview: who it supervises (with their reporting score and a link to each
dialogue sheet), and who holds the dialogue with the others that have afdelinger there."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from kompas_helpers import danish, fmt, kommuner, reportset
from kompas_helpers.organisation import completeness
from kompas_helpers.organisation.facts import SHEETS_FOLDER, active_in
from kompas_helpers.organisation.supervision import supervision
from kompas_helpers.report.markup import display, esc, note, wrap

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def _link(href: str, text: str) -> str:
    return f'<a href="{esc(quote(href, safe="/?=&"))}">{esc(text)}</a>'


def listing_html(b: Bundle, kommune_code: str, year: int) -> str:
    """The section for the kommune overview, with links that work from the kommune's folder of the report set."""
    name = kommuner.kommune_info(kommune_code)[0]  # ParameterError for a code outside the 98
    # Every organisation's score and agreements at once (completeness.score and agreements_view.counts one by one
    # take 0.5 s for a kommune with 30 organisations).
    own = supervision(b, year, [kommune_code])[kommune_code]
    parts = []
    if own:
        items = []
        for org in own:
            link = _link(f"{SHEETS_FOLDER}/{org['stem']}.html", f"{org['name']} ({org['organisation_id']})")
            items.append(
                f"<li>{link}: {danish.count_da(org['afdelinger'], 'afdeling', 'afdelinger')}, "
                f"{danish.count_da(org['dwellings'], 'bolig', 'boliger')}; {org['complete']} af {org['indicators']} "
                f"målepunkter indberettet for mindst {fmt.percent(completeness.COMPLETE_COVERAGE)} af boligerne; "
                f"{org['not_on_track']} af {danish.count_da(org['agreements'], 'aftale', 'aftaler')} ikke på vej</li>"
            )
        parts.append(f"<p>{esc(name)} fører tilsyn med og holder styringsdialog med:</p><ul>{''.join(items)}</ul>")
    else:
        parts.append(f"<p>{esc(name)} fører ikke tilsyn med nogen boligorganisation (ingen har hjemsted her).</p>")
    others = [o for o in active_in(b, kommune_code) if o.tilsynskommune != kommune_code]
    if others:
        items = []
        for org in others:
            seat = kommuner.name(org.tilsynskommune)
            folder = reportset.kommune_folder(org.tilsynskommune, seat)
            link = _link(f"../{folder}/{SHEETS_FOLDER}/{org.file_stem}.html", f"{org.name} ({org.organisation_id})")
            items.append(f"<li>{link}: styringsdialog i {esc(seat)}</li>")
        parts.append(
            "<p>Boligorganisationer med afdelinger her, som en anden kommune holder styringsdialogen med:</p>"
            f"<ul>{''.join(items)}</ul>"
        )
    parts.append(note("Hver boligorganisations dialogark ligger i tilsynskommunens mappe med rapporter."))
    return wrap(*parts)


def show_listing(b: Bundle, kommune_code: str, year: int) -> None:
    display(listing_html(b, kommune_code, year))


def page_links_html(b: Bundle, kommune_code: str) -> str:
    """Links from the dashboard to the Voilà dialogue sheet of each organisation with afdelinger in the kommune."""
    orgs = active_in(b, kommune_code)
    if not orgs:
        return ""
    items = []
    for org in orgs:
        seat = "" if org.tilsynskommune == kommune_code else f" (tilsyn: {kommuner.name(org.tilsynskommune)})"
        link = _link(f"organisation.ipynb?organisation={org.organisation_id}", org.name)
        items.append(f"<li>{link}{esc(seat)}</li>")
    return wrap(f"<p><strong>Dialogark for boligorganisationerne:</strong></p><ul>{''.join(items)}</ul>")
