"""Questions for one organisation's styringsdialog: the folder's six and those drawn from its own figures by the same
rules as the kommune's, naming the organisation and, where useful, its afdelinger."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kompas_helpers.organisation.facts import get
from kompas_helpers.organisation.indicators import organisation_data
from kompas_helpers.report import questions as rules

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

STANDING_QUESTIONS_DA = rules.STANDING_QUESTIONS_DA


def organisation_questions(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """Questions drawn from the organisation's figures (columns Anledning, Målepunkt, Spørgsmål)."""
    org = get(b, organisation_id)
    d = organisation_data(b, organisation_id, year)
    d = d[d["status"] != "none"]  # S2 is the kommune's figure
    national = rules.national_change(b, year, list(d.index))
    return rules.from_figures(
        d,
        national,
        year,
        subject=lambda level: org.name,
        coverage_of="organisationens boliger",
        where="i organisationens afdelinger",
    )
