"""The `kompas` command line: one entry point for every job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kompas_helpers import paths


class UserError(Exception):
    """An error caused by the input or the arguments; printed without a traceback."""


def _data_dir(value: str | None) -> Path:
    return Path(value) if value else paths.DEFAULT_DATA_DIR


def cmd_synthesize(args: argparse.Namespace) -> int:
    from kompas_helpers import io, synthesize

    out = Path(args.out) if args.out else paths.DEFAULT_DATA_DIR
    dataset = synthesize.synthesize(seed=args.seed, scale=args.scale)
    io.save_dataset(dataset, out)
    print(
        f"Syntetiske data skrevet til {out}: {len(dataset.organisations)} boligorganisationer, "
        f"{len(dataset.afdelinger)} afdelinger, {int(dataset.afdelinger['dwellings'].sum())} boliger "
        f"(seed {args.seed})."
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from kompas_helpers import io

    dataset = io.read_input([Path(p) for p in args.paths])
    print(
        f"Ingen fejl fundet: {len(dataset.organisations)} boligorganisationer, {len(dataset.afdelinger)} afdelinger, "
        f"{len(dataset.measures)} målinger."
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from kompas_helpers import io

    dataset = io.import_dataset([Path(p) for p in args.paths], Path(args.to))
    print(f"Importeret til {args.to}: {len(dataset.afdelinger)} afdelinger, {len(dataset.measures)} målinger.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from kompas_helpers import io

    dataset = io.load_dataset(_data_dir(args.data))
    io.export_dataset(dataset, Path(args.dir), args.format)
    print(f"Eksporteret som {args.format} til {args.dir}.")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from kompas_helpers import compute, io, summary

    dataset = io.load_dataset(_data_dir(args.data))
    table = compute.indicator_table(dataset)
    if args.out:
        io.write_parquet_atomic(table, Path(args.out))
        print(f"Indikatortabellen ({len(table)} rækker) er gemt i {args.out}.")
    print(summary.dimension_summary(table, dataset))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kompas", description="AlmenKompas workbook")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="synthesize, import, validate and export datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True)

    p = data_sub.add_parser("synthesize", help="generate the synthetic default dataset")
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--scale", type=float, default=1.0, help="1.0 = the size of the real sector")
    p.add_argument("--out", help="target folder (default: data/synthetic)")
    p.set_defaults(func=cmd_synthesize)

    p = data_sub.add_parser("validate", help="check files in the input format without writing anything")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=cmd_validate)

    p = data_sub.add_parser("import", help="validate and import files into a dataset folder")
    p.add_argument("paths", nargs="+")
    p.add_argument("--to", required=True)
    p.set_defaults(func=cmd_import)

    p = data_sub.add_parser("export", help="write a dataset out in the input format")
    p.add_argument("dir")
    p.add_argument("--format", choices=["csv", "xlsx", "parquet"], required=True)
    p.add_argument("--data")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("table", help="compute the whole indicator table")
    p.add_argument("--data")
    p.add_argument("--out")
    p.set_defaults(func=cmd_table)

    return parser


def main(argv: list[str] | None = None) -> int:
    from kompas_helpers.io import DataError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DataError, UserError) as exc:
        print(f"Fejl: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
