"""The 98 kommuner from the reference table, and the one rule for finding a kommune by code."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from kompas_helpers import paths
from kompas_helpers.errors import ParameterError


@lru_cache(maxsize=1)
def _kommuner_cached() -> pd.DataFrame:
    return pd.read_csv(paths.KOMMUNER_CSV, dtype=str, encoding="utf-8")


def table() -> pd.DataFrame:
    """The 98 kommuner from the reference table (code, name, region, ISO region)."""
    return _kommuner_cached().copy()


def name(kommune_code: str) -> str:
    k = _kommuner_cached()
    match = k.loc[k["kommune_code"] == str(kommune_code), "kommune_name"]
    if match.empty:
        raise KeyError(f"Ukendt kommunekode {kommune_code!r}: ikke en af de 98 kommuner")
    return str(match.iloc[0])


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


def kommune_info(kommune_code: str) -> tuple[str, str]:
    """(kommune name, region) for a kommune code; ParameterError with a Danish message for an unknown code."""
    try:
        return lookup()[str(kommune_code)]
    except KeyError:
        raise ParameterError(unknown_kommune_message(kommune_code)) from None


def unknown_kommune_message(kommune_code: object) -> str:
    text = f"Ukendt kommunekode {kommune_code!r}: koden er ikke en af de 98 kommuner."
    normalised = normalise_code(kommune_code)
    if normalised in lookup():
        text += (
            f" Mente du {normalised!r} ({lookup()[normalised][0]})? Koden skrives med cifre og uden foranstillet nul."
        )
    else:
        text += " Brug Danmarks Statistiks kommunekode uden foranstillet nul, fx '101' for København."
    return text
