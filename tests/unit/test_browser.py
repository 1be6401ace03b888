"""The one place that says which Chromium the browser tests and the Voilà benchmark start, and how."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tools import chromium as browser

ROOT = Path(__file__).resolve().parents[2]


def test_launch_chromium_uses_the_project_executable_and_flags():
    calls = []
    playwright = SimpleNamespace(chromium=SimpleNamespace(launch=lambda **kwargs: calls.append(kwargs) or "browser"))
    assert browser.launch_chromium(playwright) == "browser"
    assert calls == [{"executable_path": browser.CHROMIUM_PATH, "args": list(browser.CHROMIUM_ARGS)}]
    calls[0]["args"].append("--changed-by-a-caller")  # a caller's list is its own copy
    assert "--changed-by-a-caller" not in browser.CHROMIUM_ARGS


def test_flags_run_headless_without_sandbox_gpu_or_shared_memory():
    assert Path(browser.CHROMIUM_PATH).is_absolute()
    assert {"--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"} <= set(browser.CHROMIUM_ARGS)
    assert all(flag.startswith("--") for flag in browser.CHROMIUM_ARGS)
    assert len(set(browser.CHROMIUM_ARGS)) == len(browser.CHROMIUM_ARGS)


def test_no_other_python_file_names_the_chromium_executable():
    holders = [
        str(path.relative_to(ROOT))
        for folder in ("kompas_helpers", "tests", "benchmarks", "tools")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if browser.CHROMIUM_PATH in path.read_text(encoding="utf-8")
    ]
    assert holders == ["tools/chromium.py"]
