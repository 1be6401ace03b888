"""The rules for the measures table: known measures, units at the right level, limits and shares."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from kompas_helpers import registry
from kompas_helpers.io.convert import Located, format_number

_LEVEL_DA = {"afdeling": "afdeling", "organisation": "boligorganisation"}


def _measure_label(name: str) -> str:
    measure = registry.MEASURES[name]
    return f'"{name}" ({measure.label_da})'


def check_measures(located: Located, afdelinger: Located | None, organisations: Located | None) -> None:
    if "measure" not in located.present:
        return
    typed = located.typed
    codes, names = pd.factorize(typed["measure"])
    names = [str(n) for n in names]
    n = len(names)
    known = np.array([name in registry.MEASURES for name in names] + [False], dtype=bool)
    source = np.array([registry.MEASURES[name].source if name in registry.MEASURES else "" for name in names] + [""])
    level = np.array(
        [registry.measure_level(name) if src == "measures" else "" for name, src in zip(names, source[:n], strict=True)]
        + [""],
        dtype=object,
    )
    index = np.where(codes >= 0, codes, n)

    unknown = (codes >= 0) & ~known[index]
    input_names = list(registry.input_measures())

    def unknown_rule(position: int) -> str:
        value = str(typed["measure"].iloc[position])
        guess = difflib.get_close_matches(value, input_names, n=1, cutoff=0.6)
        hint = f' – mente du "{guess[0]}"?' if guess else ""
        return f"er ikke en kendt måling{hint} Se listen over målinger i data/README.md"

    located.emit(unknown, "measure", unknown_rule)
    elsewhere = known[index] & (source[index] != "measures")

    def elsewhere_rule(position: int) -> str:
        name = str(typed["measure"].iloc[position])
        table = {"afdeling": "afdelinger", "kommune_context": "kommune_context"}[registry.MEASURES[name].source]
        return f"hører ikke til i measures – den står som kolonnen {name} i tabellen {table}"

    located.emit(elsewhere, "measure", elsewhere_rule)
    valid_measure = known[index] & (source[index] == "measures")

    # unit_id must exist at the measure's level
    if "unit_id" in located.present:
        units = typed["unit_id"]
        for lvl, other, id_column in (
            ("afdeling", afdelinger, "afdeling_id"),
            ("organisation", organisations, "organisation_id"),
        ):
            if other is None or not other.complete or id_column not in other.present:
                continue
            at_level = valid_measure & (level[index] == lvl) & units.notna().to_numpy()
            bad = at_level & ~units.isin(set(other.typed[id_column].dropna())).to_numpy()
            table = "afdelinger" if lvl == "afdeling" else "organisations"

            def unit_rule(position: int, lvl=lvl, table=table, id_column=id_column) -> str:
                name = str(typed["measure"].iloc[position])
                return (
                    f"er ikke et {id_column} i tabellen {table} – målingen {_measure_label(name)} opgøres pr. "
                    f"{_LEVEL_DA[lvl]}, så unit_id skal være et {id_column}"
                )

            located.emit(bad, "unit_id", unit_rule)

    if "value" not in located.present:
        return
    values = typed["value"].to_numpy(dtype=float)
    measure_of = [registry.MEASURES.get(name) for name in names] + [None]
    low = np.array([m.min_value if m and m.min_value is not None else -np.inf for m in measure_of])[index]
    high = np.array([m.max_value if m and m.max_value is not None else np.inf for m in measure_of])[index]
    integer = np.array([bool(m and m.integer) for m in measure_of])[index]
    with np.errstate(invalid="ignore"):
        below = valid_measure & (values < low)
        above = valid_measure & (values > high)
        fractional = valid_measure & integer & (np.mod(values, 1) != 0) & ~np.isnan(values)

    def limit_rule(position: int) -> str:
        measure = registry.MEASURES[str(typed["measure"].iloc[position])]
        value = values[position]
        label = _measure_label(measure.name)
        if value < measure.min_value:
            if value < 0 <= measure.min_value and measure.min_value == 0:
                return f"er negativ – {label} kan ikke være under 0"
            return f"er for lille – {label} skal være mindst {format_number(measure.min_value)}"
        return f"er for stor – {label} er i {measure.unit} og kan højst være {format_number(measure.max_value)}"

    located.emit(below | above, "value", limit_rule)
    located.emit(
        fractional,
        "value",
        lambda p: (
            f"har decimaler – {_measure_label(str(typed['measure'].iloc[p]))} er et antal og skal være et helt tal"
        ),
    )
    # Values that already broke a rule are left out of the share checks (no follow-up errors).
    checked = np.where(below | above | fractional, np.nan, values)
    _check_shares(located, afdelinger, codes, names, checked)
    _check_part_of_dwellings(located, afdelinger, codes, names, checked)


def _afdeling_column(afdelinger: Located | None, column: str) -> pd.Series | None:
    """The afdelinger column indexed by afdeling_id, when the table is complete enough to check against."""
    if afdelinger is None or not afdelinger.complete or not {"afdeling_id", column} <= set(afdelinger.present):
        return None
    return afdelinger.typed.drop_duplicates("afdeling_id").set_index("afdeling_id")[column]


def _check_part_of_dwellings(
    located: Located, afdelinger: Located | None, codes: np.ndarray, names: list[str], values: np.ndarray
) -> None:
    """Measures in PART_OF_DWELLINGS must not exceed the afdeling's dwellings (any year: dwellings is static)."""
    if "unit_id" not in located.present:
        return
    dwellings = _afdeling_column(afdelinger, "dwellings")
    if dwellings is None:
        return
    code_of = {name: i for i, name in enumerate(names)}
    for name in registry.PART_OF_DWELLINGS:
        if name not in code_of:
            continue
        positions = np.flatnonzero((codes == code_of[name]) & ~np.isnan(values))
        limits = located.typed["unit_id"].iloc[positions].map(dwellings).to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            over = values[positions] > limits
        if not over.any():
            continue
        mask = np.zeros(len(located.typed), dtype=bool)
        mask[positions[over]] = True
        limit_of = dict(zip(positions[over], limits[over], strict=True))

        def rule(position: int, name=name, limit_of=limit_of) -> str:
            return (
                f"er større end afdelingens antal boliger ({format_number(limit_of[position])} i kolonnen dwellings "
                f"i tabellen afdelinger) – målingen {_measure_label(name)} kan ikke overstige antallet af boliger i "
                "afdelingen"
            )

        located.emit(mask, "value", rule)


