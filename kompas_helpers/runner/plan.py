"""What a run executes: the kommuner, the templates and their parameters, and the jobs and their results."""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kompas_helpers import kommuner, paths
from kompas_helpers.kommuner import Kommune
from kompas_helpers.navigation import Targets
from kompas_helpers.reportset import (
    EXCEL_JOB,
    EXCEL_TITLE_DA,
    ORGANISATION_PARAMETER,
    TEMPLATE_TITLES_DA,
    TEMPLATES,
    kommune_folder,
)

RUN_PARAMETERS = ("kommune_code", "year", "data")  # what the runner itself passes to every template
ORGANISATION_RUN_PARAMETERS = (ORGANISATION_PARAMETER, "year", "data")


class RunError(Exception):
    """The run cannot start (unknown kommune, template or parameter, bad year); the message is Danish."""


# ----------------------------------------------------------------------------------------------------------------
# What to run: kommuner, templates, parameters
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str
    path: Path
    parameters: dict[str, str]  # name -> declared type ("str", "int", …; "" when it has no annotation)

    @property
    def title_da(self) -> str:
        return TEMPLATE_TITLES_DA.get(self.name, self.name)

    @property
    def per_organisation(self) -> bool:
        """An organisation's template (it declares organisation_id) runs once per organisation, not per kommune."""
        return ORGANISATION_PARAMETER in self.parameters

    @property
    def run_parameters(self) -> tuple[str, ...]:
        """The parameters the runner itself passes to this template."""
        return ORGANISATION_RUN_PARAMETERS if self.per_organisation else RUN_PARAMETERS


def resolve_kommuner(values: Sequence[str] | None) -> list[Kommune]:
    """The kommuner to run (None: all 98), named as `kommuner.find` reads them; unknown ones are a RunError naming
    every one of them."""
    if values is None:
        return list(kommuner.all_kommuner())
    chosen, unknown = [], []
    for value in values:
        found = kommuner.find(value)
        if found is None:
            unknown.append(str(value).strip())
        elif found not in chosen:
            chosen.append(found)
    if unknown:
        raise RunError(f"{kommuner.unknown_message(unknown)} Intet er kørt.")
    if not chosen:
        raise RunError("Ingen kommuner valgt: brug --all eller --kommune KODE. Intet er kørt.")
    return chosen


@dataclass(frozen=True)
class OrganisationJob:
    """An organisation whose sheet is made: its id, name and tilsynskommune (whose folder holds the sheet)."""

    organisation_id: str
    name: str
    kommune: Kommune

    @property
    def stem(self) -> str:
        return kommune_folder(self.organisation_id, self.name)


def resolve_organisations(
    data_folder: Path, wanted: Sequence[str] | None, kommune_codes: set[str]
) -> list[OrganisationJob]:
    """The organisations to make sheets for: those named (`wanted`), else those supervised by the chosen kommuner.
    Unknown ids are a RunError naming every one of them."""
    from kompas_helpers import files

    orgs = files.read_parquet(Path(data_folder) / "organisations.parquet")
    by_id = {
        str(r.organisation_id): (str(r.organisation_name), str(r.hjemsted_kommune_code))
        for r in orgs.itertuples(index=False)
    }
    if wanted:
        unknown = [str(w).strip() for w in wanted if str(w).strip() not in by_id]
        if unknown:
            listed = ", ".join(f"«{u}»" for u in unknown)
            raise RunError(f"Ukendt boligorganisation: {listed} findes ikke i data. Intet er kørt.")
        ids = list(dict.fromkeys(str(w).strip() for w in wanted))
    else:
        ids = sorted(i for i, (_name, seat) in by_id.items() if seat in kommune_codes)
    lookup = {k.code: k for k in kommuner.all_kommuner()}
    return [OrganisationJob(i, by_id[i][0], lookup[by_id[i][1]]) for i in ids]


