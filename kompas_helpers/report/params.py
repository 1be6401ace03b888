"""Checking a report's parameters (kommune code and year) against the data, with Danish messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kompas_helpers import danish, kommuner
from kompas_helpers.errors import ParameterError

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def check_params(b: Bundle, kommune_code: object, year: int) -> tuple[str, int]:
    """Validate a report's parameters against the data; return the kommune's code and the report year.

    The kommune is read by the one rule of `kommuner.find` (code with or without leading zeros, or name); year 0
    means the latest year. Raises ParameterError with a Danish message for an unknown kommune and for a year that
    is not in the data.
    """
    found = kommuner.find(kommune_code)
    if found is None:
        raise ParameterError(kommuner.unknown_message([kommune_code]))
    return found.code, check_year(b, year)


def check_year(b: Bundle, year: object) -> int:
    """The report year (0 means the latest year in the data), or a ParameterError in Danish."""
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
