"""The page's HTML carries the first drawing (`page_copy.PageRoot`): seen before Voilà's front end has started, and
replaced by the live widgets once they show the same figures."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from kompas_helpers import fmt, kommuner
from tests.browser.axe import assert_accessible
from tests.browser.selectors import FIGURE, LIVE_FIGURE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

COPY = "div.kompas-static"
COPY_TAG = '<div class="kompas-static">'  # as the page's HTML opens the copy
FRONT_END = "**/voila/static/voila.js"
KERNEL_SOCKET = re.compile(r"/api/kernels/[^/]+/channels")
OUTPUT_JSON = re.compile(r'<script type="application/vnd\.voila\.cell-output\+json">\s*(.*?)\s*</script>', re.S)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=180) as response:
        return response.read().decode("utf-8")


@pytest.mark.parametrize(
    ("page", "query", "expected"),
    [
        ("dashboard.ipynb", "kommune=751", ['img class="kompas-figure"', "Kommune: <strong>Aarhus</strong>"]),
        ("compare.ipynb", "indicator=E1&kommune=461", ['img class="kompas-figure"', "Målepunkt: <strong>E1 "]),
        ("organisation.ipynb", "kommune=147", ["Boligorganisation: <strong>"]),
    ],
)
def test_the_page_html_carries_the_first_drawing_once(voila_server, page, query, expected):
    text = fetch(voila_server.url(page, query))

    assert text.count(COPY_TAG) == 1
    copy = text[text.index(COPY_TAG) :]
    assert fmt.SYNTHETIC_BANNER_DA.split(".")[0] in copy
    for wanted in expected:
        assert wanted in copy
    # The front end gets the widget view only: the copy is not sent a second time inside the output's JSON.
    outputs = [json.loads(found) for found in OUTPUT_JSON.findall(text)]
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1 and "text/html" not in views[0]["data"]


def test_without_the_front_end_the_reader_sees_the_first_drawing(page, voila_server):
    """Voilà's scripts blocked: what the page's HTML alone shows is the kommune's page, readable and accessible."""
    page.route(FRONT_END, lambda route: route.abort())
    page.goto(voila_server.url(query="kommune=461"))

    copy = page.locator(COPY)
    expect(copy.locator(FIGURE)).to_be_visible()
    expect(copy.locator(FIGURE)).to_have_attribute("alt", re.compile(kommuner.name("461")))
    expect(copy.locator(".kompas-heading h1")).to_contain_text(kommuner.name("461"))
    expect(copy.locator(".kompas-banner")).to_be_visible()
    expect(copy).to_contain_text("Valgene bliver klar om et øjeblik.")
    expect(page.locator("#loading")).to_have_count(0)  # the spinner gave way to the page
    assert page.locator(LIVE_FIGURE).count() == 0
    assert_accessible(page, "the dashboard's first drawing (Odense, without Voilà's front end)")


def test_the_live_widgets_replace_the_first_drawing(page, voila_server):
    page.goto(voila_server.url(query="kommune=751"))

    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    expect(page.locator(COPY)).to_have_count(0)
    expect(page.locator(".kompas-heading h1")).to_have_count(1)
    expect(page.locator(".kompas-banner")).to_have_count(1)
    expect(page.locator(".kompas-heading h1")).to_contain_text("Aarhus")
    # The live page answers: a new choice redraws it (the copy does not come back).
    page.get_by_label("Kommune").select_option(label="Odense")
    expect(page.locator(".kompas-heading h1")).to_contain_text("Odense")
    expect(page.locator(COPY)).to_have_count(0)


def test_the_first_drawing_stays_while_the_kernel_does_not_answer_and_is_accessible(page, voila_server):
    """Voilà's front end started, its kernel connection silent: the copy is what the reader has, and with no control
    to focus in it, the page's scrollable region must still take the keyboard."""
    page.route_web_socket(KERNEL_SOCKET, lambda socket: None)  # opened, never answered
    page.goto(voila_server.url("organisation.ipynb", "organisation=0001"))
    expect(page.locator(COPY).locator("table.kompas-table").first).to_be_visible()
    expect(page.locator("#rendered_cells.lm-Widget")).to_be_visible()  # the front end has taken the page over
    assert page.locator(".widget-vbox").count() == 0
    assert_accessible(page, "the organisation page's first drawing (kernel not answering)")
