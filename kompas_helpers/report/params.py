"""Checking a report's parameters (kommune code and year) against the data, with Danish messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kompas_helpers import danish, kommuner
from kompas_helpers.errors import ParameterError

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def check_params(b: Bundle, kommune_code: str, year: int) -> int:
    """Validate a report's parameters against the data and return the report year (0 means the latest year).

    Raises ParameterError with a Danish message for a kommune code that is not one of the 98 kommuner (or not
    text) and for a year that is not in the data.
    """
    if not isinstance(kommune_code, str):
        raise ParameterError(
            f"Kommunekoden skal være tekst, fx '101', ikke {type(kommune_code).__name__} {kommune_code!r}. "
            "Med papermill på kommandolinjen: brug -r kommune_code 101 (rå tekst) i stedet for -p."
        )
    if kommune_code not in kommuner.lookup():
        raise ParameterError(kommuner.unknown_kommune_message(kommune_code))
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise ParameterError(f"Året skal være et heltal, fx 2024 (eller 0 for det seneste år), ikke {year!r}.")
    if int(year) == 0:
        return int(b.latest_year)
    if int(year) not in b.years:
        raise ParameterError(
            f"Året {int(year)} findes ikke i data. Data dækker {danish.year_span(b.years)}; vælg et af de år, "
            "eller 0 for det seneste år."
        )
    return int(year)
