"""The report set's navigation: the bar on every page, the footer link to its notebook, and which links a page keeps."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from kompas_helpers import reportset
from kompas_helpers.kommuner import Kommune

# Pages that also come as PDF (<name>.pdf beside <name>.html) when the run makes PDFs: the overview and the sheets.
PDF_TEMPLATES = ("overview", reportset.SHEETS_FOLDER)
# The kommune's pages in the bar, in this order, with the dimension letter a reader knows them by.
KOMMUNE_PAGES = {
    "overview": "Oversigt",
    "environmental": "Miljø (E)",
    "social": "Social (S)",
    "governance": "Governance (G)",
}
INDEX_LABEL_DA = "Alle kommuner"
SHEETS_LABEL_DA = "Boligorganisationer"
EXCEL_LABEL_DA = "Nøgletal (Excel)"
NOTEBOOK_LABEL_DA = "Notesbogen bag denne side"

CSS = """
nav.kompas-nav { font-size: 10pt; border-bottom: 2px solid #111; padding: 0.3em 0 0.5em; margin-bottom: 1em; }
nav.kompas-nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.2em 1.1em; }
nav.kompas-nav li { margin: 0; }
nav.kompas-nav .kompas-nav-group { font-weight: 700; }
nav.kompas-nav a { color: #0b4f8a; }
nav.kompas-nav a[aria-current="page"] { color: #111; font-weight: 700; text-decoration: none;
  border-bottom: 3px solid #111; }
@media print { nav.kompas-nav, .kompas-notebook-link { display: none; } }
"""


def href(path: str) -> str:
    """A relative address for an href: percent-encoded (æ, ø, å, spaces), slashes and a #fragment kept."""
    return html.escape(quote(path, safe="/#"))


def kommune_anchor(kommune_code: str) -> str:
    """The id of a kommune's section in the index ('kommune-101')."""
    return f"kommune-{kommune_code}"


def _item(target: str, text: str, current: bool = False) -> str:
    mark = ' aria-current="page"' if current else ""
    return f'<li><a href="{href(target)}"{mark}>{html.escape(text)}</a></li>'


def bar(label: str, items: list[str]) -> str:
    """The navigation element with its Danish aria-label around list items."""
    return f'<nav class="kompas-nav" aria-label="{html.escape(label)}"><ul>{"".join(items)}</ul></nav>'


@dataclass(frozen=True)
class Targets:
    """What a run makes, as far as the links on a page depend on it (each job carries its kommune's)."""

    pages: tuple[str, ...] = ()  # the kommune's outputs this run makes: its template names and 'nøgletal'
    sheets_for: tuple[str, ...] = ()  # the kommuner whose organisations all get their sheet in this run
    pdf: bool = False  # the run also writes <name>.pdf beside the overview's and the sheets' HTML

    def promises(self, kommune: Kommune, target: tuple[str, ...]) -> bool:
        """Whether this run makes `target` (its path parts below the year's folder) that a page of `kommune` links."""
        if target == (reportset.INDEX_FILE,):
            return True  # written when the run ends
        if len(target) == 2 and target[0] == kommune.folder:
            own = {f"{page}.html" for page in self.pages}
            own |= {"overview.pdf"} if self.pdf and "overview" in self.pages else set()
            return target[1] in own or (target[1] == reportset.EXCEL_FILE and reportset.EXCEL_JOB in self.pages)
        if len(target) == 3 and target[1] == reportset.SHEETS_FOLDER:
            return target[0].split("-")[0] in self.sheets_for and (
                target[2].endswith(".html") or (self.pdf and target[2].endswith(".pdf"))
            )
        return False


def page_nav(kommune: Kommune, name: str, title: str, targets: Targets, present: Callable[[str], bool]) -> str:
    """The bar on one page of a kommune's report set: the index, the kommune's overview, E, S and G, its
    organisations (their section of the index), its Excel file and the page's PDF (or the overview's).

    `name` is the page's name in the kommune's folder ('social', 'organisationer/0001-…'), `title` its own title
    when it is not one of the kommune's pages (a sheet's organisation). A target is linked when this run makes it
    (`targets`) or its file is there already (`present(path)`, relative to the kommune's folder). The current page is
    marked aria-current.
    """
    up = "../" * name.count("/")
    here = f"{name}.html"
    items = [_item(f"{up}../{reportset.INDEX_FILE}", INDEX_LABEL_DA)]
    items.append(f'<li class="kompas-nav-group">{html.escape(kommune.name)}:</li>')
    for page, label in KOMMUNE_PAGES.items():
        if page in targets.pages or present(f"{page}.html"):
            items.append(_item(f"{up}{page}.html", label, current=page == name))
    items.append(_item(f"{up}../{reportset.INDEX_FILE}#{kommune_anchor(kommune.code)}", SHEETS_LABEL_DA))
    if name not in KOMMUNE_PAGES:  # a sheet or a template of the user's own: the page itself, marked
        own = f"{reportset.TEMPLATE_TITLES_DA['organisation']}: {title}" if title else _template_title(name)
        items.append(_item(here.rpartition("/")[2], own, current=True))
    if reportset.EXCEL_JOB in targets.pages or present(reportset.EXCEL_FILE):
        items.append(_item(f"{up}{reportset.EXCEL_FILE}", EXCEL_LABEL_DA))
    items += _pdf_item(name, up, targets, present)
    return bar(f"Rapporter for {kommune.name}", items)


_ANCHOR = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a\s*>""", re.I | re.S)


def live_links(year_dir: Path, kommune: Kommune, name: str, targets: Targets) -> Callable[[str], bool]:
    """For the page `<name>.html` of the kommune: whether a link on it leads to a file that is there or that the
    run makes. Links that leave the report set (https:, mailto:) and links within the page are not judged."""
    page_dir = (year_dir / kommune.folder / name).parent

    def live(address: str) -> bool:
        parts = urlsplit(html.unescape(address))
        if parts.scheme or parts.netloc or not parts.path:
            return True
        target = Path(os.path.normpath(page_dir / unquote(parts.path)))
        if target.is_file():
            return True
        try:
            inside = target.relative_to(year_dir).parts
        except ValueError:
            return False
        return targets.promises(kommune, inside)

    return live


def unlink_dead(body: str, live: Callable[[str], bool]) -> str:
    """The body with every link that `live` refuses replaced by its text (a sheet of a kommune not in the run)."""
    return _ANCHOR.sub(lambda m: m.group(0) if live(m.group(2)) else m.group(3), body)


def _template_title(name: str) -> str:
    return reportset.TEMPLATE_TITLES_DA.get(name, name.rpartition("/")[2])


def has_pdf(name: str) -> bool:
    """Whether the page `<name>.html` also comes as PDF: the overview and the organisation sheets."""
    return name.split("/")[0] in PDF_TEMPLATES


def _pdf_item(name: str, up: str, targets: Targets, present: Callable[[str], bool]) -> list[str]:
    """This page's PDF when it has one, else the overview's; only when this run makes it, or when it is there and
    this run does not rewrite its page.

    A page this run rewrites without its PDF (`--no-pdf`) loses the PDF an earlier run made (the job removes it):
    that PDF would show other figures than the page beside it.
    """
    if has_pdf(name):  # this very page, which this run is writing
        return [_item(f"{name.rpartition('/')[2]}.pdf", "Denne side som PDF")] if targets.pdf else []
    overview_rewritten = "overview" in targets.pages
    if (targets.pdf and overview_rewritten) or (present("overview.pdf") and not overview_rewritten):
        return [_item(f"{up}overview.pdf", "Oversigten som PDF")]
    return []


def notebook_footer(name: str) -> str:
    """The footer's link to the executed notebook behind the page `<name>.html` (relative to the page)."""
    target = reportset.notebook_file(name.rpartition("/")[2])
    return f' · <a class="kompas-notebook-link" href="{href(target)}">{NOTEBOOK_LABEL_DA}</a>'


def index_nav(regions: list[tuple[str, str]]) -> str:
    """The bar on the index: the index itself (current) and a jump to each region's section (id, name)."""
    items = [_item(reportset.INDEX_FILE, INDEX_LABEL_DA, current=True)]
    items += [_item(f"#{anchor}", region) for anchor, region in regions]
    return bar("Rapportsættet", items)
