"""What an organisation reported (indberetning): per indicator how many of its afdelinger and dwellings, which
afdelinger are missing and why, and a one-line score the kommune overview lists for all its organisations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kompas_helpers import cuts, danish, fmt, registry
from kompas_helpers.organisation.facts import get

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

# An indicator counts as reported when its figure rests on at least this share of the organisation's dwellings.
COMPLETE_COVERAGE = 0.8
# Why an afdeling has no figure, by the indicator table's status.
REASON_DA = {
    "missing": "ikke indberettet",
    "suppressed": "udeladt af diskretionshensyn",
    "not_applicable": "før målepunktets første år",
}


def _reported_codes() -> list[str]:
    """The indicators an organisation reports (S2 belongs to the kommune)."""
    return [c for c in registry.CODES if registry.get(c).level != "kommune"]


def completeness(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """Per indicator the organisation reports: reported units, coverage, complete (bool), and the afdelinger
    without a figure with the reason (a list of (afdeling name, reason)). Indexed by indicator code; made once per
    table, organisation and year."""
    key = (str(organisation_id), int(year))
    return cuts.cached_item("completeness", b.table, key, lambda: _completeness(b, organisation_id, year))


def _completeness(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    org = get(b, organisation_id)
    afd = b.dataset.afdelinger
    names = dict(zip(afd["afdeling_id"].astype(str), afd["afdeling_name"].astype(str), strict=True))
    rows = []
    for code in _reported_codes():
        i = registry.get(code)
        t = cuts.indicator_year_rows(b.table, code, year)
        own = t[((t["level"] == "organisation") & (t["unit_id"] == org.organisation_id)).to_numpy()]
        status = str(own["status"].iloc[0]) if len(own) else "missing"
        coverage = float(own["coverage"].iloc[0]) if len(own) else 0.0
        if i.level == "afdeling":
            units = t[((t["level"] == "afdeling") & (t["organisation_id"] == org.organisation_id)).to_numpy()]
            unit_status = units["status"].astype(str).to_numpy()
            total = len(units)
            reported = int((unit_status == "reported").sum() + (unit_status == "suppressed").sum())
            pairs = zip(units["unit_id"].astype(str), unit_status, strict=True)
            absent = [(names.get(u, u), REASON_DA[s]) for u, s in pairs if s != "reported"]
        else:
            total, reported = 1, int(status in ("reported", "suppressed"))
            absent = [] if status == "reported" else [("hele organisationen", REASON_DA.get(status, status))]
        if status == "not_applicable":
            coverage = float("nan")
        rows.append(
            {
                "indicator": code,
                "name": i.name_da,
                "level": i.level,
                "units": total,
                "reported_units": reported,
                "coverage": coverage,
                "status": status,
                "complete": status in ("reported", "suppressed") and coverage >= COMPLETE_COVERAGE,
                "applicable": status != "not_applicable",
                "absent": absent,
            }
        )
    return pd.DataFrame(rows).set_index("indicator")


def score(b: Bundle, organisation_id: str, year: int) -> tuple[int, int]:
    """(indicators reported for at least COMPLETE_COVERAGE of the dwellings, indicators the organisation reports
    that year), from the organisation's own rows (so a kommune's slice of the table is enough)."""
    done = of = 0
    for code in _reported_codes():
        t = cuts.indicator_year_rows(b.table, code, year)
        own = t[((t["level"] == "organisation") & (t["unit_id"] == str(organisation_id))).to_numpy()]
        status = str(own["status"].iloc[0]) if len(own) else "missing"
        if status == "not_applicable":
            continue
        of += 1
        coverage = float(own["coverage"].iloc[0]) if len(own) else 0.0
        done += status in ("reported", "suppressed") and coverage >= COMPLETE_COVERAGE
    return int(done), of


def scores(b: Bundle, year: int) -> dict[str, tuple[int, int]]:
    """`score` for every organisation of the dataset at once, from one cut of the year's organisation rows (the
    index of a run lists all 550; `score` one by one takes half a minute)."""
    codes = _reported_codes()
    t = b.table
    rows = t[((t["level"] == "organisation") & (t["year"] == int(year))).to_numpy() & t["indicator"].isin(codes)]
    rows = rows.drop_duplicates(["unit_id", "indicator"])  # as `score`, the first row of each
    status = rows["status"].astype(str)
    complete = status.isin(["reported", "suppressed"]).to_numpy() & (
        rows["coverage"].to_numpy(float) >= COMPLETE_COVERAGE
    )
    units = rows["unit_id"].astype(str).to_numpy()
    done = pd.Series(complete, index=units).groupby(level=0).sum()
    skipped = pd.Series((status == "not_applicable").to_numpy(), index=units).groupby(level=0).sum()
    ids = b.dataset.organisations["organisation_id"].astype(str)
    return {i: (int(done.get(i, 0)), len(codes) - int(skipped.get(i, 0))) for i in ids}


def score_da(b: Bundle, organisation_id: str, year: int) -> str:
    """'17 af 19 målepunkter indberettet for mindst 80 % af boligerne'."""
    done, of = score(b, organisation_id, year)
    return f"{done} af {of} målepunkter indberettet for mindst {fmt.percent(COMPLETE_COVERAGE)} af boligerne"


def completeness_table(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """The completeness as a display table: Kode, Målepunkt, Indberettet, Andel af boligerne, Mangler (afdelinger
    without a figure, named with the reason; at most a few named, the rest counted)."""
    c = completeness(b, organisation_id, year)
    rows = []
    for code, r in c.iterrows():
        unit = ("afdeling", "afdelinger") if r["level"] == "afdeling" else ("enhed", "enheder")
        if not r["applicable"]:
            rows.append([code, r["name"], "–", "–", f"opgøres fra {registry.get(code).first_year}"])
            continue
        absent = r["absent"]
        named = "; ".join(f"{name} ({reason})" for name, reason in absent[:4])
        if len(absent) > 4:
            named += f"; og {danish.count_da(len(absent) - 4, 'afdeling', 'afdelinger')} mere"
        rows.append(
            [
                code,
                r["name"],
                f"{r['reported_units']} af {danish.count_da(r['units'], *unit)}",
                fmt.percent(r["coverage"]),
                named,
            ]
        )
    return pd.DataFrame(rows, columns=["Kode", "Målepunkt", "Indberettet", "Andel af boligerne", "Mangler"])
