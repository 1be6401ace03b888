"""The Voilà pages as ipywidgets apps: choices checked against what exists, outputs updated in place."""

from __future__ import annotations

import asyncio
import base64
import html
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs

import ipywidgets as w

from kompas_helpers import bundle, danish, figures, files, fmt, kommuner, paths, plots, registry
from kompas_helpers.organisation import listing
from kompas_helpers.page_copy import PageRoot
from kompas_helpers.report.header import banner_html, vintage_da
from kompas_helpers.report.indicator import comparison_table, indicator_html, indicator_intro_html
from kompas_helpers.report.markup import style_html, table_html
from kompas_helpers.report.overview import overview_data, overview_html
from kompas_helpers.report.questions import questions_html
from kompas_helpers.report.ranking import FEW_DWELLINGS, kommune_ranking_table
from kompas_helpers.report.stock import almene_stock_data, almene_stock_html

PREHEAT_ENV = "VOILA_PREHEAT"
QUERY_ENV = "QUERY_STRING"
# A value echoed back in a message is cut to this length (it comes from the URL).
ECHO_MAX = 24


# Loading and request -------------------------------------------------------------------------------------------


# The pages' data as the pages' fork server loaded them before forking (`preload`); a page kernel forked from it has
# them in memory already, shared copy-on-write with the server.
_preloaded: list[bundle.Bundle] = []


@lru_cache(maxsize=1)
def load_bundle() -> bundle.Bundle:
    """The dataset and its whole indicator table, loaded once per kernel (from the cache after the first run).

    In a kernel forked from the pages' fork server it is the server's copy, unless the data changed since then.
    """
    folder = paths.data_folder(os.environ.get(paths.DATA_ENV) or None)
    for loaded in _preloaded:
        if loaded.data_dir == folder and bundle.dataset_hash(folder) == loaded.data_hash:
            return loaded
    return bundle.load(folder)


def preload() -> None:
    """Load the pages' data in the pages' fork server, before it forks any kernel (`kernels.server`).

    Every page kernel then starts with the data a reader's page needs instead of reading them (about 0.7 s of CPU)
    while readers wait for it. Read without Arrow's thread pool: a fork copies only the thread that forks.
    """
    with files.without_arrow_threads():
        _preloaded[:] = [bundle.load(os.environ.get(paths.DATA_ENV) or None)]


def wait_for_request() -> None:
    """In a preheated Voilà kernel, wait here until a reader opens the page; elsewhere return at once."""
    if os.environ.get(PREHEAT_ENV) == "True":
        from voila.utils import wait_for_request as voila_wait_for_request

        voila_wait_for_request()


def query_params(query_string: str | None = None) -> dict[str, str]:
    """The page URL's parameters (the first value of each), read when called: after the request in Voilà."""
    text = os.environ.get(QUERY_ENV, "") if query_string is None else query_string
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


# Validation ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A checked choice: the value to use (None when the input was not allowed) and the Danish message if any."""

    value: str | int | None
    message: str = ""


def _echo(value: object) -> str:
    text = str(value).strip()
    if len(text) > ECHO_MAX:
        text = text[:ECHO_MAX] + "…"
    return html.escape(text)


def check_kommune(value: object, allowed: list[str]) -> Checked:
    """A kommune code (or name) from a widget or URL: one of the allowed codes, or a message saying why not."""
    if value is None or str(value).strip() == "":
        return Checked(None)
    found = kommuner.find(value)
    if found is not None and found.code in allowed:
        return Checked(found.code)
    return Checked(None, kommuner.unknown_message([_echo(value)]))


def check_year(value: object, years: list[int]) -> Checked:
    """A year from a widget or URL: one of the dataset's years, or a message saying which exist."""
    if value is None or str(value).strip() == "":
        return Checked(None)
    text = str(value).strip()
    if text.isdigit() and int(text) in years:
        return Checked(int(text))
    span = f"{min(years)}–{max(years)}" if len(years) > 1 else str(years[0])
    return Checked(None, f"Året {_echo(value)} findes ikke i data. Vælg et af årene {span}.")


def check_indicator(value: object) -> Checked:
    """An indicator code from a widget or URL (E1 … G6, any case), or a message."""
    if value is None or str(value).strip() == "":
        return Checked(None)
    code = str(value).strip().upper()
    if code in registry.INDICATORS:
        return Checked(code)
    return Checked(
        None,
        f"Indikatoren {_echo(value)} findes ikke. Vælg en af de {len(registry.INDICATORS)} indikatorer "
        f"({registry.CODES[0]}–{registry.CODES[-1]}).",
    )


