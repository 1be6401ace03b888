"""The meeting papers: the tagged PDF of a report page and the referat skeleton (.docx), each opened again."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import docx
import matplotlib
import pandas as pd
import pytest
from pypdf import PdfReader

from kompas_helpers import compute, figures, fmt, htmlreport, model, pdf, referat
from kompas_helpers.bundle import Bundle
from kompas_helpers.io import datasets
from kompas_helpers.io.problems import DataError
from tests.fixtures import handmade, pdfs

matplotlib.use("Agg")

A4 = (595.28, 841.89)  # points
ALT = "Figur: E1 Energiforbrug falder fra 130 til 118 kWh/m² fra 2021 til 2025"


def flat(text: str) -> str:
    """Text with every run of white space as one space (PDF text extraction breaks lines where the page did)."""
    return re.sub(r"\s+", " ", text).strip()


# ----------------------------------------------------------------------------------------------------------------
# PDF
# ----------------------------------------------------------------------------------------------------------------


def report_page(rows: int = 160) -> str:
    """A report page as notebook_html makes them: banner, navigation, heading, a long table and a figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([2021, 2025], [130, 118])
    data = base64.b64encode(figures.png(fig)).decode()
    plt.close(fig)
    body_rows = "".join(f"<tr><td>Afdeling {i}</td><td>{i}</td></tr>" for i in range(rows))
    body = (
        '<nav class="kompas-nav"><a href="overview.html">NAVIGATIONSLINJE</a></nav>'
        f'<div class="kompas"><div class="kompas-banner">{fmt.SYNTHETIC_BANNER_DA}</div>'
        "<h2>Boligselskabet Nord: dialogark 2025</h2>"
        f'<img src="data:image/png;base64,{data}" alt="{ALT}">'
        '<h3>Afdelingerne</h3><table class="kompas-table"><thead><tr><th>Afdeling</th><th>Boliger</th></tr></thead>'
        f"<tbody>{body_rows}</tbody></table></div>"
    )
    return htmlreport.page("Dialogark – Boligselskabet Nord 2025 – AlmenKompas", body, "AlmenKompas-arbejdsbogen")


@pytest.fixture(scope="module")
def synthetic_pdf() -> PdfReader:
    return PdfReader(io.BytesIO(pdf.pdf_bytes(report_page(), synthetic=True)))


def test_the_pdf_is_a4_with_page_numbers_and_the_banner_on_every_page(synthetic_pdf):
    pages = synthetic_pdf.pages
    assert len(pages) >= 3  # 160 table rows do not fit on two pages
    for number, page in enumerate(pages, start=1):
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)
        text = flat(page.extract_text())
        assert f"Side {number} af {len(pages)}" in text
        assert flat(fmt.SYNTHETIC_BANNER_DA) in text, f"no banner on page {number}"
    first = flat(pages[0].extract_text())
    assert "Boligselskabet Nord: dialogark 2025" in first
    assert "NAVIGATIONSLINJE" not in flat(" ".join(p.extract_text() for p in pages))  # nav is hidden in print


def test_the_pdf_is_tagged_in_danish_with_title_and_alt_text(synthetic_pdf):
    root = synthetic_pdf.trailer["/Root"]
    assert root["/Lang"] == "da"
    assert synthetic_pdf.metadata.title == "Dialogark – Boligselskabet Nord 2025 – AlmenKompas"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert pdfs.figure_alts(synthetic_pdf) == [ALT]


def test_table_rows_do_not_split_and_header_rows_repeat(synthetic_pdf):
    for page in synthetic_pdf.pages[1:-1]:
        text = page.extract_text()
        assert "Afdeling Boliger" in flat(text)  # the repeated header row
        lines = [line for line in text.splitlines() if line.startswith("Afdeling ") and line != "Afdeling Boliger"]
        assert lines and all(re.fullmatch(r"Afdeling (\d+) \1", line) for line in lines), lines  # rows whole


def test_real_data_has_no_banner_in_the_margin():
    reader = PdfReader(io.BytesIO(pdf.pdf_bytes(report_page(rows=5).replace(fmt.SYNTHETIC_BANNER_DA, ""), False)))
    text = flat(" ".join(p.extract_text() for p in reader.pages))
    assert "SYNTETISKE DATA" not in text
    assert f"Side 1 af {len(reader.pages)}" in text


def test_a_weasyprint_failure_is_a_danish_error(monkeypatch):
    import weasyprint

    def broken(self, *args, **kwargs):
        raise OSError("no fonts")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with pytest.raises(pdf.PdfError, match=r"^PDF-udgaven kunne ikke laves med WeasyPrint \(OSError: no fonts\)$"):
        pdf.pdf_bytes(report_page(rows=2), True)


