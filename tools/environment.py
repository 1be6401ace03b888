"""Write environment.yml (for conda users) from pyproject.toml, so the dependencies are listed in one place.

`python -m tools.environment` (`make env`) rewrites the file; `--check` only says whether it is up to date.
Every requirement in [project].dependencies and in each [project.optional-dependencies] extra becomes a
conda-forge package, under its conda name where that differs from the PyPI name, or a pip requirement when
conda-forge lacks it; the project itself is installed last with `pip install -e .`.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"
ENV_NAME = "almenkompas"
CHANNEL = "conda-forge"

# PyPI name -> conda-forge name, only where they differ.
CONDA_NAMES = {
    # conda-forge's `matplotlib` also pulls in Qt; the workbook only draws inline and to files.
    "matplotlib": "matplotlib-base",
    "playwright": "playwright-python",
    "zlib-ng": "python-zlib-ng",
}
# PyPI names conda-forge does not have: installed with pip inside the conda environment (none at present).
PIP_ONLY: frozenset[str] = frozenset()

HEADER = (
    "# Made from pyproject.toml by `make env` (python -m tools.environment): edit pyproject.toml, not this file.\n"
    "# For conda users; the README's make targets use python3 -m venv and pip with pyproject.toml.\n"
)
_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<spec>(?:[<>=!~][^;\[]*)?)$")


def normalise(name: str) -> str:
    """A package name compared the way PyPI compares names: case-insensitive, runs of - _ . alike."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, str]:
    """('pandas', '>=2.1,<3') from 'pandas>=2.1,<3'; extras and environment markers have no conda form."""
    match = _REQUIREMENT.match(text.strip())
    if match is None:
        raise ValueError(
            f"Cannot turn the requirement {text!r} into a conda package: extras ([...]) and markers (;) have no "
            "conda form. Write it as name plus version specifiers, or teach tools/environment.py about it."
        )
    return match["name"], re.sub(r"\s+", "", match["spec"])


def python_version(requires_python: str) -> str:
    """'3.11' from '>=3.11': the oldest Python the project supports is the one the environment pins."""
    match = re.fullmatch(r"\s*>=\s*(\d+\.\d+)(?:\.\d+)?\s*(?:,.*)?", requires_python)
    if match is None:
        raise ValueError(f"requires-python {requires_python!r} does not start with '>=X.Y'.")
    return match[1]


def render(pyproject: dict) -> str:
    """The text of environment.yml for the parsed pyproject.toml."""
    project = pyproject["project"]
    groups = [("[project] dependencies", project.get("dependencies", []))]
    groups += [
        (f"[project.optional-dependencies] {extra}", requirements)
        for extra, requirements in project.get("optional-dependencies", {}).items()
    ]
    lines = [HEADER.rstrip("\n"), f"name: {ENV_NAME}", "channels:", f"  - {CHANNEL}", "dependencies:"]
    lines.append(f"  - python={python_version(project['requires-python'])}")
    seen: set[str] = set()
    pip_lines: list[str] = []
    for title, requirements in groups:
        conda_lines, pip_group = [], []
        for text in requirements:
            name, spec = parse_requirement(text)
            key = normalise(name)
            if key in seen:
                continue
            seen.add(key)
            if key in PIP_ONLY:
                pip_group.append(f"      - {name}{spec}")
            else:
                conda_lines.append(f"  - {CONDA_NAMES.get(key, name)}{spec}")
        # Each group is named where its packages are listed (in both places when it is split).
        if conda_lines:
            lines += [f"  # {title}", *conda_lines]
        if pip_group:
            pip_lines += [f"      # {title}", *pip_group]
    lines += ["  - pip", "  - pip:", *pip_lines, "      - -e ."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.environment", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that environment.yml is up to date")
    args = parser.parse_args(argv)
    text = render(tomllib.loads(PYPROJECT.read_text(encoding="utf-8")))
    current = ENVIRONMENT.read_text(encoding="utf-8") if ENVIRONMENT.exists() else ""
    if args.check:
        if text != current:
            print("environment.yml differs from pyproject.toml: run `make env`.", file=sys.stderr)
            return 1
        print("environment.yml is up to date.")
        return 0
    if text != current:
        ENVIRONMENT.write_text(text, encoding="utf-8")
        print("environment.yml written from pyproject.toml.")
    else:
        print("environment.yml is already up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
