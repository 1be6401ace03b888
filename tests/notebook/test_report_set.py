"""The report set a reader finds their way in: a real run of two kommuner (København with two organisation sheets,
Odense with none), every page's navigation bar, every relative link resolving, the notebooks out of the way, and
the index by region with the organisations' figures and its search; then partial runs into the same folder."""

from __future__ import annotations

import io as stdio
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from kompas_helpers import bundle, htmlreport, indexpage, kommuner, navigation, reportset
from kompas_helpers.organisation import agreements_view, completeness
from kompas_helpers.runner import batch, plan

KOMMUNER = ["101", "461"]
FOLDERS = {"101": "101-københavn", "461": "461-odense"}
# The organisations København supervises in the small synthetic dataset (seed 11, scale 0.05); Odense has none.
SHEETS = {"101": ["0001-boligselskabet-svanebolig", "0002-boligselskabet-dalhus"], "461": []}
PAGES = {**navigation.KOMMUNE_PAGES}


class Page(HTMLParser):
    """What a reader and a browser meet on a page: links, navigation bars, ids, footer links, inputs, scripts."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.navs: list[dict] = []
        self.footer_links: list[str] = []
        self.inputs: list[dict] = []
        self.labels: list[str] = []
        self.scripts: list[dict] = []
        self.region_of: dict[str, str] = {}  # kommune section id -> the region section holding it
        self.h2: list[str] = []
        self._open: list[tuple[str, dict]] = []
        self._text: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        inside = [t for t, _ in self._open]
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            if "nav" in inside:
                self.navs[-1]["links"].append((a["href"], a.get("aria-current")))
            if "footer" in inside:
                self.footer_links.append(a["href"])
        if tag == "nav":
            self.navs.append({"class": a.get("class"), "label": a.get("aria-label"), "links": []})
        if tag == "input":
            self.inputs.append(a)
        if tag == "label":
            self.labels.append(a.get("for", ""))
        if tag == "script":
            self.scripts.append({"src": a.get("src"), "text": ""})
        if tag == "section" and "kompas-kommune" in (a.get("class") or ""):
            regions = [b["id"] for t, b in self._open if t == "section" and "kompas-region" in (b.get("class") or "")]
            self.region_of[a["id"]] = regions[-1] if regions else ""
        if tag == "h2":
            self._text = []
        if tag not in ("input", "img", "br", "meta", "link"):
            self._open.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "h2" and self._text is not None:
            self.h2.append("".join(self._text).strip())
            self._text = None
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)
        if self._open and self._open[-1][0] == "script":
            self.scripts[-1]["text"] += data


def run(data: Path, out: Path, **options) -> batch.RunReport:
    """A run without PDFs and referater (they have their own tests); the links to PDFs come from files present."""
    options = {"pdf": False, "word": False, **options}
    return batch.run(plan.RunOptions(data=data, out=out, **options), progress=stdio.StringIO())


@pytest.fixture(scope="module")
def report_set(small_data, tmp_path_factory) -> batch.RunReport:
    report = run(small_data, tmp_path_factory.mktemp("out"), kommuner=KOMMUNER, workers=2)
    assert report.exit_code == 0
    return report


def all_pages(year_dir: Path) -> list[Path]:
    return sorted(year_dir.rglob("*.html"))


def assert_links_resolve(year_dir: Path) -> int:
    """Every relative link on every page names a file that exists (and an id on it, for a #fragment)."""
    checked = 0
    for path in all_pages(year_dir):
        for link in Page(path.read_text(encoding="utf-8")).links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, (path, link)  # relative only
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), (path.relative_to(year_dir), link)
            assert year_dir.resolve() in target.parents or target == year_dir, link  # inside the report set
            if parts.fragment:
                assert parts.fragment in Page(target.read_text(encoding="utf-8")).ids, (path, link)
            checked += 1
    return checked


@pytest.mark.notebook
def test_every_relative_link_on_every_page_resolves(report_set):
    pages = all_pages(report_set.out_dir)
    assert len(pages) == 1 + 4 * len(KOMMUNER) + sum(len(s) for s in SHEETS.values())
    assert assert_links_resolve(report_set.out_dir) >= 7 * (len(pages) - 1)  # at least the bar's links
    # Odense's overview names the organisations with afdelinger there whose sheets another kommune holds; their
    # sheets are not made by this run, so they are named without a link.
    odense = (report_set.out_dir / FOLDERS["461"] / "overview.html").read_text(encoding="utf-8")
    assert "Boligselskabet Valmuebolig (0028): styringsdialog i Hjørring" in odense
    assert "860-hj" not in odense


