"""`kompas run` writes the meeting papers: the PDF of the overview and of every organisation sheet, and a referat
skeleton beside every sheet; real kernels on the small synthetic dataset, every file opened again."""

from __future__ import annotations

import re
from urllib.parse import unquote

import docx
import pytest
from pypdf import PdfReader

from kompas_helpers import cli, fmt, model, referat, reportset
from kompas_helpers.runner import worker
from tests.fixtures import pdfs
from tests.notebook.test_runner import FOLDERS, SHEETS, run, snapshot, statuses

AARHUS = FOLDERS["751"]
SHEET = SHEETS["751"][0]  # 0022-boligselskabet-møllegård
A4 = (595.28, 841.89)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def papers_run(small_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run(small_data, out, ["overview", "organisation"], kommuner=["751"])


@pytest.mark.notebook
def test_the_run_writes_pdfs_and_the_referat_beside_the_html(papers_run):
    assert papers_run.exit_code == 0, papers_run.summary_text
    folder = papers_run.out_dir / AARHUS
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(
        ["overview.html", "overview.pdf", reportset.EXCEL_FILE]
    )
    assert (folder / reportset.notebook_file("overview")).is_file()
    sheets = sorted(p.name for p in (folder / reportset.SHEETS_FOLDER).iterdir() if p.is_file())
    assert sheets == sorted(f"{SHEET}{s}" for s in (".html", ".pdf", referat.REFERAT_SUFFIX))
    result = next(r for r in papers_run.results if r.template.endswith(SHEET))
    assert result.files[2:] == [
        f"{reportset.SHEETS_FOLDER}/{SHEET}.pdf",
        f"{reportset.SHEETS_FOLDER}/{SHEET}-referat.docx",
    ]
    assert not [p for p in papers_run.out_dir.rglob(".*")], "temporary files left behind"


@pytest.mark.notebook
@pytest.mark.parametrize(
    ("path", "name", "title"),
    [
        (f"{AARHUS}/overview.pdf", "Aarhus", "Oversigt – Aarhus 2025 – AlmenKompas"),
        (
            f"{AARHUS}/{reportset.SHEETS_FOLDER}/{SHEET}.pdf",
            "Boligselskabet Møllegård",
            "Dialogark – Boligselskabet Møllegård 2025 – AlmenKompas",
        ),
    ],
)
def test_the_pdfs_read_back_tagged_a4_numbered_and_marked_synthetic(papers_run, path, name, title):
    reader = PdfReader(papers_run.out_dir / path)
    pages = reader.pages
    assert len(pages) > 0
    for number, page in enumerate(pages, start=1):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.5)
        text = flat(page.extract_text())
        assert f"Side {number} af {len(pages)}" in text
        assert flat(fmt.SYNTHETIC_BANNER_DA) in text, f"{path}: no banner on page {number}"
    assert name in flat(pages[0].extract_text())
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "da"
    assert reader.metadata.title == title
    assert "/StructTreeRoot" in root
    html = (papers_run.out_dir / path).with_suffix(".html").read_text(encoding="utf-8")
    alts = re.findall(r'<img\b[^>]*\balt="([^"]*)"', html)
    found = pdfs.figure_alts(reader)
    count = len(found)
    assert count == len(re.findall(r"<img\b", html))  # every figure is tagged ...
    assert found == [a.replace("&quot;", '"').replace("&amp;", "&") for a in alts]  # ... with the page's alt text
    if "overview" in path:
        assert count > 0 and all(found)


