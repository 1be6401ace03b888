"""Time `kompas run --scheduler` on a local Dask cluster against the same run in one local process.

In one run, on the same kommuner × the four kommune templates (plus their nøgletal.xlsx): (a) `kompas run
--workers 1` (the baseline), (b) `kompas run --scheduler` with one single-threaded `dask worker`, (c) the same with
two. The scheduler and the workers run on this machine and are started before the timing (as a cluster would be);
the workers share the project's cache and outputs (a shared filesystem). Prints each time and its ratio to (a) in
the same round (the median over the rounds).
Usage: .venv/bin/python benchmarks/bench_dask.py [--kommuner 101 751] [--rounds 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kompas_helpers import bundle, paths, reportset
from kompas_helpers.organisation import supervision

BIN = Path(sys.executable).parent
TEMPLATES = reportset.KOMMUNE_TEMPLATES  # the organisation sheets would make the run many times longer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(paths.PROJECT_DIR)}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [BIN / "dask", *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_for_workers(address: str, count: int) -> None:
    import distributed

    with distributed.Client(address, timeout=60, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=120)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kompas(kommuner: list[str], out: Path, *options: str) -> float:
    which = [a for code in kommuner for a in ("--kommune", code)]
    start_time = time.perf_counter()
    subprocess.run(
        [BIN / "kompas", "run", *which, "--templates", *TEMPLATES, "--out", out, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kommuner", nargs="+", default=["101", "751"])
    parser.add_argument("--rounds", type=int, default=1, help="repeat the measurements, report medians")
    args = parser.parse_args()

    bundle.write_slices()  # the table and its slices exist before any timing, for every way alike
    supervision.store()  # and the index's figures beside them (else the first run writes them)
    jobs = len(args.kommuner) * (len(TEMPLATES) + 1)
    times: dict[str, list[float]] = {"local_1_process": [], "dask_1_worker": [], "dask_2_workers": []}
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    worker = ["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"]
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        tmp = Path(tmp)
        cluster = [start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], tmp / "s.log")]
        try:
            for r in range(args.rounds):
                # One worker first, then a second one joins; the local baseline between them, its place alternating.
                cluster.append(start(worker, tmp / f"w1-{r}.log"))
                wait_for_workers(address, 1)
                steps = [
                    ("local_1_process", lambda o: kompas(args.kommuner, o, "--workers", "1")),
                    ("dask_1_worker", lambda o: kompas(args.kommuner, o, "--scheduler", address)),
                ]
                for name, step in steps if r % 2 == 0 else steps[::-1]:
                    times[name].append(step(tmp / f"{name}-{r}"))
                    print(f"round {r + 1} {name:<16} {times[name][-1]:7.1f} s", flush=True)
                cluster.append(start(worker, tmp / f"w2-{r}.log"))
                wait_for_workers(address, 2)
                times["dask_2_workers"].append(kompas(args.kommuner, tmp / f"dask2-{r}", "--scheduler", address))
                print(f"round {r + 1} {'dask_2_workers':<16} {times['dask_2_workers'][-1]:7.1f} s", flush=True)
                stop(cluster[1:])
                del cluster[1:]
        finally:
            stop(cluster)
    median = {name: statistics.median(values) for name, values in times.items()}
    # Each round's ratios compare runs made minutes apart; under other load they are steadier than medians of times.
    rounds = [{k: v[r] / times["local_1_process"][r] for k, v in times.items()} for r in range(args.rounds)]
    ratio = {name: statistics.median(r[name] for r in rounds) for name in times}
    result = {
        "kommuner": args.kommuner,
        "jobs": jobs,
        "rounds": args.rounds,
        "seconds": {k: round(v, 2) for k, v in median.items()},
        "ratio_to_local_per_round": [{k: round(v, 2) for k, v in r.items()} for r in rounds],
        "ratio_to_local": {k: round(v, 2) for k, v in ratio.items()},
    }
    print()
    print(f"{jobs} jobs ({len(args.kommuner)} kommuner × {len(TEMPLATES)} templates + nøgletal.xlsx)")
    for name, seconds in median.items():
        print(f"  {name:<16} {seconds:7.1f} s   {ratio[name]:5.2f} × the local run (median of the rounds' ratios)")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
