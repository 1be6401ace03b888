"""The processes of this machine as Linux's /proc shows them, for benchmarks and tests that watch processes."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    state: str  # R, S, D, Z (a zombie), ...
    session: int  # the session id (the pid of the session's leader)
    cpu: float  # CPU seconds it has used itself (user + system)
    children_cpu: float  # CPU seconds of the children it has collected (waited for)
    command: bytes  # its command line, arguments separated by NUL bytes (empty for a zombie)

    def command_text(self, limit: int | None = None) -> str:
        return self.command.replace(b"\0", b" ").decode(errors="replace").strip()[:limit]


def processes() -> dict[int, Process]:
    """Every process that could be read (one that ends while being read is left out)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces and parentheses
        found[int(entry)] = Process(
            int(entry),
            int(fields[1]),
            fields[0],
            int(fields[3]),
            (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
            (int(fields[13]) + int(fields[14])) / CLOCK_TICKS,
            command,
        )
    return found


def busy_and_idle() -> tuple[int, int]:
    """The machine's CPU time so far in clock ticks: all of it, and the idle part (idle + waiting for I/O)."""
    values = _cpu_line()
    return sum(values), values[3] + values[4]


@dataclass(frozen=True)
class MachineCpu:
    """The whole machine's CPU seconds so far (every process of every user, as /proc/stat counts them)."""

    busy: float  # running anything: user, nice, system, interrupts
    steal: float  # this virtual machine was ready to run but the host ran another guest instead

    def __sub__(self, earlier: MachineCpu) -> MachineCpu:
        return MachineCpu(self.busy - earlier.busy, self.steal - earlier.steal)


def machine_cpu() -> MachineCpu:
    """The machine's CPU seconds so far; the difference of two readings is what the machine did in between."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = _cpu_line()[:8]
    return MachineCpu((user + nice + system + irq + softirq) / CLOCK_TICKS, steal / CLOCK_TICKS)


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's children that have ended and been collected, with those of
    their own collected children: the difference of two readings is what the processes started in between used."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_line() -> list[int]:
    return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
