"""Time `kompas run` with kernels forked from the fork server against the naive way and against plain kernels.

In one run: (a) the naive way (papermill CLI, then nbconvert CLI, one notebook after another) on 2 kommuner × the
kommune templates, against `kompas run` making the same HTML pages (`--no-pdf --no-word --no-excel`), target ≥ 10×;
(b) `kompas run --no-pdf --no-word` on a few kommuner with every template (the kommune reports, nøgletal.xlsx and
each organisation's sheet) with the fork server and with `--no-fork` (plain kernels, the way before), alternating
their order over the rounds (target ≥ 2×).
The machine's speed drifts from second to second (the host slows a core without taking it from us), so in (a)
`kompas run` (about 5 s) is timed before the naive way's first kommune, between its kommuner and after its last
(about 30 s each): its mean over those times is its time over the same minute the naive way averages over, and each
round's ratio is the naive way's time over that mean. The ratio against each single time is printed too.
Every step also reports the CPU time of its processes and what else the machine did meanwhile (other processes,
and the host running other virtual machines), as shares of its cores: a busy machine slows `kompas run`, which keeps
every core busy, more than the naive way, which mostly uses one. The naive way's CPU time over `kompas run`'s is
printed too; unlike the wall-time ratio, it does not depend on how busy the machine was.
Usage: .venv/bin/python benchmarks/bench_fork.py [--naive-kommuner 101 751] [--kommuner 461 851] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kompas_helpers import bundle, paths, reportset
from kompas_helpers.organisation import supervision
from tools import procfs

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


@dataclass(frozen=True)
class Step:
    """One timed step: its wall time, the CPU time of its processes, and what else the machine did meanwhile."""

    seconds: float
    jobs: int
    cpu: float  # CPU seconds of every process the step started (collected children, with their own children)
    others: float  # CPU seconds the machine spent on anything else meanwhile (other users, other containers)
    steal: float  # CPU seconds the host gave to other virtual machines while this one was ready to run

    def share(self, seconds: float) -> float:
        """`seconds` of CPU as a share of what the machine's cores could give during the step."""
        return seconds / (self.seconds * (os.cpu_count() or 1))


def measured(step) -> Step:
    """Run `step` (returns its wall time and number of jobs) and account for the machine's CPU while it ran.

    A busy machine slows a run on every core (`kompas run`) more than one on one core at a time (the naive way):
    the others' and the host's shares say how busy it was, so that a slow round can be told from a slow change."""
    children, machine = procfs.children_cpu(), procfs.machine_cpu()
    seconds, jobs = step()
    spent = procfs.children_cpu() - children
    during = procfs.machine_cpu() - machine
    return Step(seconds, jobs, spent, max(0.0, during.busy - spent), during.steal)


def total(steps: list[Step]) -> Step:
    """Steps run one after another as one step: their times, jobs and CPU seconds added up."""
    return Step(*(sum(getattr(s, f) for s in steps) for f in ("seconds", "jobs", "cpu", "others", "steal")))


