"""environment.yml is made from pyproject.toml (`make env`), so the two list the same dependencies."""

from __future__ import annotations

import difflib
import tomllib

import pytest

from tools import environment

PYPROJECT = """
[project]
name = "example"
requires-python = ">=3.11"
dependencies = ["pandas>=2.1,<3", "matplotlib >= 3.8"]

[project.optional-dependencies]
test = ["pytest>=7.4", "Pandas>=2.1", "playwright>=1.40"]
dask = ["dask>=2024.1"]
"""


def test_environment_yml_is_made_from_pyproject():
    expected = environment.render(tomllib.loads(environment.PYPROJECT.read_text(encoding="utf-8")))
    actual = environment.ENVIRONMENT.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                actual.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                "environment.yml",
                "made from pyproject.toml",
            )
        )
        pytest.fail(f"environment.yml differs from pyproject.toml: run `make env`.\n{diff}")


def test_every_dependency_and_extra_of_pyproject_is_in_environment_yml():
    project = tomllib.loads(environment.PYPROJECT.read_text(encoding="utf-8"))["project"]
    text = environment.ENVIRONMENT.read_text(encoding="utf-8")
    for extra in project.get("optional-dependencies", {}):
        assert f"# [project.optional-dependencies] {extra}\n" in text, extra
    lines = {line.strip().removeprefix("- ") for line in text.splitlines()}
    for requirement in project["dependencies"] + sum(project.get("optional-dependencies", {}).values(), []):
        name, spec = environment.parse_requirement(requirement)
        conda = environment.CONDA_NAMES.get(environment.normalise(name), name)
        assert f"{conda}{spec}" in lines or f"{name}{spec}" in lines, requirement


def test_render_groups_maps_names_and_drops_repeats():
    text = environment.render(tomllib.loads(PYPROJECT))
    assert text.startswith(environment.HEADER)
    body = text.removeprefix(environment.HEADER)
    assert body == (
        "name: almenkompas\n"
        "channels:\n"
        "  - conda-forge\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  # [project] dependencies\n"
        "  - pandas>=2.1,<3\n"
        "  - matplotlib-base>=3.8\n"
        "  # [project.optional-dependencies] test\n"
        "  - pytest>=7.4\n"
        "  - playwright-python>=1.40\n"
        "  # [project.optional-dependencies] dask\n"
        "  - dask>=2024.1\n"
        "  - pip\n"
        "  - pip:\n"
        "      - -e .\n"
    )


def test_pip_only_packages_go_to_the_pip_section(monkeypatch):
    monkeypatch.setattr(environment, "PIP_ONLY", frozenset({"dask"}))
    text = environment.render(tomllib.loads(PYPROJECT))
    assert "\n  - dask" not in text and "\n  # [project.optional-dependencies] dask" not in text
    assert text.endswith("  - pip:\n      # [project.optional-dependencies] dask\n      - dask>=2024.1\n      - -e .\n")


@pytest.mark.parametrize("requirement", ["dask[dataframe]>=2024.1", "tomli>=2; python_version < '3.11'", ">=1"])
def test_requirements_without_a_conda_form_are_refused(requirement):
    with pytest.raises(ValueError, match="no conda form"):
        environment.parse_requirement(requirement)


@pytest.mark.parametrize("requires_python", [">=3.11", ">=3.11.4", ">=3.11,<4"])
def test_the_python_pin_is_the_oldest_supported_version(requires_python):
    assert environment.python_version(requires_python) == "3.11"


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(environment, "ENVIRONMENT", tmp_path / "environment.yml")
    (tmp_path / "environment.yml").write_text("name: old\n", encoding="utf-8")
    assert environment.main(["--check"]) == 1
    assert "run `make env`" in capsys.readouterr().err
    assert environment.main([]) == 0
    assert environment.main(["--check"]) == 0
