"""A report page as a tagged, accessible A4 PDF (PDF/UA-1) made by WeasyPrint from the page's own HTML."""

from __future__ import annotations

from kompas_helpers import fmt

# The pages that also get a PDF: the kommune overview and every organisation's dialogue sheet.
PDF_TEMPLATES = ("overview", "organisation")
PDF_VARIANT = "pdf/ua-1"  # tagged: structure tree, /Lang from <html lang>, title from <title>, /Alt from <img alt>
PAGE_NUMBER_DA = "Side {page} af {pages}"


class PdfError(RuntimeError):
    """WeasyPrint could not make the PDF; the message is Danish."""


def _css_string(text: str) -> str:
    """Text as a CSS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def print_css(synthetic: bool) -> str:
    """The print style: A4 with page numbers in the bottom margin and, for synthetic data, the banner in the top
    margin of every page; headings kept with what follows, table rows whole, header rows repeated, navigation and
    interactive elements hidden."""
    number = PAGE_NUMBER_DA.format(page='" counter(page) "', pages='" counter(pages) "')
    banner = ""
    if synthetic:
        banner = (
            f"@top-center {{ content: {_css_string(fmt.SYNTHETIC_BANNER_DA)}; font-weight: 700; font-size: 7.5pt; "
            "color: #111; border-bottom: 1.5pt solid #111; vertical-align: bottom; padding-bottom: 2mm; }"
        )
    return f"""
@page {{
  size: A4;
  margin: 24mm 15mm 18mm;
  font-family: "Source Sans Pro", "Segoe UI", Roboto, Arial, sans-serif;
  {banner}
  @bottom-right {{ content: "{number}"; font-size: 8pt; color: #333; }}
}}
@media print {{
  html {{ font-size: 10pt; }}
  body {{ margin: 0; padding: 0; max-width: none; }}
  nav, .kompas-nav, button, input, select, textarea, script, .jp-OutputPrompt {{ display: none !important; }}
  h1, h2, h3, h4, h5, h6, caption {{ break-after: avoid; page-break-after: avoid; }}
  h1, h2, h3, h4, h5, h6 {{ break-inside: avoid; }}
  table {{ break-inside: auto; }}
  thead {{ display: table-header-group; }}
  tr, img, svg, figure, .kompas-banner {{ break-inside: avoid; page-break-inside: avoid; }}
  img {{ max-width: 100%; height: auto; }}
  a {{ color: inherit; text-decoration: none; }}
}}
"""


def pdf_bytes(page: str, synthetic: bool) -> bytes:
    """The PDF of a report page (the HTML htmlreport.notebook_html makes), tagged as PDF/UA-1; PdfError in Danish
    when WeasyPrint fails."""
    try:
        import logging

        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher

        for name in ("weasyprint", "fontTools"):  # unsupported screen CSS is expected; the result is checked instead
            logging.getLogger(name).addHandler(logging.NullHandler())
            logging.getLogger(name).propagate = False
        # A report page is self-contained: only data: URIs are read, never the network or the disk.
        document = HTML(string=page, url_fetcher=URLFetcher(allowed_protocols={"data"}))
        return document.write_pdf(stylesheets=[CSS(string=print_css(synthetic))], pdf_variant=PDF_VARIANT)
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise PdfError(f"PDF-udgaven kunne ikke laves med WeasyPrint ({detail})") from exc
