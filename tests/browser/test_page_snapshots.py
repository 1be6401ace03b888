"""`kompas serve` draws the pages' first views in advance (page_snapshots): a page's HTML then carries the stored
view from its start, before its kernel has run a cell, in place of the kernel's own copy, and the live widgets still
take the page over."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from kompas_helpers import kommuner, page_snapshots, widgets
from tests.browser.axe import assert_accessible
from tests.browser.conftest import start_server, stop_server
from tests.browser.selectors import FIGURE, LIVE_FIGURE
from tests.browser.test_first_paint import COPY_TAG, FRONT_END, fetch

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SNAPSHOT = f"div.{page_snapshots.SNAPSHOT_CLASS}"
SNAPSHOT_TAG = f'<div class="kompas-static {page_snapshots.SNAPSHOT_CLASS}">'
# Drawing all 198 views at the lowest priority takes about a minute on two idle cores; more beside other tests.
READY_TIMEOUT = 420
EARLY_LINE = "kompas: første visning sendt før kernen: {page}?{query}"
# The kompas template's script and stylesheets for the live page (Voilà's style script, JupyterLab's CSS).
TEMPLATE_FILES = "/voila/templates/kompas/static"
TEMPLATE_FILE_NAMES = ("voila-style.js", "index.css", "theme-light.css")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("voila-snapshots") / "server.log"
    server = start_server(log, "--pool-size", "1")
    ready = re.escape(page_snapshots.READY_LINE_DA).replace(r"\{count\}", r"(\d+)")
    deadline = time.monotonic() + READY_TIMEOUT
    while not (found := re.search(ready, server.log_text())):
        if server.process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            pytest.fail(f"the pages' first views were not stored:\n{server.log_text()}")
        time.sleep(1)
    assert int(found.group(1)) == 2 * len(kommuner.all_kommuner()) + 2
    yield server
    stop_server(server)


def kernel_copy(text: str) -> str:
    start = text.index(page_snapshots.COPY_START + COPY_TAG) + len(page_snapshots.COPY_START + COPY_TAG)
    return text[start : text.index("</div>" + page_snapshots.COPY_END)]


@pytest.mark.parametrize(("page", "kommune"), [("dashboard.ipynb", "751"), ("compare.ipynb", "461")])
def test_the_stored_view_comes_first_in_place_of_the_kernel_s_copy_and_is_what_the_kernel_draws(server, page, kommune):
    stored = fetch(server.url(page, f"kommune={kommune}"))
    # The same page and kommune at an address with no stored view (the year named): what the kernel draws.
    latest = max(widgets.load_bundle().years)
    drawn = fetch(server.url(page, f"kommune={kommune}&year={latest}"))

    assert stored.count(SNAPSHOT_TAG) == 1 and COPY_TAG not in stored
    assert stored.index(SNAPSHOT_TAG) < stored.index(page_snapshots.ANCHOR) < stored.index('id="jupyter-config-data"')
    # Before the page's script and stylesheets, whose loading would hold up the view.
    assert stored.index(SNAPSHOT_TAG) < min(stored.index(f"{TEMPLATE_FILES}/{name}") for name in TEMPLATE_FILE_NAMES)
    assert SNAPSHOT_TAG not in drawn and drawn.count(COPY_TAG) == 1
    view = stored[stored.index(SNAPSHOT_TAG) :]
    assert view.startswith(page_snapshots.snapshot_html(kernel_copy(drawn)))
    assert kommuner.name(kommune) in kernel_copy(drawn) and FIGURE.replace("img.", 'img class="') in view
    # Sent before Voilà had a kernel for the request: the page's head was known (from the preheated kernel).
    assert EARLY_LINE.format(page=page, query=f"kommune={kommune}") in server.log_text()


def test_an_address_without_a_stored_view_gets_the_kernel_s_copy(server):
    text = fetch(server.url("compare.ipynb", "indicator=S3&kommune=751"))
    assert SNAPSHOT_TAG not in text and text.count(COPY_TAG) == 1


def test_the_stored_view_is_readable_and_accessible_without_the_front_end(page, server):
    page.route(FRONT_END, lambda route: route.abort())
    page.goto(server.url(query="kommune=147"))

    snapshot = page.locator(SNAPSHOT)
    expect(snapshot.locator(FIGURE)).to_be_visible()
    expect(snapshot.locator(".kompas-heading h1")).to_contain_text(kommuner.name("147"))
    expect(snapshot.locator(".kompas-banner")).to_be_visible()
    expect(page.locator("#loading")).to_be_hidden()
    assert page.locator(".kompas-heading h1").count() == 1
    assert_accessible(page, "the dashboard's stored first view (Frederiksberg, without Voilà's front end)")


def test_the_stored_view_shows_while_the_page_s_script_and_stylesheets_are_still_on_their_way(page, server):
    # With 30 readers at once on two cores these took seconds to arrive and be read; in the page's head, the script
    # stopped the browser reading the page and the stylesheets stopped it painting until then. Here they never come.
    held = []
    page.route(f"**{TEMPLATE_FILES}/**", lambda route: held.append(route))
    page.goto(server.url(query="kommune=461"), wait_until="commit")

    expect(page.locator(SNAPSHOT).locator(FIGURE).first).to_be_visible()
    expect(page.locator(".kompas-heading h1")).to_contain_text(kommuner.name("461"))
    assert sorted(route.request.url.split("?")[0].rsplit("/", 1)[1] for route in held) == sorted(TEMPLATE_FILE_NAMES)
    for route in held:
        route.abort()


def test_the_live_widgets_replace_the_stored_view(page, server):
    page.goto(server.url(query="kommune=751"))

    expect(page.locator(LIVE_FIGURE).first).to_be_visible(timeout=120_000)
    expect(page.locator(SNAPSHOT)).to_have_count(0)
    expect(page.locator(".kompas-heading h1")).to_have_count(1)
    expect(page.locator(".kompas-heading h1")).to_contain_text("Aarhus")
    page.get_by_label("Kommune").select_option(label="Odense")
    expect(page.locator(".kompas-heading h1")).to_contain_text("Odense")
    assert_accessible(page, "the dashboard after its stored first view gave way (Odense)")
