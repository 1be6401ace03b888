"""30 readers open the dashboard at once: time to each reader's first figure, with and without the fork server and
the stored first views.

For each server in turn (`kompas serve` as it is: kernels forked from the fork server and the pages' first views drawn
in advance; then the same with `--no-snapshots`; then plain `kompas serve --no-fork --no-snapshots`, the way before; all
preheat a pool of 2; with stored views, the bench waits until all are drawn): one reader alone (first figure), then
`--readers` readers at once in one headless Chromium, each in its own context on its own kommune's deep link, all asked
for at the same moment (a timer in each page). A reader's time runs from that moment until its first figure is visible
(recorded in the page itself): the stored first view the page's HTML starts with (`page_snapshots`), or else the copy of
the first drawing that the kernel puts in the page's HTML (`page_copy.PageRoot`), or the live widgets' figure if that
comes first. The time to the live widgets' figure (front end started, kernel connected) is reported beside it, and so is
the time by which the page's HTML (with the copy) had arrived in full: what the server side alone took. Then every page
is closed (with its unload handler) and the kernels still running 30 s later are counted. Targets: every reader renders,
median ≤ 5 s, worst ≤ 10 s, a single reader's first figure ≤ 1.5 s, no kernel of a closed page left after 30 s. With
`--nice-browser` Chromium runs at the lowest CPU priority (nice 19, for its whole session where Linux groups the CPU by
session): the readers' browsers then take only what the server leaves, as if each reader's browser ran on the reader's
own machine, and the times show what the server side alone allows on this machine.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/bench_voila_readers.py [--readers 30]
       [--only fork,fork-no-snapshots,plain] [--nice-browser] [--serve-args "..."]
"""

from __future__ import annotations

import argparse
import json
import stat
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench_voila import start, wait_for_pool
from playwright.sync_api import sync_playwright

from kompas_helpers import kommuner, page_snapshots
from kompas_helpers.widgets import FIGURE_CLASS
from tools import procfs
from tools.chromium import CHROMIUM_ARGS, CHROMIUM_PATH, launch_chromium

FIGURE = f"img.{FIGURE_CLASS}"
# The same figure drawn by the live widgets (the page's HTML carries a copy of the first drawing, shown until then).
LIVE_FIGURE = f".widget-html {FIGURE}"
# Records, in the page, when a figure is first visible (Date.now()) and when the live widgets' figure is, so that
# readers are timed independently.
RECORD_JS = f"""
new MutationObserver((_, observer) => {{
  const seen = (selector) => [...document.querySelectorAll(selector)].some((img) => img.checkVisibility());
  if (!window.kompasFirstFigure && seen("{FIGURE}")) window.kompasFirstFigure = Date.now();
  if (seen("{LIVE_FIGURE}")) {{ window.kompasLiveFigure = Date.now(); observer.disconnect(); }}
}}).observe(document, {{childList: true, subtree: true, attributes: true}});
"""

