"""Tidy (long) sheets for the workbooks: a row per level × unit × indicator × year, only numbers in numeric columns."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from copy import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kompas_helpers import comparison, danish, kommuner, registry
from kompas_helpers.files import atomic_write
from kompas_helpers.report import overview

SHEET_TIDY = "Alle tal"
TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 4  # as on the dimension sheets; the data starts on the row below the header
FIRST_DATA_ROW = HEADER_ROW + 1
HEADER_FILL, NOTE_FILL = "DDDDDD", "FFF1B8"

# The one status word per status of the indicator table, used in every sheet of the workbooks.
STATUS_WORDS_DA = {
    "reported": "indberettet",
    "missing": "mangler",
    "suppressed": "diskretion",
    "not_applicable": "ikke relevant",
}
STATUS_RULE_DA = (
    "«indberettet»: tallet er opgjort. «mangler»: ikke indberettet (ikke det samme som nul). «diskretion»: "
    "udeladt, fordi tallet handler om færre end 5 personer eller kan regnes ud fra andre tal. «ikke relevant»: "
    "målepunktet opgøres ikke det år (året ligger før målepunktets første år)."
)
PERCENT_RULE_DA = (
    "Procenter står overalt i projektmappen som tal fra 0 til 100 (87,5 betyder 87,5 %), aldrig som brøker: det "
    "gælder målepunkter med enheden %, deres intervaller og sammenligningsværdier, og dækningen. Ingen celle har "
    "procentformat. Enheden står i kolonnen «Enhed» eller i kolonnens overskrift; en ændring i en andel er i "
    "procentpoint."
)
EMPTY_RULE_DA = (
    "På arkene til at regne med («Alle tal» og «Overblik») indeholder talkolonnerne kun tal eller er tomme – "
    "aldrig tekst; hvorfor en celle er tom, står i kolonnen «Status» (og «Vurdering»). Koder (kommunekode, "
    "organisations- og afdelingsnummer) er tekst: læs dem som tekst, så foranstillede nuller bevares (i pandas: "
    "dtype=excel_tidy.text_dtypes())."
)
PERCENTAGE_POINTS = "procentpoint"
LEVEL_WORDS_DA = {
    "kommune": danish.LEVEL_DA["kommune"],
    "organisation": danish.LEVEL_DA["organisation"],
    "organisation_kommune": "boligorganisation i kommunen",
    "afdeling": danish.LEVEL_DA["afdeling"],
}
_LEVEL_ORDER = tuple(LEVEL_WORDS_DA)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    kind: str  # "text"; "int"; "value" (the indicator's decimals); "change" (signed); "count"; "share" (0–100)
    indicator: str | None = None  # a column of one indicator's values (else the row's indicator sets the decimals)


COLUMNS = (
    Column("level", "Niveau", 16, "text"),
    Column("kommune_code", "Kommunekode", 11, "text"),
    Column("kommune_name", "Kommune", 16, "text"),
    Column("region", "Region", 18, "text"),
    Column("organisation_id", "Organisationsnummer", 13, "text"),
    Column("organisation_name", "Boligorganisation", 30, "text"),
    Column("afdeling_id", "Afdelingsnummer", 12, "text"),
    Column("afdeling_name", "Afdeling", 24, "text"),
    Column("indicator", "Kode", 7, "text"),
    Column("indicator_name", "Målepunkt", 40, "text"),
    Column("year", "År", 7, "int"),
    Column("value", "Værdi", 12, "value"),
    Column("unit", "Enhed", 14, "text"),
    Column("change", "Ændring fra året før", 12, "change"),
    Column("change_unit", "Ændringens enhed", 14, "text"),
    Column("numerator", "Tæller", 14, "count"),
    Column("denominator", "Nævner", 14, "count"),
    Column("n_units", "Antal afdelinger", 10, "count"),
    Column("n_dwellings", "Antal boliger", 10, "count"),
    Column("n_persons", "Antal personer", 10, "count"),
    Column("coverage", "Dækning (% af boligerne)", 11, "share"),
    Column("interval_low", "95 %-interval, nedre grænse", 12, "value"),
    Column("interval_high", "95 %-interval, øvre grænse", 12, "value"),
    Column("peer_value", "Sammenligningsgruppens værdi", 14, "value"),
    Column("rank", "Placering blandt kommunerne (1 = bedst)", 12, "int"),
    Column("rank_low", "Placering, bedst mulige", 11, "int"),
    Column("rank_high", "Placering, dårligst mulige", 11, "int"),
    Column("verdict", "Vurdering", 22, "text"),
    Column("status", "Status", 14, "text"),
)
KOMMUNE_KEYS = tuple(c.key for c in COLUMNS if c.key != "region")
NATIONAL_KEYS = tuple(c.key for c in COLUMNS if not c.key.startswith(("level", "organisation", "afdeling")))
NUMERIC_KINDS = ("int", "value", "change", "count", "share")
_BY_KEY = {c.key: c for c in COLUMNS}


def text_dtypes() -> dict[str, type]:
    """`dtype` for pandas.read_excel: the text columns as text (pandas would read the organisation '0001' as 1)."""
    return {c.header: str for c in COLUMNS if c.kind == "text"}


def columns(keys: Iterable[str]) -> list[Column]:
    return [_BY_KEY[key] for key in keys]


def supervised_organisations(organisations: pd.DataFrame, kommune_code: str) -> list[str]:
    """The ids of the organisations with hjemsted in the kommune (it supervises them and holds their dialogue)."""
    seat = organisations["hjemsted_kommune_code"].astype(str).to_numpy()
    return sorted(organisations["organisation_id"].astype(str).to_numpy()[seat == str(kommune_code)].tolist())


def kommune_rows(table: pd.DataFrame, kommune_code: str, organisation_ids: Iterable[str]) -> pd.DataFrame:
    """Every row of the indicator table at the levels a kommune has: itself, the organisations it supervises, and
    the organisation-in-kommune and afdeling rows in it. Discretion is the table's: suppressed figures are blank."""
    kommune_code = str(kommune_code)
    level = table["level"].astype(str).to_numpy()
    unit = table["unit_id"].astype(str).to_numpy()
    in_kommune = table["kommune_code"].astype(str).to_numpy() == kommune_code
    mask = (level == "kommune") & (unit == kommune_code)
    mask |= (level == "organisation") & np.isin(unit, list(organisation_ids))
    mask |= np.isin(level, ["organisation_kommune", "afdeling"]) & in_kommune
    return table.loc[mask]


