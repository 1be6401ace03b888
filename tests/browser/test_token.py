"""`kompas serve --token`: without the token nothing is rendered; the link with `?token=` opens the dashboard."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

TOKEN = "udvalg-7f3a9c"
FIGURE = "img.kompas-figure"
KERNEL_STARTED = "Kernel started:"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    # Without preheating no kernel starts before a page is rendered, so the log shows whether a request ran one.
    server = start_server(tmp_path_factory.mktemp("voila-token") / "server.log", "--token", TOKEN, "--no-preheat")
    yield server
    stop_server(server)


def test_token_is_required_and_the_link_with_it_opens_the_dashboard(page, token_server):
    # Without the token, or with a wrong one, Jupyter Server redirects to its login page; nothing is rendered.
    for query in ("", "token=forkert", "kommune=751"):
        response = page.request.get(token_server.url(query=query), max_redirects=0)
        assert response.status == 302
        location = urlparse(response.headers["location"])
        assert location.path == "/login"
        # After logging in, the reader would come back to the page asked for, with its parameters.
        assert parse_qs(location.query)["next"] == ["/voila/render/dashboard.ipynb" + (f"?{query}" if query else "")]
    # Unknown addresses too: nobody learns what exists without the token.
    response = page.request.get(f"{token_server.base}/findes-ikke", max_redirects=0)
    assert response.status == 302 and urlparse(response.headers["location"]).path == "/login"

    response = page.goto(token_server.url())
    assert urlparse(page.url).path == "/login" and response.status == 200
    assert "jupyter-config-data" not in page.content()
    assert page.locator(FIGURE).count() == 0
    assert KERNEL_STARTED not in token_server.log_text()

    # With the token the dashboard renders, and its widgets work over the kernel websocket (authorised by the cookie).
    response = page.goto(token_server.url(query=f"token={TOKEN}&kommune=461"))
    assert response.status == 200
    expect(page.locator(FIGURE).first).to_be_visible()
    expect(page.locator(".kompas-heading h1")).to_contain_text("Odense")
    page.get_by_label("Kommune").select_option(label="Aarhus")
    expect(page.locator(".kompas-heading h1")).to_contain_text("Aarhus")
    assert token_server.log_text().count(KERNEL_STARTED) == 1

    # Logged in, an unknown address gets the Danish 404 page.
    response = page.request.get(f"{token_server.base}/findes-ikke")
    assert response.status == 404 and "<h1>Siden findes ikke</h1>" in response.text()
