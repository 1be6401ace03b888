"""What the browser tests look for on a page: one definition, taken from the package."""

from __future__ import annotations

from kompas_helpers.widgets import FIGURE_CLASS

# Any figure: the page copy's (in the page's HTML, shown until the widgets are live) or the live widgets'.
FIGURE = f"img.{FIGURE_CLASS}"
# The figure drawn by the live widgets: the page's front end has started and its kernel is connected.
LIVE_FIGURE = f".widget-html {FIGURE}"
