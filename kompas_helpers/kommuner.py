"""The 98 kommuner from the reference table, and the one rule for finding a kommune by code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from kompas_helpers import paths, reportset
from kompas_helpers.errors import ParameterError


@lru_cache(maxsize=1)
def _kommuner_cached() -> pd.DataFrame:
    return pd.read_csv(paths.KOMMUNER_CSV, dtype=str, encoding="utf-8")


def table() -> pd.DataFrame:
    """The 98 kommuner from the reference table (code, name, region, ISO region)."""
    return _kommuner_cached().copy()


def name(kommune_code: str) -> str:
    """The kommune's name (from the cached lookup); KeyError for a code that is not one of the 98."""
    try:
        return lookup()[str(kommune_code)][0]
    except KeyError:
        raise KeyError(f"Ukendt kommunekode {kommune_code!r}: ikke en af de 98 kommuner") from None


def normalise_code(value: object) -> str:
    """'0101', 101 and '101' all mean København; return the DST form without leading zeros."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit():
        return str(int(text))
    return text


@lru_cache(maxsize=1)
def lookup() -> dict[str, tuple[str, str]]:
    """Kommune code -> (name, region)."""
    k = _kommuner_cached()
    return dict(zip(k["kommune_code"], zip(k["kommune_name"], k["region"], strict=True), strict=True))


@dataclass(frozen=True)
class Kommune:
    code: str
    name: str
    region: str

    @property
    def folder(self) -> str:
        return reportset.kommune_folder(self.code, self.name)


@lru_cache(maxsize=1)
def all_kommuner() -> tuple[Kommune, ...]:
    """The 98 kommuner in the reference table's order."""
    return tuple(Kommune(code, name, region) for code, (name, region) in lookup().items())


@lru_cache(maxsize=1)
def _by_name() -> dict[str, Kommune]:
    return {k.name.casefold(): k for k in all_kommuner()}


def find(value: object) -> Kommune | None:
    """The one rule for naming a kommune, wherever a reader or a run names one: Danmarks Statistik's code with or
    without leading zeros ('751', '0751', 751) or the name in any case ('Aarhus', ' aarhus '); None if no kommune."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    code = normalise_code(text)
    if code in lookup():
        name, region = lookup()[code]
        return Kommune(code, name, region)
    return _by_name().get(text.casefold())


def unknown_message(values: list[object]) -> str:
    """The one Danish message for kommuner that `find` does not know (values as the reader wrote them)."""
    listed = ", ".join(f"«{v}»" for v in values)
    return (
        f"Ukendt kommune: {listed} er ikke en af de 98 kommuner. Brug Danmarks Statistiks kommunekode (fx 101 for "
        "København, 751 for Aarhus) eller kommunens navn."
    )


def kommune_info(kommune_code: str) -> tuple[str, str]:
    """(kommune name, region) for a kommune's code as `find` returns it; ParameterError for anything else."""
    try:
        return lookup()[str(kommune_code)]
    except KeyError:
        raise ParameterError(unknown_message([kommune_code])) from None
