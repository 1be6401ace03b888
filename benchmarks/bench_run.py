"""Time `kompas run` against the naive way (papermill CLI, then nbconvert CLI, one notebook after another).

In one run, on the same kommuner × the four templates: (a) the naive way, (b) `kompas run` with the default
number of workers, and (c) an imports-only notebook (the templates' parameters and import cells) executed the
same two ways, as the floor a fresh kernel costs. Prints the timings and the ratios naive / kompas run (target
≥ 4×) and kompas run / imports-only floor per notebook per worker (target ≤ 1.5×). With --full, also `kompas run
--all` (98 kommuner × 4 templates, target < 8 min) and the imports-only floor run the same way.
Usage: .venv/bin/python benchmarks/bench_run.py [--kommuner 101 751 461 851] [--rounds 1] [--full]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from kompas_helpers import bundle, paths, reportset
from kompas_helpers.organisation import supervision
from kompas_helpers.runner import plan

BIN = Path(sys.executable).parent
TEMPLATES = reportset.KOMMUNE_TEMPLATES  # the per-kommune reports; organisation sheets are timed separately
TARGET_SPEEDUP, TARGET_FLOOR_RATIO, TARGET_FULL_SECONDS = 4.0, 1.5, 480


def imports_only(folder: Path) -> list[Path]:
    """Four copies of a notebook with just the templates' parameters cell and import cell (one per template)."""
    source = nbformat.read(paths.TEMPLATES_DIR / "overview.ipynb", as_version=4)
    code = [c for c in source.cells if c.cell_type == "code"]
    parameters = next(c for c in code if "parameters" in c.metadata.get("tags", []))
    imports = next(c for c in code if "import" in c.source)
    source.cells = [parameters, imports]
    made = []
    for name in TEMPLATES:
        path = folder / f"{name}.ipynb"
        nbformat.write(source, path)
        made.append(path)
    return made


def naive(templates: list[Path], kommuner: list[str], year: int, out: Path) -> float:
    """papermill CLI then nbconvert CLI for every notebook, one after another."""
    out.mkdir(parents=True)
    start = time.perf_counter()
    for code in kommuner:
        for template in templates:
            executed = out / f"{code}-{template.stem}.ipynb"
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
            subprocess.run(
                [BIN / "papermill", template, executed, "-r", "kommune_code", code, "-p", "year", str(year)]
                + ["-r", "data", "", "-k", "python3", "--no-progress-bar"],
                **quiet,
            )
            subprocess.run([BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", executed], **quiet)
    return time.perf_counter() - start


def kompas(templates: list[Path] | None, kommuner: list[str] | None, out: Path) -> float:
    """`kompas run` on the command line with the default number of workers."""
    which = ["--all"] if kommuner is None else [a for code in kommuner for a in ("--kommune", code)]
    names = [] if templates is None else ["--templates", *map(str, templates)]
    start = time.perf_counter()
    subprocess.run(
        [BIN / "kompas", "run", *which, *names, "--out", out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kommuner", nargs="+", default=["101", "751", "461", "851"])
    parser.add_argument("--rounds", type=int, default=1, help="repeat the four measurements, report medians")
    parser.add_argument("--full", action="store_true", help="also time kompas run --all (98 × 4)")
    args = parser.parse_args()

    workers = plan.default_workers()  # what `kompas run` starts without --workers
    year = bundle.load().latest_year
    bundle.write_slices()  # the table and its slices exist before any timing, for both ways alike
    supervision.store()  # and the index's figures beside them (else the first run writes them)
    real = [paths.TEMPLATES_DIR / f"{name}.ipynb" for name in TEMPLATES]
    notebooks = len(args.kommuner) * len(TEMPLATES)
    times: dict[str, list[float]] = {"naive": [], "kompas": [], "naive_floor": [], "kompas_floor": []}
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        tmp = Path(tmp)
        floor = imports_only(Path(tempfile.mkdtemp(dir=tmp)))
        for r in range(args.rounds):
            # Alternate the order between rounds so that both ways see the same machine load.
            steps = [
                ("kompas_floor", lambda o: kompas(floor, args.kommuner, o)),
                ("kompas", lambda o: kompas(None, args.kommuner, o)),
                ("naive_floor", lambda o: naive(floor, args.kommuner, year, o)),
                ("naive", lambda o: naive(real, args.kommuner, year, o)),
            ]
            for name, step in steps if r % 2 == 0 else steps[::-1]:
                seconds = step(tmp / f"{name}-{r}")
                times[name].append(seconds)
                print(f"round {r + 1} {name:<13} {seconds:7.1f} s", flush=True)
        median = {name: statistics.median(values) for name, values in times.items()}
        per_notebook = {name: seconds / notebooks for name, seconds in median.items()}
        result = {
            "kommuner": args.kommuner,
            "notebooks": notebooks,
            "workers": workers,
            "rounds": args.rounds,
            "seconds": {k: round(v, 2) for k, v in median.items()},
            "seconds_per_notebook": {k: round(v, 3) for k, v in per_notebook.items()},
            "kompas_per_notebook_per_worker": round(per_notebook["kompas"] * workers, 3),
            "floor_per_notebook_per_worker": round(per_notebook["kompas_floor"] * workers, 3),
            "speedup_naive_over_kompas": round(median["naive"] / median["kompas"], 2),
            "kompas_over_floor": round(median["kompas"] / median["kompas_floor"], 2),
            "naive_over_naive_floor": round(median["naive"] / median["naive_floor"], 2),
        }
        if args.full:
            seconds = kompas(None, None, tmp / "full")
            result["full_seconds"] = round(seconds, 1)
            result["full_per_notebook_per_worker"] = round(seconds * workers / (98 * len(TEMPLATES)), 3)
            floor_seconds = kompas(floor, None, tmp / "full_floor")
            result["full_floor_seconds"] = round(floor_seconds, 1)
            result["full_over_floor"] = round(seconds / floor_seconds, 2)
    print()
    print(f"{notebooks} notebooks ({len(args.kommuner)} kommuner × {len(TEMPLATES)} templates), {workers} workers")
    for name in ("naive", "kompas", "naive_floor", "kompas_floor"):
        print(f"  {name:<13} {median[name]:7.1f} s   {per_notebook[name]:6.2f} s per notebook")
    print(
        f"naive / kompas run: {result['speedup_naive_over_kompas']:.2f}× (target ≥ {TARGET_SPEEDUP:g}×)\n"
        f"kompas run per notebook per worker: {result['kompas_per_notebook_per_worker']:.2f} s, imports-only floor "
        f"{result['floor_per_notebook_per_worker']:.2f} s: {result['kompas_over_floor']:.2f}× "
        f"(target ≤ {TARGET_FLOOR_RATIO:g}×)"
    )
    if args.full:
        print(
            f"kompas run --all: {result['full_seconds']:.0f} s for {98 * len(TEMPLATES)} notebooks "
            f"(target < {TARGET_FULL_SECONDS} s), "
            f"{result['full_per_notebook_per_worker']:.2f} s per notebook per worker; the imports-only floor the "
            f"same way: {result['full_floor_seconds']:.0f} s ({result['full_over_floor']:.2f}×)"
        )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
