"""Composition for templates and pages: each section's text, tables and charts displayed in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kompas_helpers import figures, plots, registry
from kompas_helpers.organisation import listing
from kompas_helpers.report.header import header_html
from kompas_helpers.report.indicator import indicator_html
from kompas_helpers.report.markup import display
from kompas_helpers.report.method import method_html
from kompas_helpers.report.overview import overview_html
from kompas_helpers.report.questions import questions_html
from kompas_helpers.report.stock import almene_stock_html

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def header(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> None:
    """Display the header (with the report CSS and, for synthetic data, the banner)."""
    display(header_html(b, kommune_code, year, dimension))


def overview(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> None:
    """Display the overview table of all indicators (or one dimension's) with its notes."""
    display(overview_html(b, kommune_code, year, dimension))


def almene_stock(b: Bundle, kommune_code: str) -> None:
    """Display the almene stock in the kommune (organisations, afdelinger, dwellings, shares, hjemsted)."""
    display(almene_stock_html(b, kommune_code))


def questions(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> None:
    """Display the dialogue questions: standing ones (overview) and those drawn from the kommune's figures."""
    display(questions_html(b, kommune_code, year, dimension))


def method_notes(b: Bundle, kommune_code: str, dimension: str | None = None) -> None:
    """Display the method notes (all indicators, or one dimension's), the kommune's peer group and the discretion
    rules."""
    display(method_html(dimension, b, kommune_code))


def indicator(b: Bundle, kommune_code: str, year: int, code: str) -> None:
    """Display one indicator: intro, comparison table, trend and spread chart, funnel plot, organisations,
    questions."""
    display(indicator_html(b, kommune_code, year, code, "top"))
    figures.show(plots.indicator_figure(b, kommune_code, year, code, reuse=True))
    figures.show(plots.funnel_chart(b.table, code, year, highlight=kommune_code, reuse=True))
    display(indicator_html(b, kommune_code, year, code, "bottom"))


def dimension(b: Bundle, kommune_code: str, year: int, dimension: str) -> None:
    """Display every indicator of a dimension (E, S or G) in registry order with `indicator`."""
    for code in registry.codes(dimension):
        indicator(b, kommune_code, year, code)


def kommune_map(b: Bundle, kommune_code: str, year: int, code: str = registry.HEADLINE_INDICATOR) -> None:
    """Display the tile map and the ranking of all kommuner for a headline indicator, the kommune highlighted."""
    figures.show(plots.tile_map(b.table, code, year, highlight=kommune_code))
    figures.show(plots.ranking_chart(b.table, code, year, highlight=kommune_code))


def organisations(b: Bundle, kommune_code: str, year: int) -> None:
    """Display the organisations the kommune supervises (reporting score, link to each dialogue sheet) and who holds
    the dialogue with the others that have afdelinger there."""
    display(listing.listing_html(b, kommune_code, year))
