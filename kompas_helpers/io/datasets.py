"""Reading input files into a dataset, and saving, loading, importing and exporting dataset folders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kompas_helpers import model
from kompas_helpers.files import atomic_folder, read_parquet, recover_folder
from kompas_helpers.io.agreement_rules import check_agreements
from kompas_helpers.io.convert import Located, check_duplicates, check_foreign_key, convert_column, run_schema
from kompas_helpers.io.measure_rules import check_measures
from kompas_helpers.io.peer_file import PEER_FILE, read_peer_file
from kompas_helpers.io.problems import DataError, Problem, problem_order
from kompas_helpers.io.readers import read_source
from kompas_helpers.io.sources import PROVENANCE_FILE, Inputs, Workbooks, discover

XLSX_EXPORT_FILE = "almenkompas-data.xlsx"
XLSX_MAX_ROWS = 1_000_000  # data rows per sheet (Excel's limit is 1,048,576 rows including the header)
_HINT_COMMANDS = (
    "kør `kompas data synthesize` for at lave det syntetiske datasæt, "
    "eller `kompas data import STI … --to {folder}` for at importere rigtige data"
)


# ----------------------------------------------------------------------------------------------------------------
# read_input
# ----------------------------------------------------------------------------------------------------------------


def _read_provenance(found: Inputs, problems: list[Problem]) -> dict | None:
    provenances = []
    for path in dict.fromkeys(found.provenance_files):
        try:
            content = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(content, dict):
                raise ValueError("not an object")
            provenances.append(content)
        except (OSError, ValueError) as exc:
            problems.append(Problem.for_file(path.name, f"filen kan ikke læses som JSON-objekt ({type(exc).__name__})"))
    if not provenances:
        return None
    provenance = dict(provenances[0])
    if any(bool(p.get("synthetic", False)) for p in provenances):
        provenance["synthetic"] = True  # never let data that was synthetic lose its label
    return provenance


def read_input(paths: Sequence[Path | str]) -> model.Dataset:
    """Read and validate the input tables from files and/or folders; raise DataError listing every problem.

    An optional table (aftaler) that is not given is empty in the dataset.
    """
    problems: list[Problem] = []
    found = discover([Path(p) for p in paths], problems)
    hashes: dict[str, str] = {}
    located: dict[str, Located] = {}
    workbooks = Workbooks()
    try:
        _read_tables(found, problems, hashes, located, workbooks)
    finally:
        workbooks.close()
    _check_tables(located)
    provenance = _read_provenance(found, problems)
    if problems:
        raise DataError(sorted(problems, key=problem_order))
    if provenance is None:
        provenance = {"synthetic": False, "source_files": list(hashes), "sha256": hashes}
    frames = {name: model.canonicalise(one.table, one.typed) for name, one in located.items()}
    return model.Dataset(provenance=provenance, **frames)


def _read_tables(
    found: Inputs,
    problems: list[Problem],
    hashes: dict[str, str],
    located: dict[str, Located],
    workbooks: Workbooks,
) -> None:
    for name, table in model.INPUT_TABLES.items():
        sources = found.sources.get(name, [])
        if not sources:
            if name not in found.attempted and not found.unreadable_workbooks and not table.optional:
                unrecognised = ", ".join(found.unrecognised)
                extra = f" Filer, der ikke blev genkendt: {unrecognised}." if unrecognised else ""
                problems.append(
                    Problem.for_file(
                        name,
                        f"tabellen {name} mangler – der skal være en fil med navnet {name}.csv, {name}.xlsx eller "
                        f'{name}.parquet, eller et ark med navnet "{name}" i en .xlsx-projektmappe.{extra}',
                    )
                )
            continue
        for duplicate in sources[1:]:
            problems.append(
                Problem.for_file(
                    duplicate.path.name,
                    f"tabellen {name} findes også i {sources[0].path} – der må kun være én fil pr. tabel",
                )
            )
        pieces = read_source(sources[0], problems, hashes, workbooks)
        if pieces:
            located[name] = Located(table, pieces, problems)


def _check_tables(located: dict[str, Located]) -> None:
    for one in located.values():
        for column in one.table.columns:
            if column.name in one.present:
                convert_column(one, column)
        run_schema(one)
        check_duplicates(one)

    organisations = located.get("organisations")
    afdelinger = located.get("afdelinger")
    if (
        afdelinger is not None
        and organisations is not None
        and organisations.complete
        and "organisation_id" in organisations.present
    ):
        check_foreign_key(
            afdelinger,
            "organisation_id",
            organisations.typed["organisation_id"],
            "findes ikke i tabellen organisations – afdelingens boligorganisation skal stå i organisations",
        )
    if "measures" in located:
        check_measures(located["measures"], afdelinger, organisations)
    if "aftaler" in located:
        check_agreements(located["aftaler"], organisations)


# ----------------------------------------------------------------------------------------------------------------
# Saving, loading, importing and exporting datasets
# ----------------------------------------------------------------------------------------------------------------


def _dataset_files(fmt: str, required_only: bool = False) -> list[str]:
    """The files a dataset folder (or an export) holds; `required_only` leaves out the optional tables' files."""
    if fmt == "xlsx":
        return [XLSX_EXPORT_FILE, PROVENANCE_FILE]
    tables = [n for n, t in model.INPUT_TABLES.items() if not (required_only and t.optional)]
    return [*(f"{name}.{fmt}" for name in tables), PROVENANCE_FILE]


