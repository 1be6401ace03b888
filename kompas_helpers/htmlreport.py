"""Executed notebooks as self-contained Danish HTML reports (no code, no network)."""

from __future__ import annotations

import copy
import html
import re
from functools import lru_cache

from kompas_helpers import navigation, style

PAGE_CSS = """
body { margin: 0 auto; padding: 1.5em 2em 3em; max-width: 68em; line-height: 1.4; }
img, svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; }
pre { white-space: pre-wrap; font-size: 9.5pt; }
a.anchor-link { display: none; }
.dataframe th, .dataframe td { padding: 0.2em 0.6em; border-bottom: 1px solid #ccc; text-align: right; }
footer.kompas-footer { margin-top: 3em; padding-top: 0.6em; border-top: 1px solid #aaa; color: #444;
  font-size: 9pt; }
@media print { body { padding: 0; max-width: none; } footer.kompas-footer { break-before: avoid; } }
"""

PAGE = """<!DOCTYPE html>
<html lang="da">
<head>
{head}
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{nav}
<main>
{body}
</main>
{footer}
</body>
</html>
"""

FIGURE_ALT_DA = "Figur"
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt\s*=)", re.I)
_ANCHOR_LINK = re.compile(r"<a class=\"anchor-link\" href=\"#[^\"]*\">(?:¶|&#182;|&para;)</a>")
_EXTERNAL = r"""(?:https?:)?//"""
# Elements that would fetch something from the network when the page is opened.
_EXTERNAL_SCRIPT = re.compile(rf"""<script\b[^>]*\bsrc\s*=\s*["']?{_EXTERNAL}[^>]*>.*?</script\s*>""", re.I | re.S)
_EXTERNAL_LINK = re.compile(rf"""<link\b[^>]*\bhref\s*=\s*["']?{_EXTERNAL}[^>]*>""", re.I)
_EXTERNAL_ATTRIBUTE = re.compile(rf"""\s(?:src|srcset|data-src|poster)\s*=\s*(["']){_EXTERNAL}.*?\1""", re.I | re.S)
_EXTERNAL_CSS = re.compile(rf"""@import\s+(?:url\()?\s*["']?{_EXTERNAL}[^;]*;|url\(\s*["']?{_EXTERNAL}[^)]*\)""", re.I)
# Embedded data (the figures' PNGs: nine tenths of a report's bytes) can hold no address, so `make_offline` sets it
# aside while it looks for addresses; a stand-in of NUL-wrapped digits matches the same patterns the base64 does.
_DATA_URI = re.compile(r"data:[\w.+/-]+;base64,[A-Za-z0-9+/=]+")
_SET_ASIDE = re.compile("\x00([0-9]+)\x00")
# What `external_resources` reports: any src/href that leaves the page, except ordinary links (<a href>).
_TAG = re.compile(r"<(?!a\b)(\w+)\b[^>]*>", re.I)
_RESOURCE_ATTRIBUTE = re.compile(rf"""\b(?:src|srcset|href|data-src|poster)\s*=\s*["']?({_EXTERNAL}[^"'\s>]*)""", re.I)
_CSS_URL = re.compile(rf"""(?:@import\s+|url\()\s*["']?({_EXTERNAL}[^"')\s;]*)""", re.I)


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        """HTMLExporter without its BeautifulSoup pass (half the export time for a report with many tables), which
        only adds English alt texts and keyboard focus to input areas; `notebook_html` adds a Danish alt text."""

        def from_notebook_node(self, nb, resources=None, **kw):
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name"))
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    # The "basic" template is the bare notebook body: no require.js, MathJax or other CDN scripts to strip. The
    # notebook is validated once, after the preprocessors, rather than after each of them (a dozen times: about a
    # tenth of a dimension report's export).
    return ReportExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        optimistic_validation=True,
    )


def warm() -> None:
    """Build the exporter and render its templates once (about 1 CPU-second), in a process that forks the drivers
    that will use it: each then has them ready."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    html_output = nbformat.v4.new_output("display_data", data={"text/html": "<p>AlmenKompas</p>"})
    nb.cells = [nbformat.v4.new_markdown_cell("AlmenKompas"), nbformat.v4.new_code_cell("", outputs=[html_output])]
    notebook_html(nb, "AlmenKompas")


def _readable_copy(nb):
    """The cells a reader sees: markdown, and code cells that show something (without warnings on stderr)."""
    out = copy.copy(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            outputs = [o for o in cell.get("outputs", []) if not (o.output_type == "stream" and o.name == "stderr")]
            if not outputs:
                continue
            cell = copy.copy(cell)
            cell.outputs = outputs
        elif cell.cell_type != "markdown":
            continue
        cells.append(cell)
    out.cells = cells
    return out


def make_offline(page: str) -> str:
    """Remove everything that would fetch a resource from the network (scripts, stylesheets, images, CSS urls).

    Embedded base64 data is set aside while the patterns run (a report's figures made them scan 850 kB a page for
    the 60 kB of markup): the data holds none of the characters an address or a tag needs, so a stand-in of other
    such characters gives the same matches."""
    aside: list[str] = []
    if "\x00" not in page:

        def set_aside(match: re.Match) -> str:
            aside.append(match.group(0))
            return f"\x00{len(aside) - 1}\x00"

        page = _DATA_URI.sub(set_aside, page)
    page = _EXTERNAL_SCRIPT.sub("", page)
    page = _EXTERNAL_LINK.sub("", page)
    page = _EXTERNAL_ATTRIBUTE.sub("", page)
    page = _EXTERNAL_CSS.sub("", page)
    return _SET_ASIDE.sub(lambda match: aside[int(match.group(1))], page) if aside else page


def external_resources(page: str) -> list[str]:
    """Addresses the page would fetch from the network when opened (links a reader may click are not counted)."""
    found = []
    for tag in _TAG.finditer(page):
        found += _RESOURCE_ATTRIBUTE.findall(tag.group(0))
    found += _CSS_URL.findall(page)
    return found


def page(title: str, body: str, footer: str = "", nav: str = "") -> str:
    """A complete, self-contained Danish HTML page (with the report set's navigation bar `nav` above the content)."""
    foot = f'<footer class="kompas-footer">{footer}</footer>' if footer else ""
    css = PAGE_CSS + (navigation.CSS if nav else "")
    return make_offline(
        PAGE.format(head=style.page_head(), title=html.escape(title), css=css, nav=nav, body=body, footer=foot)
    )


def notebook_html(nb, title: str, footer: str = "", nav: str = "", live=None) -> str:
    """An executed notebook as a report page: outputs and text only (no code cells, no prompts), figures embedded.

    `live(href)`, when given, tells whether a link in the notebook leads to a file of the report set; others become
    plain text (navigation.unlink_dead)."""
    body, _ = _exporter().from_notebook_node(_readable_copy(nb))
    body = _IMG_WITHOUT_ALT.sub(f'<img alt="{FIGURE_ALT_DA}"', _ANCHOR_LINK.sub("", body))
    body = navigation.unlink_dead(body, live) if live is not None else body
    return page(title, body, footer, nav)
