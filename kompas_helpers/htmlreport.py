"""Executed notebooks as self-contained Danish HTML reports (no code, no network), and the index of a run."""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
from functools import lru_cache

from kompas_helpers import danish, fmt, reportset, style

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

    # The "basic" template is the bare notebook body: no require.js, MathJax or other CDN scripts to strip.
    return ReportExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


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
    """Remove everything that would fetch a resource from the network (scripts, stylesheets, images, CSS urls)."""
    page = _EXTERNAL_SCRIPT.sub("", page)
    page = _EXTERNAL_LINK.sub("", page)
    page = _EXTERNAL_ATTRIBUTE.sub("", page)
    return _EXTERNAL_CSS.sub("", page)


def external_resources(page: str) -> list[str]:
    """Addresses the page would fetch from the network when opened (links a reader may click are not counted)."""
    found = []
    for tag in _TAG.finditer(page):
        found += _RESOURCE_ATTRIBUTE.findall(tag.group(0))
    found += _CSS_URL.findall(page)
    return found


def page(title: str, body: str, footer: str = "") -> str:
    """A complete, self-contained Danish HTML page."""
    foot = f'<footer class="kompas-footer">{footer}</footer>' if footer else ""
    return make_offline(
        PAGE.format(head=style.page_head(), title=html.escape(title), css=PAGE_CSS, body=body, footer=foot)
    )


def notebook_html(nb, title: str, footer: str = "") -> str:
    """An executed notebook as a report page: outputs and text only (no code cells, no prompts), figures embedded."""
    body, _ = _exporter().from_notebook_node(_readable_copy(nb))
    body = _IMG_WITHOUT_ALT.sub(f'<img alt="{FIGURE_ALT_DA}"', _ANCHOR_LINK.sub("", body))
    return page(title, body, footer)


# ----------------------------------------------------------------------------------------------------------------
# The index of a year's reports
# ----------------------------------------------------------------------------------------------------------------

INDEX_CSS = """
h1 { margin-bottom: 0.2em; }
.banner { border: 3px solid #111; background: #fff1b8; padding: 0.6em 0.9em; font-weight: 700; margin: 0.6em 0; }
.meta { color: #333; font-size: 10pt; }
.warn { background: #fde2e1; border-left: 4px solid #b00020; padding: 0.4em 0.8em; }
table.index { border-collapse: collapse; width: 100%; font-size: 10pt; }
table.index th, table.index td { border-bottom: 1px solid #bbb; padding: 0.3em 0.5em; text-align: left;
  vertical-align: top; }
table.index thead th { border-bottom: 2px solid #111; background: #f0f0f0; position: sticky; top: 0; }
.fail { color: #b00020; font-weight: 700; }
.old { color: #555; font-size: 9pt; }
"""


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    return danish.timestamp(dt.datetime.fromisoformat(iso))


def _link(folder: str, file: str, text: str) -> str:
    from urllib.parse import quote

    return f'<a href="{html.escape(quote(f"{folder}/{file}"))}">{html.escape(text)}</a>'


def _index_cell(folder: str, name: str, output: dict, run_started: str, present) -> str:
    target = next((f for f in output.get("files", []) if f.endswith((".html", ".xlsx"))), None)
    available = target is not None and present(folder, target)
    text = "nøgletal.xlsx" if name == reportset.EXCEL_JOB else "rapport"
    status = output.get("status")
    if status == "ok" and available:
        cell = _link(folder, target, text)
        if output.get("run_started") != run_started:
            cell += f' <span class="old">({html.escape(_when(output.get("run_started")))})</span>'
        return cell
    word = reportset.STATUS_DA[status] if status in (reportset.FAILED, reportset.INTERRUPTED) else "mangler"
    cell = f'<span class="fail">{word}</span>'
    if available and output.get("last_ok"):
        cell += f"<br>{_link(folder, target, 'tidligere udgave')} "
        cell += f'<span class="old">({html.escape(_when(output["last_ok"]))})</span>'
    return cell


