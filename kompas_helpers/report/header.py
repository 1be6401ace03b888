"""The report header: synthetic-data banner, kommune, region, report year and the data's vintage."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from kompas_helpers import danish, fmt, kommuner, registry
from kompas_helpers.report.markup import esc, style_html, wrap

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def banner_html(b: Bundle) -> str:
    """The synthetic-data banner as HTML when the data is synthetic, otherwise an empty string."""
    if not b.synthetic:
        return ""
    return wrap(f'<div class="kompas-banner" role="note">{esc(fmt.SYNTHETIC_BANNER_DA)}</div>')


def vintage_da(b: Bundle, today: dt.date | None = None) -> str:
    """'Data for 2021–2025 · datasæt a05a09a30ef2 · dannet 27. november 2025' (the data's vintage in one line)."""
    today = today or dt.date.today()
    return f"Data for {danish.year_span(b.years)} · datasæt {b.data_hash[:12]} · dannet {danish.long_date(today)}"


def header_html(b: Bundle, kommune_code: str, year: int, dimension: str | None = None) -> str:
    """The report header: CSS, synthetic banner, kommune name, region, report year and data vintage, as HTML."""
    name, region = kommuner.kommune_info(kommune_code)
    if dimension is None:
        title = f"{name}: ESG-overblik {year}"
    else:
        title = f"{name}: {registry.DIMENSION_NAMES_DA[dimension].lower()} ({dimension}) {year}"
    meta = f"{region} · rapportår {year} · {vintage_da(b)}"
    return style_html() + wrap(banner_html(b), f"<h1>{esc(title)}</h1>", f'<p class="kompas-meta">{esc(meta)}</p>')
