"""axe-core against the real pages: the Voilà pages after they render, and the static report set a real run writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kompas_helpers import kommuner, widgets
from kompas_helpers.organisation import facts
from tests.browser.axe import assert_accessible
from tests.browser.selectors import LIVE_FIGURE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

HEADING = ".kompas-heading h1"
# A kommune supervising a single organisation keeps the run small: four reports, one sheet and the index.
RUN_KOMMUNE = "849"


def test_dashboard_passes_axe(page, voila_server):
    page.goto(voila_server.url(query="kommune=751"))
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    expect(page.locator(HEADING)).to_contain_text("Aarhus")
    assert_accessible(page, "the dashboard (Aarhus)")


def test_compare_passes_axe(page, voila_server):
    page.goto(voila_server.url("compare.ipynb", "indicator=E1&kommune=751"))
    expect(page.locator(LIVE_FIGURE)).to_have_count(3)
    expect(page.locator("table.kompas-table").first).to_be_visible()
    expect(page.locator(HEADING)).to_have_text("Sammenlign kommuner: Aarhus")
    assert_accessible(page, "Sammenlign kommuner (E1, Aarhus)")


def test_organisation_page_passes_axe(page, voila_server):
    wanted = facts.get(widgets.load_bundle(), "0001")
    page.goto(voila_server.url("organisation.ipynb", "organisation=0001"))
    expect(page.locator(HEADING)).to_contain_text(wanted.name)
    expect(page.locator("table.kompas-table").first).to_be_visible()
    expect(page.get_by_label("Boligorganisation")).to_be_visible()  # the live page, not the first drawing's copy
    expect(page.locator("div.kompas-static")).to_have_count(0)
    assert_accessible(page, f"the organisation page ({wanted.name})")


@pytest.fixture(scope="session")
def report_set(tmp_path_factory) -> Path:
    """The year folder of a real `kompas run` of one small kommune: its reports, its organisation's sheet, the index."""
    out = tmp_path_factory.mktemp("a11y-run")
    command = [sys.executable, "-m", "kompas_helpers.cli", "run", "--kommune", RUN_KOMMUNE, "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"kompas run failed with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    (year_folder,) = [p for p in out.iterdir() if p.is_dir()]
    return year_folder


def report_pages(year_folder: Path) -> dict[str, Path]:
    (kommune_folder,) = [p for p in year_folder.iterdir() if p.is_dir()]
    (sheet,) = sorted((kommune_folder / "organisationer").glob("*.html"))
    pages = {name: kommune_folder / f"{name}.html" for name in ("overview", "environmental", "social", "governance")}
    return {**pages, "sheet": sheet, "index": year_folder / "index.html"}


@pytest.mark.parametrize("name", ["overview", "environmental", "social", "governance", "sheet", "index"])
def test_report_page_passes_axe(page, report_set, name):
    path = report_pages(report_set)[name]
    page.goto(path.as_uri())
    expect(page.locator("h1")).to_have_count(1)
    if name == "sheet":
        organisation_id = path.name.split("-", 1)[0]
        expect(page.locator("h1")).to_contain_text(facts.get(widgets.load_bundle(), organisation_id).name)
    elif name != "index":
        expect(page.locator("h1")).to_contain_text(kommuner.name(RUN_KOMMUNE))
    assert_accessible(page, f"{path.relative_to(report_set)}")