# ----------------------------------------------------------------------------------------------------------------
# The referat skeleton
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def b() -> Bundle:
    """The hand-built dataset with two agreements between København and O1 (one on E1, one free text)."""
    dataset = handmade.dataset(handmade.all_2024())
    rows = pd.DataFrame(
        {
            "kommune_code": ["101", "101"],
            "organisation_id": ["O1", "O1"],
            "agreement_id": ["A1", "A2"],
            "year_made": [2024, 2024],
            "text": ["Varmeforbruget sænkes til 100 kWh/m².", "Et fælles møde om boligsocial indsats."],
            "indicator": ["E1", None],
            "baseline": [120.0, None],
            "target": [100.0, None],
            "deadline_year": [2025, None],
        }
    )
    dataset.aftaler = model.canonicalise(model.AFTALER, rows)
    return Bundle(dataset, compute.indicator_table(dataset), Path("handmade"), "0" * 64)


@pytest.fixture(scope="module")
def referat_file(b, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("referat") / "O1-boligselskabet-nord-referat.docx"
    path.write_bytes(referat.referat_bytes(b, "O1", 2025))
    return path


def cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def table_with(document, first_cell: str):
    return next(t for t in document.tables if t.rows[0].cells[0].text == first_cell)


def test_the_referat_has_the_meetings_headings_and_is_danish_and_marked_synthetic(referat_file):
    document = docx.Document(str(referat_file))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    level1 = [text for style, text in headings if style == "Heading 1"]
    assert headings[0] == ("Title", "Referat af styringsdialog: Boligselskabet Nord")
    assert level1 == ["Dagsorden", "Opfølgning på aftaler", "Nøgletal", "Dialogspørgsmål", "Nye aftaler", "Eventuelt"]
    text = [p.text for p in document.paragraphs]
    assert [f"{i}. {point}" for i, point in enumerate(referat.AGENDA_DA, start=1)] == [
        t for t in text if t[:2] in {f"{i}." for i in range(1, 8)}
    ][:7]
    assert fmt.SYNTHETIC_BANNER_DA in text
    assert fmt.SYNTHETIC_BANNER_DA in document.sections[0].header.paragraphs[0].text
    props = document.core_properties
    assert (props.language, props.title) == (
        "da-DK",
        "Referat af styringsdialog – Boligselskabet Nord – København – 2025",
    )


def test_the_header_names_kommune_and_organisation_and_leaves_date_and_participants_blank(referat_file):
    header = dict(map(tuple, cells(table_with(docx.Document(str(referat_file)), "Styringsdialog"))[1:]))
    assert header["Kommune"] == "København (tilsynskommune, kode 101)"
    assert header["Boligorganisation"] == "Boligselskabet Nord (nr. O1)"
    assert header["Tal fra rapportåret"] == "2025"
    assert {label: header[label] for label in referat.HEADER_BLANKS_DA} == dict.fromkeys(referat.HEADER_BLANKS_DA, "")


def test_key_figures_and_completeness_are_the_sheets_own(b, referat_file):
    from kompas_helpers.organisation import completeness, indicators

    document = docx.Document(str(referat_file))
    sheet = indicators.indicator_table(b, "O1", 2025)
    assert cells(table_with(document, "Kode")) == [
        list(referat.KEY_FIGURE_COLUMNS),
        *sheet[list(referat.KEY_FIGURE_COLUMNS)].astype(str).to_numpy().tolist(),
    ]
    assert f"Indberetning: {completeness.score_da(b, 'O1', 2025)}." in [p.text for p in document.paragraphs]


def test_agreements_have_their_status_and_a_blank_conclusion(referat_file):
    document = docx.Document(str(referat_file))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings[:2] == ["Aftale A1 (indgået 2024)", "Aftale A2 (indgået 2024)"]
    agreements = [dict(map(tuple, cells(t))) for t in document.tables if cells(t)[-1][0] == referat.CONCLUSION_DA]
    assert len(agreements) == 2
    # A1: Solgården's heat in København fell from 120 to 110 kWh/m² in 2025; the target 100 by 2025 is missed.
    assert (agreements[0]["Tal 2025"], agreements[0]["Status"]) == ("110 kWh/m²", "ikke på vej")
    assert agreements[1]["Status"] == "fri tekst"
    assert [a[referat.CONCLUSION_DA] for a in agreements] == ["", ""]


def test_the_questions_are_listed_with_room_for_notes(b, referat_file):
    from kompas_helpers.organisation import questions

    document = docx.Document(str(referat_file))
    text = [p.text for p in document.paragraphs]
    for number, question in enumerate(questions.STANDING_QUESTIONS_DA, start=1):
        assert f"{number}. {question}" in text
    found = questions.organisation_questions(b, "O1", 2025)
    assert len(found)  # the hand-built figures raise questions
    table = cells(table_with(document, found.columns[0]))
    assert table[0] == [*found.columns, referat.NOTES_DA]
    assert [row[2] for row in table[1:]] == found["Spørgsmål"].tolist()
    assert {row[-1] for row in table[1:]} == {""}


def test_the_new_agreements_table_has_exactly_the_aftaler_columns(referat_file):
    table = cells(table_with(docx.Document(str(referat_file)), "kommune_code"))
    assert table[0] == [c.name for c in model.AFTALER.columns]
    assert set(referat.COLUMN_HELP_DA) == set(table[0])
    assert table[1:] == [["101", "O1", "", "", "", "", "", "", ""]] * referat.NEW_AGREEMENT_ROWS
    assert referat.new_agreements(referat_file).empty  # only the prefilled keys: no agreement yet


def fill_in(source: Path, target: Path, rows: list[list[str]]) -> Path:
    """A copy of the referat with the new-agreements table filled in as a secretary would (one row more added)."""
    shutil.copy(source, target)
    document = docx.Document(str(target))
    table = table_with(document, "kommune_code")
    while len(table.rows) - 1 < len(rows):
        table.add_row()
    for row, values in zip(table.rows[1:], rows, strict=False):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(str(target))
    return target


def test_a_filled_in_table_is_read_back_by_the_aftaler_reader(b, referat_file, tmp_path):
    filled = [
        ["101", "O1", "2026-1", "2026", "Varmeforbruget sænkes til 105 kWh/m².", "E1", "110", "105", "2028"],
        ["101", "O1", "2026-2", "2026", "Energimærkerne forbedres.", "e3", "62,5", "70", "2029"],
        ["101", "O1", "2026-3", "2026", "Et fælles møde om affaldssortering.", "", "", "", ""],
        *[["101", "O1", "", "", "", "", "", "", ""]] * (referat.NEW_AGREEMENT_ROWS - 3),
        ["101", "O1", "2026-4", "2026", "En række tilføjet i Word.", "", "", "", "2027"],
    ]
    path = fill_in(referat_file, tmp_path / "udfyldt.docx", filled)
    folder = tmp_path / "naeste-aar"
    datasets.export_dataset(b.dataset, folder, "csv")
    (folder / "aftaler.csv").write_text(referat.new_agreements_csv(path), encoding="utf-8")
    read = datasets.read_input([folder]).aftaler
    assert read["agreement_id"].tolist() == ["2026-1", "2026-2", "2026-3", "2026-4"]
    assert read["indicator"].tolist()[:2] == ["E1", "E3"] and read["indicator"].isna().tolist()[2:] == [True, True]
    assert read["baseline"].tolist()[:2] == [110.0, 62.5]
    assert read["target"].tolist()[:2] == [105.0, 70.0]
    assert read["deadline_year"].tolist()[:2] == [2028, 2029]
    assert set(read["kommune_code"]) == {"101"} and set(read["organisation_id"]) == {"O1"}


def test_a_badly_filled_in_table_is_refused_with_file_row_and_column(b, referat_file, tmp_path):
    bad = [["101", "O1", "2026-1", "2026", "Varmeforbruget sænkes.", "E1", "110", "", "2028"]]
    path = fill_in(referat_file, tmp_path / "udfyldt.docx", bad)
    folder = tmp_path / "naeste-aar"
    datasets.export_dataset(b.dataset, folder, "csv")
    (folder / "aftaler.csv").write_text(referat.new_agreements_csv(path), encoding="utf-8")
    with pytest.raises(DataError, match=r'aftaler\.csv, række 2, kolonne "target": cellen er tom'):
        datasets.read_input([folder])


def test_a_heading_never_ends_a_page():
    """Wherever the page break falls, a heading is on the same page as the first row of its table."""
    for filler in range(24, 32):  # the heading reaches the foot of page 1 at about 27 lines
        lines = "".join(f"<p>Linje {i}</p>" for i in range(filler))
        body = (
            f'<div class="kompas">{lines}<h3>Overskriften</h3><table class="kompas-table"><thead><tr><th>A</th>'
            "<th>B</th></tr></thead><tbody><tr><td>Første række</td><td>1</td></tr></tbody></table></div>"
        )
        reader = PdfReader(io.BytesIO(pdf.pdf_bytes(htmlreport.page("Test", body), synthetic=False)))
        pages = [flat(p.extract_text()) for p in reader.pages]
        heading = next(i for i, text in enumerate(pages) if "Overskriften" in text)
        assert "Første række" in pages[heading], filler


def test_a_referat_from_real_data_carries_no_synthetic_banner(b, tmp_path):
    real = model.Dataset(**{**vars(b.dataset), "provenance": {"synthetic": False}})
    path = tmp_path / "referat.docx"
    path.write_bytes(referat.referat_bytes(Bundle(real, b.table, Path("handmade"), "0" * 64), "O1", 2025))
    document = docx.Document(str(path))
    text = [p.text for p in document.paragraphs] + [document.sections[0].header.paragraphs[0].text]
    assert not [t for t in text if "SYNTETISKE" in t]
    assert "syntetiske" not in document.core_properties.keywords
