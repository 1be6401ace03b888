"""The problems found in input data, and the DataError that carries all of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_SHOWN_PROBLEMS = 200


@dataclass(frozen=True)
class Problem:
    """One broken rule in one place of an input file."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str  # Danish; completes "værdien "x" …" when value is given, else a whole clause
    sheet: str | None = None

    def message(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f'ark "{self.sheet}"')
        if self.row is not None:
            where.append(f"række {self.row}")
        if self.column is not None:
            where.append(f'kolonne "{self.column}"')
        text = self.rule if self.value is None else f'værdien "{shorten(self.value)}" {self.rule}'
        return f"{', '.join(where)}: {text}"

    @classmethod
    def for_file(cls, file: str, rule: str, sheet: str | None = None) -> Problem:
        """A problem with a whole file (or a whole sheet of it): no row, column or value."""
        return cls(file, None, None, None, rule, sheet)


def shorten(text: str, limit: int = 60) -> str:
    text = text.replace("\r", "").replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DataError(Exception):
    """Input data broke one or more rules; `problems` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self.headline)

    @property
    def headline(self) -> str:
        files = len({p.file for p in self.problems})
        return f"Data kan ikke indlæses: {len(self.problems)} fejl i {files} {'fil' if files == 1 else 'filer'}"

    def __str__(self) -> str:
        shown = self.problems[:MAX_SHOWN_PROBLEMS]
        lines = [self.headline, *(f"  - {p.message()}" for p in shown)]
        if len(self.problems) > len(shown):
            lines.append(f"  … og {len(self.problems) - len(shown)} fejl mere (de første {len(shown)} er vist).")
        return "\n".join(lines)

    def __reduce__(self):
        return (type(self), (self.problems,))


def problem_order(p: Problem) -> tuple:
    return (p.file, p.sheet or "", p.row if p.row is not None else -1)
