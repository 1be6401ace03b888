"""The status of each agreement (aftale) in a year, judged from the indicator table by one documented rule.

An agreement made in the styringsdialog between a kommune and a boligorganisation is either free text or tied to
an indicator with a target value and a deadline year (and, usually, the baseline value when it was made). Its
status in a year:

1. No indicator: ``fri tekst`` – listed for the meeting to judge.
2. The figure judged ("current") is the indicator's value in the year for
   - an afdeling-level indicator: the organisation's afdelinger in the agreement's kommune (level
     ``organisation_kommune``). The kommune makes the agreement about what it supervises and can follow, and the
     baseline and target are that kommune's numbers; the whole organisation's figure would let afdelinger in other
     kommuner (under other agreements, or none) decide the status. For the organisation's tilsynskommune with
     all its afdelinger at home the two figures are the same.
   - an organisation-level indicator: the organisation's own figure (level ``organisation``);
   - a kommune-level indicator (S2): the kommune's figure (level ``kommune``).
3. A year before the agreement was made, or no figure (no row, missing, suppressed for discretion, not measured
   that year): ``kan ikke vurderes``, with the reason (the table's status tells missing from suppressed).
4. Target reached, in the indicator's direction and compared at the indicator's displayed precision (its
   decimals, as the reports round): ``opfyldt`` – also before the deadline, and also after it.
5. The deadline year reached (year ≥ deadline_year; the deadline year's figure is the last that counts) without
   reaching the target: ``ikke på vej``.
6. Before the deadline, progress is measured against the straight line from the baseline in year_made to the
   target in deadline_year: at least as good as that line's value for the year (at displayed precision) is
   ``på vej``, behind it is ``ikke på vej``. Without a baseline progress cannot be measured: ``kan ikke vurderes``.

The direction is the indicator's (higher or lower is better); for an indicator without one (S2, S5) it is the
direction from the baseline to the target, and without a baseline (or with the target equal to it) the agreement
``kan ikke vurderes``. The table may be the whole indicator table or a kommune's slice of it (that holds the
organisation rows and the kommune's own organisation_kommune rows) as long as it holds the agreements' kommune.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from kompas_helpers import fmt, registry

FULFILLED, ON_TRACK, OFF_TRACK = "opfyldt", "på vej", "ikke på vej"
UNKNOWN, FREE_TEXT = "kan ikke vurderes", "fri tekst"
# The statuses in the order a summary lists them.
STATUSES = (FULFILLED, ON_TRACK, OFF_TRACK, UNKNOWN, FREE_TEXT)
# The columns status() adds to the agreements' own.
STATUS_COLUMNS = ["level", "current", "expected", "status", "reason"]
_LEVEL_OF = {"afdeling": "organisation_kommune", "organisation": "organisation", "kommune": "kommune"}


def status_rule_da() -> str:
    """The status rule in Danish, for a report's method note or an Excel sheet."""
    return (
        "En aftale uden målepunkt er fri tekst og vurderes på mødet. En aftale med et målepunkt vurderes på "
        "boligorganisationens tal for året: for målepunkter, der opgøres pr. afdeling, tallet for "
        "boligorganisationens afdelinger i den kommune, der har indgået aftalen; for målepunkter, der opgøres pr. "
        "boligorganisation, hele boligorganisationens tal; for S2 kommunens tal. "
        "Aftalen er opfyldt, når tallet har nået målet i målepunktets retning (sammenlignet med det antal "
        "decimaler, tallet vises med). Er fristen nået uden at målet er nået, er aftalen ikke på vej. Før fristen "
        "er aftalen på vej, når tallet er mindst lige så godt som en lige linje fra udgangsværdien i det år, "
        "aftalen blev indgået, til målet i fristens år giver for året; ellers er den ikke på vej. "
        "Aftalen kan ikke vurderes, når der ikke er et tal for året (det mangler, er udeladt af "
        "diskretionshensyn eller er ikke opgjort), når aftalen er indgået efter året, eller når der mangler en "
        "udgangsværdi at måle fremdriften fra før fristen. For målepunkter uden en bedre eller dårligere retning "
        "(S2, S5) er retningen den fra udgangsværdien mod målet."
    )


