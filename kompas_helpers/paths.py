"""Project paths, derived from the package's own location (never the working directory)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = PROJECT_DIR / "data"
REFERENCE_DIR = DATA_DIR / "reference"
KOMMUNER_CSV = REFERENCE_DIR / "kommuner.csv"
DEFAULT_DATA_DIR = DATA_DIR / "synthetic"
TEMPLATES_DIR = PROJECT_DIR / "templates"
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
OUTPUTS_DIR = PROJECT_DIR / "outputs"
# Environment variable naming the dataset folder the pages read (empty: the synthetic default); set by `kompas serve`.
# Here rather than in serve.py, so that a page kernel reading it does not import the Voilà server with it.
DATA_ENV = "KOMPAS_DATA"


def data_folder(data: str | Path | None = None) -> Path:
    """The dataset folder every command, report and page reads: the one given, or the synthetic default."""
    return Path(data) if data else DEFAULT_DATA_DIR


def kernel_cwd() -> str:
    """The folder a notebook's kernel (and the fork server) runs in: the templates', as for an analyst."""
    return str(TEMPLATES_DIR if TEMPLATES_DIR.is_dir() else PROJECT_DIR)
