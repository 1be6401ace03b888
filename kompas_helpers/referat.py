"""The referat skeleton of one organisation's styringsdialog as a Word document, and reading its new agreements back.

Plain python-docx builds the headings and tables from the organisation's data, so there is no template file to keep
in step with the sheet; the new-agreements table has exactly the columns of the aftaler input table, so a filled-in
referat can be read back (`new_agreements`) and imported next year.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kompas_helpers import danish, fmt, kommuner, model
from kompas_helpers.organisation import agreements_view, completeness, indicators, questions
from kompas_helpers.organisation.facts import get

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

REFERAT_SUFFIX = "-referat.docx"
LANGUAGE = "da-DK"
AFTALER_COLUMNS = tuple(c.name for c in model.AFTALER.columns)
NEW_AGREEMENT_ROWS = 6  # empty rows for new agreements; the secretary adds rows in Word when more are needed
# Filled in by the referat itself (the keys); a row counts as an agreement once anything else is written in it.
PREFILLED = ("kommune_code", "organisation_id")

# The standing points of a styringsdialog meeting (almenboligloven § 164: the kommune's supervision, the
# organisation's dokumentationspakke, agreements followed up and new ones made), with AlmenKompas' ESG figures.
AGENDA_DA = (
    "Velkomst og godkendelse af dagsordenen",
    "Opfølgning på aftaler fra tidligere styringsdialoger",
    "Boligorganisationens dokumentationspakke: regnskab, styringsrapport og indberetning af målepunkterne",
    "ESG-nøgletal: miljø, social og governance (AlmenKompas' 20 målepunkter)",
    "Dialogspørgsmål",
    "Nye aftaler",
    "Eventuelt",
)
HEADER_BLANKS_DA = ("Dato for mødet", "Sted", "Deltagere fra kommunen", "Deltagere fra boligorganisationen", "Referent")
CONCLUSION_DA = "Mødets konklusion"
NOTES_DA = "Noter fra mødet"
# What to write in each column of the new-agreements table (the aftaler input format, data/README.md).
COLUMN_HELP_DA = {
    "kommune_code": "kommunens kode (udfyldt)",
    "organisation_id": "boligorganisationens nummer (udfyldt)",
    "agreement_id": "aftalens nummer, fx {year}-1 (kun brugt én gang pr. kommune og boligorganisation)",
    "year_made": "året, aftalen indgås, fx {year}",
    "text": "aftalen med mødets ord",
    "indicator": "målepunktets kode (E1–E6, S1–S8, G1–G6); tom for en aftale i fri tekst",
    "baseline": "målepunktets tal, da aftalen blev indgået, i målepunktets enhed (skriv 73 for 73 %); må være tom",
    "target": "målet i målepunktets enhed; skal udfyldes, når der er et målepunkt",
    "deadline_year": "året, målet skal være nået; skal udfyldes, når der er et målepunkt",
}
KEY_FIGURE_COLUMNS = ("Kode", "Målepunkt", "Enhed", "Hele organisationen", indicators.TWINS_DA, "Hele landet",
                      "Vurdering")  # fmt: skip


def _docx():
    import docx

    return docx


def _set_language(document) -> None:
    """Danish as the proofing language of every style (Word spell-checks the filled-in referat in Danish)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for style in document.styles:
        element = getattr(style, "element", None)
        if element is None:
            continue
        rpr = element.get_or_add_rPr() if hasattr(element, "get_or_add_rPr") else None
        if rpr is None:
            continue
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), LANGUAGE)
    document.core_properties.language = LANGUAGE


def _page_number(paragraph) -> None:
    """'Side X af Y' with Word's own page fields."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def field(code: str) -> None:
        simple = OxmlElement("w:fldSimple")
        simple.set(qn("w:instr"), f" {code} ")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        simple.append(run)
        paragraph._p.append(simple)

    paragraph.add_run("Side ")
    field("PAGE")
    paragraph.add_run(" af ")
    field("NUMPAGES")


def _table(document, header: list[str], rows: list[list[str]], widths_cm: list[float] | None = None):
    """A table with a bold header row that Word repeats on every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(str(text)).bold = True
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = str(text)
    for row in table.rows:
        cant_split = OxmlElement("w:cantSplit")
        row._tr.get_or_add_trPr().append(cant_split)
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    if widths_cm:
        for row in table.rows:
            for cell, width in zip(row.cells, widths_cm, strict=True):
                cell.width = Cm(width)
    return table


