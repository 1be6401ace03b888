"""`kompas run` end to end: the real templates for two kommuner on a small synthetic dataset, plus failures,
interruptions, kernel-start retries and timeouts with small fixture templates."""

from __future__ import annotations

import html
import io as stdio
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import nbformat
import openpyxl
import pyarrow.parquet as pq
import pytest

from kompas_helpers import bundle, cli, excel, excel_tidy, fmt, htmlreport, paths, registry, reportset
from kompas_helpers.runner import batch, plan, worker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"
KOMMUNER = ["101", "751"]
FOLDERS = {"101": "101-københavn", "751": "751-aarhus"}
# The organisations the two kommuner supervise in the small synthetic dataset (seed 11, scale 0.05).
SHEETS = {
    "101": ["0001-boligselskabet-svanebolig", "0002-boligselskabet-dalhus"],
    "751": ["0022-boligselskabet-møllegård"],
}


def run(small_data: Path, out: Path, templates, kommuner=KOMMUNER, workers=1, **options) -> batch.RunReport:
    progress, summary = stdio.StringIO(), stdio.StringIO()
    report = batch.run(
        plan.RunOptions(kommuner=kommuner, templates=templates, data=small_data, out=out, workers=workers, **options),
        progress=progress,
        summary=summary,
    )
    report.progress_text, report.summary_text = progress.getvalue(), summary.getvalue()
    return report


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def statuses(report: batch.RunReport) -> dict[tuple[str, str], str]:
    return {(r.kommune_code, r.template): r.status for r in report.results}


class _Resources(HTMLParser):
    """What a browser would fetch to show a page: every src/href except links (<a href>) and data: URIs."""

    def __init__(self):
        super().__init__()
        self.fetched: list[str] = []
        self.images: list[str] = []
        self.headings: list[str] = []
        self.code_areas = 0
        self._heading: list[str] | None = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = []
        if tag != "a":
            addresses = [v for k, v in attrs if k in ("src", "href", "srcset", "data-src") and v]
            self.fetched += [v for v in addresses if not v.startswith(("data:", "#"))]
        if tag == "img":
            self.images.append(values.get("src", ""))
        classes = (values.get("class") or "").split()
        if {"input_area", "jp-InputArea", "input_prompt", "jp-InputPrompt", "highlight"} & set(classes):
            self.code_areas += 1


def resources(page: str) -> _Resources:
    parser = _Resources()
    parser.feed(page)
    return parser


# ----------------------------------------------------------------------------------------------------------------
# The real templates, two kommuner, two workers
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_run(small_data, tmp_path_factory) -> batch.RunReport:
    out = tmp_path_factory.mktemp("out")
    return run(small_data, out, None, workers=2)


@pytest.mark.notebook
def test_every_output_is_written(full_run):
    assert full_run.exit_code == 0, full_run.summary_text
    assert set(statuses(full_run).values()) == {"ok"}
    year_dir = full_run.out_dir
    assert year_dir.name == "2025"
    for code, folder in FOLDERS.items():
        files = sorted(str(p.relative_to(year_dir / folder)) for p in (year_dir / folder).rglob("*") if p.is_file())
        expected = [f"{t}.html" for t in reportset.KOMMUNE_TEMPLATES] + [reportset.EXCEL_FILE, "overview.pdf"]
        expected += [reportset.notebook_file(t) for t in reportset.KOMMUNE_TEMPLATES]
        for sheet in SHEETS[code]:
            expected += [f"{reportset.SHEETS_FOLDER}/{sheet}{suffix}" for suffix in (".html", ".pdf", "-referat.docx")]
            expected += [reportset.notebook_file(f"organisationer/{sheet}")]
        assert files == sorted(expected), code
    assert (year_dir / "index.html").is_file()
    assert (year_dir / "manifest.json").is_file()
    assert not [p for p in year_dir.rglob(".*")], "temporary files left behind"