# Display helpers -----------------------------------------------------------------------------------------------

# Widget-only styling; the tables, notes and banner use the reports' CSS (style.CSS).
STYLE = """<style>
.kompas-message { border: 3px solid #a4262c; background: #fde7e9; color: #111; padding: 0.5em 0.9em;
  margin: 0.4em 0 0.8em; font-size: 11pt; }
.kompas-message p { margin: 0.15em 0; }
.kompas-heading h1 { font-size: 20pt; margin: 0.3em 0 0.1em; }
.kompas-headline { display: flex; flex-wrap: wrap; gap: 0.8em; margin: 0.5em 0 0.9em; }
.kompas-kpi { border: 1px solid #aaa; border-radius: 4px; padding: 0.4em 0.8em; min-width: 10em; }
.kompas-kpi-value { font-size: 17pt; font-weight: 700; font-variant-numeric: tabular-nums; }
.kompas-kpi-label { font-size: 10pt; color: #333; }
img.kompas-figure { max-width: 100%; height: auto; display: block; margin: 0.4em 0; }
.kompas-pending { color: #555; font-style: italic; }
/* ipywidgets greys the tabs not chosen (#6d6d6d on #eee, 4.45:1): darker, for WCAG's 4.5:1 (axe color-contrast). */
body .jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab:not(.lm-mod-current) { color: #333; }
</style>"""


# The class of every figure's <img> on a page (the page copy's script and the browser tests find figures by it).
FIGURE_CLASS = "kompas-figure"


