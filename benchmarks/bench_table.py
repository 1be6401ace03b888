"""Time and peak memory of the whole indicator table at the real sector's size and at 10x, in one run."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import gc, json, resource, statistics, sys, time
import numpy as np
from kompas_helpers import compute, synthesize

scale, repeats = float(sys.argv[1]), int(sys.argv[2])
ds = synthesize.synthesize(seed=2025, scale=scale)
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# Baseline: one pass over the same measures (a groupby sum), the floor any computation over them costs.
base = []
for _ in range(repeats):
    t = time.perf_counter()
    ds.measures.groupby(["year", "measure"], observed=True)["value"].sum()
    base.append(time.perf_counter() - t)
times, cpu = [], []
for _ in range(repeats):
    r = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    table = compute.indicator_table(ds)
    times.append(time.perf_counter() - t)
    r2 = resource.getrusage(resource.RUSAGE_SELF)
    cpu.append(r2.ru_utime - r.ru_utime + r2.ru_stime - r.ru_stime)
    table_rows = len(table)
    del table
    gc.collect()  # a DataFrame sits in reference cycles: free it now, so each repeat starts without the last one
rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "scale": scale, "afdelinger": len(ds.afdelinger), "measure_rows": len(ds.measures), "table_rows": table_rows,
    "median_s": statistics.median(times), "min_s": min(times), "cpu_s": statistics.median(cpu),
    "baseline_s": statistics.median(base),
    "peak_rss_mb": rss_after / 1024, "peak_rss_growth_mb": (rss_after - rss_before) / 1024,
}))
"""


def measure(scale: float, repeats: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(scale), str(repeats)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    small = measure(1.0, args.repeats)
    large = measure(10.0, args.repeats)
    for r in (small, large):
        print(
            f"scale {r['scale']:>4}: {r['afdelinger']:>6} afdelinger, {r['measure_rows']:>8} measure rows -> "
            f"{r['table_rows']:>8} table rows in {r['median_s']:.2f} s (median; fastest {r['min_s']:.2f} s, "
            f"CPU {r['cpu_s']:.2f} s; baseline groupby "
            f"{r['baseline_s']:.3f} s, ratio {r['median_s'] / r['baseline_s']:.0f}x), "
            f"peak RSS {r['peak_rss_mb']:.0f} MB"
        )
    growth = large["median_s"] / small["median_s"]
    data_growth = large["afdelinger"] / small["afdelinger"]
    print(f"10x data ({data_growth:.1f}x afdelinger) took {growth:.1f}x the time (target <= 12x)")
    print(
        f"  fastest runs {large['min_s'] / small['min_s']:.1f}x, CPU time {large['cpu_s'] / small['cpu_s']:.1f}x; "
        f"the baseline groupby grew {large['baseline_s'] / small['baseline_s']:.1f}x in the same run"
    )
    print(f"default size: {small['median_s']:.2f} s (target < 3 s)")
    print(f"benchmark wall time {time.perf_counter() - started:.0f} s")
    return 0 if growth <= 12 else 1


if __name__ == "__main__":
    sys.exit(main())