def _write_provenance(dataset: model.Dataset, folder: Path) -> None:
    text = json.dumps(dataset.provenance, ensure_ascii=False, indent=2)
    (folder / PROVENANCE_FILE).write_text(text + "\n", encoding="utf-8")


def _canonical(dataset: model.Dataset) -> dict[str, pd.DataFrame]:
    return {name: model.canonicalise(table, dataset.table(name)) for name, table in model.INPUT_TABLES.items()}


def save_dataset(dataset: model.Dataset, folder: Path | str) -> None:
    """Write the dataset as Parquet files plus provenance.json; the folder is replaced as a whole, atomically."""
    folder = Path(folder)
    frames = _canonical(dataset)
    with atomic_folder(folder, _dataset_files("parquet")) as tmp:
        for name, frame in frames.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        _write_provenance(dataset, tmp)


def _missing_data_problem(folder: Path, what: str) -> DataError:
    return DataError([Problem.for_file(str(folder), f"{what} – {_HINT_COMMANDS.format(folder=folder)}")])


def load_dataset(folder: Path | str) -> model.Dataset:
    """Read a dataset folder written by save_dataset (synthesize or import)."""
    folder = Path(folder)
    recover_folder(folder)
    if not folder.is_dir():
        raise _missing_data_problem(folder, "mappen med data findes ikke")
    missing = [name for name in _dataset_files("parquet", required_only=True) if not (folder / name).is_file()]
    if missing:
        raise _missing_data_problem(folder, f"mappen mangler {', '.join(missing)}")
    frames = {}
    for name, table in model.INPUT_TABLES.items():
        path = folder / f"{name}.parquet"
        if table.optional and not path.is_file():  # a folder saved before the table existed, or without it
            frames[name] = model.empty(table)
            continue
        try:
            frames[name] = _ensure_canonical(table, read_parquet(path))
        except Exception as exc:  # a broken or foreign file can fail in many ways
            raise DataError(
                [
                    Problem.for_file(
                        path.name,
                        f"filen kan ikke læses som datasættets tabel {name} ({type(exc).__name__}) – "
                        + _HINT_COMMANDS.format(folder=folder),
                    )
                ]
            ) from exc
    try:
        provenance = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(
            [
                Problem.for_file(
                    PROVENANCE_FILE, "filen kan ikke læses som JSON – " + _HINT_COMMANDS.format(folder=folder)
                )
            ]
        ) from exc
    peer_path = folder / PEER_FILE
    groups = {}
    if peer_path.is_file():
        groups = read_peer_file(peer_path, set(frames["organisations"]["organisation_id"].astype(str)))
    return model.Dataset(provenance=provenance, peer_groups=groups, **frames)


def _ensure_canonical(table: model.Table, frame: pd.DataFrame) -> pd.DataFrame:
    expected = [pd.api.types.pandas_dtype(model.canonical_dtype(c)) for c in table.columns]
    if list(frame.columns) == table.column_names and list(frame.dtypes) == expected:
        return frame.reset_index(drop=True)
    return model.canonicalise(table, frame)


def import_dataset(paths: Sequence[Path | str], to: Path | str) -> model.Dataset:
    """Validate input files and save them as a dataset folder; on any problem nothing is written."""
    dataset = read_input(paths)
    save_dataset(dataset, to)
    return dataset


