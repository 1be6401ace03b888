"""The dialogue sheet of one organisation in a real Voilà server and real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kompas_helpers import kommuner, widgets
from kompas_helpers.organisation import facts

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

HEADING = ".kompas-heading h1"
MESSAGE = ".kompas-message"
PAGE = "organisation.ipynb"


def organisation(organisation_id: str) -> facts.Organisation:
    return facts.get(widgets.load_bundle(), organisation_id)


def test_default_organisation_renders_and_switching_updates_in_place(page, voila_server):
    page.goto(voila_server.url(PAGE))
    first = organisation("0001")
    expect(page.locator(HEADING)).to_have_text(f"Dialogark: {first.name}")
    expect(page.locator("table.kompas-table").first).to_contain_text("Hele organisationen")
    expect(page.get_by_text("målepunkter indberettet for mindst").first).to_be_visible()
    # Another organisation the same kommune supervises.
    other = facts.supervised_by(widgets.load_bundle(), first.tilsynskommune)[-1]
    page.get_by_label("Boligorganisation").select_option(label=f"{other.name} ({other.organisation_id})")
    expect(page.locator(HEADING)).to_have_text(f"Dialogark: {other.name}")


def test_deep_link_opens_the_organisation_in_its_tilsynskommune_and_year(page, voila_server):
    wanted = organisation("0022")
    page.goto(voila_server.url(PAGE, "organisation=0022&year=2024"))
    expect(page.locator(HEADING)).to_have_text(f"Dialogark: {wanted.name}")
    expect(page.locator(".kompas-meta").first).to_contain_text("rapportår 2024")
    expect(page.locator(".kompas-meta").first).to_contain_text(
        f"Tilsynskommune: {kommuner.name(wanted.tilsynskommune)}"
    )
    seat = kommuner.name(wanted.tilsynskommune)
    expect(page.get_by_label("Kommune")).to_have_value(re.compile(rf"^{seat}\s*$"))


def test_unknown_organisation_gives_a_danish_message_not_a_traceback(page, voila_server):
    page.goto(voila_server.url(PAGE, "organisation=%3Cb%3EXYZ%3C/b%3E"))
    expect(page.locator(MESSAGE)).to_contain_text("Boligorganisationen <b>XYZ</b> findes ikke.")
    body = page.locator("body")
    expect(body).not_to_contain_text("Traceback")
    # The default organisation is shown below the message, so the reader can go on from there.
    expect(page.locator(HEADING)).to_have_text(f"Dialogark: {organisation('0001').name}")
