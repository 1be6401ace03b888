"""The Voilà page of one organisation's dialogue sheet: choose a kommune, one of its organisations and a year."""

from __future__ import annotations

import html

import ipywidgets as w

from kompas_helpers import bundle, danish
from kompas_helpers.errors import ParameterError
from kompas_helpers.organisation import facts, show
from kompas_helpers.page_copy import PageRoot
from kompas_helpers.widgets import _Page, check_kommune, check_year, dropdown, load_bundle, messages_html, section

TITLE_DA = "Dialogark for en boligorganisation"


def organisation_options(b: bundle.Bundle, kommune_code: str) -> list[tuple[str, str]]:
    """The organisations the kommune supervises first, then the others with afdelinger there, by name."""
    supervised = facts.supervised_by(b, kommune_code)
    others = [o for o in facts.active_in(b, kommune_code) if o not in supervised]
    return [(f"{o.name} ({o.organisation_id})", o.organisation_id) for o in supervised] + [
        (f"{o.name} ({o.organisation_id}) – tilsyn i anden kommune", o.organisation_id) for o in others
    ]


def check_organisation(b: bundle.Bundle, value: object) -> tuple[str | None, str]:
    """An organisation id from the URL: (the id, "") or (None, a Danish message with the value escaped)."""
    if value is None or str(value).strip() == "":
        return None, ""
    try:
        return facts.get(b, str(value).strip()).organisation_id, ""
    except ParameterError:
        shown = html.escape(str(value).strip()[:24])
        return None, f"Boligorganisationen {shown} findes ikke. Vælg en kommune og en af dens boligorganisationer."


class OrganisationApp(_Page):
    """Pick a kommune, an organisation (supervised there or with afdelinger there) and a year: the dialogue sheet."""

    def __init__(self, b: bundle.Bundle, organisation_id: str = "", year: int = 0):
        first = facts.get(b, organisation_id) if organisation_id else None
        super().__init__(b, first.tilsynskommune if first else "", year)
        self.default_organisation = first.organisation_id if first else ""
        self.organisation = dropdown([], "Boligorganisation", "520px")
        self.parts = {
            name: w.HTML() for name in ("heading", "indicators", "reporting", "agreements", "afdelinger", "questions")
        }
        self.root = PageRoot(
            [self.head, self.message, w.HBox([self.kommune, self.organisation, self.year]), *self.parts.values()]
        )

    def _fill_organisations(self, kommune_code: str, wanted: str = "") -> None:
        options = organisation_options(self.bundle, kommune_code)
        self.organisation.options = options
        ids = [value for _label, value in options]
        self.organisation.value = wanted if wanted in ids else (ids[0] if ids else None)

    def open(self, params: dict[str, str]) -> w.VBox:
        """Apply the URL's parameters (?organisation=…&year=…, or ?kommune=…), checked before use, then draw."""
        organisation, org_message = check_organisation(self.bundle, params.get("organisation"))
        kommune = check_kommune(params.get("kommune"), self.codes)
        year = check_year(params.get("year"), self.years)
        self.message.value = messages_html([m for m in (org_message, kommune.message, year.message) if m])
        chosen = organisation or self.default_organisation
        seat = facts.get(self.bundle, chosen).tilsynskommune if chosen else None
        self.kommune.value = seat or kommune.value or self.default_kommune
        self._fill_organisations(self.kommune.value, chosen)
        self.year.value = year.value or self.default_year
        self.kommune.observe(self._on_kommune, names="value")
        self._listen(self.organisation, self.year)
        self.refresh()
        return self.root

    def _on_kommune(self, change) -> None:
        self._fill_organisations(change["new"])

    def refresh(self) -> None:
        self.cancel()
        organisation, year = self.organisation.value, check_year(self.year.value, self.years).value
        if not organisation or year is None:
            name = danish.genitive(self.kommune.label or "kommunen")
            self.parts["heading"].value = (
                f'<div class="kompas kompas-heading"><h1>{TITLE_DA}</h1></div>'
                f'<p class="kompas-pending">{html.escape(name)} boligorganisationer vises her; vælg en.</p>'
            )
            for key in ("indicators", "reporting", "agreements", "afdelinger", "questions"):
                self.parts[key].value = ""
            return
        b, year = self.bundle, int(year)

        def heading() -> None:
            name = facts.get(b, organisation).name
            self.parts["heading"].value = (
                f'<div class="kompas kompas-heading"><h1>Dialogark: {html.escape(name)}</h1></div>'
                + show.header_html(b, organisation, year, level=2)
            )

        def indicators() -> None:
            self.parts["indicators"].value = section("Målepunkterne", show.indicators_html(b, organisation, year))

        def reporting() -> None:
            self.parts["reporting"].value = section("Indberetning", show.completeness_html(b, organisation, year))

        def agreements() -> None:
            self.parts["agreements"].value = section("Aftaler fulgt op", show.agreements_html(b, organisation, year))

        def afdelinger() -> None:
            self.parts["afdelinger"].value = section("Afdelingerne", show.afdelinger_html(b, organisation, year))

        def questions() -> None:
            self.parts["questions"].value = section(
                "Spørgsmål til styringsdialogen", show.questions_html(b, organisation, year)
            )

        self._run("organisation", [heading, indicators, reporting, agreements, afdelinger, questions], now=2)


def organisation_app(organisation_id: str = "", year: int = 0) -> OrganisationApp:
    """The organisation page with its data loaded (before the request, in a preheated kernel); `open()` draws it."""
    return OrganisationApp(load_bundle(), organisation_id, year)
