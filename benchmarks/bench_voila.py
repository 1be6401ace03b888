"""Time the dashboard in real Chromium: navigation to first figure, and kommune switch to updated figure.

Two `kompas serve` servers run side by side, one with preheated kernels (the default) and one without (the
baseline); runs alternate between them so both see the same machine load. Prints each run and the medians.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/bench_voila.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from tools.chromium import launch_chromium

# (kommune code opened by the link, kommune switched to), a different pair per run.
PAIRS = [("751", "Odense"), ("101", "Aalborg"), ("461", "Esbjerg"), ("851", "Vejle"), ("561", "Horsens")] * 4
FIRST_FIGURE = "img.kompas-figure"
# Wait after each run so that the pool is refilled and the machine is quiet again (same pause for both servers).
SETTLE_SECONDS = 15
UPDATED_JS = """([old, name]) => {
  const img = document.querySelector("img.kompas-figure");
  const h1 = document.querySelector(".kompas-heading h1");
  return img && h1 && img.src !== old && h1.textContent.includes(name);
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(label: str, log_dir: Path, *extra: str) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = log_dir / f"{label}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "kompas_helpers.cli", "serve", "--port", str(port), *extra],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                return process, base, log
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{label} server did not start:\n{log.read_text()}")


def wait_for_pool(log: Path, fills: int, timeout: float = 120) -> None:
    """Wait until the preheated pool has been (re)filled `fills` times in total, as Voilà logs it."""
    deadline = time.monotonic() + timeout
    while log.read_text().count("Kernel pool of dashboard.ipynb is filled") < fills:
        if time.monotonic() > deadline:
            raise RuntimeError("the kernel pool was not refilled in time")
        time.sleep(0.5)


def one_run(browser, base: str, kommune_code: str, switch_to: str) -> tuple[float, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    start_time = time.perf_counter()
    page.goto(f"{base}/voila/render/dashboard.ipynb?kommune={kommune_code}", wait_until="commit")
    page.wait_for_selector(FIRST_FIGURE, state="visible")
    first = time.perf_counter() - start_time
    old = page.locator(FIRST_FIGURE).first.get_attribute("src")
    start_time = time.perf_counter()
    page.get_by_label("Kommune").select_option(label=switch_to)
    page.wait_for_function(UPDATED_JS, arg=[old, switch_to], polling="raf")
    switch = time.perf_counter() - start_time
    context.close()
    return first, switch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="bench_voila_"))
    servers = {
        "preheat": start("preheat", log_dir, "--pool-size", "2"),
        "no preheat": start("no-preheat", log_dir, "--no-preheat"),
    }
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in servers}
    try:
        wait_for_pool(servers["preheat"][2], 1)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            # One untimed visit each, so that both servers' first-request costs (template compilation) are paid.
            for _process, base, _log in servers.values():
                one_run(browser, base, "147", "Aarhus")
            time.sleep(SETTLE_SECONDS)
            for run in range(args.runs):
                code, switch_to = PAIRS[run]
                for label, (_process, base, _log) in servers.items():
                    first, switch = one_run(browser, base, code, switch_to)
                    results[label].append((first, switch))
                    print(f"run {run + 1} {label:>10}: first figure {first:5.2f} s, kommune switch {switch:5.2f} s")
                    time.sleep(SETTLE_SECONDS)
            browser.close()
    finally:
        for process, _base, _log in servers.values():
            process.send_signal(signal.SIGTERM)
        for process, _base, _log in servers.values():
            process.wait(timeout=60)

    print(f"\nMedians over {args.runs} runs ({os.cpu_count()} cores), Voilà dashboard, default synthetic data:")
    medians = {label: tuple(statistics.median(r[i] for r in runs) for i in (0, 1)) for label, runs in results.items()}
    for label, (first, switch) in medians.items():
        print(f"  {label:>10}: first figure {first:5.2f} s, kommune switch {switch:5.2f} s")
    ratio = medians["preheat"][0] / medians["no preheat"][0]
    print(f"  first figure with preheating / without: {ratio:.2f}")
    print("  targets: first figure within 3 s, kommune switch within 1 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
