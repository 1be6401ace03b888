"""What nbval cannot say about the report templates.

nbval (part of every pytest run, see pyproject.toml) executes each template with its default parameters and fails on
any error. These tests add what it does not check: the headings, that a kommune injected by Papermill takes effect
and shows the banner, tables and figures the batch writes, and that a kommune code outside the 98 is refused."""

from __future__ import annotations

import re

import nbformat
import papermill
import pytest

from kompas_helpers import fmt, paths, registry

KOMMUNE_CODE = "147"  # not the templates' default, so the injected parameter must take effect
KOMMUNE_NAME = "Frederiksberg"
TEMPLATES = {
    "overview": (
        None,
        [
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


def execute(name: str, kommune_code: str, folder):
    return papermill.execute_notebook(
        str(paths.TEMPLATES_DIR / f"{name}.ipynb"),
        str(folder / f"{name}-{kommune_code}.ipynb"),
        parameters={"kommune_code": kommune_code, "year": 0, "data": ""},
        kernel_name="python3",
        cwd=str(folder),  # the templates must not depend on the working directory
        execution_timeout=300,
        progress_bar=False,
    )


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_has_its_headings(name):
    _, headings = TEMPLATES[name]
    nb = nbformat.read(paths.TEMPLATES_DIR / f"{name}.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in headings:
        assert re.search(rf"^{re.escape(heading)}$", markdown, flags=re.MULTILINE), heading
    # The page's one H1 names the kommune: the header cell writes it, so no markdown cell has an H1 of its own.
    assert not re.search(r"^# ", markdown, flags=re.MULTILINE)


@pytest.mark.notebook
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_injected_kommune_shows_its_banner_tables_and_figures(name, synthetic_data, tmp_path):
    dimension, _ = TEMPLATES[name]
    nb = execute(name, KOMMUNE_CODE, tmp_path)
    # Papermill's injected parameters follow the template's own parameters cell.
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    injected = next(i for i, t in enumerate(tags) if "injected-parameters" in t)
    assert "parameters" in tags[injected - 1]
    assert f'kommune_code = "{KOMMUNE_CODE}"' in nb.cells[injected].source

    text = outputs_text(nb)
    assert fmt.SYNTHETIC_BANNER_DA in text
    assert f"<h1>{KOMMUNE_NAME}: " in text
    assert "Region Hovedstaden · rapportår 2025" in text

    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    if dimension is None:
        assert len(images) == 2  # tile map and ranking
        assert all(f">{code}<" in text for code in registry.CODES)  # every indicator in the overview table
        assert "Faste dialogspørgsmål" in text
    else:
        codes = [i.code for i in registry.by_dimension(dimension)]
        # Per indicator its trend-and-spread figure and, where it has an interval method, its funnel plot.
        funnels = [code for code in codes if registry.get(code).interval != "none"]
        assert len(images) == len(codes) + len(funnels)
        assert sum("Tragt" in str(o["data"].get("text/plain", "")) or "tragt" in str(o["data"].get("text/plain", ""))
                   for o in images) == len(funnels)  # fmt: skip
        for code in codes:
            assert f'<h3 id="{code}">{code} {registry.get(code).name_da}</h3>' in text
        assert "Faste dialogspørgsmål" not in text
    assert "Diskretion og manglende tal" in text
    # Figures are shown as images, never as the text fallback of a figure object.
    assert "<Figure size" not in text


@pytest.mark.notebook
@pytest.mark.timeout(600)
def test_a_kommune_code_outside_the_98_is_refused_in_danish(synthetic_data, tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        execute("overview", "999", tmp_path)
    assert caught.value.ename == "ParameterError"
    assert "Ukendt kommune: «999»" in caught.value.evalue
