"""The rules for the aftaler table that span columns or tables: indicator, target and deadline belong together."""

from __future__ import annotations

import numpy as np

from kompas_helpers import registry
from kompas_helpers.io.convert import Located, check_foreign_key, format_number


def check_agreements(located: Located, organisations: Located | None) -> None:
    """Report every broken cross-column rule of the aftaler table (cells that already broke a rule are skipped)."""
    present = set(located.present)
    typed = located.typed
    n = len(typed)
    if (
        "organisation_id" in present
        and organisations is not None
        and organisations.complete
        and "organisation_id" in organisations.present
    ):
        check_foreign_key(
            located,
            "organisation_id",
            organisations.typed["organisation_id"],
            "findes ikke i tabellen organisations – aftalens boligorganisation skal stå i organisations",
        )
    if "indicator" in present:
        indicator = typed["indicator"].astype(object).where(typed["indicator"].notna(), None).to_numpy()
    else:
        indicator = np.full(n, None, dtype=object)
    has_indicator = np.array([code is not None for code in indicator], dtype=bool)

    def empty(column: str) -> np.ndarray:
        """Cells that were empty in the file (not cells that held something unreadable)."""
        return located.raw_empty.get(column, np.zeros(n, dtype=bool))

    if "indicator" in present:
        for column, what in (("target", "et mål"), ("deadline_year", "en frist (det år, målet skal være nået)")):
            if column in present:
                located.emit(
                    has_indicator & empty(column),
                    column,
                    lambda p, what=what, column=column: (
                        f"cellen er tom – en aftale med et målepunkt ({indicator[p]} i kolonnen indicator) skal have "
                        f"{what} i kolonnen {column}"
                    ),
                    show_value=False,
                )
    for column, word in (("baseline", "en udgangsværdi"), ("target", "et mål")):
        if column in present:
            given = ~empty(column) & typed[column].notna().to_numpy()
            located.emit(
                given & ~has_indicator,
                column,
                f"står i en aftale uden målepunkt – {word} kræver en målepunktskode i kolonnen indicator (fx E1); "
                "en aftale uden målepunkt er fri tekst og har hverken udgangsværdi eller mål",
            )
            _check_percent(located, column, indicator)
    if {"year_made", "deadline_year"} <= present:
        made = typed["year_made"].to_numpy(dtype=float)
        deadline = typed["deadline_year"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            early = deadline < made
        located.emit(
            early,
            "deadline_year",
            lambda p: (
                f"ligger før året, aftalen blev indgået ({format_number(made[p])} i kolonnen year_made) – fristen "
                "kan tidligst være samme år"
            ),
        )


def _check_percent(located: Located, column: str, indicator: np.ndarray) -> None:
    """Baselines and targets of an indicator in % lie between 0 and 100 (the unit reports show, e.g. 73 for 73 %)."""
    values = located.typed[column].to_numpy(dtype=float)
    percent = np.array(
        [code in registry.INDICATORS and registry.INDICATORS[code].unit == "%" for code in indicator], dtype=bool
    )
    with np.errstate(invalid="ignore"):
        over = percent & (values > 100)

    def rule(position: int) -> str:
        found = registry.INDICATORS[indicator[position]]
        return (
            f"er for stor – {found.code} {found.name_da} er en andel i %, så værdien skal ligge mellem 0 og 100 "
            "(skriv 73 for 73 %)"
        )

    located.emit(over, column, rule)