def tidy_frame(table: pd.DataFrame, rows: pd.DataFrame, keys: Iterable[str] = KOMMUNE_KEYS) -> pd.DataFrame:
    """The tidy sheet's content with its Danish headers: one row per level × unit × indicator × year of `rows`
    (rows of the indicator table), ordered by level, unit, indicator (registry order) and year.

    Numeric columns are float (NaN where empty) or, for the year, int; text columns hold str or NaN. Percentages
    are numbers from 0 to 100; a change of a share is in percentage points. `table` supplies every kommune's
    figure for the rank ranges (the indicator table or the levels every kommune reads).
    """
    keys = list(keys)
    rows = rows.reset_index(drop=True)
    level = rows["level"].astype(str).to_numpy()
    indicator = rows["indicator"].astype(str).to_numpy()
    info = {code: registry.get(code) for code in registry.CODES}
    order = {code: i for i, code in enumerate(registry.CODES)}
    unit_id = rows["unit_id"].astype(str).to_numpy()
    sort = pd.DataFrame(
        {
            "level": [_LEVEL_ORDER.index(v) if v in _LEVEL_ORDER else len(_LEVEL_ORDER) for v in level],
            "unit": unit_id,
            "indicator": [order[c] for c in indicator],
            "year": rows["year"].to_numpy(dtype=int),
        }
    )
    position = sort.sort_values(["level", "unit", "indicator", "year"], kind="stable").index.to_numpy()
    rows = rows.iloc[position].reset_index(drop=True)
    level, indicator, unit_id = level[position], indicator[position], unit_id[position]
    status = rows["status"].astype(str).to_numpy()
    value = rows["value"].to_numpy(dtype=float)
    is_org = np.isin(level, ["organisation", "organisation_kommune", "afdeling"])
    organisation_id = _text(rows["organisation_id"]).where(is_org)
    is_own = level == "organisation"
    names = dict(zip(unit_id[is_own], rows["unit_name"].astype(str).to_numpy()[is_own], strict=True))
    kommune_code = _text(rows["kommune_code"]).where(level != "organisation")
    reported_ranked = (status == "reported") & ~rows["rank"].isna().to_numpy()
    context = np.array([info[c].is_context for c in indicator], dtype=bool)
    rank = np.where(reported_ranked & ~context, rows["rank"].to_numpy(dtype=float), np.nan)
    rank_low, rank_high = _rank_ranges(table, rows, rank)
    change_unit = np.array([PERCENTAGE_POINTS if info[c].unit == "%" else info[c].unit for c in indicator], object)
    change = rows["change"].to_numpy(dtype=float)
    columns_ = {
        "level": [LEVEL_WORDS_DA.get(v, v) for v in level],
        "kommune_code": kommune_code,
        "kommune_name": kommune_code.map(_kommune_names()),
        "region": _text(rows["region"]),
        "organisation_id": organisation_id,
        "organisation_name": organisation_id.map(_organisation_names(rows, names)),
        "afdeling_id": pd.Series(np.where(level == "afdeling", unit_id, None), dtype=object),
        "afdeling_name": _text(rows["unit_name"]).where(level == "afdeling"),
        "indicator": indicator,
        "indicator_name": [info[c].name_da for c in indicator],
        "year": rows["year"].to_numpy(dtype="int64"),
        "value": value,
        "unit": [info[c].unit for c in indicator],
        "change": change,
        "change_unit": pd.Series(change_unit, dtype=object).where(~np.isnan(change)),
        "numerator": rows["numerator"].to_numpy(dtype=float),
        "denominator": rows["denominator"].to_numpy(dtype=float),
        "n_units": rows["n_units"].to_numpy(dtype=float),
        "n_dwellings": rows["n_dwellings"].to_numpy(dtype=float),
        "n_persons": rows["n_persons"].to_numpy(dtype=float),
        "coverage": 100.0 * rows["coverage"].to_numpy(dtype=float),
        "interval_low": rows["interval_low"].to_numpy(dtype=float),
        "interval_high": rows["interval_high"].to_numpy(dtype=float),
        "peer_value": rows["peer_value"].to_numpy(dtype=float),
        "rank": rank,
        "rank_low": rank_low,
        "rank_high": rank_high,
        "verdict": _verdicts(rows, indicator, value),
        "status": [STATUS_WORDS_DA[s] for s in status],
    }
    frame = pd.DataFrame({_BY_KEY[key].header: _as_column(columns_[key]) for key in keys})
    if "region" in keys:  # a kommune's region, also on rows that carry none (organisation rows)
        header = _BY_KEY["region"].header
        frame[header] = frame[header].where(frame[header].notna(), columns_["kommune_code"].map(_regions()))
    return frame


