"""Danish number formats: the fast `fmt.number` writes exactly what Babel's format_decimal writes for da_DK."""

from __future__ import annotations

import math

import numpy as np
import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from kompas_helpers import fmt


def babel_number(value: float, decimals: int) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(float(value), format=pattern, locale=fmt.LOCALE)


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (1234.5, 1, "1.234,5"),
        (1234.5, 0, "1.234"),  # half to even, as Babel
        (2.675, 2, "2,68"),  # rounds the float's shortest decimal form 2.675, not its binary value 2.67499…
        (0.125, 2, "0,12"),
        (-1234.56, 1, "-1.234,6"),
        (-0.04, 0, "-0"),
        (1_000_000, 0, "1.000.000"),
        (np.float64(87.25), 1, "87,2"),
        (np.int64(7), 2, "7,00"),
        (float("inf"), 0, "∞"),  # outside the fast path: Babel itself
        (1e16, 0, "10.000.000.000.000.000"),
    ],
)
def test_number_examples(value, decimals, text):
    assert fmt.number(value, decimals) == text == babel_number(value, decimals)


@pytest.mark.parametrize("value", [None, float("nan"), np.nan])
def test_missing_is_a_dash_never_zero(value):
    assert fmt.number(value, 1) == "–"


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
        st.integers(min_value=-(10**14), max_value=10**14).map(lambda n: n / 2),
        st.integers(min_value=-(10**8), max_value=10**8).map(lambda n: (n + 0.5) / 1000),
        st.decimals(min_value=-1e6, max_value=1e6, places=3, allow_nan=False).map(float),
    ),
    st.integers(min_value=0, max_value=3),
)
def test_number_matches_babel(value, decimals):
    assert math.isfinite(value)
    assert fmt.number(value, decimals) == babel_number(value, decimals)
