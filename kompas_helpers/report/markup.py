"""HTML building blocks of the report content: tables, notes, lists and the wrapper with the report CSS."""

from __future__ import annotations

import html

import pandas as pd

from kompas_helpers import danish, fmt, style


def style_html() -> str:
    """The report CSS as a <style> element (included once by `header_html`; pages without a header use this)."""
    return f"<style>{style.CSS}</style>"


def esc(value: object) -> str:
    return html.escape(str(value))


_STATUS_WORDS = set(fmt.STATUS_MARK_DA.values())
_MARK_CLASS = {danish.MARK_DA["better"]: "kompas-mark-better", danish.MARK_DA["worse"]: "kompas-mark-worse"}


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str,
    numeric: tuple[str, ...] | list[str] = (),
    total_last: bool = False,
) -> str:
    """A DataFrame of formatted text cells as a print-friendly HTML table (class kompas-table).

    Every table has a caption, and its first column heads the rows (`<th scope="row">`), so a screen reader names
    the row and column of each cell. `numeric` columns are right-aligned; status words (mangler, diskretion, ikke
    opgjort) are set in italics, marks (bedre, dårligere) in bold; with `total_last` the last row is a total.
    """
    numeric = set(numeric)
    head = "".join(f'<th class="{"num" if c in numeric else ""}" scope="col">{esc(c)}</th>' for c in frame.columns)
    body = []
    rows = frame.astype(str).to_numpy()
    for i, row in enumerate(rows):
        cells = []
        for j, (col, text) in enumerate(zip(frame.columns, row, strict=True)):
            inner = esc(text)
            if text in _STATUS_WORDS:
                inner = f'<span class="kompas-status">{inner}</span>'
            elif text in _MARK_CLASS:
                inner = f'<span class="kompas-mark {_MARK_CLASS[text]}">{inner}</span>'
            cls = "num" if col in numeric else ""
            cells.append(f'<th class="{cls}" scope="row">{inner}</th>' if j == 0 else f'<td class="{cls}">{inner}</td>')
        total = ' class="kompas-total"' if total_last and i == len(rows) - 1 else ""
        body.append(f"<tr{total}>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>"
    return f'<table class="kompas-table">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def note(text: str) -> str:
    return f'<p class="kompas-note">{esc(text)}</p>'


def bullets(items, ordered: bool = False) -> str:
    tag = "ol" if ordered else "ul"
    return f"<{tag}>{''.join(f'<li>{esc(i)}</li>' for i in items)}</{tag}>"


def wrap(*parts: str, cls: str = "") -> str:
    return f'<div class="kompas {cls}">{"".join(parts)}</div>'


def display(*snippets: str) -> None:
    from IPython.display import HTML, display

    display(HTML("".join(snippets)))