def national_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Every kommune's row per indicator and year, with its region (the national workbook's tidy sheet)."""
    rows = table.loc[table["level"].astype(str).to_numpy() == "kommune"]
    return tidy_frame(table, rows, NATIONAL_KEYS)


def wide_frame(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per kommune and one column per indicator (its value in `year`, NaN where none is published)."""
    rows = table.loc[(table["level"].astype(str).to_numpy() == "kommune") & (table["year"].to_numpy() == year)]
    published = rows["status"].astype(str).to_numpy() == "reported"
    values = pd.DataFrame(
        {
            "kommune_code": rows["kommune_code"].astype(str).to_numpy(),
            "indicator": rows["indicator"].astype(str).to_numpy(),
            "value": np.where(published, rows["value"].to_numpy(dtype=float), np.nan),
        }
    ).pivot(index="kommune_code", columns="indicator", values="value")
    k = kommuner.table()
    frame = pd.DataFrame(
        {
            _BY_KEY["kommune_code"].header: k["kommune_code"].astype(str).to_numpy(),
            _BY_KEY["kommune_name"].header: k["kommune_name"].astype(str).to_numpy(),
            _BY_KEY["region"].header: k["region"].astype(str).to_numpy(),
        }
    )
    for code in registry.CODES:
        column = values[code] if code in values else pd.Series(dtype=float)
        frame[wide_header(code)] = column.reindex(frame[_BY_KEY["kommune_code"].header]).to_numpy(dtype=float)
    return frame