def mean(steps: list[Step]) -> Step:
    """The same step timed several times, as one step: the mean of each measure (the jobs of one)."""
    n = len(steps)
    summed = total(steps)
    return Step(summed.seconds / n, steps[0].jobs, summed.cpu / n, summed.others / n, summed.steal / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-kommuner", nargs="+", default=["101", "751"])
    parser.add_argument("--kommuner", nargs="+", default=["461", "851"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    year = bundle.load().latest_year
    bundle.write_slices()  # the table and its slices exist before any timing, for every way alike
    supervision.store()  # and the index's figures beside them (else the first run writes them)
    steps_done: dict[str, list[Step]] = {"naive": [], "kompas": [], "fork": [], "plain": []}
    naive_rounds: list[list[Step]] = []  # per round: the naive way, one step per kommune
    kompas_rounds: list[list[Step]] = []  # per round: `kompas run` before, between and after those steps

    def report(r: int, name: str, done: Step) -> None:
        print(
            f"round {r + 1} {name:<7} {done.seconds:7.1f} s  ({done.jobs} jobs)  CPU {done.cpu:6.1f} s; "
            f"meanwhile others {done.share(done.others):4.0%}, host {done.share(done.steal):4.0%}",
            flush=True,
        )

    with tempfile.TemporaryDirectory(prefix="bench-fork-") as tmp:
        tmp = Path(tmp)
        for r in range(args.rounds):

            def against_naive(r=r) -> None:
                naive_rounds.append([])
                kompas_rounds.append([])
                for i, code in enumerate([*args.naive_kommuner, None]):
                    out = tmp / f"kompas-{r}-{i}"
                    done = measured(
                        lambda o=out: kompas(args.naive_kommuner, o, "--templates", *TEMPLATES, *SAME_AS_NAIVE)
                    )
                    kompas_rounds[-1].append(done)
                    report(r, "kompas", done)
                    if code is not None:
                        done = measured(lambda c=code: (naive([c], year, tmp / f"naive-{r}-{c}"), len(TEMPLATES)))
                        naive_rounds[-1].append(done)
                        report(r, "naive", done)

            def timed(name: str, step, r=r) -> None:
                done = measured(lambda: step(tmp / f"{name}-{r}"))
                steps_done[name].append(done)
                report(r, name, done)

            steps = [
                against_naive,
                lambda: timed("fork", lambda o: kompas(args.kommuner, o, *HTML_ONLY)),
                lambda: timed("plain", lambda o: kompas(args.kommuner, o, *HTML_ONLY, "--no-fork")),
            ]
            for step in steps if r % 2 == 0 else steps[::-1]:
                step()
    for naive_steps, kompas_steps in zip(naive_rounds, kompas_rounds, strict=True):
        steps_done["naive"].append(total(naive_steps))
        steps_done["kompas"].append(mean(kompas_steps))
    times = {name: [s.seconds for s in done] for name, done in steps_done.items()}
    jobs = {name: done[-1].jobs for name, done in steps_done.items()}
    median = {name: statistics.median(values) for name, values in times.items()}
    per_round = [n / k for n, k in zip(times["naive"], times["kompas"], strict=True)]
    cpu_per_round = [n.cpu / k.cpu for n, k in zip(steps_done["naive"], steps_done["kompas"], strict=True)]
    result = {
        "naive_kommuner": args.naive_kommuner,
        "kommuner": args.kommuner,
        "rounds": args.rounds,
        "jobs": jobs,
        "seconds": {k: round(v, 1) for k, v in median.items()},
        # Per round: the naive way's time over `kompas run`'s mean time in the same minute (timed before, between
        # and after the naive way's kommuner); the headline is the median of the rounds.
        "naive_over_kompas": round(statistics.median(per_round), 2),
        "per_round_naive_over_kompas": [round(ratio, 2) for ratio in per_round],
        # The same against each single time of `kompas run`, in the order they were taken.
        "per_time_naive_over_kompas": [
            [round(n.seconds / k.seconds, 2) for k in ks]
            for n, ks in zip(steps_done["naive"], kompas_rounds, strict=True)
        ],
        "kompas_seconds": [[round(k.seconds, 2) for k in ks] for ks in kompas_rounds],
        "naive_seconds": [[round(n.seconds, 1) for n in ns] for ns in naive_rounds],
        "plain_over_fork": round(median["plain"] / median["fork"], 2),
        "per_round_plain_over_fork": [round(p / f, 2) for p, f in zip(times["plain"], times["fork"], strict=True)],
        # CPU time is what a busy machine does not change: the naive way's CPU seconds over `kompas run`'s.
        "cpu_seconds": {name: [round(s.cpu, 2) for s in done] for name, done in steps_done.items()},
        "kompas_cpu_seconds": [[round(k.cpu, 2) for k in ks] for ks in kompas_rounds],
        "cpu_naive_over_kompas": round(statistics.median(cpu_per_round), 2),
        # What else the machine did while `kompas run` ran, as shares of its cores (other processes; the host).
        "kompas_others_share": [[round(k.share(k.others), 3) for k in ks] for ks in kompas_rounds],
        "kompas_host_share": [[round(k.share(k.steal), 3) for k in ks] for ks in kompas_rounds],
    }
    print(
        f"\nnaive / kompas run ({jobs['naive']} notebooks): {result['naive_over_kompas']:.2f}× (target ≥ "
        f"{TARGET_NAIVE:g}×)\nkompas run --no-fork / with the fork server ({jobs['fork']} jobs, all templates): "
        f"{result['plain_over_fork']:.2f}× (target ≥ {TARGET_FORK:g}×)\nin CPU time, naive / kompas run: "
        f"{result['cpu_naive_over_kompas']:.2f}×"
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
