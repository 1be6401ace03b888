"""Converting one table's raw cells to typed columns and checking its rules, keys and references."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd

from kompas_helpers import kommuner, model
from kompas_helpers.io.problems import Problem
from kompas_helpers.io.readers import Piece

_NUMBER_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_THOUSANDS_RE = r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?"
_TRUE = frozenset({"true", "sand", "ja", "1", "1.0", "1,0", "yes"})
_FALSE = frozenset({"false", "falsk", "nej", "0", "0.0", "0,0", "no"})
_SUBJECTS = {
    "m²": "arealet",
    "dwellings": "antallet af boliger",
    "persons": "antallet af personer",
    "year": "årstallet",
}


class Located:
    """A table's cells from all its pieces, with each row's file, sheet and row number, and its problems."""

    def __init__(self, table: model.Table, pieces: list[Piece], problems: list[Problem]):
        self.table = table
        self.problems = problems
        self.present = [c for c in table.column_names if all(c not in p.missing for p in pieces)]
        # Rows were lost (ragged or broken): references into this table are not checked, to avoid false alarms.
        self.complete = not any(p.dropped for p in pieces)
        frames = [p.frame[[c for c in self.present]] for p in pieces]
        self.raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        self.rows = np.concatenate([p.rows for p in pieces])
        self.files = np.concatenate([np.full(len(p.frame), p.file, dtype=object) for p in pieces])
        self.sheets = (
            np.concatenate([np.full(len(p.frame), p.sheet, dtype=object) for p in pieces])
            if any(p.sheet for p in pieces)
            else None
        )
        self.decimal_comma = _decide_decimal_comma(table, pieces)
        self.typed = pd.DataFrame(index=self.raw.index)
        self.raw_empty: dict[str, np.ndarray] = {}  # per numeric column: cells that were empty in the file

    def where(self, position: int) -> tuple[str, int, str | None]:
        sheet = self.sheets[position] if self.sheets is not None else None
        return self.files[position], int(self.rows[position]), sheet

    def shown(self, column: str, position: int) -> str:
        value = self.raw[column].iloc[position]
        if isinstance(value, str):
            return value
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return ""
        if isinstance(value, float | np.floating):
            return format_number(float(value))
        return str(value)

    def emit(
        self,
        mask: np.ndarray | pd.Series,
        column: str | None,
        rule: str | Callable[[int], str],
        show_value: bool = True,
        value_column: str | None = None,
    ) -> None:
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for position in positions:
            file, row, sheet = self.where(position)
            text = rule(position) if callable(rule) else rule
            value = self.shown(value_column or column, position) if show_value and column else None
            self.problems.append(Problem(file, row, column, value, text, sheet))

    def row_label(self, position: int, other: int) -> str:
        file, row, sheet = self.where(other)
        own_file, _, own_sheet = self.where(position)
        label = f"række {row}"
        if sheet and sheet != own_sheet:
            label += f' i arket "{sheet}"'
        if file != own_file:
            label += f" i {file}"
        return label


def _decide_decimal_comma(table: model.Table, pieces: list[Piece]) -> bool:
    decided = [p.decimal_comma for p in pieces if p.decimal_comma is not None]
    if len(decided) == len(pieces):
        return bool(decided[0])
    # A semicolon CSV: decimal comma (the Danish default) unless numbers use decimal point and never a comma.
    numeric = [c.name for c in table.columns if c.dtype in ("int", "float")]
    for piece in pieces:
        for column in numeric:
            if column in piece.frame and isinstance(piece.frame[column].dtype, pd.StringDtype):
                text = piece.frame[column]
                if bool(text.str.contains(",", regex=False).any()):
                    return True
    for piece in pieces:
        for column in numeric:
            if column in piece.frame and isinstance(piece.frame[column].dtype, pd.StringDtype):
                text = piece.frame[column]
                dotted = text.str.contains(".", regex=False) & ~text.str.fullmatch(_THOUSANDS_RE)
                if bool(dotted.any()):
                    return False
    return True


def format_number(value: float) -> str:
    if np.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value)).replace(".", ",")


def _parse_numbers(text: pd.Series, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text -> (float values with NaN, empty mask, invalid mask)."""
    empty = (text == "").to_numpy(dtype=bool, na_value=True)
    normalised = text
    if decimal_comma:
        thousands = normalised.str.fullmatch(_THOUSANDS_RE).to_numpy(dtype=bool, na_value=False)
        if thousands.any():
            normalised = normalised.where(~thousands, normalised.str.replace(".", "", regex=False))
        normalised = normalised.str.replace(",", ".", regex=False)
    ok = normalised.str.fullmatch(_NUMBER_RE).to_numpy(dtype=bool, na_value=False)
    values = np.full(len(text), np.nan)
    if ok.any():
        values[ok] = _text_to_float(normalised[ok])
    bad = ok & ~np.isfinite(values)
    values[bad] = np.nan
    return values, empty, (~empty & ~ok) | bad


