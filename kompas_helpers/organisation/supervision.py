"""Per kommune the organisations it supervises, with their reporting score and agreements not on track, for the
index of a run and the kommune overview: computed for all of them at once, as a sheet computes them for its own.

A run's index needs them for the run's kommuner. `store` writes them for every kommune beside the dataset's slices
(for its latest year, with a hash of the code computing them) and `stored` gives them back: a run reads its kommuner's
there instead of loading each kommune's slice and computing them again (0.1–0.2 CPU-seconds per kommune, on cores its
notebooks need).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kompas_helpers import agreements, bundle, kommuner, paths
from kompas_helpers.files import atomic_write
from kompas_helpers.organisation import completeness
from kompas_helpers.organisation.facts import supervised_by

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

STORED_FILE = "supervision.json"  # beside the dataset's slices (bundle.slices_dir)


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


def store(data: str | Path | None = None) -> None:
    """Write the figures of every kommune for the dataset's latest year beside its slices (after
    `bundle.write_slices`), unless this code has written them already.

    A dataset they cannot be computed from gets a file without figures: a run then computes them where it did before
    (from its kommuner's slices, while its notebooks run) and reports a failure there, where it is not fatal.
    """
    folder = paths.data_folder(data)
    slices = bundle.current_slices(folder)
    if slices is None:
        return
    target = slices[0]
    if _read(target) is not None:
        return
    whole = bundle.load(folder)
    year = whole.latest_year
    try:
        figures = supervision(whole, year, list(kommuner.table()["kommune_code"]))
    except Exception:
        figures = None
    written = {"code": bundle.package_code_hash(), "year": int(year), "figures": figures}
    with atomic_write(target / STORED_FILE) as tmp:
        tmp.write_text(json.dumps(written, ensure_ascii=False), encoding="utf-8")


def stored(data: str | Path | None, year: int) -> dict[str, list[dict]] | None:
    """The figures of every kommune for `year` as `store` wrote them with this code; None when there are none for that
    year (no slices, a file from other code or none, another year)."""
    slices = bundle.current_slices(paths.data_folder(data))
    found = (_read(slices[0]) if slices is not None else None) or {}
    figures = found.get("figures")
    return figures if isinstance(figures, dict) and found.get("year") == int(year) else None


def _read(target: Path) -> dict | None:
    """What `store` wrote in `target`, if this code wrote it; else None."""
    try:
        found = json.loads((target / STORED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("code") == bundle.package_code_hash() else None
