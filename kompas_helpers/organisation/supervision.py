"""Per kommune the organisations it supervises, with their reporting score and agreements not on track, for the
index of a run and the kommune overview: computed for all of them at once, as a sheet computes them for its own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from kompas_helpers import agreements
from kompas_helpers.organisation import completeness
from kompas_helpers.organisation.facts import supervised_by

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def supervision(b: Bundle, year: int, kommune_codes: Iterable[str]) -> dict[str, list[dict]]:
    """Kommune code -> the organisations it supervises (by name), each a dict: organisation_id, name, stem (the
    sheet's file name without suffix), afdelinger, dwellings, complete and indicators (completeness.score),
    not_on_track and agreements (agreements_view.counts: the organisation's agreements with this kommune)."""
    year = int(year)
    codes = list(dict.fromkeys(str(c) for c in kommune_codes))
    scored = completeness.scores(b, year)
    made = b.dataset.aftaler
    judged = agreements.status(made[made["kommune_code"].astype(str).isin(codes).to_numpy()], b.table, year)
    counts: dict[tuple[str, str], list[int]] = {}
    for org, kommune, state in zip(
        judged["organisation_id"].astype(str), judged["kommune_code"].astype(str), judged["status"], strict=True
    ):
        count = counts.setdefault((org, kommune), [0, 0])
        count[0] += state == agreements.OFF_TRACK
        count[1] += 1
    found: dict[str, list[dict]] = {}
    for code in codes:
        rows = []
        for org in supervised_by(b, code):
            done, of = scored[org.organisation_id]
            behind, made = counts.get((org.organisation_id, code), [0, 0])
            rows.append(
                {
                    "organisation_id": org.organisation_id,
                    "name": org.name,
                    "stem": org.file_stem,
                    "afdelinger": org.afdelinger,
                    "dwellings": org.dwellings,
                    "complete": done,
                    "indicators": of,
                    "not_on_track": int(behind),
                    "agreements": int(made),
                }
            )
        found[code] = rows
    return found