@pytest.mark.notebook
def test_the_referat_reads_back_with_the_organisations_content(papers_run):
    path = papers_run.out_dir / AARHUS / reportset.SHEETS_FOLDER / f"{SHEET}{referat.REFERAT_SUFFIX}"
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Dagsorden", "Opfølgning på aftaler", "Nøgletal", "Dialogspørgsmål", "Nye aftaler", "Eventuelt"]
    text = [p.text for p in document.paragraphs]
    assert "Referat af styringsdialog: Boligselskabet Møllegård" in text
    assert fmt.SYNTHETIC_BANNER_DA in text
    assert any(t.startswith("Indberetning: ") and "målepunkter indberettet" in t for t in text)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    header = next(t for t in tables if t[0][0] == "Styringsdialog")
    assert dict(map(tuple, header))["Kommune"] == "Aarhus (tilsynskommune, kode 751)"
    assert all(dict(map(tuple, header))[label] == "" for label in referat.HEADER_BLANKS_DA)
    followed = [dict(map(tuple, t)) for t in tables if t[-1][0] == referat.CONCLUSION_DA]
    assert followed and all(a["Status"] and a[referat.CONCLUSION_DA] == "" for a in followed)
    new = next(t for t in tables if t[0][0] == "kommune_code")
    assert new[0] == [c.name for c in model.AFTALER.columns]


@pytest.mark.notebook
def test_no_pdf_and_no_word_make_none(small_data, tmp_path):
    code = cli.main(
        [
            "run",
            "--organisation",
            "0022",
            "--templates",
            "overview",
            "organisation",
            "--data",
            str(small_data),
            "--out",
            str(tmp_path),
            "--workers",
            "1",
            "--no-pdf",
            "--no-word",
        ]  # fmt: skip
    )
    assert code == 0
    made = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert made == sorted([f"{SHEET}.html", f"{SHEET}.ipynb", "index.html", "manifest.json"])


@pytest.mark.notebook
def test_a_run_without_pdfs_removes_the_pdfs_of_the_pages_it_rewrites_and_keeps_the_referat(small_data, tmp_path):
    first = run(small_data, tmp_path, ["organisation"], kommuner=None, organisations=["0022"])
    assert first.exit_code == 0
    folder = first.out_dir / AARHUS / reportset.SHEETS_FOLDER
    assert (folder / f"{SHEET}.pdf").is_file()
    index_file = first.out_dir / reportset.INDEX_FILE
    assert f"{SHEET}.pdf" in unquote(index_file.read_text(encoding="utf-8"))  # linked while it matches the page
    filled = (folder / f"{SHEET}{referat.REFERAT_SUFFIX}").read_bytes()
    second = run(small_data, tmp_path, ["organisation"], kommuner=None, organisations=["0022"], pdf=False, word=False)
    assert second.exit_code == 0
    assert not (folder / f"{SHEET}.pdf").exists()  # it would show the figures of the earlier run
    assert (folder / f"{SHEET}{referat.REFERAT_SUFFIX}").read_bytes() == filled  # the secretary's may be filled in
    page = unquote((folder / f"{SHEET}.html").read_text(encoding="utf-8"))
    assert f"{SHEET}.pdf" not in page and f"{SHEET}.pdf" not in unquote(index_file.read_text(encoding="utf-8"))


@pytest.mark.notebook
def test_a_weasyprint_failure_fails_the_job_and_keeps_the_earlier_outputs(small_data, tmp_path, monkeypatch):
    first = run(small_data, tmp_path, ["organisation"], kommuner=None, organisations=["0022"])
    assert first.exit_code == 0
    before = snapshot(first.out_dir)
    assert f"{AARHUS}/{reportset.SHEETS_FOLDER}/{SHEET}.pdf" in before

    import weasyprint

    def broken(self, *args, **kwargs):
        raise OSError("ingen skrifttyper")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    second = run(small_data, tmp_path, ["organisation"], kommuner=None, organisations=["0022"])
    assert statuses(second) == {("751", f"{reportset.SHEETS_FOLDER}/{SHEET}"): "failed"}
    error = second.results[0].error
    assert error == ("PDF-udgaven kunne ikke laves med WeasyPrint (OSError: ingen skrifttyper). " + worker.KEPT_DA), (
        error
    )
    after = snapshot(first.out_dir)
    for name, content in before.items():
        if name.startswith(AARHUS):
            assert after[name] == content, name
    assert not [p for p in first.out_dir.rglob(".*")], "temporary files left behind"
