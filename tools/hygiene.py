"""The thin-notebook check: templates and notebooks call the package and hold no logic, paths or outputs."""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import tokenize
from pathlib import Path

from kompas_helpers import paths

FORBIDDEN_MODULES = ("os", "pathlib", "shutil", "glob")
PANDAS_METHODS = ("groupby", "merge", "pivot", "pivot_table", "apply", "query")
PANDAS_INDEXERS = ("loc", "iloc")
FILE_SUFFIXES = (".csv", ".parquet", ".xlsx", ".xls", ".json", ".ipynb", ".txt")
MATPLOTLIB_INLINE = "%matplotlib inline"
_MAGIC = re.compile(r"^\s*[%!]")


def _strip_magics(source: str) -> str:
    """IPython magics and shell lines replaced by blank lines, so the rest parses as Python with the same lines."""
    return "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.lower().endswith(FILE_SUFFIXES)


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _comments(source: str) -> dict[int, str]:
    """Comment text by line number."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {tok.start[0]: tok.string for tok in tokens if tok.type == tokenize.COMMENT}


def _check_parameters(source: str, where: str) -> list[str]:
    """Only annotated assignments of literals to plain names, each with a comment on its line."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"{where}: parametercellen er ikke gyldig Python ({exc.msg}, linje {exc.lineno})"]
    if not tree.body:
        return [f"{where}: parametercellen er tom"]
    problems = []
    comments = _comments(source)
    for node in tree.body:
        line = node.lineno
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None):
            problems.append(
                f"{where}, linje {line}: parametercellen må kun indeholde typeannoterede tildelinger "
                "(fx `year: int = 0  # rapportår`)"
            )
            continue
        if not _is_literal(node.value):
            problems.append(f"{where}, linje {line}: parameteren {node.target.id} skal have en fast værdi (literal)")
        if line not in comments:
            problems.append(f"{where}, linje {line}: parameteren {node.target.id} mangler en kommentar på linjen")
        elif "=" in comments[line]:
            # Papermill's parameter inspection gives up on a line with two '=' (the runner relies on it).
            problems.append(
                f"{where}, linje {line}: kommentaren til {node.target.id} må ikke indeholde '=' (papermill kan ikke "
                "læse parameteren)"
            )
    return problems


def _check_code(source: str, where: str) -> list[str]:
    """Rules for every code cell, found by walking the syntax tree."""
    try:
        tree = ast.parse(_strip_magics(source))
    except SyntaxError as exc:
        return [f"{where}: koden er ikke gyldig Python ({exc.msg}, linje {exc.lineno})"]
    problems = []

    def add(node: ast.AST, text: str) -> None:
        problems.append(f"{where}, linje {getattr(node, 'lineno', '?')}: {text}")

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            add(node, f"`def {node.name}` hører hjemme i kompas_helpers, ikke i en notebook")
        elif isinstance(node, ast.ClassDef):
            add(node, f"`class {node.name}` hører hjemme i kompas_helpers, ikke i en notebook")
        elif isinstance(node, ast.Lambda):
            add(node, "`lambda` hører hjemme i kompas_helpers, ikke i en notebook")
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
            add(node, "løkker hører hjemme i kompas_helpers; en notebookcelle kalder en funktion")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_MODULES:
                    add(node, f"`import {name}`: filer og stier håndteres af kompas_helpers (paths, io)")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                add(node, "`open(` : filer læses og skrives af kompas_helpers.io")
            elif isinstance(func, ast.Attribute) and func.attr in PANDAS_METHODS:
                add(node, f"`.{func.attr}(`: pandas-beregninger hører hjemme i kompas_helpers")
        elif isinstance(node, ast.Subscript):
            value = node.value
            if isinstance(value, ast.Attribute) and value.attr in PANDAS_INDEXERS:
                add(node, f"`.{value.attr}[`: pandas-udtræk hører hjemme i kompas_helpers")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _looks_like_path(node.value):
            add(node, f"teksten {node.value!r} ligner en filsti; stier kommer fra kompas_helpers.paths")
    return problems


def check_notebook(path: str | Path, template: bool | None = None) -> list[str]:
    """Every way the notebook breaks the thin-notebook rules (empty when it passes).

    Templates (notebooks in a folder named `templates`, or `template=True`) must also start with exactly one
    `parameters`-tagged code cell of commented, annotated literals and contain `%matplotlib inline`.
    """
    path = Path(path)
    if template is None:
        template = path.parent.name == paths.TEMPLATES_DIR.name
    name = path.name
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{name}: kan ikke læses som notebook ({exc})"]
    cells = nb.get("cells", [])
    problems = []
    code_cells = [(i, c) for i, c in enumerate(cells, start=1) if c.get("cell_type") == "code"]
    tagged = [i for i, c in enumerate(cells, start=1) if "parameters" in c.get("metadata", {}).get("tags", [])]
    injected = [
        i for i, c in enumerate(cells, start=1) if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if injected:
        problems.append(f"{name}: celle {injected[0]} er en indsat parametercelle fra papermill; gem skabelonen ren")
    if template:
        if len(tagged) != 1:
            problems.append(f"{name}: skal have præcis én celle med tagget `parameters` (har {len(tagged)})")
        if tagged and tagged[0] not in [i for i, _ in code_cells[:1]]:
            problems.append(f"{name}: cellen med tagget `parameters` skal være den første kodecelle")
        for i in tagged:
            problems += _check_parameters(_source(cells[i - 1]), f"{name}, celle {i}")
        if not any(line.strip() == MATPLOTLIB_INLINE for _i, c in code_cells for line in _source(c).splitlines()):
            problems.append(f"{name}: `{MATPLOTLIB_INLINE}` mangler (uden den mister papermill-output alle figurer)")
    for i, cell in code_cells:
        where = f"{name}, celle {i}"
        if cell.get("outputs"):
            problems.append(f"{where}: har gemt output; ryd output før notebooken gemmes")
        if cell.get("execution_count") is not None:
            problems.append(f"{where}: har et gemt kørselsnummer; ryd output før notebooken gemmes")
        if i not in tagged:
            problems += _check_code(_source(cell), where)
    return problems


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _notebooks(targets: list[Path]) -> list[Path]:
    found = []
    for target in targets:
        if target.is_dir():
            found += sorted(p for p in target.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(target)
    return found


def main(argv: list[str] | None = None) -> int:
    """Check the notebooks in the given files or folders (default: templates/ and notebooks/); 1 if any fail."""
    args = sys.argv[1:] if argv is None else argv
    targets = [Path(a) for a in args] or [paths.TEMPLATES_DIR, paths.NOTEBOOKS_DIR]
    missing = [t for t in targets if not t.exists()]
    notebooks = _notebooks([t for t in targets if t.exists()])
    problems = [f"{t}: findes ikke" for t in missing]
    for nb in notebooks:
        problems += [f"{nb.parent.name}/{p}" for p in check_notebook(nb)]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        word = "problem" if len(problems) == 1 else "problemer"
        print(f"{len(problems)} {word} i {len(notebooks)} notebooks.", file=sys.stderr)
        return 1
    print(f"Alle {len(notebooks)} notebooks er tynde og rene.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