def template_parameters(path: Path) -> dict[str, str]:
    """The names (and declared types) assigned in a notebook's cell tagged «parameters», read without running it.

    The names and types are papermill's own reading of the cell (papermill.inspect_notebook). The notebook and the
    cell are checked first, so that an unreadable notebook, a missing parameters cell or invalid Python in it is a
    RunError naming the template.
    """
    import papermill

    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"Skabelonen {Path(path).name} kan ikke læses som en notesbog ({exc}). Intet er kørt.") from exc
    cells = [c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise RunError(f"Skabelonen {Path(path).name} har ingen celle mærket «parameters». Intet er kørt.")
    source = cells[0].get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    try:
        ast.parse(source)
    except SyntaxError as exc:
        raise RunError(
            f"Parametercellen i {Path(path).name} er ikke gyldig Python ({exc.msg}). Intet er kørt."
        ) from exc
    try:
        inspected = papermill.inspect_notebook(Path(path))
    except Exception as exc:
        raise RunError(f"Skabelonen {Path(path).name} kan ikke læses som en notesbog ({exc}). Intet er kørt.") from exc
    found: dict[str, str] = {}
    for name, parameter in inspected.items():
        declared = parameter["inferred_type_name"]  # "None": neither an annotation nor a type comment
        found[name] = _literal_type(parameter["default"]) if declared == "None" else declared
    return found


def _literal_type(default: str) -> str:
    """The type of a parameter without annotation: that of its default when it is a literal ("int"), else ""."""
    try:
        value = ast.parse(default, mode="eval").body
    except SyntaxError:
        return ""
    return type(value.value).__name__ if isinstance(value, ast.Constant) else ""


def resolve_templates(names: Sequence[str] | None) -> list[Template]:
    """Templates by name (in templates/) or by path to a .ipynb file; None means the four standard templates."""
    chosen = []
    for name in names or TEMPLATES:
        given = str(name)
        if given.endswith(".ipynb") or os.sep in given or "/" in given:
            path = Path(given).resolve()
            label = path.stem
        else:
            path = paths.TEMPLATES_DIR / f"{given}.ipynb"
            label = given
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in paths.TEMPLATES_DIR.glob("*.ipynb"))) or "ingen"
            raise RunError(
                f"Skabelonen «{given}» findes ikke ({path.name}); kendte skabeloner: {known}. Intet er kørt."
            )
        if label in (t.name for t in chosen):
            continue
        if label == EXCEL_JOB:
            raise RunError(f"En skabelon må ikke hedde «{EXCEL_JOB}» (navnet bruges til Excel-filen). Intet er kørt.")
        chosen.append(Template(label, path, template_parameters(path)))
    return chosen


def _convert(value: str, declared: str, name: str, template: str) -> object:
    kind = declared.split("|")[0].strip()
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value.replace(",", "."))
        if kind == "bool":
            lowered = value.strip().lower()
            if lowered in ("true", "ja", "1"):
                return True
            if lowered in ("false", "nej", "0"):
                return False
            raise ValueError(value)
    except ValueError:
        raise RunError(
            f"Parameteren «{name}» i skabelonen «{template}» skal være {declared}, men fik «{value}». Intet er kørt."
        ) from None
    return value


def template_arguments(templates: Sequence[Template], extra: dict[str, str] | None) -> dict[str, dict[str, object]]:
    """Check every parameter against every template's parameters cell BEFORE anything runs.

    The runner's own parameters (kommune_code, year, data; organisation_id instead of kommune_code for an
    organisation's template) must be declared by every template; `extra` (from
    --parameter NAVN=VÆRDI) is converted to the declared type. Papermill itself only warns about an unknown name,
    which would silently render every report with the default; here it is a RunError naming the template.
    Returns the converted extra arguments per template.
    """
    problems = []
    converted: dict[str, dict[str, object]] = {}
    for template in templates:
        declared = ", ".join(template.parameters) or "ingen"
        for name in (*template.run_parameters, *(extra or {})):
            if name not in template.parameters:
                problems.append(f"skabelonen «{template.name}» har ingen parameter «{name}» (den har: {declared})")
        if not problems:
            converted[template.name] = {
                name: _convert(value, template.parameters[name], name, template.name)
                for name, value in (extra or {}).items()
            }
    if problems:
        raise RunError("Ukendt parameter: " + "; ".join(problems) + ". Intet er kørt.")
    return converted