def expected_bar(folder: Path, code: str, name: str) -> set[str]:
    """The bar's targets on the page `<name>.html` in the kommune's folder (PDFs when the run made them)."""
    up = "../" * name.count("/")
    targets = {f"{up}../index.html", f"{up}../index.html#kommune-{code}", f"{up}nøgletal.xlsx"}
    targets |= {f"{up}{page}.html" for page in PAGES}
    if name not in PAGES:
        targets.add(f"{name.rpartition('/')[2]}.html")
    if navigation.has_pdf(name) and (folder / f"{name}.pdf").is_file():
        targets.add(f"{name.rpartition('/')[2]}.pdf")
    elif not navigation.has_pdf(name) and (folder / "overview.pdf").is_file():
        targets.add(f"{up}overview.pdf")
    return targets


@pytest.mark.notebook
def test_the_bar_is_on_every_page_with_the_kommunes_targets_and_the_page_marked(report_set):
    for code in KOMMUNER:
        name_da = kommuner.name(code)
        names = [*PAGES, *(f"{reportset.SHEETS_FOLDER}/{s}" for s in SHEETS[code])]
        for name in names:
            found = Page((report_set.out_dir / FOLDERS[code] / f"{name}.html").read_text(encoding="utf-8"))
            (bar,) = found.navs
            assert bar["class"] == "kompas-nav" and bar["label"] == f"Rapporter for {name_da}"
            assert {unquote(href) for href, _ in bar["links"]} == expected_bar(
                report_set.out_dir / FOLDERS[code], code, name
            ), name
            current = [unquote(href) for href, mark in bar["links"] if mark == "page"]
            assert current == [f"{name.rpartition('/')[2]}.html"], name
    index = Page((report_set.out_dir / "index.html").read_text(encoding="utf-8"))
    (bar,) = index.navs
    assert bar["links"][0] == ("index.html", "page")
    assert [href for href, _ in bar["links"][1:]] == ["#region-hovedstaden", "#region-syddanmark"]


@pytest.mark.notebook
def test_notebooks_are_in_their_subfolder_and_linked_from_the_footer(report_set, small_data):
    year_dir = report_set.out_dir
    stray = [p for p in year_dir.rglob("*.ipynb") if p.parent.name != reportset.NOTEBOOKS_FOLDER]
    assert stray == []
    manifest = json.loads((year_dir / "manifest.json").read_text(encoding="utf-8"))
    for code in KOMMUNER:
        names = [*PAGES, *(f"{reportset.SHEETS_FOLDER}/{s}" for s in SHEETS[code])]
        for name in names:
            page = year_dir / FOLDERS[code] / f"{name}.html"
            found = Page(page.read_text(encoding="utf-8"))
            assert found.footer_links == [navigation.href(reportset.notebook_file(name.rpartition("/")[2]))]
            assert navigation.NOTEBOOK_LABEL_DA in page.read_text(encoding="utf-8")
            notebook = page.parent / unquote(found.footer_links[0])
            assert notebook == year_dir / FOLDERS[code] / reportset.notebook_file(name)
            executed = nbformat.read(notebook, as_version=4)
            assert executed.metadata.papermill.parameters["data"] == str(small_data.resolve())
            files = manifest["reports"][code]["outputs"][name]["files"]
            assert files == [reportset.notebook_file(name), f"{name}.html"]


def index_rows(page: str) -> dict[str, tuple[str, str]]:
    """Organisation id -> (score text, agreements text) from the index's organisation tables."""
    rows = re.findall(r'<tr data-search="(\d{4}) [^"]*"><th scope="row">.*?</th><td class="num">(.*?)</td>'
                      r'<td class="num">(.*?)</td></tr>', page)  # fmt: skip
    return {org: (score, agreements) for org, score, agreements in rows}


