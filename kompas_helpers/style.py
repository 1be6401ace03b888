"""The look shared by reports and pages: the HTML head and base style of every page, and the report CSS."""

from __future__ import annotations

from functools import lru_cache

from kompas_helpers import paths

# One file for the report pages and the Voilà error and login pages (their Jinja template includes it).
HEAD_FILE = paths.PACKAGE_DIR / "jupyter" / "voila" / "templates" / "kompas" / "kompas-head.html"


@lru_cache(maxsize=1)
def page_head() -> str:
    """Charset, viewport and the base style (colours and fonts) that every page of the project starts with."""
    return HEAD_FILE.read_text(encoding="utf-8")


CSS = """
.kompas { font-family: "Source Sans Pro", "Segoe UI", Roboto, Arial, sans-serif; font-size: 10.5pt; color: #111; }
.kompas h2, .kompas h3 { margin: 0.8em 0 0.3em; }
.kompas .kompas-banner { border: 3px solid #111; background: #fff1b8; color: #111; padding: 0.6em 0.9em;
  font-weight: 700; margin: 0.4em 0 0.9em; }
.kompas .kompas-meta { color: #333; font-size: 9.5pt; margin: 0.2em 0 0.6em; }
.kompas .kompas-note { color: #333; font-size: 9pt; margin: 0.3em 0 0.8em; max-width: 60em; }
.kompas .kompas-lead { max-width: 60em; }
/* Two classes deep, to win over JupyterLab's right-aligned table cells in notebooks and HTML exports. */
.kompas table.kompas-table { border-collapse: collapse; margin: 0.4em 0 0.5em; font-size: 9.5pt;
  font-variant-numeric: tabular-nums; table-layout: auto; }
.kompas table.kompas-table caption { caption-side: top; text-align: left; font-weight: 700;
  padding-bottom: 0.3em; }
.kompas table.kompas-table th, .kompas table.kompas-table td { border: none; border-bottom: 1px solid #aaa;
  padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
.kompas table.kompas-table thead th { border-bottom: 2px solid #111; background: #f0f0f0; }
.kompas table.kompas-table .num { text-align: right; white-space: nowrap; }
.kompas table.kompas-table tbody th { font-weight: inherit; }
.kompas table.kompas-table tr.kompas-total td, .kompas table.kompas-table tr.kompas-total th { font-weight: 700;
  border-top: 2px solid #111; }
.kompas .kompas-status { font-style: italic; color: #444; }
.kompas .kompas-mark { font-weight: 700; padding: 0 0.3em; border-radius: 2px; }
.kompas .kompas-mark-better { background: #d6e9f8; }
.kompas .kompas-mark-worse { background: #fbdcb8; text-decoration: underline; }
.kompas ol li, .kompas ul li { margin-bottom: 0.25em; max-width: 60em; }
@media print {
  .kompas { font-size: 10pt; }
  .kompas .kompas-banner { background: none; }
  .kompas table.kompas-table thead { display: table-header-group; }
  .kompas table.kompas-table tr { page-break-inside: avoid; }
  .kompas .kompas-mark-better, .kompas .kompas-mark-worse { background: none; }
}
"""
