"""The pages' first views drawn before any reader asks (`page_snapshots`): which addresses, how they are found, and
how they go into a page's HTML in place of the kernel's copy."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kompas_helpers import page_snapshots as ps
from kompas_helpers import paths, serve_handlers

VIEW = '<h1>Aarhus</h1><img class="kompas-figure">'
HEAD = f'<html><head>…</head><body><div id=loading></div>{ps.VIEW_AT}<script src="style.js"></script>'
# The head with the view in its place: before the template's scripts and stylesheets.
HEAD_WITH_VIEW = HEAD.replace(ps.VIEW_AT, ps.VIEW_AT + ps.snapshot_html(VIEW))
KERNEL_COPY = f'{ps.COPY_START}<div class="kompas-static">{VIEW}</div>{ps.COPY_END}'
CELLS = f'{ps.ANCHOR} style="display: none">\n<div class="cell">{KERNEL_COPY}<script>view</script></div>'
PAGE = HEAD + CELLS + "</body></html>"


@pytest.mark.parametrize(
    ("page", "query", "expected"),
    [
        ("dashboard.ipynb", "", "dashboard.html"),
        ("dashboard.ipynb", "kommune=751", "dashboard-751.html"),
        ("compare.ipynb", "kommune=101", "compare-101.html"),
        ("dashboard.ipynb", "token=abc", "dashboard.html"),
        ("dashboard.ipynb", "kommune=751&token=abc", "dashboard-751.html"),
        ("dashboard.ipynb", "kommune=751&year=2025", None),
        ("dashboard.ipynb", "year=2025", None),
        ("dashboard.ipynb", "kommune=0751", None),
        ("dashboard.ipynb", "kommune=../x", None),
        ("compare.ipynb", "indicator=E1", None),
        ("organisation.ipynb", "kommune=751", None),
        ("udforsk.ipynb", "", None),
    ],
)
def test_only_the_bare_pages_and_kommune_deep_links_have_stored_views(page, query, expected):
    assert ps.file_name(page, query) == expected


def feed_all(splice: ps.Splice, chunks: list[str]) -> str:
    return "".join(splice.feed(chunk) for chunk in chunks)


@pytest.mark.parametrize("size", [1, 7, 50, len(PAGE)])
def test_without_an_early_head_the_view_goes_before_the_head_s_scripts_and_the_kernel_copy_is_left_out(size):
    # Chunks of any size, as long as the anchor and the comments come whole (Voilà sends template text in one piece).
    chunks = split_keeping(PAGE, size, (ps.ANCHOR, ps.COPY_START, ps.COPY_END))
    splice = ps.Splice(VIEW)

    out = feed_all(splice, chunks)

    assert out == HEAD_WITH_VIEW + CELLS.replace(KERNEL_COPY, "") + "</body></html>"
    assert splice.head_seen == HEAD and not splice.head_differed


def split_keeping(text: str, size: int, whole: tuple[str, ...]) -> list[str]:
    """`text` in pieces of `size` characters, except that no piece boundary falls inside one of `whole`."""
    pieces, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        for token in whole:
            found = text.find(token, max(0, start - len(token)))
            while 0 <= found < end:
                if found < end < found + len(token):
                    end = found + len(token)
                found = text.find(token, found + 1)
        pieces.append(text[start:end])
        start = end
    return pieces


def test_with_an_early_head_voila_s_own_head_is_left_out_and_compared():
    splice = ps.Splice(VIEW, HEAD)
    early = ps.early_text(VIEW, HEAD)

    out = feed_all(splice, [HEAD[:10], HEAD[10:], CELLS])

    assert early + out == HEAD_WITH_VIEW + CELLS.replace(KERNEL_COPY, "")
    assert not splice.head_differed

    changed = ps.Splice(VIEW, HEAD)
    feed_all(changed, ["<html>another head", CELLS])
    assert changed.head_differed and changed.head_seen == "<html>another head"


def test_without_a_view_the_page_passes_unchanged_and_its_head_is_learnt():
    splice = ps.Splice(None)
    assert feed_all(splice, [HEAD, CELLS]) == HEAD + CELLS
    assert splice.head_seen == HEAD


def test_the_head_is_held_back_until_the_anchor_so_the_view_finds_its_place_however_the_head_is_cut():
    splice = ps.Splice(VIEW)
    at = PAGE.index(ps.VIEW_AT) + 3

    assert splice.feed(PAGE[:at]) == "" and splice.feed(PAGE[at : PAGE.index(ps.ANCHOR)]) == ""
    out = splice.feed(PAGE[PAGE.index(ps.ANCHOR) :])

    assert out == HEAD_WITH_VIEW + CELLS.replace(KERNEL_COPY, "") + "</body></html>"


def test_a_head_without_the_view_s_place_gets_the_view_at_its_end():
    head = HEAD.replace(ps.VIEW_AT, "")
    assert ps.early_text(VIEW, head) == head + ps.snapshot_html(VIEW)


def test_the_snapshot_hides_voila_s_loading_text_and_is_marked():
    shown = ps.snapshot_html(VIEW)
    assert shown.startswith(f'<div class="kompas-static {ps.SNAPSHOT_CLASS}">')
    assert "#loading { display: none !important; }" in shown and shown.endswith(VIEW + "</div>")


def test_notebook_defaults_are_the_parameters_cell_s_values():
    assert ps.notebook_defaults("dashboard.ipynb") == {"kommune_code": "101", "year": 0}
    assert ps.notebook_defaults("compare.ipynb") == {"indicator": "E1", "kommune_code": "101", "year": 0}


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "afdelinger.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv(paths.DATA_ENV, str(folder))
    return folder


def test_a_stored_view_is_found_only_while_the_data_are_unchanged(tmp_path, dataset):
    store = tmp_path / "store"
    (store / ps.data_key()).mkdir(parents=True)
    (store / ps.data_key() / "dashboard-751.html").write_text(VIEW, encoding="utf-8")

    assert ps.lookup(store, "dashboard.ipynb", "kommune=751") == VIEW
    assert ps.lookup(store, "dashboard.ipynb", "kommune=461") is None  # not (yet) drawn
    assert ps.lookup(store, "dashboard.ipynb", "kommune=751&year=2024") is None
    assert ps.lookup(None, "dashboard.ipynb", "kommune=751") is None

    stat = (dataset / "afdelinger.csv").stat()
    os.utime(dataset / "afdelinger.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert ps.lookup(store, "dashboard.ipynb", "kommune=751") is None
    (dataset / "afdelinger.csv").write_text("a,b\n1,3\n")
    (dataset / "ny.csv").write_text("")
    assert ps.lookup(store, "dashboard.ipynb", "kommune=751") is None


def test_the_data_key_names_the_folder_and_its_files(tmp_path, dataset):
    key = ps.data_key()
    assert ps.data_key(dataset) == key
    other = tmp_path / "other"
    other.mkdir()
    (other / "afdelinger.csv").write_text("a,b\n1,2\n")
    assert ps.data_key(other) != key


def test_every_kommune_s_deep_link_and_the_bare_pages_are_drawn():
    found = list(ps.addresses())
    assert len(found) == 2 * 98 + 2
    names = {ps.file_name(page, "&".join(f"{k}={v}" for k, v in params.items())) for page, params in found}
    assert None not in names and len(names) == len(found)
    assert found[0][1] == {"kommune": "101"} and found[-1] == ("compare.ipynb", {})


@pytest.fixture
def quick_drawing(monkeypatch):
    """warm() with two addresses and a drawing that takes no time (what is tested is the storing)."""
    monkeypatch.setattr(ps, "addresses", lambda: iter([("dashboard.ipynb", {"kommune": "751"}), ("compare.ipynb", {})]))
    monkeypatch.setattr(ps, "draw", lambda page, b, params, defaults: f"<p>{page}</p>")
    monkeypatch.setattr("kompas_helpers.widgets.load_bundle", lambda: None)


def test_warm_stores_every_view_atomically_and_says_so(tmp_path, quick_drawing, capsys):
    assert ps.main([str(tmp_path)]) == 0

    folder = tmp_path / ps.data_key()
    assert sorted(p.name for p in folder.iterdir()) == ["compare.html", "dashboard-751.html"]
    assert (folder / "compare.html").read_text() == "<p>compare.ipynb</p>"
    assert ps.READY_LINE_DA.format(count=2) in capsys.readouterr().err
    assert ps.main([]) == 2


def test_started_by_the_server_it_removes_the_store_when_the_server_s_pipe_ends(tmp_path, quick_drawing, monkeypatch):
    read_end, write_end = os.pipe()
    ended = []
    monkeypatch.setattr("os._exit", ended.append)
    with open(read_end, "rb") as stdin:
        monkeypatch.setattr("sys.stdin", type("Stdin", (), {"buffer": stdin})())
        (tmp_path / "store").mkdir()
        os.write(write_end, b"anything")
        os.close(write_end)  # the server is gone
        ps._end_with_the_server(tmp_path / "store")
    assert not (tmp_path / "store").exists() and ended == [0]


class FakeRequest:
    query = "kommune=751"


class FakeLog:
    def __init__(self):
        self.lines = []

    def info(self, *args):
        self.lines.append(("info", args[0] % args[1:]))

    def warning(self, *args):
        self.lines.append(("warning", args[0] % args[1:]))

    def exception(self, *args):
        self.lines.append(("exception", args[0] % args[1:]))


class FakePageHandler:
    """What serve_handlers.PageHandler.get uses of a Tornado handler, with Voilà's page stream given as `chunks`
    (an exception among them is raised there, as a failing kernel start would)."""

    from kompas_helpers.serve_handlers import PageHandler

    _preheated_head = PageHandler._preheated_head
    get = PageHandler.get.__wrapped__  # without Tornado's login check

    def __init__(self, store, chunks, heads):
        self.settings = {"kompas_page_snapshots": str(store)}
        self.request = FakeRequest()
        self.kernel_manager = None
        self.heads = heads
        self.chunks = chunks
        self.sent: list[str] = []
        self.log = FakeLog()

    def set_header(self, name, value):
        pass

    def write(self, text):
        self.sent.append(text)

    def flush(self):
        pass

    async def get_generator(self, path=None):
        for chunk in self.chunks:
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk


@pytest.fixture
def stored(tmp_path, dataset):
    store = tmp_path / "store"
    (store / ps.data_key()).mkdir(parents=True)
    (store / ps.data_key() / "dashboard-751.html").write_text(VIEW, encoding="utf-8")
    return store


def run_get(handler) -> str:
    """Run the handler's get in an event loop of its own, in a thread: the browser tests' Playwright keeps a loop
    running in this thread when they ran first."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, handler.get("dashboard.ipynb")).result()
    return "".join(handler.sent)


