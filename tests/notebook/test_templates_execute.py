"""Each report template executed end to end by Papermill in a real kernel on the default synthetic data."""

from __future__ import annotations

import re

import papermill
import pytest

from kompas_helpers import fmt, paths, registry

KOMMUNE_CODE = "147"  # not the templates' default, so the injected parameter must take effect
KOMMUNE_NAME = "Frederiksberg"
TEMPLATES = {
    "overview": (
        None,
        [
            "# Kommunens ESG-overblik",
            "## Alle målepunkter",
            "## Almene boliger i kommunen",
            "## Kommunen blandt alle kommuner",
            "## Spørgsmål til styringsdialogen",
            "## Metode og diskretion",
        ],
    ),
    **{
        name: (
            dim,
            [
                f"# {title}",
                "## Overblik",
                "## Målepunkterne",
                "## Spørgsmål ud fra kommunens tal",
                "## Metode og diskretion",
            ],
        )
        for name, dim, title in (
            ("environmental", "E", "Miljø"),
            ("social", "S", "Social"),
            ("governance", "G", "Governance"),
        )
    },
}


def outputs_text(nb) -> str:
    """Every text/html and text/plain output of the executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts += [data.get("text/html", ""), data.get("text/plain", ""), out.get("text", "")]
    return "\n".join("".join(p) if isinstance(p, list) else p for p in parts)


@pytest.fixture(scope="module")
def synthetic_data():
    if not (paths.DEFAULT_DATA_DIR / "provenance.json").exists():
        pytest.fail("Det syntetiske datasæt mangler: kør `make data` (kompas data synthesize) først.")
    return paths.DEFAULT_DATA_DIR


@pytest.mark.notebook
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_executes_and_has_its_structure(name, synthetic_data, tmp_path):
    dimension, headings = TEMPLATES[name]
    nb = papermill.execute_notebook(
        str(paths.TEMPLATES_DIR / f"{name}.ipynb"),
        str(tmp_path / f"{name}-{KOMMUNE_CODE}.ipynb"),
        parameters={"kommune_code": KOMMUNE_CODE, "year": 0, "data": ""},
        kernel_name="python3",
        cwd=str(tmp_path),  # the templates must not depend on the working directory
        execution_timeout=300,
        progress_bar=False,
    )
    # Papermill's injected parameters follow the template's own parameters cell.
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    injected = next(i for i, t in enumerate(tags) if "injected-parameters" in t)
    assert "parameters" in tags[injected - 1]
    assert f'kommune_code = "{KOMMUNE_CODE}"' in nb.cells[injected].source

    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []

    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in headings:
        assert re.search(rf"^{re.escape(heading)}$", markdown, flags=re.MULTILINE), heading

    text = outputs_text(nb)
    assert fmt.SYNTHETIC_BANNER_DA in text
    assert f"<h2>{KOMMUNE_NAME}: " in text
    assert "Region Hovedstaden · rapportår 2025" in text

    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    if dimension is None:
        assert len(images) == 2  # tile map and ranking
        assert all(f">{code}<" in text for code in registry.CODES)  # every indicator in the overview table
        assert "Faste dialogspørgsmål" in text
    else:
        codes = [i.code for i in registry.by_dimension(dimension)]
        assert len(images) == len(codes)  # one figure per indicator
        for code in codes:
            assert f'<h3 id="{code}">{code} {registry.get(code).name_da}</h3>' in text
        assert "Faste dialogspørgsmål" not in text
    assert "Diskretion og manglende tal" in text
    # Figures are shown as images, never as the text fallback of a figure object.
    assert "<Figure size" not in text
