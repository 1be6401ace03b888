"""The report set a run writes for each kommune: templates in order, Danish titles, file names and job statuses."""

from __future__ import annotations

import unicodedata

KOMMUNE_TEMPLATES = ("overview", "environmental", "social", "governance")  # one notebook per kommune
TEMPLATES = (*KOMMUNE_TEMPLATES, "organisation")  # the organisation's dialogue sheet: one per organisation
TEMPLATE_TITLES_DA = {
    "overview": "Oversigt",
    "environmental": "Miljø",
    "social": "Social",
    "governance": "Governance",
    "organisation": "Dialogark",
}
# The parameter that makes a template an organisation's (one notebook per organisation, not per kommune), and the
# folder in its tilsynskommune's folder where those notebooks go.
ORGANISATION_PARAMETER = "organisation_id"
SHEETS_FOLDER = "organisationer"
EXCEL_FILE = "nøgletal.xlsx"
EXCEL_JOB = "nøgletal"
EXCEL_TITLE_DA = "Nøgletal (Excel)"
NATIONAL_EXCEL_FILE = "alle-kommuner.xlsx"  # in the year's folder: every kommune's figures, written once per run
NATIONAL_EXCEL_TITLE_DA = "Alle kommuner (Excel)"

OK, FAILED, INTERRUPTED = "ok", "failed", "interrupted"
STATUS_DA = {OK: "færdig", FAILED: "fejlede", INTERRUPTED: "afbrudt"}


def kommune_folder(code: str, name: str) -> str:
    """'101-københavn', '173-lyngby-taarbæk': the code and the lower-case name; æ, ø and å are kept, other accents
    are dropped and everything that is not a letter or digit becomes a hyphen."""
    letters = []
    for char in unicodedata.normalize("NFC", name).lower():
        if char not in "æøå":
            char = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        letters.append(char if char.isascii() and char.isalnum() or char in "æøå" else "-")
    slug = "-".join(part for part in "".join(letters).split("-") if part)
    return f"{code}-{slug}"


# The year's index of the report set, in outputs/<year>/.
INDEX_FILE = "index.html"
# The executed notebooks behind the pages, kept for analysts in a folder beside the pages they made.
NOTEBOOKS_FOLDER = "notesbøger"


def notebook_file(name: str, suffix: str = ".ipynb") -> str:
    """Where the executed notebook behind the page `<name>.html` goes, relative to the kommune's folder: in
    `notesbøger/` beside the page ('notesbøger/overview.ipynb', 'organisationer/notesbøger/0001-….ipynb')."""
    folder, _, stem = name.rpartition("/")
    return "/".join(part for part in (folder, NOTEBOOKS_FOLDER, f"{stem}{suffix}") if part)