def figure_html(fig, alt: str) -> str:
    """A matplotlib Figure as an <img> (PNG inline, cropped to its caption) with a text alternative."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = " ".join([alt.rstrip(".") + ".", figures.findings_of(fig)]).strip()
    return f'<img class="{FIGURE_CLASS}" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def messages_html(messages: list[str]) -> str:
    """Validation messages (already HTML-escaped) in one alert box; empty when there are none."""
    if not messages:
        return ""
    return f'<div class="kompas-message" role="alert">{"".join(f"<p>{m}</p>" for m in messages)}</div>'


@dataclass(frozen=True)
class Headline:
    """The key figures at the top of the dashboard."""

    dwellings: int
    organisations: int
    afdelinger: int
    reported: int
    indicators: int
    better: int
    worse: int
    judged: int


def kommune_headline(b: bundle.Bundle, kommune_code: str, year: int) -> Headline:
    """Key figures for the dashboard's headline, counted from the report functions' own data."""
    stock = almene_stock_data(b, kommune_code)
    d = overview_data(b, kommune_code, year)
    marks = d["mark"]
    return Headline(
        dwellings=int(stock["dwellings"].sum()),
        organisations=len(stock),
        afdelinger=int(stock["afdelinger"].sum()),
        reported=int((d["status"] == "reported").sum()),
        indicators=len(d),
        better=int((marks == "better").sum()),
        worse=int((marks == "worse").sum()),
        judged=int(marks.isin(["better", "worse", "same"]).sum()),
    )


def headline_html(b: bundle.Bundle, kommune_code: str, year: int) -> str:
    h = kommune_headline(b, kommune_code, year)
    cards = [
        (fmt.number(h.dwellings), "almene boliger"),
        (fmt.number(h.organisations), "boligorganisationer med afdelinger her"),
        (fmt.number(h.afdelinger), "almene afdelinger"),
        (f"{h.reported} af {h.indicators}", f"målepunkter med tal for {year}"),
        (f"{h.better} / {h.worse}", f"bedre / dårligere end hele landet (af {h.judged} vurderede)"),
    ]
    body = "".join(
        f'<div class="kompas-kpi"><div class="kompas-kpi-value">{value}</div>'
        f'<div class="kompas-kpi-label">{html.escape(label)}</div></div>'
        for value, label in cards
    )
    return f'<div class="kompas-headline">{body}</div>'


def heading_html(b: bundle.Bundle, kommune_code: str, year: int) -> str:
    name, region = kommuner.kommune_info(kommune_code)
    meta = f"{region} · år {year} · {vintage_da(b)}"
    return (
        f'<div class="kompas kompas-heading"><h1>Kommunens ESG-kompas: {html.escape(name)} Kommune</h1>'
        f'<p class="kompas-meta">{html.escape(meta)}</p></div>'
    )


def section(title: str, body: str) -> str:
    return f'<div class="kompas"><h2>{html.escape(title)}</h2>{body}</div>'


def indicator_section_html(b: bundle.Bundle, kommune_code: str, year: int, code: str) -> str:
    """One indicator as in the dimension reports: intro and comparison, trend and spread chart, organisations."""
    name, _region = kommuner.kommune_info(kommune_code)
    ind = registry.get(code)
    figure = figure_html(
        plots.indicator_figure(b, kommune_code, year, code),
        f"{code} {ind.name_da}: udvikling for {name}, regionen og hele landet, og afdelingernes tal i {year}",
    )
    return (
        indicator_html(b, kommune_code, year, code, "top")
        + figure
        + indicator_html(b, kommune_code, year, code, "bottom")
    )


# Shared page machinery -----------------------------------------------------------------------------------------


def kommune_options() -> list[tuple[str, str]]:
    """(name, code) of the 98 kommuner in Danish alphabetical order (Æ, Ø, Å last)."""
    k = kommuner.table()
    pairs = list(zip(k["kommune_name"], k["kommune_code"], strict=True))
    return sorted(pairs, key=lambda pair: danish.sort_key(pair[0]))


def dropdown(options, description: str, width: str) -> w.Dropdown:
    return w.Dropdown(
        options=options, value=None, description=description, layout=w.Layout(width=width),
        style={"description_width": "initial"},
    )  # fmt: skip


class _Page:
    """What both pages share: the data, the checked choices, the banner and the message area."""

    def __init__(self, b: bundle.Bundle, kommune_code: str, year: int):
        figures.use_style()
        self.bundle = b
        self.codes = list(kommuner.table()["kommune_code"])
        self.years = list(b.years)
        self.default_kommune = check_kommune(kommune_code, self.codes).value or self.codes[0]
        self.default_year = check_year(year, self.years).value or b.latest_year
        self.head = w.HTML(style_html() + STYLE + banner_html(b))
        self.message = w.HTML()
        self.kommune = dropdown(kommune_options(), "Kommune", "300px")
        self.year = dropdown(sorted(self.years, reverse=True), "År", "130px")
        self._tokens: dict[object, int] = {}

    def _run(self, key: object, steps: list[Callable[[], None]], now: int = 1, done: Callable[[], None] | None = None):
        """Run the first `now` steps at once and the others one by one when the kernel is idle (all at once outside).

        Each step sends its widget update as soon as it is done, so the reader sees the first figure while the
        rest is drawn, and the page is delivered without waiting for what is below the fold. A new run for the
        same `key` (or `cancel()`) drops the steps still waiting, so a quick second choice never shows stale
        content. `done` runs after the last step.
        """
        token = self._tokens[key] = self._tokens.get(key, 0) + 1
        queue = list(steps)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # outside a kernel: draw everything now

        def run_one() -> bool:
            """Run the next step; False when the run is finished or dropped."""
            if self._tokens.get(key) != token or not queue:
                return False
            queue.pop(0)()
            if not queue and done is not None:
                done()
            return bool(queue)

        def chain() -> None:
            if run_one():
                loop.call_soon(chain)

        for _ in range(now if loop is not None else len(queue)):
            if not run_one():
                return
        if loop is not None:
            loop.call_soon(chain)

    def cancel(self) -> None:
        """Drop every step still waiting (the choice changed)."""
        for key in self._tokens:
            self._tokens[key] += 1

    def _listen(self, *controls: w.Widget) -> None:
        for control in controls:
            control.observe(self._on_choice, names="value")

    def _on_choice(self, _change) -> None:
        self.message.value = ""
        self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError


# Kommunens ESG-kompas ------------------------------------------------------------------------------------------

DIMENSIONS = list(registry.DIMENSIONS)
OVERVIEW_TAB_DA = "Overblik"


class DashboardApp(_Page):
    """Pick a kommune and a year; an overview tab and one tab per dimension, each drawn when first shown."""

    def __init__(self, b: bundle.Bundle, kommune_code: str = "", year: int = 0):
        super().__init__(b, kommune_code, year)
        self.heading = w.HTML()
        self.headline = w.HTML()
        # Overview tab, top to bottom in the order it is drawn.
        self.overview = {part: w.HTML() for part in ("table", "ranking", "map", "stock", "questions")}
        self.indicators = {code: w.HTML() for code in registry.CODES}
        self.questions = {dim: w.HTML() for dim in DIMENSIONS}
        tabs = [w.VBox(list(self.overview.values()))] + [
            w.VBox([*(self.indicators[i.code] for i in registry.by_dimension(d)), self.questions[d]])
            for d in DIMENSIONS
        ]
        titles = [OVERVIEW_TAB_DA, *(registry.DIMENSION_NAMES_DA[d] for d in DIMENSIONS)]
        self.tabs = w.Tab(children=tabs, titles=titles)
        self.root = PageRoot(
            [self.head, self.message, w.HBox([self.kommune, self.year]), self.heading, self.headline, self.tabs]
        )
        # The (kommune, year) each tab shows; a tab is drawn when it is visible and out of date.
        self._shown: list[tuple[str, int] | None] = [None] * len(tabs)

    def open(self, params: dict[str, str]) -> w.VBox:
        """Apply the URL's parameters (checked), draw the page and start listening to the reader's choices."""
        kommune = check_kommune(params.get("kommune"), self.codes)
        year = check_year(params.get("year"), self.years)
        self.message.value = messages_html([m for m in (kommune.message, year.message) if m])
        if not kommune.message:
            self.kommune.value = kommune.value or self.default_kommune
        self.year.value = year.value or self.default_year
        self._listen(self.kommune, self.year)
        self.tabs.observe(lambda _change: self._draw_visible_tab(), names="selected_index")
        self.refresh()
        return self.root

    def selection(self) -> tuple[str, int] | None:
        """The current choice, checked again before use; None while no valid kommune is chosen."""
        kommune = check_kommune(self.kommune.value, self.codes).value
        year = check_year(self.year.value, self.years).value
        if kommune is None or year is None:
            return None
        return str(kommune), int(year)

    def refresh(self) -> None:
        chosen = self.selection()
        self.cancel()
        self._shown = [None] * len(self._shown)
        if chosen is None:
            self.heading.value = '<div class="kompas kompas-heading"><h1>Kommunens ESG-kompas</h1></div>'
            self.headline.value = '<p class="kompas-pending">Vælg en kommune ovenfor.</p>'
            for box in [*self.overview.values(), *self.indicators.values(), *self.questions.values()]:
                box.value = ""
            return
        code, year = chosen
        self.heading.value = heading_html(self.bundle, code, year)
        self.headline.value = headline_html(self.bundle, code, year)
        self._draw_visible_tab()

    def _draw_visible_tab(self) -> None:
        chosen = self.selection()
        index = self.tabs.selected_index or 0
        if chosen is None or self._shown[index] == chosen:
            return
        steps = self._overview_steps(*chosen) if index == 0 else self._dimension_steps(*chosen, DIMENSIONS[index - 1])
        # The overview's table and first chart come at once; below the fold follows when the kernel is idle.
        self._run(index, steps, now=2 if index == 0 else 1, done=lambda: self._shown.__setitem__(index, chosen))

    def _overview_steps(self, code: str, year: int) -> list[Callable[[], None]]:
        b, name = self.bundle, kommuner.name(code)
        headline = registry.get(registry.HEADLINE_INDICATOR)
        parts = self.overview

        def ranking() -> None:
            parts["ranking"].value = section(
                f"{headline.code} {headline.name_da} i alle kommuner",
                figure_html(
                    plots.ranking_chart(b.table, headline.code, year, highlight=code),
                    f"{headline.code} {headline.name_da} i {year}: alle kommuner sorteret, {name} fremhævet",
                ),
            )

        def table() -> None:
            parts["table"].value = section(f"Alle målepunkter for {name}, {year}", overview_html(b, code, year))

        def tile_map() -> None:
            parts["map"].value = figure_html(
                plots.tile_map(b.table, headline.code, year, highlight=code),
                f"Danmarkskort med en firkant pr. kommune, farvet efter {headline.code} {headline.name_da} i {year}",
            )

        def stock() -> None:
            parts["stock"].value = section(
                f"Almene boligorganisationer i {name}", almene_stock_html(b, code) + listing.page_links_html(b, code)
            )

        def questions() -> None:
            parts["questions"].value = section("Dialogspørgsmål", questions_html(b, code, year))

        return [table, ranking, tile_map, stock, questions]

    def _dimension_steps(self, code: str, year: int, dim: str) -> list[Callable[[], None]]:
        def indicator(ind_code: str) -> Callable[[], None]:
            return lambda: setattr(
                self.indicators[ind_code], "value", indicator_section_html(self.bundle, code, year, ind_code)
            )

        def questions() -> None:
            self.questions[dim].value = section(
                f"Dialogspørgsmål om {registry.DIMENSION_NAMES_DA[dim].lower()}",
                questions_html(self.bundle, code, year, dim),
            )

        return [*(indicator(i.code) for i in registry.by_dimension(dim)), questions]


def dashboard_app(kommune_code: str = "", year: int = 0) -> DashboardApp:
    """The dashboard with its data loaded (before the request, in a preheated kernel); `open()` draws it."""
    return DashboardApp(load_bundle(), kommune_code, year)


# Sammenlign kommuner -------------------------------------------------------------------------------------------


class CompareApp(_Page):
    """One indicator and year: all 98 kommuner ranked and on the tile map, a chosen kommune and its region marked."""

    def __init__(self, b: bundle.Bundle, indicator: str = "", kommune_code: str = "", year: int = 0):
        super().__init__(b, kommune_code, year)
        self.default_indicator = check_indicator(indicator).value or registry.HEADLINE_INDICATOR
        self.indicator = dropdown(
            [(f"{i.code} {i.name_da}", i.code) for i in registry.INDICATORS.values()], "Målepunkt", "360px"
        )
        self.heading = w.HTML()
        self.ranking = w.HTML()
        self.funnel = w.HTML()
        self.map = w.HTML()
        self.table = w.HTML()
        self.root = PageRoot(
            [self.head, self.message, w.HBox([self.indicator, self.year, self.kommune]), self.heading, self.ranking,
             self.funnel, self.map, self.table]
        )  # fmt: skip

    def open(self, params: dict[str, str]) -> w.VBox:
        """Apply the URL's parameters (checked; unknown ones fall back to the defaults with a message), draw."""
        indicator = check_indicator(params.get("indicator"))
        kommune = check_kommune(params.get("kommune"), self.codes)
        year = check_year(params.get("year"), self.years)
        self.message.value = messages_html([m for m in (indicator.message, kommune.message, year.message) if m])
        self.indicator.value = indicator.value or self.default_indicator
        self.kommune.value = kommune.value or self.default_kommune
        self.year.value = year.value or self.default_year
        self._listen(self.indicator, self.kommune, self.year)
        self.refresh()
        return self.root

    def selection(self) -> tuple[str, str, int] | None:
        indicator = check_indicator(self.indicator.value).value
        kommune = check_kommune(self.kommune.value, self.codes).value
        year = check_year(self.year.value, self.years).value
        if indicator is None or kommune is None or year is None:
            return None
        return str(indicator), str(kommune), int(year)

    def refresh(self) -> None:
        chosen = self.selection()
        if chosen is None:
            return
        code, kommune, year = chosen
        b, ind, name = self.bundle, registry.get(code), kommuner.name(kommune)

        def heading() -> None:
            comparison = comparison_table(b, kommune, year, code)
            self.heading.value = (
                f'<div class="kompas kompas-heading"><h1>Sammenlign kommuner: {html.escape(name)}</h1></div>'
                + f'<div class="kompas">{indicator_intro_html(code)}'
                + table_html(
                    comparison,
                    numeric=list(comparison.columns[1:6]),
                    caption=f"{name}, sammenligningskommunerne, regionen og hele landet, {year}",
                )
                + "</div>"
            )

        def ranking() -> None:
            self.ranking.value = figure_html(
                plots.ranking_chart(b.table, code, year, highlight=kommune),
                f"{code} {ind.name_da} i {year}: alle kommuner sorteret, {name} og regionen fremhævet",
            )

        def funnel() -> None:
            fig = plots.funnel_chart(b.table, code, year, highlight=kommune)
            self.funnel.value = (
                ""
                if fig is None
                else figure_html(
                    fig,
                    f"Tragtplot: {code} {ind.name_da} i {year} for alle kommuner efter størrelse, med landets tal og "
                    f"grænserne for tilfældig variation; {name} fremhævet",
                )
            )

        def tile_map() -> None:
            self.map.value = figure_html(
                plots.tile_map(b.table, code, year, highlight=kommune),
                f"Danmarkskort med en firkant pr. kommune, farvet efter {code} {ind.name_da} i {year}",
            )

        def table() -> None:
            rows = kommune_ranking_table(b, code, year)
            note = (
                f"Bemærkning: tal, der bygger på under {fmt.percent(registry.LOW_COVERAGE)} af boligerne eller på "
                f"under {fmt.number(FEW_DWELLINGS)} boliger, skal læses med forsigtighed. {fmt.STATUS_NOTE_DA}"
            )
            self.table.value = section(
                f"Alle kommuner, {year}",
                table_html(
                    rows,
                    numeric=["Nr.", rows.columns[3], "95 %-interval", "Dækning", "Boliger bag tallet"],
                    caption=f"{code} {ind.name_da}: alle kommuner, {year}",
                )
                + f'<p class="kompas-note">{html.escape(note)}</p>',
            )

        self._run("compare", [heading, ranking, funnel, tile_map, table], now=2)


def compare_app(indicator: str = "", kommune_code: str = "", year: int = 0) -> CompareApp:
    """The comparison page with its data loaded (before the request, in a preheated kernel); `open()` draws it."""
    return CompareApp(load_bundle(), indicator, kommune_code, year)
