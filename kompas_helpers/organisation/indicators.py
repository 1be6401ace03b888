"""An organisation's 20 indicators for its sheet: the whole organisation, its afdelinger in each kommune, its twins,
its tilsynskommune and the country, with interval, verdict and the development over the years."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kompas_helpers import cuts, fmt, kommuner, registry
from kompas_helpers.organisation.facts import get
from kompas_helpers.report.overview import (
    cell,
    change_cell,
    coverage_cell,
    interval_cell,
    mark_da,
    peer_cell,
    verdict_mark,
)

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle

TWINS_DA = "Tvillinger"


def _one(rows: pd.DataFrame) -> pd.Series | None:
    return rows.iloc[0] if len(rows) else None


def organisation_data(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """The organisation's figures for every indicator, unformatted, indexed by indicator code.

    Columns as `overview.overview_data` has them for a kommune (value, status, change, coverage, n_units,
    interval_low, interval_high, peer_value, verdict, mark, national_value, deviation, name, unit, decimals,
    direction, level), plus kommune_value (the tilsynskommune's figure) and series (the value in every year).
    Made once per table, organisation and year.
    """
    key = (str(organisation_id), int(year))
    return cuts.cached_item("organisation_data", b.table, key, lambda: _organisation_data(b, organisation_id, year))


def _organisation_data(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    org = get(b, organisation_id)
    years = sorted(b.years)
    records = []
    for code in registry.CODES:
        i = registry.get(code)
        rows = cuts.indicator_rows(b.table, code)
        in_year = rows[(rows["year"] == year).to_numpy()]
        own = _one(
            in_year[((in_year["level"] == "organisation") & (in_year["unit_id"] == org.organisation_id)).to_numpy()]
        )
        nat = _one(in_year[(in_year["level"] == "national").to_numpy()])
        kom = _one(
            in_year[((in_year["level"] == "kommune") & (in_year["kommune_code"] == org.tilsynskommune)).to_numpy()]
        )
        series_rows = rows[((rows["level"] == "organisation") & (rows["unit_id"] == org.organisation_id)).to_numpy()]
        by_year = dict(
            zip(series_rows["year"], series_rows["value"].where(series_rows["status"] == "reported"), strict=True)
        )
        record = {
            "indicator": code,
            "name": i.name_da,
            "unit": i.unit,
            "decimals": i.decimals,
            "direction": i.direction,
            "level": i.level,
            "series": [by_year.get(y, np.nan) for y in years],
            "national_value": np.nan if nat is None or nat["status"] != "reported" else float(nat["value"]),
            "kommune_value": np.nan if kom is None or kom["status"] != "reported" else float(kom["value"]),
            "kommune_status": "none" if kom is None else str(kom["status"]),
        }
        if own is None:  # S2 is the kommune's, never an organisation's
            record.update(dict.fromkeys(("value", "change", "coverage", "interval_low", "interval_high", "peer_value"),
                                        np.nan))  # fmt: skip
            record.update(status="none", n_units=0.0, verdict="not_judged")
        else:
            record.update({name: own[name] for name in ("value", "change", "coverage", "n_units", "interval_low",
                                                        "interval_high", "peer_value")})  # fmt: skip
            record["status"] = str(own["status"])
            record["verdict"] = str(own["verdict"])
        records.append(record)
    out = pd.DataFrame(records).set_index("indicator")
    out["mark"] = [verdict_mark(v, x, c) for c, v, x in zip(out.index, out["verdict"], out["value"], strict=True)]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["deviation"] = (out["value"] - out["national_value"]) / out["national_value"].abs()
    return out


def by_kommune(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """The organisation's afdelinger in each of its kommuner (organisation_kommune rows), values by indicator code
    and kommune code (the tilsynskommune first); status words where there is no published figure."""
    org = get(b, organisation_id)
    out = pd.DataFrame(index=pd.Index(registry.CODES, name="indicator"), columns=list(org.kommuner), dtype=object)
    for code in registry.CODES:
        i = registry.get(code)
        if i.level != "afdeling":
            continue
        rows = cuts.indicator_year_rows(b.table, code, year)
        mine = rows[
            ((rows["level"] == "organisation_kommune") & (rows["organisation_id"] == org.organisation_id)).to_numpy()
        ]
        for r in mine.itertuples(index=False):
            out.loc[code, str(r.kommune_code)] = fmt.cell(r.value, str(r.status), i.decimals)
    return out.fillna("–")


def series_cell(series: list[float], decimals: int) -> str:
    """'118 · 117 · 115': the values over the years, «–» for a year without a published figure."""
    return " · ".join("–" if np.isnan(v) else fmt.number(v, decimals) for v in series)


def indicator_table(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """The organisation's 20 indicators as a display table of Danish-formatted text.

    Columns: Kode, Målepunkt, Enhed, Hele organisationen, 95 %-interval, Tvillinger, <tilsynskommune> (the kommune's
    own figure), Hele landet, Ændring fra <year-1>, Dækning, Vurdering. The split by kommune is `kommune_table`.
    """
    org = get(b, organisation_id)
    d = organisation_data(b, organisation_id, year)
    seat_name = kommuner.name(org.tilsynskommune)
    rows = []
    for code, r in d.iterrows():
        dec = int(r["decimals"])
        rows.append(
            [
                code,
                r["name"],
                r["unit"],
                cell(r["value"], r["status"], dec),
                interval_cell(r["interval_low"], r["interval_high"], dec),
                peer_cell(r["peer_value"], dec),
                cell(r["kommune_value"], "reported" if not np.isnan(r["kommune_value"]) else r["kommune_status"], dec),
                cell(r["national_value"], "reported" if not np.isnan(r["national_value"]) else "missing", dec),
                change_cell(r["change"], r["status"], dec),
                coverage_cell(r["coverage"], r["status"]),
                mark_da(r["mark"], code),
            ]
        )
    columns = ["Kode", "Målepunkt", "Enhed", "Hele organisationen", "95 %-interval", TWINS_DA, seat_name, "Hele landet",
               f"Ændring fra {year - 1}", "Dækning", "Vurdering"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def development_table(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """The whole organisation's figure in every year of the data: Kode, Målepunkt, Enhed, one column per year
    («–» where there is no published figure that year)."""
    d = organisation_data(b, organisation_id, year)
    d = d[d["status"] != "none"]
    years = sorted(b.years)
    rows = [
        [code, r["name"], r["unit"], *series_cell(r["series"], int(r["decimals"])).split(" · ")]
        for code, r in d.iterrows()
    ]
    return pd.DataFrame(rows, columns=["Kode", "Målepunkt", "Enhed", *(str(y) for y in years)])


def kommune_table(b: Bundle, organisation_id: str, year: int) -> pd.DataFrame:
    """The afdeling-level indicators for the organisation's afdelinger in each kommune (the tilsynskommune first):
    Kode, Målepunkt, Enhed, one column per kommune."""
    org = get(b, organisation_id)
    split = by_kommune(b, organisation_id, year)
    codes = [c for c in registry.CODES if registry.get(c).level == "afdeling"]
    rows = [[c, registry.get(c).name_da, registry.get(c).unit, *(split.loc[c, k] for k in org.kommuner)] for c in codes]
    names = [kommuner.name(k) for k in org.kommuner]
    return pd.DataFrame(rows, columns=["Kode", "Målepunkt", "Enhed", *names])
