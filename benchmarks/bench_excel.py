"""nøgletal.xlsx with its tidy sheet: time per kommune against baselines measured in the same run.

For a small, a middle and the largest kommune (by afdeling rows) it times, on the synthetic default data:
- the whole workbook as the batch writes it (`excel.write_workbook` on the kommune's slice of the table);
- the tidy sheet alone as the workbook writes it (`excel_tidy.write_sheet`: openpyxl's write-only mode for the
  sheet, the data rows as XML);
- baseline C: the same sheet with the data rows through openpyxl's cells (`excel_tidy.append_rows`, one write-only
  cell per value), the way the workbook wrote them before;
- baseline A: the same tidy frame written with openpyxl's normal mode (cell objects kept in memory, a number format
  set per cell), the way the workbook was written before the tidy sheet;
- baseline B: the same tidy frame as CSV (`DataFrame.to_csv`), the cost of the data without any spreadsheet.
Run: `.venv/bin/python benchmarks/bench_excel.py [--repeats 3] [--kommune 161 …]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import openpyxl

from kompas_helpers import bundle, excel, excel_tidy


def _median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _normal_mode(path: Path, frame, cols) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for index, column in enumerate(cols, start=1):
        sheet.cell(excel_tidy.HEADER_ROW, index, column.header)
    formats = excel_tidy._formats(frame, cols)
    numeric = [c.kind in excel_tidy.NUMERIC_KINDS for c in cols]
    for i, row in enumerate(frame.itertuples(index=False)):
        for j, value in enumerate(row):
            if value is None or value != value:
                continue
            cell = sheet.cell(excel_tidy.FIRST_DATA_ROW + i, j + 1, value)
            if numeric[j]:
                cell.number_format = formats[j] if isinstance(formats[j], str) else formats[j][i]
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kommune", action="append", help="kommune code (repeatable; default: small, middle, largest)")
    args = parser.parse_args()
    b = bundle.load()
    table, organisations = b.table, b.dataset.organisations
    bundle.write_slices()  # the per-kommune slices the batch reads
    sizes = table[table["level"] == "afdeling"].groupby("kommune_code", observed=True).size().sort_values()
    chosen = args.kommune or [str(sizes.index[0]), str(sizes.index[len(sizes) // 2]), str(sizes.index[-1])]
    cols = excel_tidy.columns(excel_tidy.KOMMUNE_KEYS)
    print(
        "kommune  tidy rows  workbook s  tidy sheet s  cells s  normal mode s  csv s  cells/tidy  normal/tidy  tidy/csv"
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for code in chosen:
            own = bundle.load(kommune_code=code).table  # what the batch hands the workbook
            ids = excel_tidy.supervised_organisations(organisations, code)
            frame = excel_tidy.tidy_frame(own, excel_tidy.kommune_rows(own, code, ids))

            def workbook(code=code, own=own):
                excel.write_workbook(
                    out / "a.xlsx", own, code, provenance={"synthetic": True}, data_hash="0" * 64, version="0",
                    organisations=organisations,
                )  # fmt: skip

            def streamed(frame=frame):
                with excel_tidy.streamed_workbook(out / "b.xlsx") as book:
                    excel_tidy.write_sheet(book.create_sheet("x"), frame, cols, "titel", "note", True)

            def cells(frame=frame):
                book = openpyxl.Workbook(write_only=True)
                sheet = book.create_sheet("x")
                excel_tidy._write_top(sheet, frame, cols, "titel", "note", True)
                excel_tidy.append_rows(sheet, frame, cols)
                book.save(out / "e.xlsx")

            seconds = _median_seconds(workbook, args.repeats)
            tidy = _median_seconds(streamed, args.repeats)
            by_cell = _median_seconds(cells, args.repeats)
            normal = _median_seconds(lambda frame=frame: _normal_mode(out / "c.xlsx", frame, cols), args.repeats)
            csv = _median_seconds(lambda frame=frame: frame.to_csv(out / "d.csv", index=False), args.repeats)
            print(
                f"{code:>7}  {len(frame):>9,}  {seconds:>10.2f}  {tidy:>12.2f}  {by_cell:>7.2f}  {normal:>13.2f}  "
                f"{csv:>5.2f}  {by_cell / tidy:>10.2f}  {normal / tidy:>11.2f}  {tidy / csv:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
