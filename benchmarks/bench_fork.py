"""Time `kompas run` with kernels forked from the fork server against the naive way and against plain kernels.

In one run: (a) the naive way (papermill CLI, then nbconvert CLI, one notebook after another) on 2 kommuner × the
kommune templates, against `kompas run` making the same HTML pages (`--no-pdf --no-word --no-excel`), the two next
to each other in every round, the ratio taken per round (the machine's speed drifts over minutes; target ≥ 10×);
(b) `kompas run --no-pdf --no-word` on a few kommuner with every template (the kommune reports, nøgletal.xlsx and
each organisation's sheet) with the fork server and with `--no-fork` (plain kernels, the way before), alternating
their order over the rounds (target ≥ 2×).
Usage: .venv/bin/python benchmarks/bench_fork.py [--naive-kommuner 101 751] [--kommuner 461 851] [--rounds 2]
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

from kompas_helpers import bundle, paths, reportset

BIN = Path(sys.executable).parent
TEMPLATES = reportset.KOMMUNE_TEMPLATES
TARGET_NAIVE, TARGET_FORK = 10.0, 2.0
# The targets count PDFs and referater separately (bench_papers.py): every `kompas run` here makes HTML pages only.
# Against the naive way it also makes no workbook, since the naive way makes none.
HTML_ONLY = ("--no-pdf", "--no-word")
SAME_AS_NAIVE = (*HTML_ONLY, "--no-excel")


def naive(kommuner: list[str], year: int, out: Path) -> float:
    out.mkdir(parents=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    start = time.perf_counter()
    for code in kommuner:
        for name in TEMPLATES:
            executed = out / f"{code}-{name}.ipynb"
            subprocess.run(
                [BIN / "papermill", paths.TEMPLATES_DIR / f"{name}.ipynb", executed, "-r", "kommune_code", code]
                + ["-p", "year", str(year), "-r", "data", "", "-k", "python3", "--no-progress-bar"],
                **quiet,
            )
            subprocess.run([BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", executed], **quiet)
    return time.perf_counter() - start


def kompas(kommuner: list[str], out: Path, *extra: str) -> tuple[float, int]:
    """`kompas run` on the command line; returns the wall time and the number of jobs it ran."""
    which = [a for code in kommuner for a in ("--kommune", code)]
    start = time.perf_counter()
    done = subprocess.run(
        [BIN / "kompas", "run", *which, "--out", out, *extra], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    if "uden fork-serveren" in done.stderr and "--no-fork" not in extra:
        raise SystemExit("the fork server was not used:\n" + done.stderr)
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text(encoding="utf-8"))
    return seconds, sum(manifest["run"]["counts"].values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-kommuner", nargs="+", default=["101", "751"])
    parser.add_argument("--kommuner", nargs="+", default=["461", "851"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    year = bundle.load().latest_year
    bundle.write_slices()  # the table and its slices exist before any timing, for every way alike
    times: dict[str, list[float]] = {"naive": [], "kompas": [], "fork": [], "plain": []}
    jobs = {}
    with tempfile.TemporaryDirectory(prefix="bench-fork-") as tmp:
        tmp = Path(tmp)
        for r in range(args.rounds):
            steps = [
                ("naive", lambda o: (naive(args.naive_kommuner, year, o), len(args.naive_kommuner) * len(TEMPLATES))),
                ("kompas", lambda o: kompas(args.naive_kommuner, o, "--templates", *TEMPLATES, *SAME_AS_NAIVE)),
                ("fork", lambda o: kompas(args.kommuner, o, *HTML_ONLY)),
                ("plain", lambda o: kompas(args.kommuner, o, *HTML_ONLY, "--no-fork")),
            ]
            for name, step in steps if r % 2 == 0 else steps[::-1]:
                seconds, count = step(tmp / f"{name}-{r}")
                times[name].append(seconds)
                jobs[name] = count
                print(f"round {r + 1} {name:<7} {seconds:7.1f} s  ({count} jobs)", flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    per_round = [n / k for n, k in zip(times["naive"], times["kompas"], strict=True)]
    result = {
        "naive_kommuner": args.naive_kommuner,
        "kommuner": args.kommuner,
        "rounds": args.rounds,
        "jobs": jobs,
        "seconds": {k: round(v, 1) for k, v in median.items()},
        # The naive way and `kompas run` run next to each other in every round (first two steps, or last two), so
        # each round's ratio compares them on the machine as fast as it was then: the headline is their median.
        "naive_over_kompas": round(statistics.median(per_round), 2),
        "per_round_naive_over_kompas": [round(ratio, 2) for ratio in per_round],
        "plain_over_fork": round(median["plain"] / median["fork"], 2),
        "per_round_plain_over_fork": [round(p / f, 2) for p, f in zip(times["plain"], times["fork"], strict=True)],
    }
    print(
        f"\nnaive / kompas run ({jobs['naive']} notebooks): {result['naive_over_kompas']:.2f}× (target ≥ "
        f"{TARGET_NAIVE:g}×)\nkompas run --no-fork / with the fork server ({jobs['fork']} jobs, all templates): "
        f"{result['plain_over_fork']:.2f}× (target ≥ {TARGET_FORK:g}×)"
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
