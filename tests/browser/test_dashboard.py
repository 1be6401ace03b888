"""Kommunens ESG-kompas in a real Voilà server and real headless Chromium."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from kompas_helpers import fmt, kommuner, widgets
from tests.browser.selectors import LIVE_FIGURE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

HEADING = ".kompas-heading h1"
HEADLINE = ".kompas-headline"
MESSAGE = ".kompas-message"


def headline_dwellings(kommune_code: str, year: int) -> str:
    """The dwellings figure the headline must show, as the package computes it."""
    return fmt.number(widgets.kommune_headline(widgets.load_bundle(), kommune_code, year).dwellings)


def first_figure(page):
    figure = page.locator(LIVE_FIGURE).first
    expect(figure).to_be_visible()
    expect(figure).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    return figure


def test_default_kommune_renders_and_switching_kommune_updates_in_place(page, voila_server):
    latest = widgets.load_bundle().latest_year
    page.goto(voila_server.url())
    figure = first_figure(page)
    expect(page.locator(HEADING)).to_contain_text(kommuner.name("101"))
    expect(page.locator(HEADLINE)).to_contain_text(headline_dwellings("101", latest))
    old_src = figure.get_attribute("src")

    page.get_by_label("Kommune").select_option(label="Aarhus")

    expect(page.locator(HEADING)).to_contain_text("Aarhus")
    expect(page.locator(HEADLINE)).to_contain_text(headline_dwellings("751", latest))
    expect(page.locator(LIVE_FIGURE).first).not_to_have_attribute("src", old_src)
    # The dimension tabs are drawn for the chosen kommune when opened.
    page.get_by_role("tab", name="Miljø").click()
    expect(page.get_by_role("heading", name="E1 Energiforbrug")).to_be_visible()
    expect(page.get_by_role("heading", name="E1 Energiforbrug").locator("xpath=ancestor::div[1]")).to_contain_text(
        "Aarhus"
    )


def test_deep_link_opens_the_requested_kommune_and_year(page, voila_server):
    page.goto(voila_server.url(query="kommune=751&year=2024"))
    first_figure(page)
    expect(page.locator(HEADING)).to_contain_text("Aarhus")
    expect(page.locator(".kompas-heading")).to_contain_text("2024")
    expect(page.get_by_label("År")).to_have_value(re.compile(r".+"))
    expect(page.locator(HEADLINE)).to_contain_text(headline_dwellings("751", 2024))
    expect(page.locator(MESSAGE)).to_have_count(0)


def test_invalid_kommune_in_url_gives_a_danish_message_not_a_traceback(page, voila_server):
    page.goto(voila_server.url(query="kommune=999"))
    expect(page.locator(MESSAGE)).to_contain_text("Ukendt kommune: «999» er ikke en af de 98 kommuner.")
    body = page.locator("body")
    expect(body).not_to_contain_text("Traceback")
    expect(body).not_to_contain_text("Error")
    # The reader can still choose a kommune on the same page.
    page.get_by_label("Kommune").select_option(label="Odense")
    expect(page.locator(HEADING)).to_contain_text("Odense")
    first_figure(page)
    expect(page.locator(MESSAGE)).to_have_count(0)


def test_invalid_year_and_markup_in_url_are_reported_as_text(page, voila_server):
    page.goto(voila_server.url(query="kommune=%3Cimg%20src%3Dx%20onerror%3Dwindow.pwned%3D1%3E&year=1999"))
    message = page.locator(MESSAGE)
    expect(message).to_contain_text("Året 1999 findes ikke i data")
    expect(message).to_contain_text("Ukendt kommune: «<img src=x")
    assert page.evaluate("window.pwned === undefined")
    expect(page.locator("body")).not_to_contain_text("Traceback")


def test_delivered_html_has_no_python_source(voila_server):
    for notebook in ("dashboard.ipynb", "compare.ipynb"):
        with urllib.request.urlopen(voila_server.url(notebook, "kommune=751"), timeout=120) as response:
            text = response.read().decode("utf-8")
        assert "kompas-" in text or "jupyter-config-data" in text
        for source in ("import kompas_helpers", "from kompas_helpers", "bundle.load", "widgets.wait_for_request()",
                       "%matplotlib", "app.open("):  # fmt: skip
            assert source not in text, f"{notebook} leaks {source!r}"
