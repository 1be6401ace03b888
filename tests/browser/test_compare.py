"""Sammenlign kommuner in a real Voilà server and real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kompas_helpers import kommuner, registry, widgets
from kompas_helpers.report.ranking import kommune_ranking_table
from tests.browser.selectors import LIVE_FIGURE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_deep_link_ranks_all_kommuner_with_map_coverage_and_the_national_value(page, voila_server):
    page.goto(voila_server.url("compare.ipynb", "indicator=S4&kommune=751&year=2025"))
    figures = page.locator(LIVE_FIGURE)
    expect(figures).to_have_count(3)
    # The alt text names the chart and states what it shows (findings: the kommune's rank, where it lies).
    expect(figures.nth(0)).to_have_attribute(
        "alt",
        re.compile(
            r"^S4 .* alle kommuner sorteret, Aarhus og regionen fremhævet\. "
            r"(I 2025 er Aarhus nr\. \d+ af \d+ kommuner|Livskvalitet og sundhed i Aarhus er \d+ % i 2025)"
        ),
    )
    expect(figures.nth(1)).to_have_attribute(
        "alt", re.compile(r"^Tragtplot: S4 .* Aarhus fremhævet\. Landet: .*; Aarhus ligger (over|under|inden for)\.$")
    )
    expect(figures.nth(2)).to_have_attribute("alt", re.compile(r"^Danmarkskort"))
    expect(page.get_by_role("heading", name=re.compile(r"^S4 "))).to_be_visible()
    comparison = page.locator("table.kompas-table").first
    expect(comparison).to_contain_text("Hele landet")
    expect(comparison).to_contain_text("Aarhus")
    expect(comparison).to_contain_text("Sammenligningskommuner")
    expect(comparison).to_contain_text("for få data")  # Aarhus' S4 rests on 18 % of the dwellings
    ranking = kommune_ranking_table(widgets.load_bundle(), "S4", 2025)
    rows = page.locator("table.kompas-table").last.locator("tbody tr")
    expect(rows).to_have_count(len(kommuner.table()))
    # Low coverage and few dwellings are marked where the package says so.
    flagged = ranking[ranking["Bemærkning"].str.contains("dækning under")]
    assert len(flagged) > 0
    first = flagged.iloc[0]
    row = rows.filter(has_text=first["Kommune"]).first
    expect(row).to_contain_text(f"dækning under {round(100 * registry.LOW_COVERAGE)} %")


def test_changing_indicator_updates_the_figures_in_place(page, voila_server):
    page.goto(voila_server.url("compare.ipynb", "indicator=E1&kommune=101"))
    ranking = page.locator(LIVE_FIGURE).first
    expect(ranking).to_have_attribute("alt", re.compile(r"^E1 "))
    page.get_by_label("Målepunkt").select_option(label=f"G2 {registry.get('G2').name_da}")
    expect(ranking).to_have_attribute("alt", re.compile(r"^G2 "))
    expect(page.get_by_role("heading", name=re.compile(r"^G2 "))).to_be_visible()


def test_unknown_indicator_in_url_gives_a_danish_message(page, voila_server):
    page.goto(voila_server.url("compare.ipynb", "indicator=Z9&kommune=751"))
    expect(page.locator(".kompas-message")).to_contain_text("Indikatoren Z9 findes ikke.")
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