def wide_header(code: str) -> str:
    """'E1 Energiforbrug til opvarmning (kWh/m²)': the code, the name and the unit."""
    indicator = registry.get(code)
    return f"{indicator.code} {indicator.name_da} ({indicator.unit})"


def _text(series: pd.Series) -> pd.Series:
    """A category or string column as str, NaN where empty."""
    values = series.astype(object).to_numpy()
    return pd.Series([None if v is None or v != v else str(v) for v in values], dtype=object)


def _as_column(values) -> pd.Series:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.dtype == object:
        return series.where(series.notna(), np.nan).reset_index(drop=True)
    return series.reset_index(drop=True)


def _kommune_names() -> dict[str, str]:
    k = kommuner.table()
    return dict(zip(k["kommune_code"].astype(str), k["kommune_name"].astype(str), strict=True))


def _regions() -> dict[str, str]:
    k = kommuner.table()
    return dict(zip(k["kommune_code"].astype(str), k["region"].astype(str), strict=True))


def _organisation_names(rows: pd.DataFrame, names: dict[str, str]) -> dict[str, str]:
    """Organisation names from the organisation rows, and from organisation-in-kommune rows (whose unit name is the
    organisation's) for organisations without a row of their own here."""
    level = rows["level"].astype(str).to_numpy()
    own = level == "organisation_kommune"
    extra = dict(zip(rows["organisation_id"].astype(str).to_numpy()[own], rows["unit_name"].astype(str).to_numpy()[own],
                     strict=True))  # fmt: skip
    return {**extra, **names}


def _verdicts(rows: pd.DataFrame, indicator: np.ndarray, value: np.ndarray) -> pd.Series:
    """The verdict in the reports' words on kommune and organisation rows (NaN on the other levels)."""
    verdict = rows["verdict"].astype(object).to_numpy()
    judged = pd.notna(verdict)
    out = pd.Series(np.full(len(rows), np.nan, dtype=object))
    if judged.any():
        codes = indicator[judged]
        bands = [registry.get(c).target_band for c in codes]
        decimals = [registry.get(c).decimals for c in codes]
        marks = overview.marks(verdict[judged], value[judged], bands, decimals)
        words = [overview.mark_da(str(m), c) for m, c in zip(marks, codes, strict=True)]
        out[np.flatnonzero(judged)] = [None if w == danish.MARK_DA["none"] else w for w in words]
    return out.where(out.notna(), np.nan)