# Navigates to `url` at `at` (ms since the epoch, as Date.now()).
NAVIGATE_AT_JS = "([url, at]) => { setTimeout(() => { window.location.href = url; }, at - Date.now()); }"
# Time allowed per page for setting the timers before the pages navigate together.
START_MARGIN_MS = 100
# When the page's HTML had arrived in full (ms since the epoch, as Date.now()): the server's part of the wait.
DELIVERED_JS = "performance.timeOrigin + performance.getEntriesByType('navigation')[0].responseEnd"
# When the page's first bytes arrived (ms since the epoch).
FIRST_BYTE_JS = "performance.timeOrigin + performance.getEntriesByType('navigation')[0].responseStart"
# When the stylesheets and script the page's head asks for (from the template's static folder) had all arrived.
HEAD_FILES_JS = """Math.max(...performance.getEntriesByType('resource')
  .filter((r) => r.name.includes('/templates/kompas/static/')).map((r) => performance.timeOrigin + r.responseEnd))"""


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the Voilà server itself, by its kernels (with the fork server: live ones plus
    those it has collected) and by Chromium (every chromium process: the benchmark's browser is the only one)."""
    stats = procfs.processes()
    used = {"server": 0.0, "kernels": 0.0, "chromium": 0.0}
    for pid, found in stats.items():
        if pid == server_pid:
            used["server"] += found.cpu
        elif b"chromium" in found.command.split(b"\0")[0]:
            used["chromium"] += found.cpu
        else:
            ancestor = found.parent  # a kernel or the fork server: below the Voilà server
            while ancestor not in (0, 1, server_pid) and ancestor in stats:
                ancestor = stats[ancestor].parent
            if ancestor == server_pid:
                used["kernels"] += found.cpu + found.children_cpu
    return used


def kernel_alive(base: str, kernel_id: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/kernels/{kernel_id}", timeout=10):
            return True
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def single(browser, base: str) -> tuple[float, float]:
    """One reader: seconds to the first visible figure, and to the live widgets' figure."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    start_time = time.perf_counter()
    page.goto(f"{base}/voila/render/dashboard.ipynb?kommune=751", wait_until="commit")
    page.wait_for_selector(FIGURE, state="visible")
    seconds = time.perf_counter() - start_time
    page.wait_for_selector(LIVE_FIGURE, state="visible")
    live = time.perf_counter() - start_time
    page.close(run_before_unload=True)
    context.close()
    return seconds, live


def crowd(
    browser, base: str, codes: list[str], server_pid: int
) -> tuple[
    list[float | None], list[float | None], list[float | None], dict[str, list[float | None]], int, dict[str, float]
]:
    contexts, pages = [], []
    for _ in codes:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.add_init_script(RECORD_JS)
        page = context.new_page()
        page.set_default_timeout(180_000)
        contexts.append(context)
        pages.append(page)
    cpu_before = cpu_seconds(server_pid)
    # Every page navigates at the same moment, by a timer in the page set while the browser is idle. Waiting for each
    # navigation in turn (`goto` returns once the response's first bytes are in) sent the requests out one after
    # another, 0.3–0.9 s apart with 12 readers, because the browser was busy drawing the pages before.
    started = time.time() * 1000 + START_MARGIN_MS * len(pages)
    for page, code in zip(pages, codes, strict=True):
        page.evaluate(NAVIGATE_AT_JS, [f"{base}/voila/render/dashboard.ipynb?kommune={code}", started])
    times: list[float | None] = []
    live: list[float | None] = []
    delivered: list[float | None] = []
    first_byte: list[float | None] = []
    head_files: list[float | None] = []
    kernel_ids = []
    for page in pages:
        try:
            page.wait_for_selector(LIVE_FIGURE, state="visible")
            times.append((page.evaluate("window.kompasFirstFigure") - started) / 1000)
            live.append((page.evaluate("window.kompasLiveFigure") - started) / 1000)
            delivered.append((page.evaluate(DELIVERED_JS) - started) / 1000)
            first_byte.append((page.evaluate(FIRST_BYTE_JS) - started) / 1000)
            head_files.append((page.evaluate(HEAD_FILES_JS) - started) / 1000)
            kernel_ids.append(json.loads(page.locator("#jupyter-config-data").text_content())["kernelId"])
        except Exception:  # a reader whose page never rendered is counted as such, not timed
            times.append(None)
            live.append(None)
            delivered.append(None)
            first_byte.append(None)
            head_files.append(None)
    cpu = {k: round(v - cpu_before[k], 1) for k, v in cpu_seconds(server_pid).items()}
    for page in pages:
        page.close(run_before_unload=True)
    for context in contexts:
        context.close()
    time.sleep(30)
    left = sum(kernel_alive(base, kid) for kid in kernel_ids)
    return times, live, delivered, {"first_byte": first_byte, "head_files": head_files}, left, cpu


def _median(times: list[float | None]) -> float | None:
    """The median of the readers' times (those who got there), or None when none did."""
    done = [t for t in times if t is not None]
    return round(statistics.median(done), 2) if done else None


def _worst(times: list[float | None]) -> float | None:
    done = [t for t in times if t is not None]
    return round(max(done), 2) if done else None


def _rounded(times: list[float | None]) -> list[float | None]:
    return [None if t is None else round(t, 2) for t in times]


# The servers compared, each with its `kompas serve` arguments.
SERVERS = {
    "fork": (),
    "fork-no-snapshots": ("--no-snapshots",),
    "plain": ("--no-fork", "--no-snapshots"),
}
READY = page_snapshots.READY_LINE_DA.split("{")[0]


def wait_for_snapshots(log: Path, timeout: float = 600) -> None:
    """Wait until the server's page-view drawer says every first view is stored."""
    deadline = time.monotonic() + timeout
    while READY not in log.read_text():
        if time.monotonic() > deadline:
            raise RuntimeError("the pages' first views were not stored in time")
        time.sleep(0.5)


def launch_niced(playwright, folder: Path):
    """Chromium at nice 19 (every process it starts inherits the priority)."""
    wrapper = folder / "chromium-nice"
    # Playwright starts the browser in a session of its own, and Linux's autogroup scheduling then shares the CPU
    # fairly between sessions whatever their processes' nice values: the session's own priority is set as well.
    autogroup = "[ -w /proc/self/autogroup ] && echo 19 > /proc/self/autogroup\n"
    wrapper.write_text(f'#!/bin/sh\n{autogroup}exec nice -n 19 {CHROMIUM_PATH} "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return playwright.chromium.launch(executable_path=str(wrapper), args=list(CHROMIUM_ARGS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=30)
    parser.add_argument("--only", default=",".join(SERVERS), help="the servers to compare, by label, comma-separated")
    parser.add_argument("--nice-browser", action="store_true", help="run Chromium at nice 19")
    parser.add_argument("--serve-args", default="", help="more `kompas serve` arguments, e.g. '--refill-delay 1'")
    args = parser.parse_args()
    codes = [k.code for k in kommuner.all_kommuner()][: args.readers]
    log_dir = Path(tempfile.mkdtemp(prefix="bench_voila_readers_"))
    results = {}
    with sync_playwright() as playwright:
        browser = launch_niced(playwright, log_dir) if args.nice_browser else launch_chromium(playwright)
        for label in args.only.split(","):
            extra = SERVERS[label]
            process, base, log = start(label, log_dir, "--pool-size", "2", *args.serve_args.split(), *extra)
            try:
                wait_for_pool(log, 1)
                if "--no-snapshots" not in extra:
                    wait_for_snapshots(log)
                single(browser, base)  # untimed: template compilation and the browser's first-visit costs
                wait_for_pool(log, 2)
                one, one_live = single(browser, base)
                wait_for_pool(log, 3)
                times, live, delivered, steps, left, cpu = crowd(browser, base, codes, process.pid)
            finally:
                process.terminate()
                process.wait(timeout=60)
            done = [t for t in times if t is not None]
            results[label] = {
                "single_first_figure": round(one, 2),
                "single_live_figure": round(one_live, 2),
                "rendered": f"{len(done)}/{len(times)}",
                "median": _median(times),
                "worst": _worst(times),
                "median_live": _median(live),
                "worst_live": _worst(live),
                "median_html_delivered": _median(delivered),
                "worst_html_delivered": _worst(delivered),
                **{f"median_{step}": _median(found) for step, found in steps.items()},
                "kernels_left_30s_after_close": left,
                "cpu_seconds_until_all_rendered": cpu,
                "times": _rounded(times),
                "times_live": _rounded(live),
                "times_html_delivered": _rounded(delivered),
                **{f"times_{step}": _rounded(found) for step, found in steps.items()},
            }
            print(label, json.dumps(results[label]), flush=True)
        browser.close()
    for baseline in ("fork-no-snapshots", "plain"):
        if "fork" in results and baseline in results and results["fork"]["median"]:
            ratio = results[baseline]["median"] / results["fork"]["median"]
            print(f"median reader's first figure, {baseline} / fork (with stored views): {ratio:.2f}×")
    print("targets: every reader renders, median ≤ 5 s, worst ≤ 10 s, single reader ≤ 1.5 s, 0 kernels left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
