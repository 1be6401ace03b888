"""Danish number formats and the words a reader sees for each status."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_decimal

LOCALE = "da_DK"

STATUS_DA = {
    "reported": "Indberettet",
    "missing": "Mangler data",
    "suppressed": "Udeladt af diskretionshensyn",
    "not_applicable": "Ikke opgjort endnu",
}
# Short cell markers, explained in a note under every table.
STATUS_MARK_DA = {"missing": "mangler", "suppressed": "diskretion", "not_applicable": "ikke opgjort"}
STATUS_NOTE_DA = (
    "«mangler»: ikke indberettet (ikke det samme som nul). «diskretion»: udeladt, fordi tallet handler om færre "
    "end 5 personer eller kan regnes ud fra andre tal. «ikke opgjort»: målepunktet blev ikke opgjort det år."
)
SYNTHETIC_BANNER_DA = (
    "SYNTETISKE DATA – tallene er opdigtede, men realistiske, og handler ikke om virkelige afdelinger "
    "eller boligorganisationer. Brug dem ikke som grundlag for beslutninger."
)


def is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


_QUANTUM = [Decimal(1).scaleb(-d) for d in range(7)]


def number(value: object, decimals: int = 0) -> str:
    """1234.5 -> '1.234,5' (Danish thousands separator and decimal comma); missing -> '–'.

    The same text as Babel's `format_decimal` with the pattern '#,##0.0…' for da_DK (half-even rounding of the
    float's shortest decimal form, '-' before a negative number), made directly: a report formats thousands of
    numbers, and Babel parses the pattern on every call.
    """
    if is_missing(value):
        return "–"
    x = float(value)
    if not (math.isfinite(x) and abs(x) < 1e15 and 0 <= decimals < len(_QUANTUM)):
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return format_decimal(x, format=pattern, locale=LOCALE)
    exact = Decimal(repr(x))
    digits = f"{abs(exact).quantize(_QUANTUM[decimals], rounding=ROUND_HALF_EVEN):,f}"
    whole, _point, fraction = digits.partition(".")
    text = whole.replace(",", ".") + ("," + fraction if decimals > 0 else "")
    return "-" + text if exact.is_signed() else text


def signed(value: object, decimals: int = 0) -> str:
    """A change with its sign: '+1,5', '−2', '0'."""
    if is_missing(value):
        return "–"
    text = number(abs(float(value)), decimals)
    if round(float(value), decimals) > 0:
        return "+" + text
    if round(float(value), decimals) < 0:
        return "−" + text
    return text


def percent(fraction: object, decimals: int = 0) -> str:
    """0.873 -> '87 %'."""
    if is_missing(fraction):
        return "–"
    return f"{number(100 * float(fraction), decimals)} %"


def cell(value: object, status: str, decimals: int = 0) -> str:
    """A table cell: the number when reported, otherwise a word that never looks like zero."""
    if status == "reported":
        return number(value, decimals)
    return STATUS_MARK_DA.get(status, "–")


def with_unit(value: object, unit: str, decimals: int = 0) -> str:
    if is_missing(value):
        return "–"
    if unit == "%":
        return f"{number(value, decimals)} %"
    return f"{number(value, decimals)} {unit}"


def axis_formatter(decimals: int = 0):
    """A matplotlib formatter writing tick labels in Danish."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: number(x, decimals))


def compact(value: float) -> str:
    """A round number for an axis in Danish words a reader need not count zeros in: «300», «10.000», «3 mio.»."""
    if abs(value) >= 1_000_000:
        millions = value / 1_000_000
        return f"{number(millions, 0 if float(millions).is_integer() else 1)} mio."
    decimals = next((d for d in range(3) if abs(round(value, d) - value) <= 1e-9 * max(1.0, abs(value))), 3)
    return number(value, decimals)  # «2,5» between 2 and 3 on a narrow axis, never «2» twice


def log_ticks(vmin: float, vmax: float) -> list[float]:
    """Tick positions for a logarithmic axis from vmin to vmax: 1 and 3 times each power of ten, from the one at or
    below vmin to the one at or above vmax; where fewer than two of those fall inside (an axis spanning less than a
    factor of about 3), the multiples inside of 1, 2, 2.5 or 5 times a power of ten, as on a linear axis.

    The same ticks with every matplotlib version (matplotlib's LogLocator changed what it does on a narrow axis).
    """
    low, high = sorted((float(vmin), float(vmax)))
    if not (low > 0 and math.isfinite(high)):
        return []
    ticks = [m * 10.0**k for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1) for m in (1, 3)]
    first = max([i for i, t in enumerate(ticks) if t <= low], default=0)
    last = min([i for i, t in enumerate(ticks) if t >= high], default=len(ticks) - 1)
    if sum(low <= t <= high for t in ticks) >= 2:
        return ticks[first : last + 1]
    step = _nice_step((high - low) / 5)
    steps = range(math.ceil(low / step * (1 - 1e-12)), math.floor(high / step * (1 + 1e-12)) + 1)
    return [float(Decimal(repr(step)) * i) for i in steps]


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 and 10 times a power of ten that is at least `raw`."""
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-12))


def log_axis(axis) -> None:
    """Ticks from `log_ticks` (1 and 3 times each power of ten), labelled in Danish («1.000», «3 mio.»), without
    minor ticks.

    Matplotlib's default labels a log axis «10⁴» (a reader would have to count) and draws a minor tick at every
    multiple, which is a third of a funnel chart's drawing time (each tick is a set of artists; its «10ⁿ» label is
    parsed as mathtext).
    """
    from matplotlib.ticker import FuncFormatter, Locator, NullFormatter, NullLocator

    class LogTicks(Locator):
        def __call__(self):
            return self.tick_values(*self.axis.get_view_interval())

        def tick_values(self, vmin, vmax):
            return log_ticks(vmin, vmax)

    axis.set_major_locator(LogTicks())
    axis.set_major_formatter(FuncFormatter(lambda x, _pos: compact(x)))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())