def _numbered(document, items) -> None:
    for number, item in enumerate(items, start=1):
        document.add_paragraph(f"{number}. {item}")


def _header_section(document, b: Bundle, organisation_id: str, year: int) -> None:
    org = get(b, organisation_id)
    seat = kommuner.name(org.tilsynskommune)
    rows = [
        ["Kommune", f"{seat} (tilsynskommune, kode {org.tilsynskommune})"],
        ["Boligorganisation", f"{org.name} (nr. {org.organisation_id})"],
        ["Tal fra rapportåret", str(year)],
        *([label, ""] for label in HEADER_BLANKS_DA),
    ]
    _table(document, ["Styringsdialog", ""], rows, [5.0, 11.0])


def _key_figures(document, b: Bundle, organisation_id: str, year: int) -> None:
    org = get(b, organisation_id)
    document.add_heading("Nøgletal", level=1)
    size = (
        f"{danish.count_da(org.afdelinger, 'afdeling', 'afdelinger')} med "
        f"{danish.count_da(org.dwellings, 'bolig', 'boliger')} i "
        f"{', '.join(kommuner.name(k) for k in org.kommuner)}."
    )
    document.add_paragraph(f"{org.name}: {size}")
    score = document.add_paragraph()
    score.add_run("Indberetning: ").bold = True
    score.add_run(f"{completeness.score_da(b, organisation_id, year)}.")
    table = indicators.indicator_table(b, organisation_id, year)
    columns = list(KEY_FIGURE_COLUMNS)
    document.add_paragraph(f"De 20 målepunkter i {year}:")
    _table(document, columns, table[columns].astype(str).to_numpy().tolist(), [1.2, 4.4, 1.8, 2.2, 2.0, 2.0, 2.4])
    document.add_paragraph(fmt.STATUS_NOTE_DA)


def _agreements(document, b: Bundle, organisation_id: str, year: int) -> None:
    document.add_heading("Opfølgning på aftaler", level=1)
    table = agreements_view.agreements_table(b, organisation_id, year)
    if table.empty:
        document.add_paragraph("Der er ingen aftaler med boligorganisationen i data.")
        return
    document.add_paragraph(
        f"Aftalerne fra tidligere styringsdialoger med deres status beregnet ud fra tallene for {year}. "
        f"Skriv mødets konklusion for hver aftale (fx fortsætter, justeres, afsluttes)."
    )
    for _, row in table.iterrows():
        document.add_heading(f"Aftale {row['Aftale']} (indgået {row['Indgået']})", level=2)
        fields = [[name, str(row[name])] for name in table.columns if name not in ("Aftale", "Indgået")]
        _table(document, ["", ""], [*fields, [CONCLUSION_DA, ""]], [4.0, 12.0])


def _questions(document, b: Bundle, organisation_id: str, year: int) -> None:
    org = get(b, organisation_id)
    document.add_heading("Dialogspørgsmål", level=1)
    document.add_heading("Faste dialogspørgsmål", level=2)
    _numbered(document, questions.STANDING_QUESTIONS_DA)
    document.add_heading(f"Spørgsmål ud fra {danish.genitive(org.name)} egne tal", level=2)
    found = questions.organisation_questions(b, organisation_id, year)
    if not len(found):
        document.add_paragraph(
            "Ingen af organisationens tal skiller sig ud efter reglerne for de automatiske spørgsmål."
        )
        return
    header = [*found.columns, NOTES_DA]
    rows = [[*(str(v) for v in r), ""] for r in found.itertuples(index=False)]
    _table(document, header, rows, [2.6, 2.4, 7.0, 4.0])


