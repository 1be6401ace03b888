"""The measure catalogue and the share rules, as tables and as Markdown for data/README.md."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from kompas_helpers import model, registry
from kompas_helpers.io.convert import format_number


def measure_catalogue() -> pd.DataFrame:
    """One row per measure: where it is supplied, its unit, level, limits, and which indicators use it."""
    used: dict[str, list[str]] = {}
    for indicator in registry.INDICATORS.values():
        for role, name in (("numerator", indicator.numerator), ("denominator", indicator.denominator)):
            used.setdefault(name, []).append(f"{indicator.code} {role}")
        for supporting in indicator.supporting:
            used.setdefault(supporting.measure, []).append(f"{indicator.code} supporting")
    rows = []
    for measure in registry.MEASURES.values():
        low, high = measure.min_value, measure.max_value
        if measure.source == "measures":
            where, level = "measures", registry.measure_level(measure.name)
        else:
            table = model.AFDELINGER if measure.source == "afdeling" else model.KOMMUNE_CONTEXT
            where = f"{table.name} (column)"
            level = "afdeling" if measure.source == "afdeling" else "kommune"
            column = {c.name: c for c in table.columns}[measure.name]
            low, high = column.min_value, column.max_value
        rows.append(
            {
                "measure": measure.name,
                "label_da": measure.label_da,
                "unit": measure.unit,
                "table": where,
                "level": level,
                "min": low,
                "max": high,
                "integer": measure.integer,
                "used_in": ", ".join(used.get(measure.name, [])),
            }
        )
    return pd.DataFrame(rows)


def share_rules() -> pd.DataFrame:
    """The "must not exceed" rules that read_input checks: numerator <= denominator for indicators in % with a
    measures numerator, and the supporting counts in PART_OF_DWELLINGS <= the afdeling's dwellings."""
    rows = [
        {
            "indicator": i.code,
            "name_da": i.name_da,
            "numerator": i.numerator,
            "denominator": i.denominator,
            "denominator_table": "measures" if registry.MEASURES[i.denominator].source == "measures" else "afdelinger",
        }
        for i in registry.INDICATORS.values()
        if i.unit == "%" and registry.MEASURES[i.numerator].source == "measures"
    ]
    for name in registry.PART_OF_DWELLINGS:
        user = next(i for i in registry.INDICATORS.values() if any(s.measure == name for s in i.supporting))
        rows.append(
            {
                "indicator": user.code,
                "name_da": f"{user.name_da} (støttetal)",
                "numerator": name,
                "denominator": "dwellings",
                "denominator_table": "afdelinger",
            }
        )
    return pd.DataFrame(rows)


def _markdown(headers: list[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _limit_text(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    return "> 0" if 0 < value < 0.001 else format_number(value)


def measure_catalogue_markdown() -> str:
    """The measure catalogue and the share rules as Markdown tables (pasted into data/README.md)."""
    catalogue = _markdown(
        ["Measure", "Meaning (Danish label)", "Unit", "Table", "Level", "Min", "Max", "Whole number", "Used in"],
        (
            (
                f"`{r.measure}`",
                r.label_da,
                r.unit,
                r.table,
                r.level,
                _limit_text(r.min),
                _limit_text(r.max),
                "yes" if r.integer else "no",
                r.used_in,
            )
            for r in measure_catalogue().itertuples(index=False)
        ),
    )
    shares = _markdown(
        ["Indicator", "Numerator (measures)", "must not exceed", "Denominator from"],
        (
            (f"{r.indicator} {r.name_da}", f"`{r.numerator}`", f"`{r.denominator}`", r.denominator_table)
            for r in share_rules().itertuples(index=False)
        ),
    )
    intro = (
        "Shares cannot exceed 100 %, and a supporting count cannot exceed what it counts. For the same unit and year:"
    )
    return f"{catalogue}\n\n{intro}\n\n{shares}"
