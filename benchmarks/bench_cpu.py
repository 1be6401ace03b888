"""Where a run's CPU goes: the processes of `kompas run`, and the templates' content alone.

(a) Runs `kompas run` (HTML only, no workbooks: what `bench_fork.py` times against the naive way) and polls the CPU
time of every process it starts from /proc: the run itself, its drivers, the fork server and the kernels (the
server's children); it also samples how busy the machine's cores are. (b) With `--content`, runs each template's code
cells for each kommune in a process forked from this one after it prepared itself as the batch's fork server does
(the same imports, the run's data preloaded): the kernels' work without the kernel, i.e. the notebooks' content.
CPU seconds are noisy on a shared machine; compare parts within one run.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/bench_cpu.py [--kommuner 101 751] [--templates ...] [--rounds 2]
       [--content]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kompas_helpers import bundle, paths, reportset
from kompas_helpers.kernels import server as kernel_server
from kompas_helpers.organisation import supervision
from tools import procfs

BIN = Path(sys.executable).parent
SERVER_MODULE = kernel_server.__name__  # in the fork server's command line (python -m ...)
POLL_SECONDS = 0.03  # a process's CPU time is its last reading: a kernel that lives 1 s loses at most 3 %
BUSY_SECONDS = 0.25


def run_once(command: list[str]) -> dict:
    """Run `command` (a `kompas run`); the CPU seconds of its processes by role, its wall time and busy cores."""
    cpu: dict[int, float] = {}
    parent: dict[int, int] = {}
    busy, last_busy = [], procfs.busy_and_idle()
    start = time.perf_counter()
    next_busy = start + BUSY_SECONDS
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    servers: set[int] = set()
    while process.poll() is None:
        everything = procfs.processes()
        family = {process.pid}
        grown = True
        while grown:
            grown = False
            for pid, found in everything.items():
                if found.parent in family and pid not in family:
                    family.add(pid)
                    grown = True
        for pid in family & everything.keys():
            if pid not in parent:
                parent[pid] = everything[pid].parent
                # The server's kernels are its forks and have its command line: the server is the run's child.
                if parent[pid] == process.pid and SERVER_MODULE in everything[pid].command_text():
                    servers.add(pid)
            cpu[pid] = max(cpu.get(pid, 0.0), everything[pid].cpu)
        now = time.perf_counter()
        if now >= next_busy:
            current = procfs.busy_and_idle()
            total, idle = current[0] - last_busy[0], current[1] - last_busy[1]
            busy.append((round(now - start, 2), round((os.cpu_count() or 1) * (1 - idle / max(1, total)), 2)))
            last_busy, next_busy = current, now + BUSY_SECONDS
        time.sleep(POLL_SECONDS)
    wall = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"kompas run failed:\n{process.stderr.read()}")
    roles: dict[str, list[float]] = collections.defaultdict(list)
    for pid, seconds in cpu.items():
        if pid == process.pid:
            role = "run"
        elif pid in servers:
            role = "fork server"
        elif parent[pid] in servers:
            role = "kernels"
        elif parent[pid] == process.pid:
            role = "drivers"
        else:
            role = "other"
        roles[role].append(seconds)
    return {
        "wall": round(wall, 2),
        "cpu": {role: round(sum(values), 2) for role, values in sorted(roles.items())},
        "processes": {role: len(values) for role, values in sorted(roles.items())},
        "busy_cores": busy,
    }


def content(kommuner: list[str], templates: list[str], data: str) -> dict[str, float]:
    """CPU seconds of each template's code cells per kommune, each run in a process forked from this one after it
    was prepared like the batch's fork server (`kernels.server.Server.prepare`, with the run's data)."""
    import nbformat

    from kompas_helpers.kernels import protocol

    folder = paths.data_folder(data or None)
    meta = bundle.write_slices(folder)
    os.environ[bundle.KNOWN_HASH_ENV] = bundle.known_hash_value(folder, meta["data_hash"])
    os.environ[protocol.PRELOAD_DATA_ENV] = str(folder)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the debugger's warning about frozen modules
    kernel_server.Server(os.devnull).prepare()
    found = {}
    for code in kommuner:
        for name in templates:
            nb = nbformat.read(paths.TEMPLATES_DIR / f"{name}.ipynb", as_version=4)
            cells = [c.source for c in nb.cells if c.cell_type == "code"]
            cells = ["\n".join(line for line in c.splitlines() if not line.lstrip().startswith("%")) for c in cells]
            overrides = f"kommune_code = {code!r}\nyear = 0\ndata = {data!r}\n"
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: run the cells (their displays go nowhere), report its CPU time
                os.close(read)
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the child ends with os._exit
                before = time.process_time()
                scope: dict = {}
                exec(cells[0] + "\n" + overrides, scope)  # the project's own templates
                for cell in cells[1:]:
                    exec(cell, scope)
                os.write(write, str(time.process_time() - before).encode())
                os._exit(0)
            os.close(write)
            seconds = float(os.read(read, 64) or "nan")
            os.close(read)
            os.waitpid(pid, 0)
            found[f"{code} {name}"] = round(seconds, 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kommuner", nargs="+", default=["101", "751"])
    parser.add_argument("--templates", nargs="+", default=list(reportset.KOMMUNE_TEMPLATES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", default="")
    parser.add_argument("--content", action="store_true", help="also the templates' content alone")
    args = parser.parse_args()
    folder = paths.data_folder(args.data or None)
    bundle.write_slices(folder)  # the table exists before any timing
    supervision.store(folder)  # and the index's figures beside it (else the first run writes them)
    which = [a for code in args.kommuner for a in ("--kommune", code)]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        for r in range(args.rounds):
            command = [str(BIN / "kompas"), "run", *which, "--templates", *args.templates, "--out", f"{tmp}/{r}"]
            command += ["--no-pdf", "--no-word", "--no-excel", *(["--data", args.data] if args.data else [])]
            runs.append(run_once(command))
            print(f"round {r + 1}: {runs[-1]['wall']} s, CPU {runs[-1]['cpu']}", flush=True)
    result: dict = {"runs": runs}
    roles = sorted({role for run in runs for role in run["cpu"]})
    result["median_cpu"] = {role: statistics.median(run["cpu"].get(role, 0.0) for run in runs) for role in roles}
    if args.content:
        result["content"] = content(args.kommuner, args.templates, args.data)
        result["content_total"] = round(sum(result["content"].values()), 2)
        print(f"content alone: {result['content_total']} CPU-s {result['content']}", flush=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