def _check_shares(
    located: Located, afdelinger: Located | None, codes: np.ndarray, names: list[str], values: np.ndarray
) -> None:
    """For % indicators, the numerator must not exceed the denominator for the same unit and year."""
    typed = located.typed
    if not {"year", "unit_id", "value"} <= set(located.present):
        return
    code_of = {name: i for i, name in enumerate(names)}
    for indicator in registry.INDICATORS.values():
        numerator = registry.MEASURES.get(indicator.numerator)
        denominator = registry.MEASURES.get(indicator.denominator)
        if indicator.unit != "%" or numerator is None or denominator is None or numerator.source != "measures":
            continue
        if indicator.numerator not in code_of:
            continue
        num_positions = np.flatnonzero((codes == code_of[indicator.numerator]) & ~np.isnan(values))
        if not len(num_positions):
            continue
        num = typed.iloc[num_positions][["year", "unit_id"]].reset_index(drop=True)
        if denominator.source == "measures":
            if indicator.denominator not in code_of:
                continue
            den_positions = np.flatnonzero(codes == code_of[indicator.denominator])
            den = typed.iloc[den_positions][["year", "unit_id"]].assign(value=values[den_positions])
            den = den.drop_duplicates(["year", "unit_id"])
            den_values = num.merge(den, on=["year", "unit_id"], how="left")["value"].to_numpy(dtype=float)
        elif denominator.source == "afdeling":
            lookup = _afdeling_column(afdelinger, denominator.name)
            if lookup is None:
                continue
            den_values = num["unit_id"].map(lookup).to_numpy(dtype=float, na_value=np.nan)
        else:
            continue
        num_values = values[num_positions]
        with np.errstate(invalid="ignore"):
            over = num_values > den_values * (1 + 1e-9) + 1e-9
        if not over.any():
            continue
        mask = np.zeros(len(typed), dtype=bool)
        mask[num_positions[over]] = True
        den_of = dict(zip(num_positions[over], den_values[over], strict=True))
        unit_word = "afdeling" if indicator.level == "afdeling" else "boligorganisation"

        def rule(position: int, indicator=indicator, den_of=den_of, unit_word=unit_word) -> str:
            return (
                f'er større end nævneren – "{indicator.numerator}" kan ikke overstige "{indicator.denominator}" '
                f"({format_number(den_of[position])}) for samme {unit_word} og år, da andelen i "
                f"{indicator.code} {indicator.name_da} ellers bliver over 100 %"
            )

        located.emit(mask, "value", rule)
