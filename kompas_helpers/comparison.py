"""Honest comparisons in the indicator table: intervals, peer-group values and verdicts for kommuner and organisations.

The verdict rule, for a kommune's or an organisation's published figure:
- a figure that is not published (missing, suppressed, not applicable) gets «not_judged»;
- a context indicator (registry `is_context`) gets «context»: it describes the setting, not the work;
- a figure with coverage below MIN_COVERAGE_FOR_VERDICT, or (for afdeling-level indicators) fewer than
  MIN_UNITS_FOR_VERDICT afdelinger behind it, or without an interval, gets «too_few»;
- otherwise «better» or «worse» when the national value lies outside the 95 % interval (in the indicator's
  direction), and «as_expected» when it lies inside.
Only kommuner with enough data are ranked.
"""

from __future__ import annotations

import numpy as np

from kompas_helpers import peers, registry, uncertainty
from kompas_helpers.registry import LEVELS, STATUSES, VERDICTS

# The levels that carry intervals, peer values and verdicts.
JUDGED_LEVELS = ("kommune", "organisation")


class Comparisons:
    """Peer groups as rows of member codes, made once per table (codes index the table's category lists)."""

    def __init__(self, groups: peers.PeerGroups, kommune_codes: list[str], organisation_ids: list[str]):
        self.codes = {"kommune": kommune_codes, "organisation": organisation_ids}
        self.members = {level: _member_matrix(getattr(groups, level), codes) for level, codes in self.codes.items()}
        self.has_group = {level: (m >= 0).any(axis=1) for level, m in self.members.items()}
        self.group_ids = [peers.group_id(level, c) for level, codes in self.codes.items() for c in codes]
        self.group_offset = {"kommune": 0, "organisation": len(kommune_codes)}


def _member_matrix(groups: dict[str, tuple[str, ...]], codes: list[str]) -> np.ndarray:
    """One row per code: the codes' positions of its group's members, -1 where there are fewer."""
    index = {c: i for i, c in enumerate(codes)}
    width = max((len(m) for m in groups.values()), default=0)
    out = np.full((len(codes), max(width, 1)), -1, dtype="int64")
    for code, members in groups.items():
        if code in index:
            positions = [index[m] for m in members if m in index]
            out[index[code], : len(positions)] = positions
    return out