def _text_to_float(text: pd.Series) -> np.ndarray:
    """Exact decimal text -> float64 (pyarrow's parser rounds correctly; pandas' fast parser can be 1 ulp off)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(pa.array(text, type=pa.string()), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.array([float(v) for v in text], dtype=float)


def _not_a_number_rule(column: model.Column, decimal_comma: bool, nullable: bool, text: str) -> str:
    rule = "er ikke et tal"
    if column.dtype == "int":
        rule += " – kolonnen skal indeholde hele tal"
    if not decimal_comma and "," in text:
        rule += " – filen bruger punktum som decimaltegn"
    if nullable:
        rule += " (lad cellen stå tom, hvis værdien mangler)"
    return rule


def convert_column(located: Located, column: model.Column) -> None:
    name = column.name
    raw = located.raw[name]
    text_cells = isinstance(raw.dtype, pd.StringDtype) or raw.dtype == object
    if column.dtype == "str":
        if text_cells:
            text = raw.astype(pd.StringDtype("pyarrow"))
        else:
            text = pd.Series([format_number(v) if pd.notna(v) else "" for v in raw], dtype=pd.StringDtype("pyarrow"))
        text = text.where(text != "", pd.NA)
        if column.allowed:  # case does not matter: written as the allowed values are (indicator codes in capitals)
            text = text.str.upper() if all(a.isupper() for a in column.allowed) else text.str.lower()
        if _is_kommune_column(located.table, column.name):
            codes, uniques = pd.factorize(text)
            normalised = np.array([kommuner.normalise_code(u) for u in uniques], dtype=object)
            mapped = np.where(codes >= 0, normalised[np.maximum(codes, 0)] if len(uniques) else None, None)
            text = pd.Series(mapped, dtype=pd.StringDtype("pyarrow"))
        if located.table.name == "measures" and name == "measure":
            text = text.str.lower()
        located.typed[name] = text.values
        return
    if column.dtype == "bool":
        if text_cells:
            lowered = raw.astype(pd.StringDtype("pyarrow")).str.lower()
            is_true = lowered.isin(_TRUE).to_numpy(dtype=bool, na_value=False)
            is_false = lowered.isin(_FALSE).to_numpy(dtype=bool, na_value=False)
            empty = (lowered == "").to_numpy(dtype=bool, na_value=True)
        else:
            numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            is_true, is_false, empty = numeric == 1, numeric == 0, np.isnan(numeric)
        invalid = ~(is_true | is_false | empty)
        located.emit(invalid, name, "er ikke en sandhedsværdi – brug ja/nej, sand/falsk, true/false eller 1/0")
        values = pd.Series(np.where(is_true, True, np.where(is_false, False, None)), dtype=object)
        values[empty | invalid] = None
        located.typed[name] = values.values
        return
    # int and float
    if text_cells:
        values, empty, invalid = _parse_numbers(raw.astype(pd.StringDtype("pyarrow")), located.decimal_comma)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        empty = np.isnan(values)
        invalid = np.isinf(values)
        values = np.where(invalid, np.nan, values)
    if invalid.any():
        located.emit(
            invalid,
            name,
            lambda p: _not_a_number_rule(column, located.decimal_comma, column.nullable, located.shown(name, p)),
        )
    if column.dtype == "int":
        with np.errstate(invalid="ignore"):
            fractional = ~np.isnan(values) & (np.mod(values, 1) != 0)
        located.emit(fractional, name, "har decimaler – kolonnen skal indeholde hele tal")
        values = np.where(fractional, np.nan, values)
    located.typed[name] = values
    located.raw_empty[name] = empty


def _limit_rule(column: model.Column, value: float) -> str:
    subject = _SUBJECTS.get(column.unit, "værdien")
    low, high = column.min_value, column.max_value
    below = low is not None and value < low
    if below and value < 0 <= low:
        prefix = "er negativ"
    elif below:
        prefix = "er for lille"
    else:
        prefix = "er for stor"
    if low is not None and high is not None:
        need = f"{subject} skal ligge mellem {format_number(low)} og {format_number(high)}"
    elif low is not None and 0 < low < 0.001:
        need = f"{subject} skal være større end 0"
    elif low == 0:
        need = f"{subject} kan ikke være under 0"
    elif low is not None:
        need = f"{subject} skal være mindst {format_number(low)}"
    else:
        need = f"{subject} kan højst være {format_number(high)}"
    return f"{prefix} – {need}"


def _schema(located: Located):
    """A pandera schema for the per-column rules of the table's present columns (types are converted already)."""
    import pandera.pandas as pa

    columns = {}
    for column in located.table.columns:
        if column.name not in located.present:
            continue
        checks = []
        if column.allowed:
            checks.append(pa.Check.isin(list(column.allowed), error="allowed"))
        if _is_kommune_column(located.table, column.name):
            checks.append(pa.Check.isin(sorted(_kommune_codes()), error="kommune"))
        per_measure = located.table.name == "measures" and column.name == "value"
        if column.min_value is not None and not per_measure:
            checks.append(pa.Check.ge(column.min_value, error="min"))
        if column.max_value is not None and not per_measure:
            checks.append(pa.Check.le(column.max_value, error="max"))
        columns[column.name] = pa.Column(None, nullable=column.nullable, checks=checks, required=False)
    return pa.DataFrameSchema(columns)