def _rank_ranges(table: pd.DataFrame, rows: pd.DataFrame, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best and worst rank each ranked kommune's interval allows among the other ranked kommuner (NaN where the
    row has no rank). Without an interval the range is the rank itself."""
    low = np.full(len(rows), np.nan)
    high = np.full(len(rows), np.nan)
    ranked = np.flatnonzero(~np.isnan(rank))
    if not len(ranked):
        return low, high
    level = table["level"].astype(str).to_numpy()
    all_ranked = table.loc[(level == "kommune") & table["rank"].notna().to_numpy()]
    others = {
        key: (group["kommune_code"].astype(str).to_numpy(), group["value"].to_numpy(dtype=float))
        for key, group in all_ranked.groupby([all_ranked["indicator"].astype(str), all_ranked["year"]], observed=True)
    }
    indicator = rows["indicator"].astype(str).to_numpy()
    years = rows["year"].to_numpy(dtype=int)
    codes = rows["kommune_code"].astype(str).to_numpy()
    lows, highs = rows["interval_low"].to_numpy(dtype=float), rows["interval_high"].to_numpy(dtype=float)
    for i in ranked:
        members, values = others[(indicator[i], int(years[i]))]
        direction = registry.get(indicator[i]).direction
        span = comparison.rank_range(lows[i], highs[i], values[members != codes[i]], direction, rank=rank[i])
        low[i], high[i] = span if span else (rank[i], rank[i])
    return low, high


def number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def signed_format(decimals: int, suffix: str = "") -> str:
    """'+#,##0.0;-#,##0.0;#,##0.0', with a unit after the number where given (e.g. ' pp')."""
    plain = number_format(decimals) + (f'"{suffix}"' if suffix else "")
    return f"+{plain};-{plain};{plain}"


def _formats(frame: pd.DataFrame, cols: list[Column]) -> list[object]:
    """Per column: one number format, an array of number formats (one per row, by the row's indicator), or None for
    text."""
    decimals = None
    code_header = _BY_KEY["indicator"].header
    if code_header in frame:
        by_code = {code: registry.get(code).decimals for code in registry.CODES}
        decimals = frame[code_header].map(by_code).to_numpy(dtype=int)
    by_decimals = {d: number_format(d) for d in range(7)}
    out: list[object] = []
    for column in cols:
        if column.kind == "value" and column.indicator:
            out.append(by_decimals[registry.get(column.indicator).decimals])
        elif column.kind == "value":
            out.append(_per_row(decimals, np.zeros(len(frame), dtype=bool), lambda d, _pp: by_decimals[d]))
        elif column.kind == "change":
            unit = frame.get(_BY_KEY["change_unit"].header)
            pp = np.zeros(len(frame), dtype=bool) if unit is None else (unit == PERCENTAGE_POINTS).to_numpy()
            out.append(_per_row(decimals, pp, lambda d, pp: signed_format(d, " pp" if pp else "")))
        elif column.kind == "int":
            out.append("0")
        elif column.kind == "count":
            out.append("#,##0")
        elif column.kind == "share":
            out.append("0.0")
        else:
            out.append(None)
    return out


def _per_row(decimals: np.ndarray, pp: np.ndarray, name) -> np.ndarray:
    """A number format per row, made once per distinct (decimals, percentage points) pair."""
    keys, index = np.unique(decimals.astype(np.int64) * 2 + pp, return_inverse=True)
    names = np.array([name(int(k) // 2, bool(k % 2)) for k in keys], dtype=object)
    return names[index.reshape(-1)] if len(names) else np.array([], dtype=object)


def write_sheet(sheet, frame: pd.DataFrame, cols: list[Column], title: str, note: str, synthetic: bool) -> None:
    """Write a frame to a new sheet of a `streamed_workbook`: title, note (the synthetic banner highlighted), bold
    wrapped Danish headers, the rows (NaN as an empty cell) with number formats, widths, frozen header and an
    autofilter.

    openpyxl writes everything but the data rows. Those it would write at about 17 µs a cell (a cell object, its
    style and an XML element each: 20 s for the 63,000 rows × 28 columns of the largest kommune), so they are
    written here as the sheet XML openpyxl writes for the same cells (`data_rows_xml`) and put into the sheet when
    the workbook is saved. `append_rows` writes them through openpyxl's cells instead; the tests compare the two.
    """
    pending = getattr(sheet.parent, "kompas_rows", None)
    if pending is None:
        raise TypeError("write_sheet needs a workbook from excel_tidy.streamed_workbook")
    _write_top(sheet, frame, cols, title, note, synthetic)
    pending.append((sheet, data_rows_xml(sheet, frame, cols, _formats(frame, cols))))


def _write_top(sheet, frame: pd.DataFrame, cols: list[Column], title: str, note: str, synthetic: bool) -> None:
    """Widths, frozen panes, autofilter, and the title, note and header rows (rows 1 to HEADER_ROW)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    for index, column in enumerate(cols, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(cols))}{HEADER_ROW + max(len(frame), 1)}"
    title_cell = WriteOnlyCell(sheet, value=title)
    title_cell.font = Font(bold=True, size=14)
    note_cell = WriteOnlyCell(sheet, value=note)
    if synthetic:
        note_cell.font = Font(bold=True)
        note_cell.fill = PatternFill("solid", fgColor=NOTE_FILL)
    headers = []
    for column in cols:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        headers.append(cell)
    for row in ([title_cell], [note_cell], [], headers):
        sheet.append(row)