@pytest.mark.notebook
def test_executed_notebooks_carry_the_injected_parameters(full_run, small_data):
    for code, folder in FOLDERS.items():
        for sheet in SHEETS[code]:
            notebook = reportset.notebook_file(f"{reportset.SHEETS_FOLDER}/{sheet}")
            nb = nbformat.read(full_run.out_dir / folder / notebook, as_version=4)
            expected = {"organisation_id": sheet[:4], "year": 2025, "data": str(small_data.resolve())}
            assert nb.metadata.papermill.parameters == expected
        for template in reportset.KOMMUNE_TEMPLATES:
            nb = nbformat.read(full_run.out_dir / folder / reportset.notebook_file(template), as_version=4)
            injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
            assert len(injected) == 1
            values: dict = {}
            exec(injected[0].source, values)  # the cell is three assignments of literals
            expected = {"kommune_code": code, "year": 2025, "data": str(small_data.resolve())}
            assert {k: values[k] for k in expected} == expected
            assert nb.metadata.papermill.parameters == expected
            errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
            assert errors == []


@pytest.mark.notebook
def test_html_reports_show_every_section_and_no_code(full_run):
    for template in reportset.TEMPLATES:
        source = nbformat.read(paths.TEMPLATES_DIR / f"{template}.ipynb", as_version=4)
        headings = [
            line.lstrip("#").strip()
            for cell in source.cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
            if line.startswith("#")
        ]
        code_lines = [
            line.strip()
            for cell in source.cells
            if cell.cell_type == "code"
            for line in cell.source.splitlines()
            if line.strip() and not line.startswith("%")
        ]
        assert headings and code_lines
        pages = [
            full_run.out_dir / folder / reportset.SHEETS_FOLDER / f"{sheet}.html"
            for code, folder in FOLDERS.items()
            for sheet in SHEETS[code]
        ]
        if template in reportset.KOMMUNE_TEMPLATES:
            pages = [full_run.out_dir / folder / f"{template}.html" for folder in FOLDERS.values()]
        for path in pages:
            page = path.read_text(encoding="utf-8")
            found = resources(page)
            for heading in headings:
                assert heading in found.headings, (template, heading)
            for line in code_lines:
                assert line not in page and html.escape(line) not in page, (template, line)
            assert found.code_areas == 0
            assert found.fetched == []  # nothing is fetched from the network or elsewhere: all inline
            assert all(src.startswith("data:image/") for src in found.images)
            assert found.images or template not in reportset.KOMMUNE_TEMPLATES  # a sheet is tables and text
            assert "In&nbsp;[" not in page and "Out[" not in page
            assert fmt.SYNTHETIC_BANNER_DA in page
            assert htmlreport.external_resources(page) == []
            assert '<html lang="da">' in page


@pytest.mark.notebook
def test_excel_reads_back_with_the_table_values(full_run, small_data):
    table = bundle.load(small_data).table
    kommune_rows = table[table["level"] == "kommune"]
    for code, folder in FOLDERS.items():
        book = openpyxl.load_workbook(full_run.out_dir / folder / reportset.EXCEL_FILE)
        assert book.sheetnames == [
            *registry.DIMENSION_NAMES_DA.values(),
            excel.SHEET_TIDY,
            excel.SHEET_AGREEMENTS,
            excel.SHEET_ABOUT,
        ]
        agreements = list(book[excel.SHEET_AGREEMENTS].iter_rows(min_row=excel.FIRST_DATA_ROW, values_only=True))
        assert agreements and all(row[0] == code for row in agreements)  # the kommune's own agreements
        rows = {}
        for name in registry.DIMENSION_NAMES_DA.values():
            assert book[name].cell(excel.NOTE_ROW, 1).value == fmt.SYNTHETIC_BANNER_DA
            for cells in book[name].iter_rows(min_row=excel.FIRST_DATA_ROW, values_only=True):
                rows[(cells[0], cells[3])] = cells
        own = kommune_rows[kommune_rows["unit_id"] == code]
        assert len(rows) == len(own)
        for r in own.itertuples(index=False):
            shown = rows[(r.indicator, r.year)][4]
            if r.status == "reported":
                assert shown == float(f"{r.value:.16g}"), (code, r.indicator, r.year)
            else:
                assert shown == excel_tidy.STATUS_WORDS_DA[r.status]


