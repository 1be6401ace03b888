"""`kompas serve --token`: without the token nothing is rendered; the link with `?token=` opens the dashboard."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import start_server, stop_server
from tests.browser.selectors import FIGURE, LIVE_FIGURE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

TOKEN = "udvalg-7f3a9c"
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
    assert page.locator(FIGURE).count() == 0  # no figure at all, not even the first drawing
    assert KERNEL_STARTED not in token_server.log_text()

    # With the token the dashboard renders, and its widgets work over the kernel websocket (authorised by the cookie).
    response = page.goto(token_server.url(query=f"token={TOKEN}&kommune=461"))
    assert response.status == 200
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    expect(page.locator(".kompas-heading h1")).to_contain_text("Odense")
    page.get_by_label("Kommune").select_option(label="Aarhus")
    expect(page.locator(".kompas-heading h1")).to_contain_text("Aarhus")
    assert token_server.log_text().count(KERNEL_STARTED) == 1

    # Logged in, an unknown address gets the Danish 404 page.
    response = page.request.get(f"{token_server.base}/findes-ikke")
    assert response.status == 404 and "<h1>Siden findes ikke</h1>" in response.text()


def test_the_login_page_is_danish_self_contained_and_logs_in_with_the_token(page, token_server):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname))
    page.goto(token_server.url(query="kommune=461"))
    assert urlparse(page.url).path == "/login"
    expect(page.locator("h1")).to_have_text("Log ind")
    field = page.get_by_label("Adgangskode (token)")
    expect(field).to_have_attribute("name", "password")
    button = page.get_by_role("button", name="Log ind")
    expect(button).to_be_visible()
    html = page.content()
    assert '<html lang="da">' in html
    # Nothing of Jupyter Server's English login page ("Log ind" contains "Log in", hence the word boundary).
    for english in ("Password", "token:", "Jupyter", "Invalid credentials"):
        assert english not in html
    assert not re.search(r"\bLog in\b", html)

    # A wrong token: the page again, with a Danish error, and still nothing rendered.
    field.fill("forkert")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        button.click()
    assert posted.value.status == 401
    expect(page.get_by_role("alert")).to_have_text(
        "Adgangskoden er forkert. Tjek, at du har skrevet den rigtigt, og prøv igen."
    )
    assert "Invalid credentials" not in page.content()
    assert page.locator(FIGURE).count() == 0  # no figure at all, not even the first drawing
    # The login page (twice) loaded nothing from anywhere but the server itself.
    assert hosts == {"127.0.0.1"}

    # The right token, typed into the field: back to the page asked for, with its parameters.
    page.get_by_label("Adgangskode (token)").fill(TOKEN)
    page.get_by_role("button", name="Log ind").click()
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    assert urlparse(page.url).path == "/voila/render/dashboard.ipynb"
    assert parse_qs(urlparse(page.url).query) == {"kommune": ["461"]}
    expect(page.locator(".kompas-heading h1")).to_contain_text("Odense")
