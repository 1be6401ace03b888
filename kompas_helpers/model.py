"""The data model: the tables a dataset consists of, their columns, types and allowed values."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

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

# Tables that make up an importable dataset, in the order they are read.
INPUT_TABLES: dict[str, Table] = {t.name: t for t in (ORGANISATIONS, AFDELINGER, MEASURES, KOMMUNE_CONTEXT)}


@dataclass
class Dataset:
    """One dataset: the input tables plus where it came from."""

    organisations: pd.DataFrame
    afdelinger: pd.DataFrame
    measures: pd.DataFrame
    kommune_context: pd.DataFrame
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


CANONICAL_DTYPES = {"str": "string[pyarrow]", "int": "int64", "float": "float64", "bool": "bool"}


def canonicalise(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The table's columns, in order, with canonical dtypes and a fresh index (input must already be valid)."""
    out = pd.DataFrame({c.name: frame[c.name].astype(CANONICAL_DTYPES[c.dtype]) for c in table.columns})
    return out.sort_values(list(table.key), kind="stable").reset_index(drop=True)
