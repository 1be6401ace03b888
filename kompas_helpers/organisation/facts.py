"""A boligorganisation's facts: its name, its tilsynskommune and the kommuner where it has afdelinger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kompas_helpers import cuts, danish, kommuner, reportset
from kompas_helpers.errors import ParameterError
from kompas_helpers.report.params import check_year

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

SHEETS_FOLDER = reportset.SHEETS_FOLDER


@dataclass(frozen=True)
class Organisation:
    organisation_id: str
    name: str
    tilsynskommune: str  # the kommune of its hjemsted, which holds the styringsdialog
    kommuner: tuple[str, ...]  # where it has afdelinger: the tilsynskommune first, then by dwellings
    dwellings: int
    afdelinger: int

    @property
    def file_stem(self) -> str:
        """'0001-boligselskabet-lindelund': the sheet's file name without suffix."""
        return reportset.kommune_folder(self.organisation_id, self.name)

    def sheet_path(self) -> str:
        """The sheet's path below the year's output folder, e.g. '101-københavn/organisationer/0001-….html'."""
        name, _region = kommuner.kommune_info(self.tilsynskommune)
        kommune_folder = reportset.kommune_folder(self.tilsynskommune, name)
        return f"{kommune_folder}/{SHEETS_FOLDER}/{self.file_stem}.html"


def _all(b: Bundle) -> dict[str, Organisation]:
    def make() -> dict[str, Organisation]:
        afd, orgs = b.dataset.afdelinger, b.dataset.organisations
        seats = dict(zip(orgs["organisation_id"].astype(str), orgs["hjemsted_kommune_code"].astype(str), strict=True))
        grouped = afd.groupby([afd["organisation_id"].astype(str), afd["kommune_code"].astype(str)], observed=True)
        per = grouped["dwellings"].agg(["sum", "size"]).reset_index()
        per.columns = ["organisation_id", "kommune_code", "dwellings", "afdelinger"]
        per["elsewhere"] = per["kommune_code"].to_numpy() != per["organisation_id"].map(seats).to_numpy()
        # The tilsynskommune first, then the kommuner with the most of its dwellings: one sort for all of them.
        per = per.sort_values(["organisation_id", "elsewhere", "dwellings", "kommune_code"],
                              ascending=[True, True, False, True], kind="stable")  # fmt: skip
        places: dict[str, list[str]] = {}
        totals: dict[str, list[int]] = {}
        for oid, code, dwellings, count in zip(per["organisation_id"], per["kommune_code"], per["dwellings"],
                                               per["afdelinger"], strict=True):  # fmt: skip
            places.setdefault(oid, []).append(code)
            total = totals.setdefault(oid, [0, 0])
            total[0] += int(dwellings)
            total[1] += int(count)
        return {
            oid: Organisation(oid, str(name), seats[oid], tuple(places.get(oid, ())), *totals.get(oid, [0, 0]))
            for oid, name in zip(orgs["organisation_id"].astype(str), orgs["organisation_name"], strict=True)
        }

    return cuts.cached("organisations", b.dataset, make)


def get(b: Bundle, organisation_id: object) -> Organisation:
    """The organisation with this id; ParameterError with a Danish message for an unknown one."""
    found = _all(b).get(str(organisation_id).strip())
    if found is None:
        raise ParameterError(
            f"Ukendt boligorganisation: «{organisation_id}» findes ikke i data. Brug Landsbyggefondens "
            "organisationsnummer som tekst, fx '0001'; kommunens oversigt viser numrene."
        )
    return found


def supervised_by(b: Bundle, kommune_code: str) -> list[Organisation]:
    """The organisations with hjemsted in the kommune (it holds their styringsdialog), by name."""
    found = [o for o in _all(b).values() if o.tilsynskommune == kommune_code]
    return sorted(found, key=lambda o: danish.sort_key(o.name))


def active_in(b: Bundle, kommune_code: str) -> list[Organisation]:
    """The organisations with afdelinger in the kommune, by name."""
    found = [o for o in _all(b).values() if kommune_code in o.kommuner]
    return sorted(found, key=lambda o: danish.sort_key(o.name))


def check_params(b: Bundle, organisation_id: object, year: object) -> tuple[str, int]:
    """The organisation's id and the report year (0 means the latest year), or a ParameterError in Danish."""
    return get(b, organisation_id).organisation_id, check_year(b, year)
