"""The report set's navigation bar, the notebooks' place and the index's per-organisation figures (no kernels)."""

from __future__ import annotations

import dataclasses

import pytest

from kompas_helpers import compute, kommuner, navigation, reportset, synthesize
from kompas_helpers.bundle import Bundle
from kompas_helpers.organisation import agreements_view, completeness, facts
from kompas_helpers.organisation.supervision import supervision
from tests.unit.test_organisation import _with_agreements

KOBENHAVN = kommuner.find("101")
ALL = navigation.Targets((*reportset.KOMMUNE_TEMPLATES, reportset.EXCEL_JOB))


def nothing_there(path: str) -> bool:
    return False


def hrefs(bar: str) -> list[str]:
    return [part.split('"')[0] for part in bar.split('href="')[1:]]


def test_notebooks_go_in_a_folder_beside_their_page():
    assert reportset.notebook_file("overview") == "notesbøger/overview.ipynb"
    assert reportset.notebook_file("organisationer/0001-nord") == "organisationer/notesbøger/0001-nord.ipynb"
    assert reportset.notebook_file("social", ".fejl.ipynb") == "notesbøger/social.fejl.ipynb"
    assert navigation.notebook_footer("organisationer/0001-nord").endswith(
        'href="notesb%C3%B8ger/0001-nord.ipynb">Notesbogen bag denne side</a>'
    )


def test_a_kommune_page_links_its_set_and_marks_itself():
    bar = navigation.page_nav(KOBENHAVN, "social", "", ALL, nothing_there)
    assert bar.startswith('<nav class="kompas-nav" aria-label="Rapporter for København">')
    assert hrefs(bar) == [
        "../index.html",
        "overview.html",
        "environmental.html",
        "social.html",
        "governance.html",
        "../index.html#kommune-101",
        "n%C3%B8gletal.xlsx",
    ]
    assert bar.count('aria-current="page"') == 1
    assert '<a href="social.html" aria-current="page">Social (S)</a>' in bar


def test_a_sheet_links_back_to_its_tilsynskommune_and_its_pdf_when_the_run_makes_pdfs():
    name = f"{reportset.SHEETS_FOLDER}/0001-nord"
    with_pdf = dataclasses.replace(ALL, pdf=True)
    bar = navigation.page_nav(KOBENHAVN, name, "Nord", with_pdf, nothing_there)
    assert hrefs(bar) == [
        "../../index.html",
        "../overview.html",
        "../environmental.html",
        "../social.html",
        "../governance.html",
        "../../index.html#kommune-101",
        "0001-nord.html",
        "../n%C3%B8gletal.xlsx",
        "0001-nord.pdf",
    ]
    assert '<a href="0001-nord.html" aria-current="page">Dialogark: Nord</a>' in bar
    assert "0001-nord.pdf" not in navigation.page_nav(KOBENHAVN, name, "Nord", ALL, nothing_there)


def test_only_what_the_run_makes_or_what_is_there_is_linked():
    # A run of the sheet alone (--organisation): the kommune's pages from an earlier run are there, E is not.
    there = {"overview.html", "social.html", "governance.html", "overview.pdf"}
    bar = navigation.page_nav(KOBENHAVN, "social", "", navigation.Targets(), there.__contains__)
    assert hrefs(bar) == [
        "../index.html",
        "overview.html",
        "social.html",
        "governance.html",
        "../index.html#kommune-101",
        "overview.pdf",
    ]
    assert "Oversigten som PDF" in bar
    only_overview = navigation.page_nav(
        KOBENHAVN, "overview", "", navigation.Targets(("overview",), pdf=True), nothing_there
    )
    assert "overview.pdf" in hrefs(only_overview) and "environmental.html" not in hrefs(only_overview)


def test_a_pdf_older_than_its_rewritten_page_is_not_linked():
    # A --no-pdf run that rewrites the overview: the overview.pdf of an earlier run goes (the job removes it), so
    # neither the overview nor E, S and G link it; a run that leaves the overview alone still links it.
    there = {"overview.html", "overview.pdf", f"{reportset.SHEETS_FOLDER}/0001-nord.pdf"}.__contains__
    no_pdf = navigation.Targets(("overview", "social"))
    assert "overview.pdf" not in hrefs(navigation.page_nav(KOBENHAVN, "overview", "", no_pdf, there))
    assert "overview.pdf" not in hrefs(navigation.page_nav(KOBENHAVN, "social", "", no_pdf, there))
    assert "overview.pdf" in hrefs(navigation.page_nav(KOBENHAVN, "social", "", navigation.Targets(("social",)), there))
    sheet = f"{reportset.SHEETS_FOLDER}/0001-nord"
    assert "0001-nord.pdf" not in hrefs(navigation.page_nav(KOBENHAVN, sheet, "Nord", no_pdf, there))