@pytest.mark.notebook
def test_the_run_writes_the_national_workbook_lists_and_links_it(small_data, tmp_path, monkeypatch):
    from kompas_helpers import excel_national

    out = tmp_path / "out"
    first = run(small_data, out, [str(FIXTURES / "minimal.ipynb")], kommuner=["101"])
    assert first.exit_code == 0
    path = first.out_dir / reportset.NATIONAL_EXCEL_FILE
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [f"Overblik {first.year}", excel_tidy.SHEET_TIDY, excel.SHEET_ABOUT]
    assert len(list(book[f"Overblik {first.year}"].iter_rows(min_row=excel.FIRST_DATA_ROW))) == 98  # not only 101
    national = json.loads((first.out_dir / "manifest.json").read_text(encoding="utf-8"))["run"]["national"]
    assert national["status"] == "ok" and national["file"] == reportset.NATIONAL_EXCEL_FILE
    assert 'href="alle-kommuner.xlsx"' in (first.out_dir / "index.html").read_text(encoding="utf-8")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disken er fuld")

    monkeypatch.setattr(excel_national, "write_national_workbook", broken)
    second = run(small_data, out, [str(FIXTURES / "minimal.ipynb")], kommuner=["101"])
    assert second.exit_code == 1 and set(statuses(second).values()) == {"ok"}
    assert second.manifest["run"]["status"] == "failed"
    assert second.manifest["run"]["national"]["error"] == "OSError: disken er fuld"
    assert "alle-kommuner.xlsx fejlede" in second.summary_text
    assert path.read_bytes() == before
    assert 'href="alle-kommuner.xlsx"' in (first.out_dir / "index.html").read_text(encoding="utf-8")