def _is_kommune_column(table: model.Table, column: str) -> bool:
    return table.foreign_keys.get(column) == "kommuner.kommune_code"


@lru_cache(maxsize=1)
def _kommune_codes() -> frozenset[str]:
    return frozenset(kommuner.table()["kommune_code"].astype(str))


def run_schema(located: Located) -> None:
    import pandera.errors

    if not located.present:
        return
    try:
        with warnings.catch_warnings():  # pandera's report of the failures warns about pandas internals
            warnings.simplefilter("ignore", FutureWarning)
            _schema(located).validate(located.typed, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        columns = {c.name: c for c in located.table.columns}
        for check, group in cases.groupby("check", sort=False):
            for column_name, sub in group.groupby("column", sort=False):
                column = columns[column_name]
                positions = np.unique(sub["index"].astype(int).to_numpy())
                mask = np.zeros(len(located.typed), dtype=bool)
                mask[positions] = True
                if check == "not_nullable":
                    # Cells that were not empty already got a conversion problem.
                    empty = located.raw_empty.get(column_name)
                    if empty is not None:
                        mask &= empty
                    else:
                        raw = located.raw[column_name]
                        mask &= raw.isna().to_numpy() | (raw.astype(str) == "").to_numpy()
                    located.emit(mask, column_name, "cellen er tom – kolonnen skal udfyldes", show_value=False)
                elif check == "allowed":
                    located.emit(
                        mask, column_name, f"er ikke en tilladt værdi – tilladte værdier: {', '.join(column.allowed)}"
                    )
                elif check == "kommune":
                    located.emit(
                        mask,
                        column_name,
                        "er ikke en kendt kommunekode – brug en af de 98 kommuners koder fra Danmarks Statistik, "
                        "fx 101 for København (se data/reference/kommuner.csv)",
                    )
                elif check in ("min", "max"):
                    values = located.typed[column_name].to_numpy(dtype=float)
                    located.emit(mask, column_name, lambda p, c=column, v=values: _limit_rule(c, v[p]))
                else:  # pragma: no cover - every check above has a translation
                    located.emit(mask, column_name, f"bryder reglen {check}")


def check_duplicates(located: Located) -> None:
    key = list(located.table.key)
    if not all(k in located.present for k in key):
        return
    frame = located.typed[key]
    complete = frame.notna().all(axis=1).to_numpy()
    duplicated = frame.duplicated(keep="first").to_numpy() & complete
    if not duplicated.any():
        return
    positions = np.arange(len(frame))
    sub = frame[complete]
    groups = pd.Series(positions[complete], index=sub.index).groupby([sub[k] for k in key], sort=False)
    first = groups.transform("first")
    first_positions = np.full(len(frame), -1)
    first_positions[complete] = first.to_numpy()
    label = ", ".join(key)
    if len(key) == 1:
        need = f"{key[0]} skal være entydig"
    else:
        need = f"der må kun være én række pr. kombination af {', '.join(key[:-1])} og {key[-1]}"

    def rule(position: int) -> str:
        return f"findes allerede i {located.row_label(position, first_positions[position])} – {need}"

    for position in np.flatnonzero(duplicated):
        file, row, sheet = located.where(position)
        value = " / ".join(located.shown(k, position) for k in key)
        located.problems.append(Problem(file, row, label, value, rule(position), sheet))


def check_foreign_key(located: Located, column: str, valid: pd.Series, rule: str) -> None:
    if column not in located.present:
        return
    values = located.typed[column]
    bad = values.notna().to_numpy() & ~values.isin(set(valid.dropna())).to_numpy()
    located.emit(bad, column, rule)
