"""Mistyped links: the Danish 404 and error pages of our Voilà template, served by the running server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.selectors import LIVE_FIGURE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

DASHBOARD_LINK = "Gå til Kommunens ESG-kompas"
# Addresses no route serves: a notebook that is not there (Voilà's render handler), a folder that is not there
# (Voilà's tree handler), and URLs that match none of Voilà's routes at all (Tornado's default handler).
UNKNOWN = [
    "voila/render/findes-ikke.ipynb",
    "voila/tree/findes-ikke",
    "findes-ikke/side?kommune=101",
    "api/kernels/findes-ikke",
]
# Voilà's, Jupyter Server's and Tornado's own error pages.
ENGLISH = ["You are requesting", "does not exist", "Not Found", "Forbidden", "Voilà", "requires JavaScript"]
# Anything a page would load: it must need nothing beyond its own HTML.
RESOURCES = "script, link[rel=stylesheet], style[src], img, iframe, object, embed, video, audio"


def visit(page, url: str):
    """Open `url` and return the response and every URL the page requested (data: URLs excepted)."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda ws: requests.append(ws.url))
    response = page.goto(url)
    return response, lambda: [u for u in requests if not u.startswith("data:")]


@pytest.mark.parametrize("path", UNKNOWN)
def test_unknown_addresses_get_the_danish_404_page(page, voila_server, path):
    url = f"{voila_server.base}/{path}"
    response, requests = visit(page, url)

    assert response.status == 404
    expect(page).to_have_title("Siden findes ikke – Kommunens ESG-kompas")
    expect(page.get_by_role("heading", level=1)).to_have_text("Siden findes ikke")
    expect(page.locator("main")).to_contain_text("Fejlkode 404")
    expect(page.get_by_role("link", name=DASHBOARD_LINK)).to_have_attribute("href", "/voila/render/dashboard.ipynb")
    html = page.content()
    assert [english for english in ENGLISH if english in html] == []
    assert page.locator(RESOURCES).count() == 0
    # Self-contained: the document itself is the only request, so nothing comes from a CDN or any other host.
    assert requests() == [url]


def test_the_404_page_leads_back_to_the_dashboard(page, voila_server):
    page.goto(voila_server.url("findes-ikke.ipynb"))
    page.get_by_role("link", name=DASHBOARD_LINK).click()
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    expect(page.locator(".kompas-heading h1")).to_contain_text("ESG-kompas")
    assert page.url == voila_server.url()


def test_other_errors_get_the_danish_error_page(context, voila_server):
    # A form post without Jupyter Server's XSRF token is refused with 403 before any handler runs.
    for url in (voila_server.url(), f"{voila_server.base}/findes-ikke"):
        response = context.request.post(url)
        html = response.text()
        assert response.status == 403
        assert "<h1>Der opstod en fejl</h1>" in html and "Fejlkode 403" in html
        assert "Du har ikke adgang til siden." in html
        assert "_xsrf" not in html and "Forbidden" not in html and "Voilà" not in html
        assert "<script" not in html and "://" not in html