@pytest.mark.notebook
def test_the_index_lists_kommuner_by_region_with_their_organisations_and_figures(report_set, small_data):
    page = (report_set.out_dir / "index.html").read_text(encoding="utf-8")
    found = Page(page)
    assert found.h2 == ["Region Hovedstaden", "Region Syddanmark"]
    assert found.region_of == {"kommune-101": "region-hovedstaden", "kommune-461": "region-syddanmark"}
    for code in KOMMUNER:
        for page_name, label in PAGES.items():
            assert f'<a href="{navigation.href(f"{FOLDERS[code]}/{page_name}.html")}">{label}</a>' in page
    assert ">rapport<" not in page
    assert "Odense fører ikke tilsyn med nogen boligorganisation." in page
    rows = index_rows(page)
    assert set(rows) == {s[:4] for s in SHEETS["101"]}
    b = bundle.load(small_data, kommune_code="101")  # the kommune's slice, as its overview computes them
    year = report_set.year
    for org, (score, agreements) in rows.items():
        done, of = completeness.score(b, org, year)
        behind, made = agreements_view.counts(b, org, year, "101")
        assert score == f"{done} af {of} målepunkter"
        assert agreements == (f"{behind} af {made}" if made else "ingen aftaler")
        sheet = next(s for s in SHEETS["101"] if s.startswith(org))
        assert navigation.href(f"{FOLDERS['101']}/{reportset.SHEETS_FOLDER}/{sheet}.html") in page


@pytest.mark.notebook
def test_the_index_is_searchable_without_a_network(report_set):
    year_dir = report_set.out_dir
    found = Page((year_dir / "index.html").read_text(encoding="utf-8"))
    (search,) = [i for i in found.inputs if i.get("type") == "search"]
    assert search["id"] == indexpage.SEARCH_ID and search["id"] in found.labels
    (script,) = found.scripts
    assert script["src"] is None and 'getElementById("kompas-soeg")' in script["text"]
    for path in all_pages(year_dir):
        text = path.read_text(encoding="utf-8")
        assert htmlreport.external_resources(text) == [], path
        assert all(s["src"] is None for s in Page(text).scripts)


@pytest.mark.notebook
def test_partial_runs_keep_a_correct_index_of_everything_present(report_set, small_data, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(report_set.out_dir.parent, out)
    year_dir = out / str(report_set.year)
    # PDFs made by an earlier run: the index and the pages made now link what is there (the files' content is the
    # PDF step's business; here only their presence counts), except the PDF of a page this run rewrites without
    # PDFs, which the run removes (it would show the earlier run's figures).
    copenhagen = year_dir / FOLDERS["101"]
    earlier_pdfs = [copenhagen / "overview.pdf", copenhagen / reportset.SHEETS_FOLDER / f"{SHEETS['101'][1]}.pdf"]
    for pdf in earlier_pdfs:
        pdf.write_bytes(b"%PDF-1.7 from an earlier run")
    # One sheet again (--organisation), then one more kommune with its overview only (--kommune --templates).
    assert run(small_data, out, organisations=["0002"], workers=1).exit_code == 0
    assert run(small_data, out, kommuner=["751"], templates=["overview"], workers=1).exit_code == 0
    assert assert_links_resolve(year_dir) >= 7 * 12
    page = (year_dir / "index.html").read_text(encoding="utf-8")
    found = Page(page)
    assert found.region_of == {
        "kommune-101": "region-hovedstaden",
        "kommune-461": "region-syddanmark",
        "kommune-751": "region-midtjylland",
    }
    assert set(index_rows(page)) == {"0001", "0002", "0022"}  # Aarhus' organisation is listed, without a sheet
    assert "Boligselskabet Møllegård (0022) <span" in page and "(intet dialogark)" in page
    aarhus = Page((year_dir / "751-aarhus" / "overview.html").read_text(encoding="utf-8"))
    (bar,) = aarhus.navs
    assert {unquote(h) for h, _ in bar["links"]} == {
        "../index.html",
        "overview.html",
        "../index.html#kommune-751",
        "nøgletal.xlsx",
    }
    sheet = Page((year_dir / "101-københavn/organisationer/0002-boligselskabet-dalhus.html").read_text("utf-8"))
    assert {unquote(h) for h, _ in sheet.navs[0]["links"]} >= {f"../{p}.html" for p in PAGES}
    overview_pdf, rewritten_sheet_pdf = earlier_pdfs
    assert "0002-boligselskabet-dalhus.pdf" not in {unquote(h) for h, _ in sheet.navs[0]["links"]}
    assert not rewritten_sheet_pdf.exists()
    assert navigation.href(str(rewritten_sheet_pdf.relative_to(year_dir))) not in page
    assert navigation.href(str(overview_pdf.relative_to(year_dir))) in page  # København's overview: not rewritten
