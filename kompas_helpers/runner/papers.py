"""The meeting papers a notebook job writes beside its HTML: the PDF edition and an organisation's referat skeleton."""

from __future__ import annotations

from pathlib import Path

from kompas_helpers.pdf import PDF_TEMPLATES, PdfError, pdf_bytes
from kompas_helpers.reportset import ORGANISATION_PARAMETER
from kompas_helpers.runner.plan import Job

REFERAT_TEMPLATES = ("organisation",)
__all__ = ["PdfError", "ReferatError", "papers", "wanted"]


def wanted(job: Job) -> list[str]:
    """The suffixes of the papers this job writes besides its notebook and HTML ('.pdf', '-referat.docx')."""
    from kompas_helpers.referat import REFERAT_SUFFIX

    found = []
    if job.pdf and _template_name(job) in PDF_TEMPLATES:
        found.append(".pdf")
    if job.word and _template_name(job) in REFERAT_TEMPLATES:
        found.append(REFERAT_SUFFIX)
    return found


def stale(job: Job) -> list[str]:
    """The suffixes of papers an earlier run made beside this job's page that this run does not make again, and
    that the job removes: a PDF ('.pdf' with --no-pdf) would no longer show the figures of the page beside it. A
    referat is kept: the kommune's secretary may have filled it in."""
    return [".pdf"] if not job.pdf and _template_name(job) in PDF_TEMPLATES else []


def _template_name(job: Job) -> str:
    """The job's template ('' for the workbook job, which has none)."""
    return job.template.name if job.template is not None else ""


def papers(job: Job, page: str) -> dict[Path, bytes]:
    """The job's papers by path, made from its page (the HTML already made for it) and, for the referat, the
    organisation's data; raises with a Danish message when one cannot be made (nothing is written then)."""
    folder = Path(job.folder)
    made: dict[Path, bytes] = {}
    for suffix in wanted(job):
        path = folder / f"{job.name}{suffix}"
        if suffix == ".pdf":
            made[path] = pdf_bytes(page, job.provenance.get("synthetic", True) is not False)
        else:
            made[path] = _referat(job)
    return made


def _referat(job: Job) -> bytes:
    from kompas_helpers import bundle, referat

    organisation_id = str(job.parameters[ORGANISATION_PARAMETER])
    b = bundle.load(job.parameters.get("data") or None, organisation_id=organisation_id)
    try:
        return referat.referat_bytes(b, organisation_id, job.year)
    except Exception as exc:
        raise ReferatError(f"Referatskabelonen (Word) kunne ikke laves: {type(exc).__name__}: {exc}") from exc


class ReferatError(RuntimeError):
    """The referat skeleton could not be made; the message is Danish."""