def test_links_to_what_is_neither_there_nor_made_become_plain_text(tmp_path):
    year_dir = tmp_path / "2025"
    (year_dir / "860-hjørring" / reportset.SHEETS_FOLDER).mkdir(parents=True)
    (year_dir / "860-hjørring" / reportset.SHEETS_FOLDER / "0028-valmue.html").write_text("ark")
    targets = navigation.Targets(("overview",), sheets_for=("101",))
    live = navigation.live_links(year_dir, KOBENHAVN, "overview", targets)
    body = (
        '<p><a href="organisationer/0001-nord.html">Nord (0001)</a>: made by this run</p>'
        '<p><a href="../860-hj%C3%B8rring/organisationer/0028-valmue.html">Valmue</a>: there already</p>'
        '<p><a href="../461-odense/organisationer/0030-fyn.html">Fyn (0030)</a>: neither</p>'
        '<p><a href="social.html">Social</a>: not made, <a href="#top">top</a>, <a href="https://lbf.dk">LBF</a></p>'
    )
    assert navigation.unlink_dead(body, live) == (
        '<p><a href="organisationer/0001-nord.html">Nord (0001)</a>: made by this run</p>'
        '<p><a href="../860-hj%C3%B8rring/organisationer/0028-valmue.html">Valmue</a>: there already</p>'
        "<p>Fyn (0030): neither</p>"
        '<p>Social: not made, <a href="#top">top</a>, <a href="https://lbf.dk">LBF</a></p>'
    )
    assert live("../index.html") and not live("organisationer/0001-nord.pdf")
    assert navigation.live_links(year_dir, KOBENHAVN, "overview", dataclasses.replace(targets, pdf=True))(
        "organisationer/0001-nord.pdf"
    )


def test_the_index_bar_marks_the_index_and_jumps_to_the_regions():
    bar = navigation.index_nav([("region-hovedstaden", "Region Hovedstaden")])
    assert hrefs(bar) == ["index.html", "#region-hovedstaden"]
    assert '<a href="index.html" aria-current="page">Alle kommuner</a>' in bar


def test_supervision_on_the_handmade_agreements():
    b = _with_agreements()
    found = supervision(b, 2025, ["101", "751", "147"])
    assert found["147"] == []  # Frederiksberg supervises no organisation
    (o1,) = found["101"]
    assert (o1["organisation_id"], o1["stem"], o1["not_on_track"], o1["agreements"]) == (
        "O1", facts.get(b, "O1").file_stem, 1, 2,
    )  # fmt: skip
    assert (o1["complete"], o1["indicators"]) == completeness.score(b, "O1", 2025)
    assert found["751"][0]["agreements"] == 1


@pytest.fixture(scope="module")
def synthetic() -> Bundle:
    from pathlib import Path

    dataset = synthesize.synthesize(seed=11, scale=0.05)
    return Bundle(dataset, compute.indicator_table(dataset), Path("synthetic"), "0" * 64)


def test_a_kommune_s_overview_lists_its_organisations_as_their_sheets_count_them(synthetic):
    # The overview reads the kommune's slice of the table and judges all its organisations at once (supervision);
    # each figure must be the one the sheet's own functions give from the whole table.
    from kompas_helpers import bundle
    from kompas_helpers.organisation import listing

    b, year = synthetic, max(synthetic.years)
    seen = 0
    for code in sorted({o.tilsynskommune for o in facts._all(b).values()})[:12]:
        t = b.table
        rows = t["level"].isin(bundle.SHARED_LEVELS).to_numpy() | (t["kommune_code"].astype(str) == code).to_numpy()
        own = Bundle(b.dataset, t[rows].reset_index(drop=True), b.data_dir, b.data_hash)
        html = listing.listing_html(own, code, year)
        for org in supervision(own, year, [code])[code]:
            done, of = completeness.score(b, org["organisation_id"], year)
            behind, made = agreements_view.counts(b, org["organisation_id"], year, code)
            assert (org["complete"], org["indicators"], org["not_on_track"], org["agreements"]) == (
                done, of, behind, made
            )  # fmt: skip
            assert f"{done} af {of} målepunkter indberettet" in html
            seen += 1
    assert seen >= 12


@pytest.mark.parametrize("latest", [True, False])
def test_supervision_agrees_with_the_sheets_own_functions_for_every_organisation(synthetic, latest):
    # The first year has indicators not yet measured (not counted in the score), the latest has them all.
    b, year = synthetic, max(synthetic.years) if latest else min(synthetic.years)
    codes = [k.code for k in kommuner.all_kommuner()]
    found = supervision(b, year, codes)
    listed = [(code, org) for code in codes for org in found[code]]
    assert len(listed) == len(b.dataset.organisations)  # every organisation under its one tilsynskommune
    for code, org in listed:
        assert facts.get(b, org["organisation_id"]).tilsynskommune == code
        assert (org["complete"], org["indicators"]) == completeness.score(b, org["organisation_id"], year)
        counted = agreements_view.counts(b, org["organisation_id"], year, code)
        assert (org["not_on_track"], org["agreements"]) == counted
    # The comparison proves something only if the figures vary.
    assert any(org["complete"] < org["indicators"] for _code, org in listed)
    if latest:
        assert any(org["not_on_track"] for _code, org in listed)
    else:
        assert all(org["indicators"] < len(completeness._reported_codes()) for _code, org in listed)