def status(aftaler: pd.DataFrame, table: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per agreement of a valid aftaler table: its own columns plus the level judged, the current value, the value
    the straight line from baseline to target gives for the year (`expected`), the status (one of STATUSES) and
    the Danish reason. `table` is the indicator table (or a kommune's slice of it)."""
    year = int(year)
    out = aftaler.reset_index(drop=True).copy()
    codes = set(out["indicator"].dropna().astype(str))
    lookup, years = _figures(table, year, codes) if codes else ({}, set())
    results = [_judge(row, lookup, year, year in years) for row in out.itertuples(index=False)]
    columns = list(zip(*results, strict=True)) if results else [() for _ in STATUS_COLUMNS]
    for name, values in zip(STATUS_COLUMNS, columns, strict=True):
        if name in ("current", "expected"):
            out[name] = np.asarray(values, dtype=float)
        else:
            out[name] = pd.array(list(values), dtype="string[pyarrow]")
    return out


def _figures(table: pd.DataFrame, year: int, codes: set[str]) -> tuple[dict, set[int]]:
    """The year's figures at the levels agreements are judged on: (indicator, level, unit, kommune) -> (value,
    status); kommune only for organisation_kommune rows."""
    years = {int(y) for y in pd.unique(table["year"])}
    rows = table[
        (table["year"] == year).to_numpy()
        & table["level"].isin(list(_LEVEL_OF.values())).to_numpy()
        & table["indicator"].isin(list(codes)).to_numpy()
    ]
    lookup = {}
    for indicator, level, unit, kommune, value, state in zip(
        rows["indicator"].astype(str),
        rows["level"].astype(str),
        rows["unit_id"].astype(str),
        rows["kommune_code"].astype(object),
        rows["value"].to_numpy(dtype=float),
        rows["status"].astype(str),
        strict=True,
    ):
        place = str(kommune) if level == "organisation_kommune" else None
        lookup[(indicator, level, unit, place)] = (value, state)
    return lookup, years


def _shown(value: float, decimals: int) -> Decimal:
    """The value as the reports show it: rounded half-even to the indicator's decimals (as fmt.number does)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _judge(row, lookup: dict, year: int, year_in_table: bool) -> tuple:
    """(level, current, expected, status, reason) of one agreement."""
    code = None if _missing(row.indicator) else str(row.indicator)
    made = int(row.year_made)
    deadline = None if _missing(row.deadline_year) else int(row.deadline_year)
    if code is None:
        due = f"; fristen er {deadline}" if deadline is not None else ""
        return None, np.nan, np.nan, FREE_TEXT, f"aftalen har intet målepunkt og vurderes på mødet{due}"
    indicator = registry.get(code)
    level = _LEVEL_OF[indicator.level]
    if year < made:
        return level, np.nan, np.nan, UNKNOWN, f"aftalen er først indgået i {made}"
    unit = str(row.kommune_code) if level == "kommune" else str(row.organisation_id)
    place = str(row.kommune_code) if level == "organisation_kommune" else None
    found = lookup.get((code, level, unit, place))
    current = np.nan if found is None else found[0]
    if np.isnan(current):
        return level, np.nan, np.nan, UNKNOWN, _no_figure_reason(found, level, year, deadline, year_in_table)

    target = float(row.target)
    baseline = None if _missing(row.baseline) else float(row.baseline)
    aim = _aim(indicator, baseline, target)
    if aim == 0:
        reason = "målepunktet har ingen bedre eller dårligere retning, og aftalen har ingen udgangsværdi at måle fra"
        return level, current, np.nan, UNKNOWN, reason

    def shown(value: float) -> str:
        return fmt.with_unit(value, indicator.unit, indicator.decimals)

    def at_least(value: float, mark: float) -> bool:
        a, b = _shown(value, indicator.decimals), _shown(mark, indicator.decimals)
        return a >= b if aim > 0 else a <= b

    if at_least(current, target):
        return level, current, np.nan, FULFILLED, f"målet er nået: {shown(current)} i {year} (mål: {shown(target)})"
    if year >= deadline:
        reason = f"målet skulle være nået i {deadline}, men tallet er {shown(current)} i {year} (mål: {shown(target)})"
        return level, current, np.nan, OFF_TRACK, reason
    if baseline is None:
        reason = f"aftalen har ingen udgangsværdi, så fremdriften kan ikke måles før fristen ({deadline})"
        return level, current, np.nan, UNKNOWN, reason
    expected = baseline + (target - baseline) * (year - made) / (deadline - made)
    line = f"den lige linje fra {shown(baseline)} i {made} til {shown(target)} i {deadline}"
    if at_least(current, expected):
        reason = f"{shown(current)} i {year} er mindst lige så godt som {shown(expected)} på {line}"
        return level, current, expected, ON_TRACK, reason
    reason = f"{shown(current)} i {year} er bagefter {line}, som giver {shown(expected)}"
    return level, current, expected, OFF_TRACK, reason


def _aim(indicator: registry.Indicator, baseline: float | None, target: float) -> int:
    """+1 when higher is the aim, -1 when lower is, 0 when it cannot be told."""
    if indicator.direction == "higher_better":
        return 1
    if indicator.direction == "lower_better":
        return -1
    if baseline is None or baseline == target:
        return 0
    return 1 if target > baseline else -1


def _no_figure_reason(found: tuple | None, level: str, year: int, deadline: int, year_in_table: bool) -> str:
    state = None if found is None else found[1]
    if state == "suppressed":
        return f"tallet for {year} er udeladt af diskretionshensyn"
    if state == "not_applicable":
        return f"målepunktet er ikke opgjort for {year}"
    if found is None and year_in_table and level == "organisation_kommune":
        return "boligorganisationen har ingen afdelinger i kommunen"
    if deadline is not None and year < deadline:
        return f"fristen ({deadline}) er ikke nået, og der er ingen tal for {year} endnu"
    return f"mangler data for {year}"
