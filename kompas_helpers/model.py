"""The data model: the tables a dataset consists of, their columns, types and allowed values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from kompas_helpers import registry

HOUSING_TYPES = ("familie", "ældre", "ungdom")
HEATING_TYPES = ("fjernvarme", "naturgas", "olie", "varmepumpe", "el", "andet")
AREA_STATUSES = ("ingen", "forebyggelse", "udsat", "parallelsamfund", "omdannelse")
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "str", "int", "float", "bool"
    unit: str
    description_en: str
    example: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: dict[str, str] = field(default_factory=dict)  # column -> "table.column"
    # An optional table may be left out of a dataset (and out of an import): it is then empty.
    optional: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


ORGANISATIONS = Table(
    "organisations",
    "One row per boligorganisation.",
    (
        Column("organisation_id", "str", "", "LBF organisation number", "0101"),
        Column("organisation_name", "str", "", "Name of the boligorganisation", "Boligselskabet Eksempel"),
        Column(
            "hjemsted_kommune_code", "str", "", "Kommune where the organisation has its seat (supervises it)", "101"
        ),
    ),
    key=("organisation_id",),
    foreign_keys={"hjemsted_kommune_code": "kommuner.kommune_code"},
)

AFDELINGER = Table(
    "afdelinger",
    "One row per boligafdeling (the economic unit that owns the buildings).",
    (
        Column("afdeling_id", "str", "", "LBF organisation number and afdeling number", "0101-003"),
        Column("organisation_id", "str", "", "Owning boligorganisation", "0101"),
        Column("kommune_code", "str", "", "Kommune the afdeling lies in (DST code, no leading zero)", "101"),
        Column("afdeling_name", "str", "", "Name of the afdeling", "Solgården"),
        Column("dwellings", "int", "dwellings", "Number of dwellings (lejemål)", "84", min_value=1),
        Column("floor_area_m2", "float", "m²", "Heated floor area (BBR)", "6375.5", min_value=0.000001),
        Column("outdoor_area_m2", "float", "m²", "Outdoor area of the afdeling", "15000", min_value=0),
        Column("residents", "int", "persons", "Residents on 1 January", "142", min_value=0),
        Column(
            "year_built", "int", "year", "Year the afdeling was taken into use", "1972", min_value=1700, max_value=2100
        ),
        Column("housing_type", "str", "", "Type of dwellings", "familie", allowed=HOUSING_TYPES),
        Column("heating", "str", "", "Main heating source", "fjernvarme", allowed=HEATING_TYPES),
        Column("area_status", "str", "", "Designation on the government's area lists", "ingen", allowed=AREA_STATUSES),
        Column("helhedsplan", "bool", "", "Covered by a boligsocial helhedsplan", "false"),
    ),
    key=("afdeling_id",),
    foreign_keys={"organisation_id": "organisations.organisation_id", "kommune_code": "kommuner.kommune_code"},
)

MEASURES = Table(
    "measures",
    "Yearly measures in long format, at afdeling or organisation level (the measure decides which). "
    "A missing value (empty cell, or no row) means not reported and is never read as zero.",
    (
        Column("year", "int", "year", "Reporting year", "2024", min_value=FIRST_YEAR, max_value=LAST_YEAR),
        Column("unit_id", "str", "", "afdeling_id or organisation_id, by the measure's level", "0101-003"),
        Column("measure", "str", "", "Name of the measure (see the measure list)", "heat_kwh"),
        Column(
            "value", "float", "by measure", "The value; empty when not reported", "765060", nullable=True, min_value=0
        ),
    ),
    key=("year", "unit_id", "measure"),
)

KOMMUNE_CONTEXT = Table(
    "kommune_context",
    "Yearly facts about each kommune that do not come from the almene boligorganisationer.",
    (
        Column("year", "int", "year", "Year", "2024", min_value=FIRST_YEAR, max_value=LAST_YEAR),
        Column("kommune_code", "str", "", "Kommune (DST code)", "101"),
        Column(
            "dwellings_total", "int", "dwellings", "All dwellings in the kommune (DST BOL101)", "345000", min_value=1
        ),
    ),
    key=("year", "kommune_code"),
    foreign_keys={"kommune_code": "kommuner.kommune_code"},
)

KOMMUNER = Table(
    "kommuner",
    "Reference: the 98 kommuner (shipped with the project, not part of an import).",
    (
        Column("kommune_code", "str", "", "DST kommune code, no leading zero", "101"),
        Column("kommune_name", "str", "", "Name", "København"),
        Column("region", "str", "", "Region", "Region Hovedstaden"),
        Column("iso_3166_2", "str", "", "ISO 3166-2 code of the region", "DK-84"),
    ),
    key=("kommune_code",),
)

AFTALER = Table(
    "aftaler",
    "Agreements (aftaler) made in the styringsdialog between a kommune and a boligorganisation. Optional. An "
    "agreement may name an indicator with a baseline, a target and a deadline; otherwise it is free text.",
    (
        Column("kommune_code", "str", "", "Kommune that made the agreement (DST code)", "101"),
        Column("organisation_id", "str", "", "Boligorganisation the agreement is made with", "0101"),
        Column("agreement_id", "str", "", "The agreement's id, unique per kommune and organisation", "2023-1"),
        Column(
            "year_made", "int", "year", "Year the agreement was made", "2023", min_value=FIRST_YEAR, max_value=LAST_YEAR
        ),
        Column("text", "str", "", "The agreement in the words of the meeting (Danish)", "Varmeforbruget sænkes"),
        Column(
            "indicator", "str", "", "Indicator the agreement is measured by; empty for a free-text agreement", "E1",
            nullable=True, allowed=registry.CODES,
        ),
        Column(
            "baseline", "float", "by indicator", "The indicator's value when the agreement was made", "128",
            nullable=True, min_value=0,
        ),
        Column(
            "target", "float", "by indicator", "The value the agreement aims at", "118", nullable=True, min_value=0
        ),
        Column(
            "deadline_year", "int", "year", "Year by which the target is to be reached (its figure counts)", "2026",
            nullable=True, min_value=FIRST_YEAR, max_value=LAST_YEAR,
        ),
    ),
    key=("kommune_code", "organisation_id", "agreement_id"),
    foreign_keys={"kommune_code": "kommuner.kommune_code", "organisation_id": "organisations.organisation_id"},
    optional=True,
)  # fmt: skip

# Tables that make up an importable dataset, in the order they are read.
INPUT_TABLES: dict[str, Table] = {t.name: t for t in (ORGANISATIONS, AFDELINGER, MEASURES, KOMMUNE_CONTEXT, AFTALER)}


@dataclass
class Dataset:
    """One dataset: the input tables plus where it came from."""

    organisations: pd.DataFrame
    afdelinger: pd.DataFrame
    measures: pd.DataFrame
    kommune_context: pd.DataFrame
    # The agreements (optional table): empty, with the table's columns, when the dataset has none.
    aftaler: pd.DataFrame = field(default_factory=lambda: empty(AFTALER))
    provenance: dict = field(default_factory=dict)
    # A user's own peer groups from the folder's peer_groups.csv, per level: unit -> members (they replace the
    # computed groups of those units; see peers.py).
    peer_groups: dict = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """True unless the provenance says explicitly that the data is real: when in doubt, label it."""
        return self.provenance.get("synthetic", True) is not False

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.measures["year"].unique())

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def measures_of(self, names: Sequence[str]) -> pd.DataFrame:
        """The rows of the measures table for these measures, in its order and with its index."""
        m = self.measures
        return m[m["measure"].isin(list(names)).to_numpy()]


CANONICAL_DTYPES = {"str": "string[pyarrow]", "int": "int64", "float": "float64", "bool": "bool"}


def canonical_dtype(column: Column) -> str:
    """The column's dtype in a canonical frame: a whole number that may be empty is a nullable Int64."""
    return "Int64" if column.dtype == "int" and column.nullable else CANONICAL_DTYPES[column.dtype]


def canonicalise(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The table's columns, in order, with canonical dtypes and a fresh index (input must already be valid)."""
    out = pd.DataFrame({c.name: frame[c.name].astype(canonical_dtype(c)) for c in table.columns})
    return out.sort_values(list(table.key), kind="stable").reset_index(drop=True)


def empty(table: Table) -> pd.DataFrame:
    """The table with no rows, in canonical form."""
    return canonicalise(table, pd.DataFrame({c.name: pd.Series([], dtype=object) for c in table.columns}))
