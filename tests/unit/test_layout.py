"""The package's layout: imports only go down (no module imports one that imports it back) and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kompas_helpers import paths

PACKAGE = "kompas_helpers"
# Data, not logic: the registry holds the 20 indicator definitions and may be as long as they need.
MAX_LINES = 600
LONG_BY_NATURE = {"kompas_helpers.registry"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Every package module that `path` imports, at any depth (function-level imports included).

    Importing `a.b.c` also runs `a` and `a.b`, so those count as imported too; `from a import b` imports `a.b` when
    that is a module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {m for m in found if m in known and m != name}


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = package_modules(root)
    known = set(modules)
    return {name: imported_modules(path, name, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_a_module_that_imports_it_back():
    found = cycles(import_graph(paths.PACKAGE_DIR))
    assert not found, "Import circles (each group imports itself through the others): " + "; ".join(
        " <-> ".join(group) for group in found
    )


def test_the_cycle_finder_sees_function_level_imports_and_parent_packages(tmp_path):
    root = tmp_path / PACKAGE
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text('"""Top."""\n')
    (root / "low.py").write_text("def f():\n    from kompas_helpers import high\n")
    (root / "high.py").write_text("from kompas_helpers import low\n")
    (root / "sub" / "__init__.py").write_text("from kompas_helpers.sub import leaf\n")
    (root / "sub" / "leaf.py").write_text("import kompas_helpers.sub\n")
    (root / "sub" / "other.py").write_text("from . import leaf\n")
    graph = import_graph(root)
    assert graph["kompas_helpers.sub.other"] == {"kompas_helpers", "kompas_helpers.sub", "kompas_helpers.sub.leaf"}
    assert cycles(graph) == [
        ["kompas_helpers.high", "kompas_helpers.low"],
        ["kompas_helpers.sub", "kompas_helpers.sub.leaf"],
    ]


def test_a_chain_without_a_circle_passes(tmp_path):
    root = tmp_path / PACKAGE
    root.mkdir()
    (root / "__init__.py").write_text('"""Top."""\n')
    (root / "a.py").write_text("from kompas_helpers import b\n")
    (root / "b.py").write_text("import kompas_helpers.c\n")
    (root / "c.py").write_text("import os\n")
    assert cycles(import_graph(root)) == []


@pytest.mark.parametrize("name", sorted(set(package_modules(paths.PACKAGE_DIR)) - LONG_BY_NATURE))
def test_no_module_holds_more_than_one_persons_worth(name):
    path = package_modules(paths.PACKAGE_DIR)[name]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it along its seams (at most {MAX_LINES})"


def test_reports_and_the_voila_error_pages_share_one_head():
    from kompas_helpers import htmlreport, style

    template = (style.HEAD_FILE.parent / "error.html").read_text(encoding="utf-8")
    assert '{% include "kompas-head.html" %}' in template
    page = htmlreport.page("Titel", "<p>x</p>")
    assert style.page_head() in page and page.index(style.page_head()) < page.index("<title>")
    assert "font-family" not in htmlreport.PAGE_CSS and "font-family" not in template