@pytest.mark.notebook
def test_manifest_records_the_run(full_run, small_data):
    manifest = json.loads((full_run.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data_hash"] == bundle.dataset_hash(small_data)
    assert manifest["package_version"] == batch.kompas_helpers.__version__
    assert manifest["synthetic"] is True
    assert manifest["year"] == 2025
    run_info = manifest["run"]
    assert run_info["started"] <= run_info["ended"]
    assert run_info["parameters"]["kommuner"] == KOMMUNER
    assert run_info["parameters"]["templates"] == list(reportset.TEMPLATES)
    assert run_info["parameters"]["workers"] == 2
    assert run_info["counts"] == {"ok": 13, "failed": 0, "interrupted": 0}  # 2 × (4 reports + Excel) + 3 sheets
    assert len(manifest["notebooks"]) == 13
    assert all(n["seconds"] > 0 for n in manifest["notebooks"])
    for code in KOMMUNER:
        outputs = manifest["reports"][code]["outputs"]
        sheets = {f"{reportset.SHEETS_FOLDER}/{s}" for s in SHEETS[code]}
        assert set(outputs) == {*reportset.KOMMUNE_TEMPLATES, reportset.EXCEL_JOB, *sheets}
        assert {o["status"] for o in outputs.values()} == {"ok"}


@pytest.mark.notebook
def test_index_links_every_report(full_run):
    page = (full_run.out_dir / "index.html").read_text(encoding="utf-8")
    links = set()

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                links.add(unquote(dict(attrs)["href"]))

    Links().feed(page)
    links = {link for link in links if not link.startswith("#") and link != "index.html"}  # the bar's own links
    expected = {f"{folder}/{t}.html" for folder in FOLDERS.values() for t in reportset.KOMMUNE_TEMPLATES}
    expected |= {f"{FOLDERS[c]}/{reportset.SHEETS_FOLDER}/{s}.html" for c in KOMMUNER for s in SHEETS[c]}
    expected |= {f"{folder}/{reportset.EXCEL_FILE}" for folder in FOLDERS.values()}
    expected |= {f"{folder}/overview.pdf" for folder in FOLDERS.values()} | {reportset.NATIONAL_EXCEL_FILE}
    expected |= {f"{FOLDERS[c]}/{reportset.SHEETS_FOLDER}/{s}.pdf" for c in KOMMUNER for s in SHEETS[c]}
    assert links == expected
    assert all((full_run.out_dir / link).is_file() for link in links)
    assert resources(page).fetched == []
    assert "København" in page and "Aarhus" in page and fmt.SYNTHETIC_BANNER_DA in page


@pytest.mark.notebook
def test_progress_and_danish_summary(full_run):
    lines = full_run.progress_text.splitlines()
    assert len(lines) == 13
    assert lines[0].startswith("[ 1/13] ") and lines[-1].startswith("[13/13] ")
    assert all("tilbage" in line and "fejlet" in line for line in lines)
    summary = full_run.summary_text.splitlines()
    assert summary[0].split() == ["Kommune", "Skabelon", "Status", "Sekunder"]
    assert sum(line.split()[-2:-1] == ["færdig"] for line in summary[2:15]) == 13
    assert "13 færdige, 0 fejlede" in full_run.summary_text
    assert "Dialogark: Boligselskabet Dalhus" in full_run.summary_text  # a sheet names its organisation


# ----------------------------------------------------------------------------------------------------------------
# Refused before anything runs
# ----------------------------------------------------------------------------------------------------------------


def test_unknown_kommune_is_refused_before_anything_runs(small_data, tmp_path, capsys):
    with pytest.raises(plan.RunError, match="«999»") as caught:
        run(small_data, tmp_path / "out", [str(FIXTURES / "minimal.ipynb")], kommuner=["101", "999", "Atlantis"])
    assert "«Atlantis»" in str(caught.value) and "Intet er kørt" in str(caught.value)
    code = cli.main(["run", "--kommune", "999", "--data", str(small_data), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "Ukendt kommune: «999»" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_kommune_names_and_leading_zeros_are_understood():
    chosen = plan.resolve_kommuner(["0101", "aarhus", "101"])
    assert [(k.code, k.folder) for k in chosen] == [("101", "101-københavn"), ("751", "751-aarhus")]


def test_kommune_folders_keep_danish_letters():
    assert reportset.kommune_folder("173", "Lyngby-Taarbæk") == "173-lyngby-taarbæk"
    assert reportset.kommune_folder("825", "Læsø") == "825-læsø"
    assert reportset.kommune_folder("400", "Bornholm") == "400-bornholm"
    assert reportset.kommune_folder("999", "Sankt Åge/Éntré") == "999-sankt-åge-entre"


def test_unknown_parameter_is_refused(small_data, tmp_path):
    minimal = str(FIXTURES / "minimal.ipynb")
    with pytest.raises(plan.RunError, match="ingen parameter «farve»"):
        run(small_data, tmp_path / "out", [minimal], parameters={"farve": "rød"})
    with pytest.raises(plan.RunError, match="«no_data_parameter» har ingen parameter «data»"):
        run(small_data, tmp_path / "out", [minimal, str(FIXTURES / "no_data_parameter.ipynb")])
    with pytest.raises(plan.RunError, match="skal være int"):
        run(small_data, tmp_path / "out", [minimal], parameters={"year": "sidste"})
    assert not (tmp_path / "out").exists()


def test_parameters_are_read_from_the_parameters_cell_without_running():
    assert plan.template_parameters(paths.TEMPLATES_DIR / "overview.ipynb") == {
        "kommune_code": "str",
        "year": "int",
        "data": "str",
    }
    assert plan.template_parameters(FIXTURES / "no_data_parameter.ipynb") == {"kommune_code": "str", "year": "int"}


def test_unknown_year_is_refused(small_data, tmp_path):
    with pytest.raises(plan.RunError, match="Året 1999 findes ikke i data"):
        run(small_data, tmp_path / "out", [str(FIXTURES / "minimal.ipynb")], year=1999)


# ----------------------------------------------------------------------------------------------------------------
# Failures, interruptions, retries, timeouts
# ----------------------------------------------------------------------------------------------------------------


def template_named(folder: Path, name: str, fixture: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / f"{fixture}.ipynb", folder / f"{name}.ipynb")
    return str(folder / f"{name}.ipynb")


@pytest.mark.notebook
def test_failing_kommune_is_reported_keeps_its_earlier_outputs_and_the_others_complete(small_data, tmp_path):
    out = tmp_path / "out"
    good = template_named(tmp_path / "good", "rapport", "minimal")
    first = run(small_data, out, [good], workers=2)
    assert first.exit_code == 0
    year_dir = first.out_dir
    earlier = {code: snapshot(year_dir / folder) for code, folder in FOLDERS.items()}

    bad = template_named(tmp_path / "bad", "rapport", "fails_for_751")
    second = run(small_data, out, [bad], workers=2)
    assert second.exit_code == 1
    assert statuses(second) == {
        ("101", "rapport"): "ok",
        ("101", "nøgletal"): "ok",
        ("751", "rapport"): "failed",
        ("751", "nøgletal"): "ok",
    }
    failure = next(r for r in second.results if r.status == "failed")
    assert "AssertionError: skabelonen fejler med vilje for kommune 751" in failure.error
    aarhus = year_dir / FOLDERS["751"]
    assert (aarhus / "rapport.html").read_bytes() == earlier["751"]["rapport.html"]
    notebook = reportset.notebook_file("rapport")
    assert (aarhus / notebook).read_bytes() == earlier["751"][notebook]
    assert (aarhus / reportset.notebook_file("rapport", worker.FAILED_SUFFIX)).is_file()  # with its traceback
    assert (year_dir / FOLDERS["101"] / "rapport.html").read_bytes() != earlier["101"]["rapport.html"]
    manifest = json.loads((year_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["reports"]["751"]["outputs"]["rapport"]
    assert entry["status"] == "failed" and entry["last_ok"] == first.manifest["run"]["started"]
    assert manifest["run"]["counts"]["failed"] == 1
    index = (year_dir / "index.html").read_text(encoding="utf-8")
    assert "fejlede" in index and "tidligere udgave" in index
    assert "fejlede" in second.summary_text and "1 fejlede" in second.summary_text

    # The command line reports the failure in its exit code.
    code = cli.main(["run", "--kommune", "751", "--templates", bad, "--data", str(small_data), "--out", str(out)])
    assert code == 1


@pytest.mark.notebook
def test_a_write_that_breaks_halfway_leaves_earlier_outputs_byte_identical(small_data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    minimal = str(FIXTURES / "minimal.ipynb")
    first = run(small_data, out, [minimal], kommuner=["101"])
    assert first.exit_code == 0
    before = snapshot(first.out_dir)
    real_write = worker._write_text

    def write_half_then_fail(path, text):
        if path.suffix == ".html" and path.parent.name == FOLDERS["101"]:
            path.write_text(text[: len(text) // 2], encoding="utf-8")
            raise OSError("disken blev fuld midt i skrivningen")
        real_write(path, text)

    monkeypatch.setattr(worker, "_write_text", write_half_then_fail)
    second = run(small_data, out, [minimal], kommuner=["101"])
    assert statuses(second)[("101", "minimal")] == "failed"
    assert "disken blev fuld" in next(r.error for r in second.results if r.template == "minimal")
    after = snapshot(first.out_dir)
    for name in ("101-københavn/minimal.html", "101-københavn/notesbøger/minimal.ipynb"):
        assert after[name] == before[name]
    assert not [p for p in first.out_dir.rglob(".*")], "temporary files left behind"


@pytest.mark.notebook
def test_an_interrupted_run_leaves_earlier_outputs_byte_identical(small_data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    minimal = str(FIXTURES / "minimal.ipynb")
    first = run(small_data, out, [minimal], kommuner=KOMMUNER)
    before = snapshot(first.out_dir)
    real_write = worker._write_text

    def interrupted_while_writing(path, text):
        if path.suffix == ".html" and FOLDERS["751"] in str(path):
            path.write_text(text[:100], encoding="utf-8")
            raise KeyboardInterrupt  # Ctrl-C in the middle of writing Aarhus' report
        real_write(path, text)

    monkeypatch.setattr(worker, "_write_text", interrupted_while_writing)
    second = run(small_data, out, [minimal], kommuner=KOMMUNER)
    assert second.interrupted and second.exit_code == 130
    assert statuses(second)[("751", "minimal")] == "interrupted"
    after = snapshot(first.out_dir)
    for name in ("751-aarhus/minimal.html", "751-aarhus/notesbøger/minimal.ipynb", "751-aarhus/nøgletal.xlsx"):
        assert after[name] == before[name]
    manifest = json.loads((first.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run"]["status"] == "interrupted"
    assert manifest["reports"]["751"]["outputs"]["minimal"]["status"] == "interrupted"
    assert not [p for p in first.out_dir.rglob(".*")], "temporary files left behind"


def test_write_together_replaces_all_files_or_none(tmp_path, monkeypatch):
    first, second = tmp_path / "a.ipynb", tmp_path / "a.html"
    worker.write_together({first: "gammel notesbog", second: "gammel side"})
    real_write = worker._write_text

    def fail_on_html(path, text):
        if path.suffix == ".html":
            raise OSError("fejl")
        real_write(path, text)

    monkeypatch.setattr(worker, "_write_text", fail_on_html)
    with pytest.raises(OSError):
        worker.write_together({first: "ny notesbog", second: "ny side"})
    assert first.read_text(encoding="utf-8") == "gammel notesbog"
    assert second.read_text(encoding="utf-8") == "gammel side"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "a.ipynb"]


def flaky_kernel(tmp_path: Path, failures: int, monkeypatch) -> Path:
    """A "python3" kernel spec (found first through JUPYTER_PATH) whose first `failures` starts die at once."""
    counter = tmp_path / "starts.txt"
    launcher = tmp_path / "flaky_launcher.py"
    launcher.write_text(
        textwrap.dedent(
            f"""
            import os, sys
            from pathlib import Path
            counter = Path(sys.argv[1])
            starts = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(starts))
            if starts <= {failures}:
                print(f"start {{starts}} fejler med vilje", file=sys.stderr)
                sys.exit(1)
            os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[2:]])
            """
        ),
        encoding="utf-8",
    )
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(launcher), str(counter), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Flaky", "language": "python"}), encoding="utf-8"
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("KOMPAS_NO_FORK", "1")  # plain kernel starts: a forked kernel never runs this launcher
    return counter


@pytest.mark.notebook
def test_a_kernel_that_fails_to_start_is_retried(small_data, tmp_path, monkeypatch):
    counter = flaky_kernel(tmp_path, failures=1, monkeypatch=monkeypatch)
    report = run(small_data, tmp_path / "out", [str(FIXTURES / "minimal.ipynb")], kommuner=["101"])
    result = next(r for r in report.results if r.template == "minimal")
    assert result.status == "ok" and result.attempts == 2
    assert int(counter.read_text()) >= 2
    assert (report.out_dir / FOLDERS["101"] / "minimal.html").is_file()


@pytest.mark.notebook
def test_a_kernel_that_never_starts_fails_with_a_danish_message(small_data, tmp_path, monkeypatch):
    flaky_kernel(tmp_path, failures=99, monkeypatch=monkeypatch)
    report = run(small_data, tmp_path / "out", [str(FIXTURES / "minimal.ipynb")], kommuner=["101"])
    result = next(r for r in report.results if r.template == "minimal")
    assert result.status == "failed" and result.attempts == worker.KERNEL_START_RETRIES + 1
    assert result.error.startswith(f"Kernen kunne ikke starte ({worker.KERNEL_START_RETRIES + 1} forsøg)")
    assert "fejler med vilje" in result.error
    assert report.exit_code == 1


@pytest.mark.notebook
def test_a_notebook_over_its_time_limit_fails_and_the_run_goes_on(small_data, tmp_path):
    report = run(
        small_data,
        tmp_path / "out",
        [str(FIXTURES / "slow.ipynb"), str(FIXTURES / "minimal.ipynb")],
        kommuner=["101"],
        timeout=3,
    )
    assert statuses(report) == {("101", "slow"): "failed", ("101", "minimal"): "ok", ("101", "nøgletal"): "ok"}
    slow = next(r for r in report.results if r.template == "slow")
    assert slow.error == "Tidsgrænsen på 3,0 s for notesbogen blev overskredet"
    assert slow.seconds < 30


# ----------------------------------------------------------------------------------------------------------------
# The per-kommune slices the runner writes for the notebooks
# ----------------------------------------------------------------------------------------------------------------


def test_a_kommune_slice_equals_the_filtered_table(small_data):
    meta = bundle.write_slices(small_data)
    assert meta["data_hash"] == bundle.dataset_hash(small_data)
    path = bundle.table_path(small_data)
    full = bundle.load(small_data)
    for code in KOMMUNER:
        fast = bundle.load(small_data, kommune_code=code)
        filters = [[("level", "in", bundle.SHARED_LEVELS)], [("kommune_code", "=", code)]]
        expected = pq.read_table(path, filters=filters).to_pandas()
        assert fast.table.equals(expected) and list(fast.table.dtypes) == list(expected.dtypes)
        assert fast.years == full.years and fast.synthetic is True and fast.data_hash == full.data_hash
        for name in ("afdelinger", "organisations", "measures", "kommune_context", "aftaler"):
            assert getattr(fast.dataset, name).equals(getattr(full.dataset, name)), name


def test_an_organisation_slice_equals_the_filtered_table(small_data):
    bundle.write_slices(small_data)
    path = bundle.table_path(small_data)
    full = bundle.load(small_data)
    ids = list(full.dataset.organisations["organisation_id"].astype(str))
    for organisation_id in ids[:3] + ids[-2:]:
        fast = bundle.load(small_data, organisation_id=organisation_id)
        assert isinstance(fast.dataset, bundle._LazyDataset)  # from the slices, not the whole dataset and table
        filters = [[("level", "in", bundle.SHARED_LEVELS)], [("organisation_id", "=", organisation_id)]]
        expected = pq.read_table(path, filters=filters).to_pandas()
        assert fast.table.equals(expected) and list(fast.table.dtypes) == list(expected.dtypes)
        assert (fast.table["organisation_id"].astype(str) == organisation_id).any()
    # An id the dataset does not hold has no slice: the table is filtered as before (to the shared levels).
    unknown = bundle.load(small_data, organisation_id="ingen/sådan")
    assert not isinstance(unknown.dataset, bundle._LazyDataset)
    assert set(unknown.table["level"].astype(str)) <= set(bundle.SHARED_LEVELS)


def test_the_index_s_figures_from_the_kommuner_s_slices_are_those_of_the_whole_table(small_data, monkeypatch):
    from kompas_helpers import kommuner
    from kompas_helpers.organisation.supervision import supervision
    from kompas_helpers.runner import manifest as runner_manifest

    meta = bundle.write_slices(small_data)
    year = max(int(y) for y in meta["years"])
    whole = bundle.load(small_data)
    supervisors = sorted({str(code) for code in whole.dataset.organisations["hjemsted_kommune_code"]})
    few = supervisors[: runner_manifest.SLICES_UP_TO]
    many = supervisors[: runner_manifest.SLICES_UP_TO + 2]
    assert len(many) > runner_manifest.SLICES_UP_TO  # both ways are taken below
    # Without the figures written with the slices (test_stored_supervision.py): computed from slices or the table.
    from kompas_helpers.organisation import supervision as supervision_module

    monkeypatch.setattr(supervision_module, "stored", lambda data, year: None)
    assert isinstance(bundle.load(small_data, kommune_code=few[0]).dataset, bundle._LazyDataset)  # slices exist
    for codes in (few, many):
        # Jobs of a run name each kommune several times (a report per template, the workbook, the sheets).
        jobs = [SimpleNamespace(kommune=kommuner.find(code)) for code in codes for _ in range(2)]
        found = runner_manifest.supervision_of_run(small_data, year, jobs)
        assert found == supervision(whole, year, codes)
        assert all(found[code] for code in codes)  # each supervises organisations: the comparison says something


def test_any_organisation_id_makes_one_plain_file_name():
    assert bundle.organisation_slice("0101") == "organisation-0101.parquet"
    for odd in ("../x", "a/b", "æ ø", "."):
        name = bundle.organisation_slice(odd)
        assert "/" not in name and name.startswith("organisation-") and name.endswith(".parquet")


@pytest.mark.notebook
def test_a_killed_run_leaves_every_file_either_as_before_or_complete(small_data, tmp_path):
    out = tmp_path / "out"
    minimal = str(FIXTURES / "minimal.ipynb")
    first = run(small_data, out, [minimal], kommuner=["101", "751", "461"])
    before = snapshot(first.out_dir)
    command = [sys.executable, "-m", "kompas_helpers.cli", "run", "--templates", minimal, "--data", str(small_data)]
    command += ["--kommune", "101", "--kommune", "751", "--kommune", "461", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while snapshot(first.out_dir) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    process.kill()  # SIGKILL: no clean-up in the runner at all
    process.wait()
    time.sleep(3)  # the drivers notice that the runner is gone and stop
    after = snapshot(first.out_dir)
    assert set(after) == set(before)  # no temporary or half-written files
    assert after["manifest.json"] == before["manifest.json"]  # only written when a run ends
    changed = [name for name in before if after[name] != before[name]]
    assert changed, "the run was killed before it replaced anything; the test proved nothing"
    for name in changed:
        path = first.out_dir / name
        if name.endswith(".ipynb"):
            nbformat.validate(nbformat.read(path, as_version=4))
        elif name.endswith(".html"):
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")
        else:
            openpyxl.load_workbook(path)


@pytest.mark.notebook
def test_a_notebook_cut_off_by_a_killed_run_leaves_no_failed_notebook(small_data, tmp_path):
    # The runner is killed while a notebook is in the middle of a cell: its kernel goes with the runner's fork
    # server, and the driver (which outlives the runner by up to a second) must not report that as the notebook's
    # failure by writing notesbøger/<name>.fejl.ipynb — nobody asked for it and no manifest will name it.
    out, begun = tmp_path / "out", tmp_path / "begun"
    template = FIXTURES / "begins_then_waits.ipynb"
    command = [sys.executable, "-m", "kompas_helpers.cli", "run", "--templates", str(template)]
    command += ["--data", str(small_data), "--kommune", "101", "--out", str(out)]
    environment = {**os.environ, "KOMPAS_TEST_BEGUN": str(begun)}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    try:
        deadline = time.monotonic() + 120
        while not begun.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert begun.exists(), "the notebook never began; the test proved nothing"
    finally:
        process.kill()  # SIGKILL: no clean-up in the runner at all
        process.wait()
    time.sleep(4)  # the kernel dies with the fork server; the driver notices, then sees the runner is gone
    written = [path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()]
    assert not [name for name in written if name.endswith(worker.FAILED_SUFFIX)], written
    assert not [name for name in written if "begins_then_waits" in name], written  # nor a half-written one


def test_offline_check_finds_and_removes_external_resources():
    page = (
        '<html><head><script src="https://cdnjs.cloudflare.com/require.js"></script>'
        '<link rel="stylesheet" href="http://example.org/x.css"><style>@import url("https://fonts.example/f.css");'
        ".a { background: url(//cdn.example/bg.png) }</style></head><body>"
        '<img src="https://example.org/logo.png" alt="logo"><img src="data:image/png;base64,AAAA" alt="Figur">'
        '<a href="https://almenkompas.dk">AlmenKompas</a></body></html>'
    )
    assert len(htmlreport.external_resources(page)) == 5
    offline = htmlreport.make_offline(page)
    assert htmlreport.external_resources(offline) == []
    assert resources(offline).fetched == []
    assert '<a href="https://almenkompas.dk">AlmenKompas</a>' in offline  # a link to click is not a resource
    assert "data:image/png;base64,AAAA" in offline


def test_slices_of_a_recomputed_table_are_not_used(small_data):
    meta = bundle.write_slices(small_data)
    table = bundle.table_path(small_data)
    assert isinstance(bundle.load(small_data, kommune_code="101").dataset, bundle._LazyDataset)
    stamp = table.stat()
    os.utime(table, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))  # as if the table was recomputed
    stale = bundle.load(small_data, kommune_code="101")
    assert not isinstance(stale.dataset, bundle._LazyDataset)  # read from the table itself
    assert bundle.write_slices(small_data)["table_stamp"] != meta["table_stamp"]  # cut again
    assert isinstance(bundle.load(small_data, kommune_code="101").dataset, bundle._LazyDataset)


@pytest.mark.notebook
def test_no_excel_writes_no_workbook_and_leaves_the_earlier_ones(small_data, tmp_path):
    first = run(small_data, tmp_path, ["governance"], kommuner=["751"])
    assert first.exit_code == 0, first.summary_text
    folder = first.out_dir / FOLDERS["751"]
    workbooks = {
        folder / reportset.EXCEL_FILE: (folder / reportset.EXCEL_FILE).read_bytes(),
        first.out_dir / reportset.NATIONAL_EXCEL_FILE: (first.out_dir / reportset.NATIONAL_EXCEL_FILE).read_bytes(),
    }
    written_before = (folder / "governance.html").stat().st_mtime_ns

    second = run(small_data, tmp_path, ["governance"], kommuner=["751"], excel=False)
    assert second.exit_code == 0, second.summary_text
    assert [r.template for r in second.results] == ["governance"]  # no workbook job
    assert second.manifest["run"]["parameters"]["excel"] is False
    assert "nøgletal" not in second.summary_text.lower()
    assert {path: path.read_bytes() for path in workbooks} == workbooks  # the earlier workbooks, untouched
    assert (folder / "governance.html").stat().st_mtime_ns > written_before  # the page was written again ...
    page = (folder / "governance.html").read_text(encoding="utf-8")
    assert reportset.EXCEL_FILE in unquote(page)  # ... and still links the workbook that is there

    fresh = run(small_data, tmp_path / "fresh", ["governance"], kommuner=["751"], excel=False)
    assert fresh.exit_code == 0, fresh.summary_text
    assert not list((tmp_path / "fresh").rglob("*.xlsx"))
    fresh_page = (fresh.out_dir / FOLDERS["751"] / "governance.html").read_text(encoding="utf-8")
    assert reportset.EXCEL_FILE not in unquote(fresh_page)  # nothing links a workbook that is not there