def _text_frame(table: model.Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The table as text cells the way Danish Excel writes them: decimal comma, ja/nej, empty for missing."""
    out = {}
    for column in table.columns:
        series = frame[column.name]
        if column.dtype == "str":
            out[column.name] = series.astype(object).where(series.notna(), "")
        elif column.dtype == "bool":
            out[column.name] = np.where(series.astype(bool), "ja", "nej")
        else:
            out[column.name] = _format_numbers(series.to_numpy(dtype=float, na_value=np.nan))
    return pd.DataFrame(out)


def _format_numbers(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        whole = finite & (np.mod(values, 1) == 0) & (np.abs(values) < 1e15)
    out[whole] = values[whole].astype(np.int64).astype(str)
    rest = finite & ~whole
    if rest.any():
        out[rest] = np.char.replace(values[rest].astype(str), ".", ",")
    return out


def _write_csv(table: model.Table, frame: pd.DataFrame, path: Path) -> None:
    _text_frame(table, frame).to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _write_xlsx(frames: dict[str, pd.DataFrame], path: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    problems = []
    for name, frame in frames.items():
        for column in model.INPUT_TABLES[name].columns:
            if column.dtype != "str":
                continue
            values = frame[column.name].astype(object)
            illegal = values.map(lambda v: isinstance(v, str) and bool(ILLEGAL_CHARACTERS_RE.search(v)))
            for position in np.flatnonzero(illegal.to_numpy(dtype=bool)):
                part, offset = divmod(int(position), XLSX_MAX_ROWS)
                problems.append(
                    Problem(
                        XLSX_EXPORT_FILE,
                        offset + 2,
                        column.name,
                        str(values.iloc[position]),
                        "indeholder kontroltegn, som ikke kan gemmes i Excel – ret værdien eller eksportér som csv",
                        name if part == 0 else f"{name} ({part + 1})",
                    )
                )
    if problems:
        raise DataError(problems)

    workbook = openpyxl.Workbook(write_only=True)
    for name, frame in frames.items():
        table = model.INPUT_TABLES[name]
        cells = frame.astype(object).where(frame.notna(), None)
        text_columns = [c.name for c in table.columns if c.dtype == "str"]
        parts = max(1, -(-len(cells) // XLSX_MAX_ROWS))
        for part in range(parts):
            sheet = workbook.create_sheet(name if part == 0 else f"{name} ({part + 1})")
            sheet.freeze_panes = "A2"
            for i, column in enumerate(table.columns):
                letter = openpyxl.utils.get_column_letter(i + 1)
                sheet.column_dimensions[letter].width = max(12, len(column.name) + 2)
            chunk = cells.iloc[part * XLSX_MAX_ROWS : (part + 1) * XLSX_MAX_ROWS]
            # Write the sheet's size up front (openpyxl's write-only mode leaves it out, and then every reader
            # must parse the whole sheet just to open the workbook).
            last = f"{openpyxl.utils.get_column_letter(len(table.columns))}{len(chunk) + 1}"
            sheet.calculate_dimension = lambda last=last: f"A1:{last}"
            sheet.append(table.column_names)
            # Text starting with "=" must stay text, not become a formula.
            looks_like_formula = np.zeros(len(chunk), dtype=bool)
            for column in text_columns:
                looks_like_formula |= chunk[column].astype(str).str.startswith("=").to_numpy(dtype=bool)
            special = set(np.flatnonzero(looks_like_formula).tolist())
            for i, row in enumerate(chunk.itertuples(index=False, name=None)):
                if i in special:
                    row = tuple(_text_cell(sheet, v, WriteOnlyCell) for v in row)
                sheet.append(row)
    workbook.save(path)


def _text_cell(sheet, value, cell_class):
    if isinstance(value, str) and value.startswith("="):
        cell = cell_class(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def export_dataset(dataset: model.Dataset, folder: Path | str, fmt: str) -> None:
    """Write the dataset in the input format (csv, xlsx or parquet) plus provenance.json, atomically."""
    if fmt not in ("csv", "xlsx", "parquet"):
        raise ValueError(f"Ukendt format {fmt!r}; brug csv, xlsx eller parquet")
    folder = Path(folder)
    frames = _canonical(dataset)
    with atomic_folder(folder, _dataset_files(fmt)) as tmp:
        if fmt == "csv":
            for name, frame in frames.items():
                _write_csv(model.INPUT_TABLES[name], frame, tmp / f"{name}.csv")
        elif fmt == "xlsx":
            _write_xlsx(frames, tmp / XLSX_EXPORT_FILE)
        else:
            for name, frame in frames.items():
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
        _write_provenance(dataset, tmp)