def append_rows(sheet, frame: pd.DataFrame, cols: list[Column]) -> None:
    """The data rows through openpyxl's cells, one `append` per row (the reference `data_rows_xml` is tested and
    benchmarked against; the sheet's top rows must have been written)."""
    from openpyxl.cell import WriteOnlyCell

    formats = _formats(frame, cols)
    styles = _styles(sheet, formats)
    numeric = [column.kind in NUMERIC_KINDS for column in cols]
    data = [frame[c.header].to_numpy(dtype=float if n else object) for c, n in zip(cols, numeric, strict=True)]
    for i in range(len(frame)):
        cells = []
        for j, values in enumerate(data):
            v = values[i]
            if v is None or v != v:
                cells.append(None)
            elif numeric[j]:
                cell = WriteOnlyCell(sheet, value=int(v) if cols[j].kind == "int" else float(v))
                f = formats[j]
                cell._style = copy(styles[f if isinstance(f, str) else f[i]])  # a shared style: see _styles
                cells.append(cell)
            else:
                cells.append(str(v))
        sheet.append(cells)


def data_rows_xml(sheet, frame: pd.DataFrame, cols: list[Column], formats: list[object]) -> list[bytes]:
    """The frame's rows as the <row> elements of the sheet's XML, from row FIRST_DATA_ROW, in chunks.

    What openpyxl writes for the same values: a number with its number format's style (registered in the workbook
    here, so that openpyxl writes it into the styles when it saves) and 16 significant digits; a text as an inline
    string (cut at Excel's 32,767 characters, `xml:space="preserve"` when it has outer spaces); no cell where the
    value is NaN, None, empty or not finite. A text with a character XML cannot hold is an error naming the column
    and row, as openpyxl's. Unlike openpyxl, a text that begins with «=» stays text (openpyxl would make it a
    formula): names in the data never become formulas.
    """
    from openpyxl.utils import get_column_letter

    n = len(frame)
    numbers = [str(FIRST_DATA_ROW + i) for i in range(n)]
    columns_xml = []
    for j, column in enumerate(cols):
        letter = get_column_letter(j + 1)
        cells = np.full(n, "", dtype=object)
        if column.kind in NUMERIC_KINDS:
            values = frame[column.header].to_numpy(dtype=float)
            keep = np.flatnonzero(np.isfinite(values))
            shown = values[keep].tolist()
            texts = [str(int(v)) for v in shown] if column.kind == "int" else [f"{v:.16g}" for v in shown]
            f = formats[j]
            names = [f] * len(keep) if isinstance(f, str) else np.asarray(f, dtype=object)[keep].tolist()
            by_name = {name: _format_probe(sheet, name).style_id for name in set(names)}  # once per format
            ids = [by_name[name] for name in names]
            cells[keep] = [
                f'<c r="{letter}{numbers[i]}" s="{s}"><v>{v}</v></c>'
                for i, s, v in zip(keep.tolist(), ids, texts, strict=True)
            ]
        else:
            codes, uniques = pd.factorize(frame[column.header].to_numpy(dtype=object), use_na_sentinel=True)
            inline = [_inline_string(u, column.header, codes, k) for k, u in enumerate(uniques)]
            keep = np.flatnonzero(codes >= 0)
            cells[keep] = [
                f'<c r="{letter}{numbers[i]}" t="inlineStr">{inline[k]}</c>' if inline[k] else ""
                for i, k in zip(keep.tolist(), codes[keep].tolist(), strict=True)
            ]
        columns_xml.append(cells.tolist())
    chunks, step = [], 5000
    for start in range(0, n, step):
        part = [column[start : start + step] for column in columns_xml]
        rows = [f'<row r="{numbers[start + i]}">{"".join(row)}</row>' for i, row in enumerate(zip(*part, strict=True))]
        chunks.append("".join(rows).encode("utf-8"))
    return chunks


