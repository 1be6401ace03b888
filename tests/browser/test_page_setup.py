"""Fast checks of what the pages rely on: the server settings, the checks of URL values, the page notebooks."""

from __future__ import annotations

from pathlib import Path

import jinja2
import nbformat
import pytest

from kompas_helpers import paths, serve, widgets
from kompas_helpers.serve_handlers import NotFoundHandler

PAGES = ["dashboard.ipynb", "compare.ipynb"]
CODES = ["101", "751", "461"]
YEARS = [2021, 2022, 2023, 2024, 2025]


def test_meeting_room_settings():
    c = serve.voila_config(serve.ServeOptions(port=9999, cell_timeout=77, cull_idle_timeout=600, cull_interval=30))
    assert c.Voila.ip == "127.0.0.1" and c.Voila.port == 9999 and c.Voila.config_file_paths == []
    assert c.VoilaConfiguration.strip_sources is True
    assert c.VoilaConfiguration.show_tracebacks is False and c.VoilaExecutor.show_tracebacks is False
    assert c.VoilaConfiguration.allow_template_override == "NO"
    assert c.VoilaConfiguration.allow_theme_override == "NO"
    assert c.VoilaConfiguration.file_allowlist == []
    assert c.Voila.tornado_settings == {"default_handler_class": NotFoundHandler}
    assert c.MappingKernelManager.cull_idle_timeout == 600 and c.MappingKernelManager.cull_interval == 30
    pools = c.VoilaKernelManager.kernel_pools_config
    assert pools["default"]["pool_size"] == 0
    assert {page: pools[page]["pool_size"] for page in PAGES} == {"dashboard.ipynb": 2, "compare.ipynb": 2}


def test_only_the_cell_waiting_for_a_request_runs_without_a_time_limit():
    timeout = serve.voila_config(serve.ServeOptions(cell_timeout=77)).VoilaExecutor.timeout_func
    assert timeout(nbformat.v4.new_code_cell("x = 1")) == 77
    waiting = nbformat.v4.new_code_cell("widgets.wait_for_request()", metadata={"tags": [serve.WAIT_TAG]})
    assert timeout(waiting) is None


def test_without_preheating_no_pool_is_kept():
    c = serve.voila_config(serve.ServeOptions(preheat=False))
    assert c.VoilaConfiguration.preheat_kernel is False and c.VoilaConfiguration.default_pool_size == 0


@pytest.mark.parametrize(
    ("value", "expected"), [("751", "751"), ("0751", "751"), (" aarhus ", "751"), ("KØBENHAVN", "101"), (101, "101")]
)
def test_kommune_codes_and_names_are_accepted(value, expected):
    assert widgets.check_kommune(value, CODES) == widgets.Checked(expected, "")


def test_unknown_kommune_gives_the_danish_message():
    checked = widgets.check_kommune("999", CODES)
    assert checked.value is None
    assert checked.message == (
        "Ukendt kommune: «999» er ikke en af de 98 kommuner. Brug Danmarks Statistiks kommunekode (fx 101 for "
        "København, 751 for Aarhus) eller kommunens navn."
    )


def test_values_from_the_url_are_escaped_and_cut():
    checked = widgets.check_kommune("<script>alert(1)</script>" + "x" * 50, CODES)
    assert "<script>" not in checked.message and "&lt;script&gt;" in checked.message
    assert "x" * 30 not in checked.message


@pytest.mark.parametrize(("value", "expected"), [("2024", 2024), (2021, 2021), ("", None), (None, None)])
def test_years_in_the_data_are_accepted(value, expected):
    assert widgets.check_year(value, YEARS) == widgets.Checked(expected, "")


@pytest.mark.parametrize("value", ["2030", "1999", "-1", "2024.0", "år"])
def test_other_years_give_the_danish_message(value):
    checked = widgets.check_year(value, YEARS)
    assert checked.value is None
    assert checked.message.startswith("Året ") and "Vælg et af årene 2021–2025." in checked.message


def test_indicators_are_checked_against_the_registry():
    assert widgets.check_indicator("s3").value == "S3"
    assert widgets.check_indicator("X9").message.startswith("Indikatoren X9 findes ikke.")


def test_query_string_takes_the_first_value_of_each_parameter():
    assert widgets.query_params("kommune=751&year=2024&kommune=101&token=abc") == {
        "kommune": "751",
        "year": "2024",
        "token": "abc",
    }
    assert widgets.query_params("") == {}


@pytest.mark.parametrize("page", PAGES)
def test_page_notebooks_are_thin_clean_and_wait_for_the_request(page):
    nb = nbformat.read(paths.NOTEBOOKS_DIR / page, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    waiting = [c for c in code if serve.WAIT_TAG in c.metadata.get("tags", [])]
    assert [c.source.strip().splitlines()[-1] for c in waiting] == ["widgets.wait_for_request()"]
    # Everything after the wait reads the URL at request time; nothing before it may.
    before = "".join(c.source for c in code[: code.index(waiting[0])])
    assert "query_params" not in before and "QUERY_STRING" not in before
    assert all("def " not in c.source and "class " not in c.source for c in code)
    assert nb.metadata.get("title")


@pytest.mark.parametrize(
    ("status", "heading", "explanation"),
    [
        (404, "Siden findes ikke", "Der er ingen side på denne adresse."),
        (403, "Der opstod en fejl", "Du har ikke adgang til siden."),
        (400, "Der opstod en fejl", "Adressen kunne ikke læses."),
        (405, "Der opstod en fejl", "Siden kunne ikke vises."),
        (500, "Der opstod en fejl", "fejl på serveren"),
        (503, "Der opstod en fejl", "fejl på serveren"),
    ],
)
def test_error_pages_come_from_our_template_in_danish(monkeypatch, status, heading, explanation):
    # Voilà's template search path, as `kompas serve` sets it up, and Jupyter Server's choice of error template.
    from voila.paths import collect_template_paths

    monkeypatch.setenv("JUPYTER_PATH", str(serve.JUPYTER_DATA_DIR))
    search_path = collect_template_paths(["voila", "nbconvert"], serve.TEMPLATE, prune=True)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search_path), extensions=["jinja2.ext.i18n"], autoescape=True
    )
    try:
        template = env.get_template(f"{status}.html")
    except jinja2.TemplateNotFound:
        template = env.get_template("error.html")
    assert Path(template.filename).parent == serve.JUPYTER_DATA_DIR / "voila" / "templates" / serve.TEMPLATE

    html = template.render(
        status_code=status,
        status_message="Internal Server Error",
        message="Traceback (most recent call last): KeyError: 'hemmelig'",
        exception=RuntimeError("hemmelig"),
        base_url="/kompas/",
    )
    assert f"<h1>{heading}</h1>" in html and f"Fejlkode {status}" in html and explanation in html
    assert '<a href="/kompas/voila/render/dashboard.ipynb">Gå til Kommunens ESG-kompas</a>' in html
    assert '<html lang="da">' in html and '<meta charset="utf-8">' in html
    for leak in ("Traceback", "hemmelig", "Internal Server Error", "Voilà", "<script", "://"):
        assert leak not in html
