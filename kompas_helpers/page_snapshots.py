"""First views of the pages, drawn before any reader asks for them, so that a page's HTML can carry one at once.

`kompas serve` starts this module (`main`) in a process of its own at the lowest CPU priority: it draws the
dashboard's and the comparison page's first view for each kommune's deep link (`?kommune=751`) and for the bare page,
exactly as a page kernel draws it (`page_copy.static_html` of the page's root after `open()`), and stores each as a
file. When a reader asks for one of those addresses, the server's page handler (`serve_handlers.PageHandler`) sends
the stored view with the page's head before Voilà has a kernel for the request, and leaves out the copy the kernel
then makes of the same view: the reader sees the page's figures while the kernel still works, and the live widgets
replace the view as before. Any other address (another year, an unknown kommune) gets the kernel's own copy, as
without this module.

The views are stored under a key of the dataset's files (names, sizes and modification times): if the data change
while the server runs, no stored view matches them any more and every page shows what its kernel draws.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

from kompas_helpers import paths

# The pages that have stored first views, and the class drawing each (in kompas_helpers.widgets).
PAGES = {"dashboard.ipynb": "DashboardApp", "compare.ipynb": "CompareApp"}
# What the warming process writes to the server's log when every view is stored.
READY_LINE_DA = "kompas: sidernes første visning er klar for {count} adresser"
# The page's HTML up to this element of the kompas Voilà template (its "head") is template text, the same for every
# request of a page; a stored view goes into it at `VIEW_AT`, a comment of the template's before its stylesheets and
# scripts (or at its end, should a template have no such comment).
ANCHOR = '<div id="rendered_cells"'
VIEW_AT = "<!--kompas-first-view-->"
# The kompas Voilà template wraps the kernel's copy of a page's first view in these comments (see index.html.j2).
COPY_START = "<!--kompas-static-->"
COPY_END = "<!--/kompas-static-->"
# The class of the element carrying a stored view (the template's script removes it when the live widgets show).
SNAPSHOT_CLASS = "kompas-snapshot"
_KOMMUNE = re.compile(r"\d{3}")
# JupyterLab's light theme's font for its interface (--jp-ui-font-family), less the fonts of other systems' emoji.
UI_FONT = 'system-ui, -apple-system, blinkmacsystemfont, "Segoe UI", helvetica, arial, sans-serif'
# Sent after a stored view when Voilà fails to serve the live page (no kernel could start, say): the view stays. The
# script puts the message at the top of the page, also when it came inside an element still hidden (#rendered_cells).
NOT_LIVE_HTML_DA = (
    '<div class="kompas-not-live" role="alert" style="border: 3px solid #a4262c; background: #fde7e9; '
    'padding: 0.5em 0.9em; margin: 1em;"><p>Siden kunne ikke gøres levende på grund af en fejl på serveren: tallene '
    "nedenfor kan læses, men valgene virker ikke. Genindlæs siden om lidt.</p></div>"
    "<script>document.body.prepend(document.currentScript.previousElementSibling);</script></body></html>"
)


def file_name(page: str, query: str) -> str | None:
    """The stored view's file name for a request of `page` with `query`; None when no view is stored for it.

    Only the bare page and a deep link naming nothing but a kommune (`kommune=751`) have stored views. The server's
    access token (`token=…`, in the address `kompas serve --token` prints) does not change what a page shows.
    """
    if page not in PAGES:
        return None
    pairs = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name != "token"]
    stem = page.removesuffix(".ipynb")
    if not pairs:
        return f"{stem}.html"
    if len(pairs) == 1 and pairs[0][0] == "kommune" and _KOMMUNE.fullmatch(pairs[0][1]):
        return f"{stem}-{pairs[0][1]}.html"
    return None


def data_key(folder: Path | None = None) -> str:
    """A key of the dataset's files as they are now (names, sizes, modification times): cheap enough per request."""
    folder = paths.data_folder(str(folder) if folder else os.environ.get(paths.DATA_ENV) or None)
    digest = hashlib.sha256(str(folder.resolve()).encode())
    for path in sorted(folder.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"\0{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def lookup(store: str | Path | None, page: str, query: str) -> str | None:
    """The stored first view for this request, or None (no store, no view for the address, data changed since)."""
    if not store:
        return None
    name = file_name(page, query)
    if name is None:
        return None
    try:
        return (Path(store) / data_key() / name).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


def snapshot_html(view: str) -> str:
    """The element the page's HTML carries a stored view in; it hides Voilà's loading text (the page is there).

    The view comes before JupyterLab's stylesheets (`VIEW_AT`): its text outside the view's own styles (the key
    figures, the choices' line) gets JupyterLab's font here, not the browser's serif default.
    """
    style = (
        f"<style>#loading {{ display: none !important; }} .{SNAPSHOT_CLASS} {{ font-family: {UI_FONT}; "
        "font-size: 13px; }</style>"
    )
    return f'<div class="kompas-static {SNAPSHOT_CLASS}">{style}{view}</div>'


class Splice:
    """Puts a stored view into a page's HTML as it streams out, and drops the kernel's copy of the same view.

    Fed the page's chunks in order. Without `head`, the stream's text up to `ANCHOR` is held back until all of it is
    there (Voilà sends it at once, before the kernel starts), and goes out with the view in its place (`early_text`);
    with `head` (the HTML up to `ANCHOR`, already sent with the view before Voilà had anything to send), the stream's
    own text up to `ANCHOR` is left out, and `head_differed` says whether it was not the same. Either way, everything
    between `COPY_START` and `COPY_END` (the kernel's copy) is left out. The comments are whole template text, so
    each arrives within one chunk, but the copy between them may come in several. `head_seen` is the stream's own
    text up to `ANCHOR`. Without a view the stream passes unchanged.
    """

    def __init__(self, view: str | None, head: str | None = None):
        self.view = view
        self.head = head
        self.head_seen: str | None = None
        self.head_differed = False
        self._before: list[str] = []
        self._dropping = False

    def feed(self, chunk: str) -> str:
        if self.head_seen is None:
            self._before.append(chunk)
            text = "".join(self._before)
            at = text.find(ANCHOR)
            if at < 0:
                return chunk if self.view is None else ""
            self.head_seen = text[:at]
            if self.view is None:
                return chunk
            if self.head is not None:
                self.head_differed = self.head_seen != self.head
                return self._drop_copy(text[at:])
            return early_text(self.view, self.head_seen) + self._drop_copy(text[at:])
        return self._drop_copy(chunk)

    def _drop_copy(self, chunk: str) -> str:
        if self.view is None:
            return chunk
        kept = []
        while chunk:
            marker = COPY_END if self._dropping else COPY_START
            at = chunk.find(marker)
            if at < 0:
                if not self._dropping:
                    kept.append(chunk)
                break
            if not self._dropping:
                kept.append(chunk[:at])
            chunk = chunk[at + len(marker) :]
            self._dropping = not self._dropping
        return "".join(kept)


def early_text(view: str, head: str) -> str:
    """What a page's response starts with: its head with the stored view in its place (at `VIEW_AT`). Sent at once
    when the head is known, else (`Splice`) as soon as Voilà has rendered it."""
    at = head.find(VIEW_AT)
    at = len(head) if at < 0 else at + len(VIEW_AT)
    return head[:at] + snapshot_html(view) + head[at:]


def notebook_defaults(page: str) -> dict[str, object]:
    """The page notebook's parameters as its `parameters` cell sets them (its kernel draws the page with these).

    Read with `ast`: the cell's lines are annotated assignments with comments (`kommune_code: str = "101"  # …`),
    which `papermill.inspect_notebook` cannot parse.
    """
    import nbformat

    notebook = nbformat.read(paths.NOTEBOOKS_DIR / page, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    found: dict[str, object] = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def draw(page: str, b, params: dict[str, str], defaults: dict[str, object]) -> str:
    """A page's first view for `params`, as a page kernel shows it when the page opens.

    The page is made with the notebook's parameters (`defaults`) and drawn inside a running event loop, as in a
    kernel: it then draws only what a kernel draws before it displays the page (the rest would follow step by step,
    and is dropped here).
    """
    from kompas_helpers import page_copy, widgets

    async def first_view() -> str:
        app = getattr(widgets, PAGES[page])(b, **defaults)
        view = page_copy.static_html(app.open(params))
        app.cancel()
        return view

    return asyncio.run(first_view())


def addresses() -> Iterator[tuple[str, dict[str, str]]]:
    """Every (page, parameters) with a stored view: each kommune's deep link first, both pages in turn, then the
    bare pages (whose default kommune's view is the same drawing)."""
    from kompas_helpers import kommuner

    for kommune in kommuner.all_kommuner():
        for page in PAGES:
            yield page, {"kommune": kommune.code}
    for page in PAGES:
        yield page, {}


def warm(store: Path) -> int:
    """Draw and store every page's first view (see `addresses`); returns how many were stored.

    Stores nothing more once the data have changed.
    """
    from kompas_helpers import files, widgets

    key = data_key()
    folder = store / key
    folder.mkdir(parents=True, exist_ok=True)
    b = widgets.load_bundle()
    defaults = {page: notebook_defaults(page) for page in PAGES}
    count = 0
    for page, params in addresses():
        if data_key() != key:
            break
        name = file_name(page, "&".join(f"{k}={v}" for k, v in params.items()))
        with files.atomic_write(folder / name) as temporary:
            temporary.write_text(draw(page, b, params, defaults[page]), encoding="utf-8")
        count += 1
    return count


def main(argv: list[str] | None = None, wait: bool = False) -> int:
    """`python -m kompas_helpers.page_snapshots STORE`: what `kompas serve` starts (at the lowest priority).

    With `wait` (as `kompas serve` starts it), its stdin is a pipe from the server: when the pipe ends, which comes
    however the server ends (a kill included), it removes the store and exits, whether still drawing or done, so that
    no server leaves its drawer or its views behind.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("brug: python -m kompas_helpers.page_snapshots MAPPE", file=sys.stderr)
        return 2
    store = Path(args[0])
    if wait:
        # A thread of its own: the drawing (or, at the lowest priority, the wait for the CPU) must not delay it.
        threading.Thread(target=_end_with_the_server, args=(store,), daemon=True).start()
    code = 0
    try:
        count = warm(store)
    except Exception as exc:  # the pages still work without stored views: each then shows what its kernel draws
        problem = f"{type(exc).__name__}: {exc}"
        print(f"kompas: sidernes første visning blev ikke tegnet på forhånd ({problem})", file=sys.stderr)
        code = 1
    else:
        print(READY_LINE_DA.format(count=count), file=sys.stderr, flush=True)
    if wait:
        threading.Event().wait()  # the thread ends the process
    return code


def _end_with_the_server(store: Path) -> None:
    sys.stdin.buffer.read()  # until the server closes the pipe or is gone
    shutil.rmtree(store, ignore_errors=True)
    os._exit(0)  # not sys.exit: this is not the main thread, and the drawing must stop here too


if __name__ == "__main__":
    sys.exit(main(wait=True))