def index_html(manifest: dict, present) -> str:
    """The year's index page: every kommune's reports and workbook with their status (Danish, self-contained).

    `present(folder, file)` tells whether an output file exists (a failed report may still have an earlier one).
    """
    run = manifest["run"]
    reports = manifest["reports"]
    sheet_prefix = f"{reportset.SHEETS_FOLDER}/"
    names = {name for entry in reports.values() for name in entry["outputs"] if not name.startswith(sheet_prefix)}
    order = [n for n in reportset.TEMPLATES if n in names] + sorted(names - {*reportset.TEMPLATES, reportset.EXCEL_JOB})
    order += [reportset.EXCEL_JOB] if reportset.EXCEL_JOB in names else []
    titles = {}
    for entry in reports.values():
        for name, output in entry["outputs"].items():
            titles.setdefault(name, output.get("title", name))
    has_sheets = any(n.startswith(sheet_prefix) for entry in reports.values() for n in entry["outputs"])
    head = "".join(f"<th>{html.escape(titles[n])}</th>" for n in order)
    head += f"<th>{html.escape(reportset.TEMPLATE_TITLES_DA['organisation'])}</th>" if has_sheets else ""
    rows = []
    failed = 0
    for code, entry in sorted(reports.items(), key=lambda item: danish.sort_key(item[1]["kommune_name"])):
        cells = []
        for name in order:
            output = entry["outputs"].get(name)
            if output is None:
                cells.append("<td>–</td>")
                continue
            failed += output.get("status") != "ok"
            cells.append(f"<td>{_index_cell(entry['folder'], name, output, run['started'], present)}</td>")
        if has_sheets:
            sheets = sorted((n, o) for n, o in entry["outputs"].items() if n.startswith(sheet_prefix))
            failed += sum(o.get("status") != "ok" for _n, o in sheets)
            links = [
                f"{html.escape(o.get('title', n))}: {_index_cell(entry['folder'], n, o, run['started'], present)}"
                for n, o in sheets
            ]
            cells.append(f"<td>{'<br>'.join(links) or '–'}</td>")
        kommune = f'{html.escape(entry["kommune_name"])} <span class="old">({html.escape(code)})</span>'
        rows.append(f'<tr><th scope="row">{kommune}</th><td>{html.escape(entry["region"])}</td>{"".join(cells)}</tr>')
    counts = run["counts"]
    parts = [
        f"<style>{INDEX_CSS}</style>",
        f"<h1>AlmenKompas – rapporter for {manifest['year']}</h1>",
    ]
    if manifest.get("synthetic"):
        parts.append(f'<p class="banner">{html.escape(fmt.SYNTHETIC_BANNER_DA)}</p>')
    total = sum(counts.values())
    parts.append(
        f'<p class="meta">Seneste kørsel {html.escape(_when(run["started"]))}: {counts["ok"]} af {total} rapporter '
        f"og regneark lavet, {counts['failed']} fejlede"
        + (f", {counts['interrupted']} afbrudt" if counts.get("interrupted") else "")
        + f". {len(reports)} kommuner i alt. Datasæt {html.escape(manifest['data_hash'][:12])}.</p>"
    )
    if present("", reportset.NATIONAL_EXCEL_FILE):
        national = _link(".", reportset.NATIONAL_EXCEL_FILE, reportset.NATIONAL_EXCEL_FILE)
        parts.append(f'<p class="meta">Alle kommuners nøgletal i ét regneark: {national}.</p>')
    if failed:
        parts.append(
            f'<p class="warn">{failed} rapporter eller regneark blev ikke lavet i den seneste kørsel. Hvor der findes '
            "en tidligere udgave, kan den stadig åbnes; detaljer står i manifest.json.</p>"
        )
    parts.append(
        '<table class="index"><thead><tr><th>Kommune</th><th>Region</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    footer = f"AlmenKompas-arbejdsbogen {html.escape(manifest['package_version'])}"
    return page(f"AlmenKompas – rapporter for {manifest['year']}", "\n".join(parts), footer)
