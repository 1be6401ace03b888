"""Danish words and conventions a reader sees: level names, counts, genitive, year spans, dates and sort order."""

from __future__ import annotations

import datetime as dt

from kompas_helpers import fmt

LEVEL_DA = {"afdeling": "afdeling", "organisation": "boligorganisation", "kommune": "kommune"}
# Danish month names (as Babel's da_DK 'MMMM'), so that dating a report does not load Babel's locale data.
MONTHS_DA = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
             "november", "december")  # fmt: skip
MARK_DA = {
    "better": "bedre",
    "worse": "dårligere",
    "same": "ingen klar forskel",
    "too_few": "for få data",
    "in_band": "inden for målbåndet",
    "below_band": "under målbåndet",
    "above_band": "over målbåndet",
    "context": "kontekst",
    "none": "–",
}
# The word shown when a unit has no row at all (e.g. no organisation has its hjemsted in the kommune).
NO_ROW_DA = "–"
_ALPHABET = "abcdefghijklmnopqrstuvwxyzæøå"


def count_da(n: float, singular: str, plural: str) -> str:
    """'1 afdeling', '2 afdelinger', '1.234 afdelinger' (Danish number format)."""
    return f"{fmt.number(n)} {singular if n == 1 else plural}"


def genitive(name: str) -> str:
    """Danish genitive of a name: 'Københavns', but 'Nordfyns'' for names ending in s, x or z."""
    return f"{name}'" if name[-1:].lower() in "sxz" else f"{name}s"


def year_span(years: list[int]) -> str:
    """'2021–2025' for consecutive years, otherwise '2019, 2021, 2022'."""
    years = sorted(years)
    if not years:
        return "ingen år"
    if years == list(range(years[0], years[-1] + 1)) and len(years) > 1:
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(y) for y in years)


def long_date(day: dt.date) -> str:
    """'27. november 2025'."""
    return f"{day.day}. {MONTHS_DA[day.month - 1]} {day.year}"


def timestamp(moment: dt.datetime) -> str:
    """'27.11.2025 kl. 14.05', the form used in reports, workbooks and the index."""
    return moment.strftime("%d.%m.%Y kl. %H.%M")


def sort_key(name: str) -> tuple[int, ...]:
    """Danish alphabetical order: æ, ø and å after z, in that order; case does not matter."""
    return tuple(_ALPHABET.find(ch) for ch in name.casefold())