def test_the_page_handler_learns_the_head_then_sends_it_with_the_view_at_once(stored):
    heads: dict[str, str] = {}
    first = FakePageHandler(stored, [HEAD, CELLS], heads)
    assert run_get(first) == HEAD_WITH_VIEW + CELLS.replace(KERNEL_COPY, "")
    assert heads == {"dashboard.ipynb": HEAD}

    second = FakePageHandler(stored, [HEAD, CELLS], heads)
    assert run_get(second) == HEAD_WITH_VIEW + CELLS.replace(KERNEL_COPY, "")
    assert second.sent[0] == ps.early_text(VIEW, HEAD)  # sent before Voilà's stream gave anything
    assert ("info", "kompas: første visning sendt før kernen: dashboard.ipynb?kommune=751") in second.log.lines


class RecordingPageHandler(FakePageHandler):
    """A page handler for one of several readers, noting in `events` when its stored view is sent and when Voilà's
    start of its page begins, which holds the event loop for `hold` seconds."""

    def __init__(self, stored, number, events, hold):
        super().__init__(stored, [CELLS], {"dashboard.ipynb": HEAD})
        self.number, self.events, self.hold = number, events, hold

    def write(self, text):
        super().write(text)
        if text == ps.early_text(VIEW, HEAD):
            self.events.append(("view sent", self.number))

    async def get_generator(self, path=None):
        self.events.append(("voila starts", self.number))
        time.sleep(self.hold)  # Voilà's start of a page holds the event loop (about 0.1 s in kompas serve)
        async for chunk in super().get_generator(path):
            yield chunk