def _new_agreements(document, b: Bundle, organisation_id: str, year: int) -> None:
    org = get(b, organisation_id)
    document.add_heading("Nye aftaler", level=1)
    document.add_paragraph(
        "Skriv én aftale pr. række. Kolonnerne er de samme som i inddatafilen aftaler (se data/README.md), så "
        "tabellen kan læses ind igen ved næste års import. Tilføj rækker i Word, hvis der er brug for flere. Skriv "
        "tal uden enhed og med decimalkomma. Kolonnerne:"
    )
    meeting_year = year + 1
    for column in AFTALER_COLUMNS:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{column}: ").bold = True
        paragraph.add_run(COLUMN_HELP_DA[column].format(year=meeting_year))
    prefilled = {"kommune_code": org.tilsynskommune, "organisation_id": org.organisation_id}
    rows = [[prefilled.get(c, "") for c in AFTALER_COLUMNS] for _ in range(NEW_AGREEMENT_ROWS)]
    _table(document, list(AFTALER_COLUMNS), rows)


def referat_document(b: Bundle, organisation_id: str, year: int):
    """The referat skeleton as a python-docx Document."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    org = get(b, organisation_id)
    seat = kommuner.name(org.tilsynskommune)
    document = _docx().Document()
    _set_language(document)
    document.styles["Normal"].font.size = Pt(10.5)
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.0)
    synthetic = b.dataset.synthetic
    props = document.core_properties
    props.title = f"Referat af styringsdialog – {org.name} – {seat} – {year}"
    props.subject = "Styringsdialog (almenboligloven § 164)"
    props.author = "AlmenKompas-arbejdsbogen"
    props.keywords = "AlmenKompas; styringsdialog; referat" + ("; syntetiske data" if synthetic else "")
    head = section.header.paragraphs[0]
    head.text = f"AlmenKompas · referat · {org.name}"
    if synthetic:
        head.add_run(f" · {fmt.SYNTHETIC_BANNER_DA}").bold = True
    _page_number(section.footer.paragraphs[0])

    document.add_heading(f"Referat af styringsdialog: {org.name}", level=0)
    if synthetic:
        banner = document.add_paragraph()
        banner.add_run(fmt.SYNTHETIC_BANNER_DA).bold = True
    document.add_paragraph(
        "Skabelon til referatet: felterne uden tekst udfyldes på eller efter mødet. Tallene er fra "
        f"AlmenKompas-arbejdsbogens dialogark for {year}; tal om færre end fem personer vises ikke."
    )
    _header_section(document, b, organisation_id, year)
    document.add_heading("Dagsorden", level=1)
    _numbered(document, AGENDA_DA)
    _agreements(document, b, organisation_id, year)
    _key_figures(document, b, organisation_id, year)
    _questions(document, b, organisation_id, year)
    _new_agreements(document, b, organisation_id, year)
    document.add_heading("Eventuelt", level=1)
    document.add_paragraph("")
    return document


def referat_bytes(b: Bundle, organisation_id: str, year: int) -> bytes:
    """The referat skeleton as the bytes of a .docx file."""
    buffer = io.BytesIO()
    referat_document(b, organisation_id, year).save(buffer)
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------------------------
# Reading a filled-in referat back
# ----------------------------------------------------------------------------------------------------------------


def new_agreements(path: Path | str) -> pd.DataFrame:
    """The new agreements written in a referat: the rows of its table with the aftaler columns that hold more than
    the prefilled keys, as text in the aftaler input format (empty cells are empty strings)."""
    document = _docx().Document(str(path))
    for table in document.tables:
        header = [cell.text.strip() for cell in table.rows[0].cells]
        if tuple(header) != AFTALER_COLUMNS:
            continue
        rows = []
        for row in table.rows[1:]:
            values = [cell.text.strip() for cell in row.cells]
            filled = {c for c, v in zip(AFTALER_COLUMNS, values, strict=True) if v}
            if filled - set(PREFILLED):
                rows.append(values)
        return pd.DataFrame(rows, columns=list(AFTALER_COLUMNS), dtype=object)
    raise ValueError(f"{Path(path).name} har ingen tabel med kolonnerne fra aftaler ({', '.join(AFTALER_COLUMNS)})")


def new_agreements_csv(path: Path | str) -> str:
    """The new agreements of a filled-in referat as an aftaler.csv text (semicolon, as Danish Excel writes it)."""
    return new_agreements(path).to_csv(sep=";", index=False, lineterminator="\n")
