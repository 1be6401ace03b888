"""The thin-notebook check: each rule catches a bad notebook built here, and the real templates pass."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kompas_helpers import paths
from tools import hygiene

PARAMS = 'kommune_code: str = "101"  # kommunekode\nyear: int = 0  # rapportår; 0 betyder seneste år'
IMPORTS = "%matplotlib inline\nfrom kompas_helpers import bundle, report"
CALL = "b = bundle.load(data, kommune_code=kommune_code)\nreport.show_overview(b, kommune_code, year)"


def write(folder: Path, *cells, name: str = "report.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(cells=list(cells))
    path = folder / name
    nbformat.write(nb, path)
    return path


def params(source: str = PARAMS):
    return new_code_cell(source, metadata={"tags": ["parameters"]})


def template(tmp_path: Path, *cells) -> list[str]:
    """Problems of a template made of a title, the parameters, the imports and the given cells."""
    path = write(tmp_path / "templates", new_markdown_cell("# Titel"), params(), new_code_cell(IMPORTS), *cells)
    return hygiene.check_notebook(path)


def test_a_good_template_passes(tmp_path):
    assert template(tmp_path, new_code_cell(CALL)) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(x):\n    return x", "`def f`"),
        ("class Report:\n    pass", "`class Report`"),
        ("report.show(key=lambda x: x)", "`lambda`"),
        ("import os", "`import os`"),
        ("from pathlib import Path", "`import pathlib`"),
        ("import os.path as osp", "`import os.path`"),
        ("text = open(name).read()", "`open(`"),
        ('b = bundle.load("data/synthetic")', "ligner en filsti"),
        ('b = bundle.load("C:\\\\data")', "ligner en filsti"),
        ('t = report.read("tal.xlsx")', "ligner en filsti"),
        ('t = report.read(f"{name}.parquet")', "ligner en filsti"),
        ('x = b.table.groupby("indicator").value.mean()', "`.groupby(`"),
        ("x = b.table.merge(other)", "`.merge(`"),
        ('x = b.table.pivot(columns="year")', "`.pivot(`"),
        ("x = b.table.value.apply(str)", "`.apply(`"),
        ('x = b.table.query("year == 2024")', "`.query(`"),
        ('x = b.table.loc[b.table.year == 2024, "value"]', "`.loc[`"),
        ("for code in codes:\n    report.show(code)", "løkker"),
        ("while True:\n    break", "løkker"),
        ("x = (", "ikke gyldig Python"),
    ],
)
def test_each_code_rule_catches_a_bad_cell(tmp_path, source, expected):
    problems = template(tmp_path, new_code_cell(source))
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert "celle 4" in problems[0]


def test_saved_outputs_and_execution_counts_are_caught(tmp_path):
    cell = new_code_cell(CALL, execution_count=3, outputs=[new_output("stream", name="stdout", text="hej")])
    problems = template(tmp_path, cell)
    assert any("har gemt output" in p for p in problems)
    assert any("kørselsnummer" in p for p in problems)


def test_missing_matplotlib_inline_is_caught_in_templates(tmp_path):
    path = write(tmp_path / "templates", params(), new_code_cell("from kompas_helpers import report"))
    assert hygiene.check_notebook(path) == [
        "report.ipynb: `%matplotlib inline` mangler (uden den mister papermill-output alle figurer)"
    ]


def test_a_template_needs_exactly_one_parameters_cell(tmp_path):
    none = write(tmp_path / "templates", new_code_cell(IMPORTS), name="none.ipynb")
    two = write(tmp_path / "templates", params(), params(), new_code_cell(IMPORTS), name="two.ipynb")
    assert any("præcis én celle med tagget `parameters` (har 0)" in p for p in hygiene.check_notebook(none))
    assert any("(har 2)" in p for p in hygiene.check_notebook(two))


def test_the_parameters_cell_must_be_the_first_code_cell(tmp_path):
    path = write(tmp_path / "templates", new_code_cell(IMPORTS), params())
    assert hygiene.check_notebook(path) == [
        "report.ipynb: cellen med tagget `parameters` skal være den første kodecelle"
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('kommune_code = "101"  # kommunekode', "typeannoterede tildelinger"),
        ('kommune_code: str = "101"', "mangler en kommentar"),
        ("year: int = max(2024, 2025)  # år", "fast værdi"),
        ("year: int = 0  # 0 = seneste år", "må ikke indeholde '='"),
        ("import os  # nej", "typeannoterede tildelinger"),
        ("year: int", "typeannoterede tildelinger"),
    ],
)
def test_each_parameters_rule_catches_a_bad_cell(tmp_path, source, expected):
    path = write(tmp_path / "templates", params(source), new_code_cell(IMPORTS))
    problems = hygiene.check_notebook(path)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_injected_parameters_left_in_a_template_are_caught(tmp_path):
    injected = new_code_cell('kommune_code = "147"', metadata={"tags": ["injected-parameters"]})
    problems = template(tmp_path, injected)
    assert any("indsat parametercelle fra papermill" in p for p in problems)


def test_notebooks_outside_templates_need_no_parameters_cell(tmp_path):
    path = write(tmp_path / "notebooks", new_code_cell("from kompas_helpers import report"))
    assert hygiene.check_notebook(path) == []
    bad = write(tmp_path / "notebooks", new_code_cell("def f():\n    pass"), name="bad.ipynb")
    assert len(hygiene.check_notebook(bad)) == 1


def test_the_real_templates_pass():
    templates = sorted(paths.TEMPLATES_DIR.glob("*.ipynb"))
    assert [t.stem for t in templates] == ["environmental", "governance", "organisation", "overview", "social"]
    for path in templates:
        assert hygiene.check_notebook(path) == [], path.name


def test_main_exits_non_zero_and_lists_problems(tmp_path, capsys):
    write(tmp_path / "templates", params(), new_code_cell(IMPORTS), new_code_cell("import os"))
    assert hygiene.main([str(tmp_path / "templates")]) == 1
    err = capsys.readouterr().err
    assert "templates/report.ipynb, celle 3, linje 1: `import os`" in err
    assert "1 problem i 1 notebooks." in err


def test_main_passes_on_the_real_templates(capsys):
    assert hygiene.main([str(paths.TEMPLATES_DIR)]) == 0
    assert "Alle 5 notebooks er tynde og rene." in capsys.readouterr().out
