"""The analysts' notebook, run with other parameters than its defaults, shows the table, the filter and the figures.

That it runs top to bottom without errors is nbval's part (every pytest run executes notebooks/ with nbval)."""

from __future__ import annotations

import nbformat
import papermill as pm
import pytest

from kompas_helpers import compute, cuts, kommuner, paths

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(600)]

NOTEBOOK = paths.NOTEBOOKS_DIR / "udforsk.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("udforsk") / "udforsk.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"kommune_code": "461", "indicator": "S3", "year": 2024},
        kernel_name="python3",
        cwd=str(tmp_path_factory.mktemp("cwd")),
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def cell(nb, cell_id: str):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def text_of(c) -> str:
    parts = []
    for output in c.get("outputs", []):
        data = output.get("data", {})
        parts.append(str(data.get("text/html", "")) + str(data.get("text/plain", "")) + str(output.get("text", "")))
    return "".join(parts)


def test_filters_give_the_indicator_the_kommune_and_all_kommuner(executed):
    rows = text_of(cell(executed, "filter"))
    assert rows.startswith("(") and rows.endswith(f", {len(compute.TABLE_COLUMNS)})")
    assert int(rows[1:].split(",")[0]) > len(kommuner.table())
    kommune = text_of(cell(executed, "filter-kommune"))
    assert "S3" in kommune and "national_value" in kommune
    assert f"[{len(kommuner.table())} rows x 9 columns]" in text_of(cell(executed, "filter-kommuner"))


def test_overview_and_header_name_the_chosen_kommune(executed):
    assert kommuner.name("461") in text_of(cell(executed, "header"))
    overview = text_of(cell(executed, "overview"))
    assert kommuner.name("461") in overview and "Hele landet" in overview


def test_the_analyst_sees_intervals_peers_and_verdicts(executed):
    comparison = text_of(cell(executed, "comparison"))
    for column in ("interval_low", "interval_high", "peer_value", "verdict"):
        assert column in comparison
    assert f"[{len(kommuner.table())} rows x {len(cuts.COMPARISON_COLUMNS)} columns]" in comparison
    assert text_of(cell(executed, "peers")).startswith("(")  # Odense's sammenligningskommuner, as a tuple of codes


@pytest.mark.parametrize("cell_id", ["trend", "ranking", "map", "funnel"])
def test_each_chart_cell_shows_one_png(executed, cell_id):
    images = [o for o in cell(executed, cell_id).outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1


def test_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, c.get("id")


def test_the_analyst_gets_one_organisations_sheet_data_and_the_agreements(executed):
    organisation = text_of(cell(executed, "organisation"))
    assert all(code in organisation for code in ("E1", "S8", "G6"))
    assert any(word in organisation for word in ("as_expected", "better", "worse", "too_few"))  # the verdicts
    assert "reported_units" in text_of(cell(executed, "completeness"))
    statuses = text_of(cell(executed, "agreements"))
    assert "status" in statuses and ("ikke på vej" in statuses or "fri tekst" in statuses)