# ----------------------------------------------------------------------------------------------------------------
# Jobs and their results
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One notebook (or one kommune's Excel workbook) to produce; sent to a driver process."""

    index: int
    kommune: Kommune
    folder: str  # absolute path of the kommune's output folder
    template: Template | None  # None: the Excel workbook
    parameters: dict
    timeout: float | None
    data_hash: str
    provenance: dict
    year: int
    version: str

    stem: str = ""  # the output's name when it is not the template's (an organisation's sheet)
    title: str = ""  # the page title's subject when it is not the kommune (an organisation)
    targets: Targets = Targets()  # what the run makes that the job's page may link (its navigation bar, its listing)
    pdf: bool = False  # also write the PDF edition (overview, organisation sheets)
    word: bool = False  # also write the referat skeleton (organisation sheets)

    @property
    def name(self) -> str:
        return self.stem or (self.template.name if self.template else EXCEL_JOB)

    @property
    def what_da(self) -> str:
        """What the job makes, in Danish: 'Miljø', 'Dialogark: Boligselskabet Nord' or the Excel file's title."""
        if self.template is None:
            return EXCEL_TITLE_DA
        return f"{self.template.title_da}: {self.title}" if self.title else self.template.title_da


@dataclass
class JobResult:
    index: int
    kommune_code: str
    template: str
    status: str
    seconds: float
    attempts: int = 1
    error: str | None = None
    files: list[str] = field(default_factory=list)


def default_workers() -> int:
    """The drivers a run starts when not told how many: one more than the machine's cores.

    A core waits whenever a notebook's kernel and its driver hand over to each other (each cell, each kernel start,
    each page's HTML); a third notebook in flight on two cores fills those gaps. `kompas run` on 2 kommuner × 4
    templates on the 2-core machine, ten alternating pairs: median 5.29 s with 3 drivers against 5.54 s with 2, faster
    in 7 of 10 (and in 4 of 6 of an earlier series), for no more CPU time (median 9.53 against 9.78 CPU-seconds).
    """
    return (os.cpu_count() or 1) + 1


@dataclass
class RunOptions:
    kommuner: Sequence[str] | None = None  # None: all 98 (unless only organisations are named)
    organisations: Sequence[str] | None = None  # sheets for these organisations only (with no kommuner named)
    year: int | None = None  # None or 0: the latest year in the data
    templates: Sequence[str] | None = None  # None: the standard templates (TEMPLATES)
    workers: int | None = None  # None: default_workers() (cores + 1); 1: in this process, no worker processes
    data: str | Path = ""  # dataset folder; "": the synthetic default
    out: str | Path | None = None  # None: outputs/
    timeout: float | None = None  # seconds per notebook; None: no limit
    parameters: dict[str, str] = field(default_factory=dict)  # extra template parameters (text, converted)
    pdf: bool = True  # the overview and the organisation sheets also as PDF (--no-pdf: not)
    word: bool = True  # a referat skeleton (.docx) beside every organisation sheet (--no-word: not)
    excel: bool = True  # nøgletal.xlsx per kommune and alle-kommuner.xlsx (--no-excel: not; earlier ones stay)
    scheduler: str = ""  # tcp://HOST:PORT of a Dask scheduler: run the jobs on its workers (shared filesystem)


# What a job usually takes, in seconds on the 2-core development machine (median of `kompas run` on 2 kommuner, 2
# December 2026), for jobs the year's manifest has no time for. Only the order the jobs are handed out in depends on
# it (`longest_first`); templates not named here count as DEFAULT_SECONDS.
TYPICAL_SECONDS = {"environmental": 3.0, "social": 3.0, "governance": 2.0, "overview": 1.5, EXCEL_JOB: 2.0}
ORGANISATION_SHEET_SECONDS = 1.0
DEFAULT_SECONDS = 2.0


def longest_first(jobs: Sequence[Job], previous: dict) -> list[Job]:
    """The jobs in the order to hand them out: the longest first, so that the last ones, running while other
    drivers have nothing left to do, are short ones (a run's end otherwise waits for a long notebook on one core).

    A job's length is what the same output took in the year's last run (`previous`: its manifest), else its
    template's typical time. Ties keep the run's own order."""
    reports = previous.get("reports") or {}

    def seconds(job: Job) -> float:
        earlier = ((reports.get(job.kommune.code) or {}).get("outputs") or {}).get(job.name) or {}
        if isinstance(earlier.get("seconds"), int | float) and earlier.get("status") == "ok":
            return float(earlier["seconds"])
        if job.template is not None and job.template.per_organisation:
            return ORGANISATION_SHEET_SECONDS
        return TYPICAL_SECONDS.get(job.template.name if job.template else EXCEL_JOB, DEFAULT_SECONDS)

    return sorted(jobs, key=lambda job: -seconds(job))