def _styles(sheet, formats: list[object]) -> dict:
    """openpyxl's style array per number format, made once: setting `number_format` on every cell looks the format
    up in the workbook each time, which triples the time to write a sheet of 50,000 rows."""
    styles = {}
    for f in formats:
        for name in [f] if isinstance(f, str) else set(f if f is not None else ()):
            if name not in styles:
                styles[name] = _format_probe(sheet, name)._style
    return styles


def _format_probe(sheet, number_format: str):
    """An empty cell with this number format: its style array (`_styles`) or its style index in the workbook
    (`style_id`, registered when asked for and written into the styles when the workbook saves)."""
    from openpyxl.cell import WriteOnlyCell

    probe = WriteOnlyCell(sheet)
    probe.number_format = number_format
    return probe


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _inline_string(value, header: str, codes: np.ndarray, k: int) -> str:
    """`<is><t>…</t></is>` for a text cell, as openpyxl writes it; '' for an empty text (no cell)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils.exceptions import IllegalCharacterError

    text = str(value)[:32767]
    if not text:
        return ""
    if ILLEGAL_CHARACTERS_RE.search(text):
        row = FIRST_DATA_ROW + int(np.flatnonzero(codes == k)[0])
        raise IllegalCharacterError(f"{text!r} (kolonnen «{header}», række {row}) kan ikke stå i et regneark.")
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    return f"<is><t{space}>{text.translate(_XML_ESCAPES)}</t></is>"


@contextlib.contextmanager
def streamed_workbook(path: Path | str) -> Iterator:
    """A write-only openpyxl workbook (rows stream to temporary files instead of being held as cell objects, so
    memory stays flat for the 63,000-row sheet of the largest kommune) saved atomically to `path` when the block
    succeeds, with the data rows of the sheets `write_sheet` wrote put into them; on failure `path` is left as it was
    and the temporary files go."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    workbook.kompas_rows = []  # (sheet, its data rows' XML) from write_sheet, put in after openpyxl has saved
    try:
        yield workbook
        with atomic_write(path) as tmp:
            workbook.save(tmp)
            _insert_rows(tmp, {sheet.path.lstrip("/"): rows for sheet, rows in workbook.kompas_rows if rows})
    finally:
        _discard_streams(workbook)


def _insert_rows(path: Path, rows: dict[str, list[bytes]]) -> None:
    """Put each sheet's data rows at the end of its <sheetData> in the saved workbook (a zip file) at `path`.

    The zip is written again entry by entry, in the same order and compressed as openpyxl compresses; the few small
    entries are copied as they are read, the sheets with rows are streamed into the new zip.
    """
    import io
    import zipfile

    if not rows:
        return
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename not in rows:
                target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            head, end, tail = data.partition(b"</sheetData>")
            if not end:  # openpyxl always writes the header rows, so the element is never empty: stop, never guess
                raise ValueError(f"{info.filename}: no </sheetData> to put the rows before")
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with target.open(entry, "w") as stream:
                stream.write(head)
                for chunk in rows[info.filename]:
                    stream.write(chunk)
                stream.write(end + tail)
        missing = set(rows) - set(source.namelist())
        if missing:
            raise ValueError(f"the saved workbook has no sheet {', '.join(sorted(missing))}")
    path.write_bytes(out.getvalue())


def _discard_streams(workbook) -> None:
    """Close and remove the sheets' temporary files that a failed write left open (a saved sheet has none)."""
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None or not isinstance(writer.out, str) or not os.path.exists(writer.out):
            continue
        for stream in (getattr(sheet, "_rows", None), writer.xf):
            with contextlib.suppress(Exception):  # an unfinished XML stream cannot end cleanly: it is thrown away
                stream.close()
        os.remove(writer.out)
        if writer.out in ALL_TEMP_FILES:
            ALL_TEMP_FILES.remove(writer.out)
