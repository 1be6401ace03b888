"""What the meeting papers cost: `kompas run` with PDFs and referater against the same run without them.

In one process, on the same kommuner (the overview and every organisation sheet they supervise), alternating:
(a) the HTML-only run (`--no-pdf --no-word`, the baseline) and (b) the default run with the PDFs and referater.
Then, on the written files, each PDF and referat is made again alone (pdf.pdf_bytes on the written HTML,
referat.referat_bytes on the organisation's data), so the cost per PDF page and per referat is measured directly,
beside the baseline job's time per notebook. Prints seconds per PDF page, per referat, and the ratios.
Usage: .venv/bin/python benchmarks/bench_papers.py [--kommuner 147 621] [--rounds 2] [--workers 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kompas_helpers import bundle, pdf, referat, reportset
from kompas_helpers.runner import batch, plan


def one_run(kommuner: list[str], out: Path, workers: int, papers: bool) -> tuple[float, list]:
    options = plan.RunOptions(
        kommuner=kommuner, templates=["overview", "organisation"], out=out, workers=workers, pdf=papers, word=papers
    )
    start = time.perf_counter()
    report = batch.run(options)
    seconds = time.perf_counter() - start
    if report.exit_code != 0:
        raise SystemExit(f"the run failed: {[r.error for r in report.failed]}")
    return seconds, report.results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kommuner", nargs="+", default=["147", "621"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    from pypdf import PdfReader

    with tempfile.TemporaryDirectory() as tmp:
        base, full = [], []
        base_jobs: list[float] = []
        for round_ in range(args.rounds):
            seconds, results = one_run(args.kommuner, Path(tmp) / f"base{round_}", args.workers, False)
            base.append(seconds)
            base_jobs += [r.seconds for r in results if r.template != reportset.EXCEL_JOB]
            full.append(one_run(args.kommuner, Path(tmp) / f"full{round_}", args.workers, True)[0])
        folder = Path(tmp) / "full0"
        pdfs = sorted(folder.rglob("*.pdf"))
        pages = sum(len(PdfReader(p).pages) for p in pdfs)
        pdf_seconds = 0.0
        for path in pdfs:
            page = path.with_suffix(".html").read_text(encoding="utf-8")
            start = time.perf_counter()
            pdf.pdf_bytes(page, synthetic=True)
            pdf_seconds += time.perf_counter() - start
        referater = sorted(folder.rglob(f"*{referat.REFERAT_SUFFIX}"))
        year = int(next(folder.iterdir()).name)
        referat_seconds = 0.0
        for path in referater:
            organisation_id = path.name.split("-")[0]
            start = time.perf_counter()
            b = bundle.load(None, organisation_id=organisation_id)
            referat.referat_bytes(b, organisation_id, year)
            referat_seconds += time.perf_counter() - start
    html_only, with_papers = statistics.median(base), statistics.median(full)
    job = statistics.median(base_jobs)
    per_page = pdf_seconds / pages
    per_referat = referat_seconds / len(referater)
    print(f"kommuner {' '.join(args.kommuner)}, {args.workers} worker(s), {args.rounds} round(s)")
    print(f"HTML-only run (baseline): {html_only:.1f} s; with PDFs and referater: {with_papers:.1f} s")
    print(f"  ratio {with_papers / html_only:.2f}x; extra {with_papers - html_only:.1f} s")
    print(f"{len(pdfs)} PDFs, {pages} pages: {pdf_seconds:.1f} s alone = {per_page:.2f} s per page")
    print(f"{len(referater)} referater: {referat_seconds:.1f} s alone = {per_referat:.2f} s per referat")
    print(f"baseline notebook job (median): {job:.2f} s; one PDF page = {per_page / job:.2f} of it, one referat ="
          f" {per_referat / job:.2f} of it")  # fmt: skip


if __name__ == "__main__":
    main()
