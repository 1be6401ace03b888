"""The index's search in real headless Chromium: typing filters kommuner and organisations, with no network."""

from __future__ import annotations

from playwright.sync_api import expect

from kompas_helpers import indexpage

STARTED = "2025-03-01T10:00:00+01:00"


def _org(organisation_id: str, name: str) -> dict:
    stem = f"{organisation_id}-{name.lower().replace(' ', '-')}"
    return {"organisation_id": organisation_id, "name": name, "stem": stem, "afdelinger": 3, "dwellings": 300,
            "complete": 18, "indicators": 19, "not_on_track": 1, "agreements": 2}  # fmt: skip


def _entry(name: str, region: str, folder: str, organisations: list[dict]) -> dict:
    outputs = {"overview": {"title": "Oversigt", "status": "ok", "files": ["overview.html"], "run_started": STARTED}}
    return {"kommune_name": name, "region": region, "folder": folder, "outputs": outputs,
            "organisations": organisations}  # fmt: skip


MANIFEST = {
    "year": 2025,
    "synthetic": True,
    "data_hash": "0" * 64,
    "package_version": "0",
    "run": {"started": STARTED, "counts": {"ok": 3, "failed": 0, "interrupted": 0}},
    "reports": {
        "101": _entry("København", "Region Hovedstaden", "101-københavn",
                      [_org("0001", "Boligselskabet Svanebolig"), _org("0002", "Boligselskabet Dalhus")]),
        "147": _entry("Frederiksberg", "Region Hovedstaden", "147-frederiksberg", []),
        "751": _entry("Aarhus", "Region Midtjylland", "751-aarhus", [_org("0022", "Boligselskabet Møllegård")]),
    },
}  # fmt: skip


def test_typing_filters_kommuner_and_organisations_offline(page, tmp_path):
    index = tmp_path / "index.html"
    index.write_text(indexpage.index_html(MANIFEST, present=lambda folder, file: True), encoding="utf-8")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(index.as_uri())
    box = page.get_by_label("Søg efter kommune eller boligorganisation (navn eller nummer)")
    kommune = {code: page.locator(f"#kommune-{code}") for code in ("101", "147", "751")}
    midtjylland = page.locator("#region-midtjylland")
    svanebolig, dalhus = page.get_by_role("row", name="Svanebolig"), page.get_by_role("row", name="Dalhus")

    box.fill("svane")  # an organisation's name: its kommune and its own row only
    expect(kommune["147"]).to_be_hidden()
    expect(midtjylland).to_be_hidden()
    expect(kommune["101"]).to_be_visible()
    expect(svanebolig).to_be_visible()
    expect(dalhus).to_be_hidden()
    expect(page.locator("#kompas-soeg-status")).to_have_text("Søgningen passer på 1 kommune og 1 boligorganisation.")

    box.fill("0751")  # a kommune's code with a leading zero: the kommune with all its organisations
    expect(kommune["751"]).to_be_visible()
    expect(kommune["101"]).to_be_hidden()
    expect(page.get_by_role("row", name="Møllegård")).to_be_visible()

    box.fill("FREDERIKSBERG")  # a name in any case
    expect(kommune["147"]).to_be_visible()
    expect(kommune["101"]).to_be_hidden()

    box.fill("")  # everything again
    for section in kommune.values():
        expect(section).to_be_visible()
    expect(dalhus).to_be_visible()
    assert [url for url in requests if not url.startswith("file:")] == []