def readers_events(stored, arrivals: list[float], hold: float) -> list[tuple[str, int]]:
    """What happens when readers ask for the page `arrivals` seconds from now, in one event loop."""
    events: list[tuple[str, int]] = []

    async def reader(number, after):
        await asyncio.sleep(after)
        await RecordingPageHandler(stored, number, events, hold).get("dashboard.ipynb")

    async def readers():
        await asyncio.gather(*(reader(number, after) for number, after in enumerate(arrivals)))

    with ThreadPoolExecutor(1) as pool:  # see run_get
        pool.submit(asyncio.run, readers()).result()
    return events


def test_readers_arriving_together_all_get_their_stored_views_before_voila_s_work_for_any_starts(stored):
    events = readers_events(stored, [0, 0.01, 0.02], hold=0)  # one after another, a little apart

    assert [event for event, _ in events] == ["view sent"] * 3 + ["voila starts"] * 3
    assert sorted(number for _, number in events[3:]) == [0, 1, 2]


def test_a_reader_arriving_while_the_crowd_s_voila_starts_hold_the_loop_gets_the_view_between_them(stored):
    # Five together, one more when their views are out and their Voilà starts have begun.
    late = serve_handlers.EARLY_QUIET_S + 0.03
    events = readers_events(stored, [0] * 5 + [late], hold=0.05)

    starts = [number for event, number in events if event == "voila starts"]
    assert len(starts) == 6
    # Without turns the five started back to back, 0.25 s in one turn of the loop, before the late reader was read.
    assert events.index(("view sent", 5)) < events.index(("voila starts", starts[4]))


def test_a_live_page_that_fails_after_its_stored_view_says_so_in_danish(stored):
    handler = FakePageHandler(stored, [RuntimeError("kernel died")], {"dashboard.ipynb": HEAD})
    assert run_get(handler) == ps.early_text(VIEW, HEAD) + ps.NOT_LIVE_HTML_DA
    assert handler.log.lines[-1][0] == "exception"
    # Before anything of ours was sent, the failure is Voilà's and Tornado's to answer, as without stored views.
    with pytest.raises(RuntimeError):
        run_get(FakePageHandler(stored, [RuntimeError("kernel died")], {}))
