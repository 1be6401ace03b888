"""The copy of a page's first drawing that the page's HTML carries, shown before Voilà's front end is live.

A page's outermost box (`PageRoot`) gives, beside its widget view, a text/html copy of what it shows
(`static_html`); the kompas Voilà template puts that copy in the page's HTML and removes it once the live widgets
have drawn the same figures.
"""

from __future__ import annotations

import html

import ipywidgets as w

STATIC_NOTE_DA = "Valgene bliver klar om et øjeblik."


def static_html(widget: w.Widget) -> str:
    """What a widget tree shows now, as plain HTML: the HTML widgets' content, each chosen value as text, and a
    tab bar's chosen tab only. The page's template puts it in the page's HTML, so that a reader sees the page
    before Voilà's front end has started and connected to the kernel (about a second on two cores)."""
    if isinstance(widget, w.HTML):
        return widget.value
    if isinstance(widget, w.Tab):
        index = widget.selected_index or 0
        title = widget.titles[index] if index < len(widget.titles) else ""
        chosen = widget.children[index] if index < len(widget.children) else None
        heading = f'<p class="kompas-static-tab">{html.escape(title)}</p>' if title else ""
        return heading + (static_html(chosen) if chosen is not None else "")
    if isinstance(widget, w.Box) and widget.children and all(isinstance(c, w.Dropdown) for c in widget.children):
        shown = [
            f"{html.escape(c.description)}: <strong>{html.escape(c.label or '')}</strong>" for c in widget.children
        ]
        note = f'<span class="kompas-pending">{STATIC_NOTE_DA}</span>'
        return f'<p class="kompas-static-choices">{" · ".join(shown)} – {note}</p>'
    if isinstance(widget, w.Box):
        return "".join(static_html(child) for child in widget.children)
    return ""


class PageRoot(w.VBox):
    """A page's outermost box. Displayed, it carries besides the widget view a text/html copy of what it shows
    (`static_html`); the kompas Voilà template shows that copy at once and removes it when the live widgets have
    drawn the same figures. JupyterLab shows the live widgets and ignores the copy."""

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        if data is not None:
            data["text/html"] = static_html(self)
        return data
