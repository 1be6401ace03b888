"""95 % intervals for indicator figures, by the kind the registry names for each indicator (`Indicator.interval`)."""

from __future__ import annotations

import numpy as np

from kompas_helpers import registry

Z95 = 1.959963984540054
# Student's t, 97.5 % quantile, for 1 to 30 degrees of freedom; beyond 30 the normal quantile is close enough.
T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
# Sums over the units behind a figure that a ratio's interval needs besides the numerator and denominator.
MOMENTS = ("sq_numerator", "sq_denominator", "cross")

METHOD_DA = {
    "wilson": "Wilson-interval for en andel, med antallet af {n} som n",
    "units": "t-interval for et forhold mellem summer, ud fra spredningen mellem de {units} tallet bygger på",
    "index": "normalinterval for et gennemsnit af besvarelser (antaget standardafvigelse {sd} point pr. besvarelse)",
    "none": "intet interval (konteksttal for hele kommunen)",
}


def wilson(successes, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a share successes / n (as fractions); NaN where n is not positive."""
    successes, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.clip(successes / n, 0.0, 1.0)
        denominator = 1.0 + z**2 / n
        centre = (p + z**2 / (2.0 * n)) / denominator
        half = z * np.sqrt(p * (1.0 - p) / n + z**2 / (4.0 * n**2)) / denominator
    bad = ~(n > 0)
    return np.where(bad, np.nan, centre - half), np.where(bad, np.nan, centre + half)


def t_quantile(df) -> np.ndarray:
    """The 97.5 % quantile of Student's t with `df` degrees of freedom (NaN below 1)."""
    df = np.asarray(df, dtype=float)
    table = np.asarray(T975)
    index = np.clip(np.nan_to_num(df, nan=0.0), 1, len(table)).astype(int) - 1
    return np.where(df < 1, np.nan, np.where(df > len(table), Z95, table[index]))


def ratio_over_units(numerator, denominator, sq_numerator, sq_denominator, cross, n_units):
    """Interval for R = Σy / Σx over n units, from the linearised variance of a ratio estimator:
    Var(R) ≈ n / (n − 1) · Σ (y − R·x)² / (Σx)², with t on n − 1 degrees of freedom. NaN for fewer than 2 units."""
    y, x = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    n = np.asarray(n_units, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = y / x
        residual = np.asarray(sq_numerator) - 2.0 * ratio * np.asarray(cross) + ratio**2 * np.asarray(sq_denominator)
        variance = n / (n - 1.0) * np.maximum(residual, 0.0) / x**2
        half = t_quantile(n - 1.0) * np.sqrt(variance)
    bad = ~(n >= 2) | ~(x > 0)
    return np.where(bad, np.nan, np.maximum(ratio - half, 0.0)), np.where(bad, np.nan, ratio + half)


def index_mean(score_sum, respondents, sd: float = registry.INDEX_SD):
    """Normal interval for a mean score (score_sum / respondents) with an assumed standard deviation per answer."""
    total, n = np.asarray(score_sum, dtype=float), np.asarray(respondents, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        half = Z95 * sd / np.sqrt(n)
    bad = ~(n > 0)
    return np.where(bad, np.nan, mean - half), np.where(bad, np.nan, mean + half)


def interval(indicator: registry.Indicator, columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The 95 % interval of every row's value, in the indicator's unit (scaled like the value)."""
    num, den = columns["numerator"], columns["denominator"]
    if indicator.interval == "wilson":
        low, high = wilson(num, den)
    elif indicator.interval == "units":
        low, high = ratio_over_units(num, den, *(columns[m] for m in MOMENTS), columns["n_units"])
    elif indicator.interval == "index":
        low, high = index_mean(num, den)
    else:
        nothing = np.full(len(num), np.nan)
        return nothing, nothing.copy()
    return low * indicator.scale, high * indicator.scale


def method_da(indicator: registry.Indicator) -> str:
    """The interval method for one indicator in plain Danish (for the method notes)."""
    n = registry.MEASURES[indicator.denominator].label_da.lower()
    units = "afdelinger" if indicator.level == "afdeling" else "boligorganisationer"
    return METHOD_DA[indicator.interval].format(n=n, units=units, sd=f"{registry.INDEX_SD:g}")


METHOD_EN = {
    "wilson": "Wilson score interval for a share; n = {n}",
    "units": "t interval for a ratio of sums over the {units} behind the figure (linearised variance, n − 1 df)",
    "index": "normal interval for a mean score; assumed standard deviation {sd} points per respondent",
    "none": "none (a context figure for the whole kommune)",
}


def interval_catalogue_markdown() -> str:
    """The interval method of every indicator as a Markdown table (for data/README.md)."""
    lines = ["| code | indicator | 95 % interval |", "| --- | --- | --- |"]
    for i in registry.INDICATORS.values():
        n = registry.MEASURES[i.denominator].name
        units = "afdelinger" if i.level == "afdeling" else "organisations"
        method = METHOD_EN[i.interval].format(n=f"`{n}`", units=units, sd=f"{registry.INDEX_SD:g}")
        lines.append(f"| {i.code} | {i.name_en} | {method} |")
    return "\n".join(lines) + "\n"


Z998 = 3.090232306167813  # the 99.8 % limits of a funnel plot


def unit_dispersion(numerator, denominator) -> float:
    """σ² = Σ (y − R·x)² / Σ x over the units behind a national figure: the spread of a ratio per unit of its
    denominator, so that a figure over a denominator X has variance σ² / X (the funnel of a ratio over units)."""
    y, x = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    ok = ~np.isnan(y) & ~np.isnan(x) & (x > 0)
    y, x = y[ok], x[ok]
    if len(x) < 2:
        return np.nan
    ratio = y.sum() / x.sum()
    return float(((y - ratio * x) ** 2).sum() / x.sum())


def funnel_limits(indicator: registry.Indicator, national: float, size, z: float, dispersion: float = np.nan):
    """The funnel around the national value at each size (the denominator of a figure): (lower, upper) limits in
    the indicator's unit, for a figure whose only difference from the country is chance."""
    size = np.asarray(size, dtype=float)
    centre = national / indicator.scale
    with np.errstate(invalid="ignore", divide="ignore"):
        if indicator.interval == "wilson":
            se = np.sqrt(centre * (1.0 - centre) / size)
        elif indicator.interval == "index":
            se = registry.INDEX_SD / np.sqrt(size)
        elif indicator.interval == "units":
            se = np.sqrt(dispersion / size)
        else:
            se = np.full(size.shape, np.nan)
    low, high = centre - z * se, centre + z * se
    if indicator.interval == "wilson":
        low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
    return np.maximum(low, 0.0) * indicator.scale, high * indicator.scale
