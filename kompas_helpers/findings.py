"""What a chart shows, in Danish sentences for its alt text, made from the plotted (shown) figures only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kompas_helpers import danish, fmt, registry


def _value(code: str, value: float) -> str:
    ind = registry.get(code)
    if ind.unit == "indeks":
        return f"{fmt.number(value, ind.decimals)} (indeks)"
    return fmt.with_unit(value, ind.unit, ind.decimals)


def _number(code: str, value: float) -> str:
    return fmt.number(value, registry.get(code).decimals)


def _shown(years: Sequence[int], values: Sequence[float]) -> list[tuple[int, float]]:
    """The (year, value) pairs with a figure: missing and suppressed years are NaN and are never described."""
    return [(int(y), float(v)) for y, v in zip(years, values, strict=True) if np.isfinite(v)]


def trend(
    code: str, place: str, years: Sequence[int], values: Sequence[float], national: Sequence[float] | None = None
) -> str:
    """'Energiforbrug i Aarhus faldt fra 131 til 118 kWh/m² fra 2019 til 2025; landet: 124 kWh/m² i 2025.'

    From the first to the last year with a shown figure; the country's figure is that of the last year, when shown.
    A change across a series break says so: a reader who cannot see the chart's caption must not take a change of
    method for a change in the figures.
    """
    name = registry.get(code).name_da
    shown = _shown(years, values)
    if not shown:
        return f"{name} i {place}: ingen tal at vise."
    (first_year, first), (last_year, last) = shown[0], shown[-1]
    if len(shown) == 1:
        text = f"{name} i {place} var {_value(code, last)} i {last_year}"
    elif _number(code, first) == _number(code, last):
        text = f"{name} i {place} lå uændret på {_value(code, last)} fra {first_year} til {last_year}"
    else:
        verb = "steg" if last > first else "faldt"
        text = (
            f"{name} i {place} {verb} fra {_number(code, first)} til {_value(code, last)} "
            f"fra {first_year} til {last_year}"
        )
    crossed = [year for year, _why in registry.get(code).series_breaks if first_year < year <= last_year]
    if crossed:
        years_da = " og ".join(str(year) for year in crossed)
        text += f" (databrud i {years_da}: tallene før og efter er ikke direkte sammenlignelige)"
    if national is not None:
        country = dict(_shown(years, national))
        if last_year in country:
            text += f"; landet: {_value(code, country[last_year])}"
            text += "" if len(shown) == 1 else f" i {last_year}"
    return text + "."


def spread(code: str, place: str, year: int, values: Sequence[float], median: bool = True) -> str:
    """'De 32 afdelinger med tal i Jammerbugt i 2025 ligger mellem 80 og 190 kWh/m²; medianen er 120 kWh/m².'

    `values` are the afdelinger shown (reported, past discretion); the median only when the chart draws it.
    """
    shown = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if not len(shown):
        return f"Ingen afdelinger i {place} har tal i {year}."
    if len(shown) == 1:
        return f"Én afdeling i {place} har tal i {year}: {_value(code, shown[0])}."
    text = (
        f"De {danish.count_da(len(shown), 'afdeling', 'afdelinger')} med tal i {place} i {year} ligger mellem "
        f"{_number(code, shown.min())} og {_value(code, shown.max())}"
    )
    if median:
        text += f"; medianen er {_value(code, float(np.median(shown)))}"
    return text + "."


def ranking(code: str, year: int, place: str | None, rank: float | None, ranked: int, value: float | None) -> str:
    """'I 2025 er Aarhus nr. 12 af 95 kommuner på Energiforbrug (118 kWh/m²; nr. 1 er bedst).'"""
    name = registry.get(code).name_da
    context = registry.get(code).direction == "context"
    if place is None:
        return f"{name} i {year}: {danish.count_da(ranked, 'kommune', 'kommuner')} har tal."
    if value is None or not np.isfinite(value):
        return f"{place} har intet tal for {name} i {year}."
    if rank is None or not np.isfinite(rank):
        return f"{name} i {place} er {_value(code, value)} i {year}; for få data til at rangere kommunen."
    order = "fra højeste værdi" if context else "nr. 1 er bedst"
    return f"I {year} er {place} nr. {int(rank)} af {ranked} kommuner på {name} ({_value(code, value)}; {order})."


def funnel(
    code: str, year: int, above: int, below: int, of: int, national: float, place: tuple[str, str] | None = None
) -> str:
    """'Landet: 124 kWh/m² i 2025. 7 af 98 kommuner ligger over og 5 under tragtens 95 %-grænser; Aarhus ligger
    inden for.' (`place`: the highlighted kommune's name and 'over', 'under' or 'inden for')."""
    text = (
        f"Landet: {_value(code, national)} i {year}. {above} af {danish.count_da(of, 'kommune', 'kommuner')} ligger "
        f"over og {below} under tragtens 95 %-grænser"
    )
    return text + (f"; {place[0]} ligger {place[1]}." if place else ".")


def extremes(code: str, year: int, names: Sequence[str], values: Sequence[float]) -> str:
    """'Lavest: Aarhus (98 kWh/m²); højest: Læsø (170 kWh/m²); 96 kommuner med tal i 2025.'"""
    pairs = [(n, float(v)) for n, v in zip(names, values, strict=True) if np.isfinite(v)]
    if not pairs:
        return f"Ingen kommuner har tal i {year}."
    low = min(pairs, key=lambda p: p[1])
    high = max(pairs, key=lambda p: p[1])
    return (
        f"Lavest: {low[0]} ({_value(code, low[1])}); højest: {high[0]} ({_value(code, high[1])}); "
        f"{danish.count_da(len(pairs), 'kommune', 'kommuner')} med tal i {year}."
    )
