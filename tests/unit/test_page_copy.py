"""The copy of a page's first drawing that the page's HTML carries (`page_copy.static_html`, `page_copy.PageRoot`)."""

from __future__ import annotations

import ipywidgets as w

from kompas_helpers import kommuner, page_copy, widgets
from kompas_helpers.organisation.page import OrganisationApp

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_static_html_shows_html_content_choices_as_text_and_the_chosen_tab_only():
    choice = widgets.dropdown([("Aarhus <&>", "751"), ("Odense", "461")], "Kommune", "300px")
    choice.value = "751"
    tabs = w.Tab(children=[w.HTML("<p>første</p>"), w.VBox([w.HTML("<p>anden</p>")])], titles=["Overblik", "Miljø"])
    tabs.selected_index = 1
    root = w.VBox([w.HTML("<h1>Top</h1>"), w.HBox([choice]), tabs, w.Button(description="Ikke med")])

    shown = page_copy.static_html(root)

    assert shown.startswith("<h1>Top</h1>")
    assert "Kommune: <strong>Aarhus &lt;&amp;&gt;</strong>" in shown
    assert page_copy.STATIC_NOTE_DA in shown
    assert '<p class="kompas-static-tab">Miljø</p><p>anden</p>' in shown
    assert "første" not in shown and "Ikke med" not in shown
    assert shown.index("Top") < shown.index("Kommune") < shown.index("anden")


def test_a_drawn_dashboard_carries_its_first_drawing_beside_the_widget_view():
    app = widgets.dashboard_app()
    root = app.open({"kommune": "751"})

    data = root._repr_mimebundle_()

    assert set(data) == {"text/plain", WIDGET_VIEW, "text/html"}
    assert data[WIDGET_VIEW]["model_id"] == root.model_id
    copy = data["text/html"]
    # Everything drawn so far and nothing else: the synthetic banner, the chosen kommune, the heading, the figure.
    assert copy == page_copy.static_html(root)
    assert 'class="kompas-banner"' in copy
    assert f"Kommune: <strong>{kommuner.name('751')}" in copy
    assert app.heading.value in copy and app.headline.value in copy
    assert app.overview["ranking"].value in copy and 'img class="kompas-figure"' in copy


def test_the_copy_follows_the_reader_s_choice_and_a_closed_page_has_none():
    app = widgets.dashboard_app()
    root = app.open({"kommune": "751"})
    app.kommune.value = "461"
    assert f"Kommune: <strong>{kommuner.name('461')}" in root._repr_mimebundle_()["text/html"]
    assert kommuner.name("461") in app.heading.value and app.heading.value in page_copy.static_html(root)
    root.close()
    assert root._repr_mimebundle_ is None  # ipywidgets drops the view of a closed widget: no copy either


def test_compare_and_organisation_pages_carry_a_copy_too():
    compare = widgets.compare_app().open({"indicator": "E1", "kommune": "101"})
    assert 'img class="kompas-figure"' in compare._repr_mimebundle_()["text/html"]
    app = OrganisationApp(widgets.load_bundle())
    sheet = app.open({"kommune": "147"})
    copy = sheet._repr_mimebundle_()["text/html"]
    assert "Boligorganisation: <strong>" in copy and app.parts["heading"].value in copy