def _judged_rows(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Positions of the kommune and organisation rows (a small part of the table: the afdeling rows dominate)."""
    return np.flatnonzero(np.isin(columns["level"], [LEVELS.index(level) for level in JUDGED_LEVELS]))


def add_intervals(columns: dict[str, np.ndarray], indicator: registry.Indicator) -> None:
    """95 % intervals at the judged levels (NaN elsewhere), from the figures before discretion is applied."""
    rows = _judged_rows(columns)
    low, high = uncertainty.interval(indicator, {name: values[rows] for name, values in columns.items()})
    for name, values in (("interval_low", low), ("interval_high", high)):
        columns[name] = np.full(len(columns["value"]), np.nan)
        columns[name][rows] = values


def add_peers_and_verdicts(columns: dict[str, np.ndarray], indicator: registry.Indicator, c: Comparisons) -> None:
    """Peer group, peer value (ratio of sums over the members' published figures) and verdict, in place."""
    n = len(columns["value"])
    reported = columns["status"] == STATUSES.index("reported")
    peer_group = np.full(n, -1, dtype="int32")
    peer_value = np.full(n, np.nan)
    for level in JUDGED_LEVELS:
        rows = np.flatnonzero(columns["level"] == LEVELS.index(level))
        if not len(rows):
            continue
        code = columns["kommune_code" if level == "kommune" else "organisation_id"][rows].astype("int64")
        has = (code >= 0) & c.has_group[level][np.maximum(code, 0)]
        peer_group[rows[has]] = c.group_offset[level] + code[has]
        for year in np.unique(columns["year"][rows]):
            in_year = rows[columns["year"][rows] == year]
            year_code = columns["kommune_code" if level == "kommune" else "organisation_id"][in_year].astype("int64")
            position = np.full(len(c.codes[level]), -1, dtype="int64")
            position[year_code[year_code >= 0]] = in_year[year_code >= 0]
            members = c.members[level][np.maximum(year_code, 0)]
            member_rows = np.where(members >= 0, position[np.maximum(members, 0)], -1)
            usable = (member_rows >= 0) & reported[np.maximum(member_rows, 0)]
            num = np.where(usable, columns["numerator"][np.maximum(member_rows, 0)], 0.0).sum(axis=1)
            den = np.where(usable, columns["denominator"][np.maximum(member_rows, 0)], 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                value = np.where((den > 0) & usable.any(axis=1), num / den * indicator.scale, np.nan)
            peer_value[in_year] = np.where(year_code >= 0, value, np.nan)
    columns["peer_group"] = peer_group
    columns["peer_value"] = peer_value
    columns["verdict"] = _verdicts(columns, indicator)


def _national(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Each row's national value in the same year (NaN where the year has no national row)."""
    national = columns["level"] == LEVELS.index("national")
    years, values = columns["year"][national], columns["value"][national]
    out = np.full(len(columns["year"]), np.nan)
    if len(years):
        order = np.argsort(years)
        where = np.clip(np.searchsorted(years[order], columns["year"]), 0, len(years) - 1)
        found = years[order][where] == columns["year"]
        out[found] = values[order][where][found]
    return out


def enough_data(columns: dict[str, np.ndarray], indicator: registry.Indicator) -> np.ndarray:
    """Rows with enough coverage and (for afdeling-level indicators) enough afdelinger behind them for a verdict."""
    enough = np.nan_to_num(columns["coverage"], nan=0.0) >= registry.MIN_COVERAGE_FOR_VERDICT
    if indicator.level == "afdeling":
        enough &= columns["n_units"] >= registry.MIN_UNITS_FOR_VERDICT
    return enough


def _verdicts(columns: dict[str, np.ndarray], indicator: registry.Indicator) -> np.ndarray:
    verdict = np.full(len(columns["value"]), -1, dtype="int8")
    rows = _judged_rows(columns)
    sub = {name: values[rows] for name, values in columns.items()}
    reported = sub["status"] == STATUSES.index("reported")
    low, high = sub["interval_low"], sub["interval_high"]
    national = _national(columns)[rows]
    sign = 1.0 if indicator.direction == "higher_better" else -1.0
    above, below = national > high, national < low  # NaN compares false: no interval, no difference
    better = below if sign > 0 else above
    worse = above if sign > 0 else below
    verdict[rows] = np.select(
        [
            ~reported,
            np.full(len(rows), indicator.is_context),
            ~enough_data(sub, indicator) | np.isnan(low) | np.isnan(high) | np.isnan(national),
            better,
            worse,
        ],
        [VERDICTS.index("not_judged"), VERDICTS.index("context"), VERDICTS.index("too_few"),
         VERDICTS.index("better"), VERDICTS.index("worse")],
        VERDICTS.index("as_expected"),
    )  # fmt: skip
    return verdict


def rank_range(low: float, high: float, others, direction: str, rank: float = np.nan) -> tuple[int, int] | None:
    """The ranks a figure could plausibly hold: where its interval's better end and its worse end would place it
    among the other ranked figures (1 = best). None without an interval.

    Bounds are compared with a relative tolerance of 1e-9: a Wilson bound of 99.99999999999999 % for a kommune at
    100 % must not place it behind the kommuner tied with it at 100 %. Given the figure's own rank, the range always
    holds it."""
    if np.isnan(low) or np.isnan(high):
        return None
    others = np.asarray(others, dtype=float)
    tolerance = 1e-9 * max(1.0, abs(low), abs(high))
    if direction == "lower_better":
        best, worst = 1 + int((others < low - tolerance).sum()), 1 + int((others < high - tolerance).sum())
    else:
        best, worst = 1 + int((others > high + tolerance).sum()), 1 + int((others > low + tolerance).sum())
    if not np.isnan(rank):
        best, worst = min(best, int(rank)), max(worst, int(rank))
    return best, worst
