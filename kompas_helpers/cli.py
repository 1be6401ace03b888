"""The `kompas` command line: one entry point for every job."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kompas_helpers import paths
from kompas_helpers.kernels import protocol


class UserError(Exception):
    """An error caused by the input or the arguments; printed without a traceback."""


def cmd_synthesize(args: argparse.Namespace) -> int:
    from kompas_helpers import synthesize
    from kompas_helpers.io import datasets

    out = paths.data_folder(args.out)
    dataset = synthesize.synthesize(seed=args.seed, scale=args.scale)
    datasets.save_dataset(dataset, out)
    print(
        f"Syntetiske data skrevet til {out}: {len(dataset.organisations)} boligorganisationer, "
        f"{len(dataset.afdelinger)} afdelinger, {int(dataset.afdelinger['dwellings'].sum())} boliger, "
        f"{len(dataset.aftaler)} aftaler (seed {args.seed})."
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from kompas_helpers.io import datasets

    dataset = datasets.read_input([Path(p) for p in args.paths])
    print(
        f"Ingen fejl fundet: {len(dataset.organisations)} boligorganisationer, {len(dataset.afdelinger)} afdelinger, "
        f"{len(dataset.measures)} målinger, {len(dataset.aftaler)} aftaler."
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from kompas_helpers.io import datasets

    dataset = datasets.import_dataset([Path(p) for p in args.paths], Path(args.to))
    print(
        f"Importeret til {args.to}: {len(dataset.afdelinger)} afdelinger, {len(dataset.measures)} målinger, "
        f"{len(dataset.aftaler)} aftaler."
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from kompas_helpers.io import datasets

    dataset = datasets.load_dataset(paths.data_folder(args.data))
    datasets.export_dataset(dataset, Path(args.dir), args.format)
    print(f"Eksporteret som {args.format} til {args.dir}.")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from kompas_helpers import compute, summary
    from kompas_helpers.files import write_parquet_atomic
    from kompas_helpers.io import datasets

    dataset = datasets.load_dataset(paths.data_folder(args.data))
    table = compute.indicator_table(dataset)
    if args.out:
        write_parquet_atomic(table, Path(args.out))
        print(f"Indikatortabellen ({len(table)} rækker) er gemt i {args.out}.")
    print(summary.dimension_summary(table, dataset))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from kompas_helpers import serve

    options = serve.ServeOptions(
        port=args.port,
        token=args.token,
        preheat=not args.no_preheat,
        pool_size=args.pool_size,
        refill_delay=args.refill_delay,
        cell_timeout=args.cell_timeout,
        cull_idle_timeout=args.cull_idle_timeout,
        cull_interval=args.cull_interval,
        data=args.data or "",
        fork=not args.no_fork,
        snapshots=not args.no_snapshots,
    )
    query = f"?token={args.token}" if args.token else ""
    url = f"http://127.0.0.1:{args.port}/voila/render/dashboard.ipynb{query}"
    print(f"Siderne vises på {url} (stop med Ctrl-C).", flush=True)
    return serve.run(options)


def cmd_run(args: argparse.Namespace) -> int:
    from kompas_helpers.kernels import client as kernel_client

    extra = {}
    for item in args.parameter or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--parameter skal skrives NAVN=VÆRDI, fik «{item}».")
        extra[name.strip()] = value
    if args.no_fork:
        os.environ[protocol.DISABLE_ENV] = "1"  # read by every driver, also in the spawned worker processes
    # The run's fork server first of all (batch.run uses this one): its imports, the longest wait before the first
    # notebook, go on beside this process's own. Numpy and pyarrow are imported here without their thread pools, so
    # that the drivers can be forked from this process (batch._worker_context).
    local = not args.scheduler
    server = kernel_client.start_for_run(args.data, [] if args.all else args.kommune or []) if local else None
    try:
        with protocol.single_threaded_imports(keep_given=False):
            import pyarrow  # noqa: F401

            from kompas_helpers.runner import batch, plan
        return _run(args, extra, batch, plan)
    finally:
        if server is not None:
            kernel_client.stop()


def _run(args: argparse.Namespace, extra: dict, batch, plan) -> int:
    options = plan.RunOptions(
        kommuner=None if args.all else args.kommune,
        organisations=args.organisation,
        year=args.year,
        templates=args.templates,
        workers=args.workers,
        data=args.data or "",
        out=args.out,
        timeout=args.timeout,
        parameters=extra,
        pdf=not args.no_pdf,
        word=not args.no_word,
        excel=not args.no_excel,
        scheduler=args.scheduler or "",
    )
    try:
        return batch.run(options, progress=sys.stderr, summary=sys.stdout).exit_code
    except plan.RunError as exc:
        raise UserError(str(exc)) from exc


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

    p = sub.add_parser("serve", help="serve the Voilà pages on 127.0.0.1")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--token", default="", help="require this token in the URL (default: none)")
    p.add_argument("--data", help="dataset folder the pages read (default: data/synthetic)")
    p.add_argument("--no-preheat", action="store_true", help="start each page's kernel on request")
    p.add_argument("--pool-size", type=int, default=2, help="preheated kernels kept ready per page")
    p.add_argument(
        "--refill-delay", type=float, default=3.0, help="seconds before a taken preheated kernel is replaced"
    )
    p.add_argument("--cell-timeout", type=int, default=120, help="seconds a page's cell may run")
    p.add_argument(
        "--cull-idle-timeout",
        type=int,
        default=300,
        help="seconds before the kernel of a page that never connected or lost its browser stops",
    )
    p.add_argument("--cull-interval", type=int, default=10, help="seconds between checks for idle kernels")
    p.add_argument("--no-fork", action="store_true", help="start each page's kernel afresh instead of forking it")
    p.add_argument(
        "--no-snapshots",
        action="store_true",
        help="do not draw the pages' first views in advance (each page then shows what its kernel draws)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("run", help="execute the report templates for kommuner (HTML, notebooks, nøgletal.xlsx)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="all 98 kommuner and every organisation's sheet")
    which.add_argument("--kommune", action="append", metavar="KODE", help="kommune code or name (repeatable)")
    which.add_argument(
        "--organisation", nargs="+", metavar="ID", help="only these organisations' sheets (organisation ids)"
    )
    p.add_argument("--year", type=int, default=0, help="report year (default: the latest in the data)")
    p.add_argument("--templates", nargs="+", metavar="NAVN", help="template names or .ipynb paths (default: all five)")
    p.add_argument("--workers", type=int, help="parallel processes (default: one more than the number of cores)")
    p.add_argument("--data", help="dataset folder (default: data/synthetic)")
    p.add_argument("--out", help="output folder (default: outputs/)")
    p.add_argument("--timeout", type=float, help="seconds one notebook may run (default: no limit)")
    p.add_argument("--parameter", "-p", action="append", metavar="NAVN=VÆRDI", help="extra template parameter")
    p.add_argument("--no-pdf", action="store_true", help="no PDF of the overviews and organisation sheets")
    p.add_argument("--no-word", action="store_true", help="no referat skeleton (.docx) beside each organisation sheet")
    p.add_argument(
        "--no-excel",
        action="store_true",
        help="no nøgletal.xlsx per kommune and no alle-kommuner.xlsx (workbooks of earlier runs are left as they are)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the jobs on this Dask scheduler's workers (needs the [dask] extra and a shared filesystem)",
    )
    p.add_argument("--no-fork", action="store_true", help="start each kernel afresh instead of forking the fork server")
    p.set_defaults(func=cmd_run)

    return parser


def main(argv: list[str] | None = None) -> int:
    from kompas_helpers import deferred
    from kompas_helpers.io.problems import DataError

    deferred.defer_iri_grammars()  # before anything imports nbformat: 1.3 s off every command that does

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DataError, UserError) as exc:
        print(f"Fejl: {exc}", file=sys.stderr)
        return 2


def entry() -> None:
    """The `kompas` command: `main`, then the process ends at once when no thread is left to finish
    (`protocol.end_process`: Python's own end took 0.18 s after a run's work was done); otherwise as usual."""
    code = main()
    if protocol.ends_alone():
        protocol.end_process(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
