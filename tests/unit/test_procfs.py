"""The machine's CPU accounting the benchmarks use to say how busy the machine was while they timed something."""

from __future__ import annotations

import subprocess
import sys

from tools import procfs


def test_the_machine_s_cpu_counts_a_child_s_work_and_the_difference_of_two_readings_is_what_happened_between():
    before, children = procfs.machine_cpu(), procfs.children_cpu()
    subprocess.run(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"],
        check=True,
    )
    during, spent = procfs.machine_cpu() - before, procfs.children_cpu() - children
    assert spent >= 0.35
    tick = 1 / procfs.CLOCK_TICKS
    assert during.busy >= spent - 2 * tick  # the child's work is in the machine's, besides whatever else ran
    assert during.steal >= 0
    assert procfs.machine_cpu().busy >= before.busy + during.busy - tick
