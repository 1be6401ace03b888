"""The headless Chromium that the browser tests and the Voilà benchmark drive through Playwright.

Debian's own Chromium package is used (not a browser that Playwright downloads), started with flags that make it
run headless in a container or on a CI machine without a display, GPU or user namespace.
"""

from __future__ import annotations

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_chromium(playwright):
    """Launch the headless Chromium with the project's flags from a Playwright instance (`sync_playwright()`)."""
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=list(CHROMIUM_ARGS))
