"""Charts for reports and pages: one colour-blind-safe seaborn style, trends, spreads, rankings and a tile map."""

from __future__ import annotations

import base64
import html
import io
import struct
import textwrap
import zlib
from functools import lru_cache

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from kompas_helpers import cuts, danish, fmt, kommuner, paths, registry

TILES_CSV = paths.REFERENCE_DIR / "kommune_tiles.csv"

# Okabe-Ito based seaborn "colorblind" palette; every series also differs in line style and marker.
PALETTE = sns.color_palette("colorblind")
COLOURS = {
    "kommune": "#0173b2",
    "region": "#de8f05",
    "national": "#333333",
    "other": "#c9c9c9",
    "missing": "#ffffff",
}
SERIES_STYLE = {
    "kommune": {"color": COLOURS["kommune"], "linestyle": "-", "marker": "o", "linewidth": 2.2, "markersize": 6},
    "region": {"color": COLOURS["region"], "linestyle": "--", "marker": "s", "linewidth": 1.8, "markersize": 5},
    "national": {"color": COLOURS["national"], "linestyle": ":", "marker": "^", "linewidth": 1.8, "markersize": 5},
}
TILE_CMAP = "cividis"
MISSING_HATCH = "///"
CAPTION_WIDTH = 120  # characters per caption line
# Matplotlib 3.10 replaced boxplot's `vert` by `orientation` (and deprecates `vert` from 3.11).
_HORIZONTAL = (
    {"orientation": "horizontal"}
    if tuple(int(p) for p in mpl.__version__.split(".")[:2]) >= (3, 10)
    else {"vert": False}
)

STYLE: dict = {
    **sns.axes_style("whitegrid"),
    **sns.plotting_context("paper"),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titley": 1.0,  # a fixed title position spares matplotlib a costly search for free space at every draw
    "axes.titlepad": 6.0,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.prop_cycle": mpl.cycler(color=PALETTE.as_hex()),
    "axes.edgecolor": "#555555",
    "grid.color": "#dddddd",
    "hatch.color": "#666666",
    "hatch.linewidth": 0.8,
    # No glyph hinting: FreeType's hinting is a third of the cost of drawing text, which is most of a chart's drawing
    # time, and makes no visible difference at the PNGs' 100 dpi (browsers do not hint text either).
    "text.hinting": "no_hinting",
}
# zlib level for the PNGs: level 3 compresses a chart in 40 % less time than the default 6, to files 9 % larger.
PNG_ZLIB_LEVEL = 3


def use_style() -> None:
    """Set the project's chart style globally (seaborn whitegrid, colour-blind palette, fonts of at least 9 pt)."""
    mpl.rcParams.update(STYLE)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes at the style's screen resolution, drawn once (the margins are fixed, no tight box).

    The charts made here (white, at the style's resolution, on an Agg canvas) are drawn on their canvas and written
    as an RGB PNG directly: the same pixels as `savefig`, in half the time of Pillow's PNG encoder (whose adaptive
    row filters cost more than the compression) and 15–25 % smaller. Other figures go through `savefig`.
    """
    dpi = STYLE["figure.dpi"]
    white = mpl.colors.same_color(fig.get_facecolor(), "white")
    if not (isinstance(fig.canvas, FigureCanvasAgg) and fig.dpi == dpi and white):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", pil_kwargs={"compress_level": PNG_ZLIB_LEVEL})
        return buffer.getvalue()
    fig.canvas.draw()
    return _png_bytes(np.asarray(fig.canvas.buffer_rgba()), dpi)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bytes(rgba: np.ndarray, dpi: float) -> bytes:
    """An RGB PNG of an RGBA image (any transparency laid on white), rows unfiltered, with its resolution."""
    height, width = rgba.shape[:2]
    rgb = rgba[:, :, :3]
    if rgba[:, :, 3].min() < 255:
        alpha = rgba[:, :, 3:] / 255.0
        rgb = np.rint(rgb * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row: filter type 0 (none), then its pixels
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    per_metre = round(dpi / 0.0254)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),  # 8-bit RGB
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_ZLIB_LEVEL)),
            _png_chunk(b"IEND", b""),
        ]
    )


def alt_text(fig: Figure) -> str:
    """A text description of a figure for screen readers: its titles and its caption."""
    titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center") if ax.get_title(loc)]
    captions = [t.get_text().replace("\n", " ") for t in fig.texts if t.get_gid() == "caption"]
    return ". ".join(["Figur: " + "; ".join(titles), *captions]).replace("..", ".")


def show(fig: Figure | None) -> None:
    """Display a figure as a PNG image with alt text, then close it to free its memory (None shows nothing).

    The output carries image/png (for notebooks and Papermill) and an HTML <img> with the alt text (preferred by
    JupyterLab, Voilà and nbconvert's HTML export).
    """
    if fig is None:
        return
    import matplotlib.pyplot as plt
    from IPython.display import display

    data = base64.b64encode(png(fig)).decode("ascii")
    alt = alt_text(fig)
    display(
        {
            "image/png": data,
            "text/html": f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" style="max-width: 100%;">',
            "text/plain": alt,
        },
        raw=True,
    )
    plt.close(fig)


# Figures kept for reuse (see `_new_figure`), one per layout.
_REUSABLE: dict[tuple, tuple[Figure, list]] = {}


def _new_figure(
    width: float,
    height: float,
    ncols: int = 1,
    width_ratios=None,
    margins: tuple[float, float, float, float] = (1.0, 0.2, 0.4, 0.75),
    wspace: float = 0.12,
    reuse: bool = False,
) -> tuple[Figure, list]:
    """A figure with fixed margins in inches (left, right, top, bottom): cheaper to draw than a layout engine.

    With `reuse`, the figure made by the previous call with the same layout comes back emptied of everything drawn on
    it: making new Axes (with their axis and tick objects) costs about a sixth of a chart. The previous figure of
    that layout is then gone, so only a caller that is done with it (shows it at once) may ask for reuse.
    """
    key = (width, height, ncols, tuple(width_ratios or ()), margins, wspace)
    if reuse and key in _REUSABLE:
        fig, axes = _REUSABLE[key]
        _empty(fig, axes)
    else:
        with mpl.rc_context(STYLE):
            fig = Figure(figsize=(width, height))
            # Saved on this canvas rather than one made per save; it keeps its renderer, and the renderer's text
            # measurements, for the next save at the same size.
            FigureCanvasAgg(fig)
            axes = list(fig.subplots(1, ncols, width_ratios=width_ratios, squeeze=False)[0])
        if reuse:
            _REUSABLE[key] = (fig, axes)
    left, right, top, bottom = margins
    fig.set_figheight(height)  # a caption made a reused figure taller
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height, wspace=wspace
    )
    return fig, axes


def _empty(fig: Figure, axes: list) -> None:
    """Remove everything the chart functions draw (artists, legends, captions) and reset the view to a new Axes'.

    Titles, axis labels, ticks, locators and formatters stay: every chart function that asks for reuse sets them.
    """
    for ax in axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images]:
            artist.remove()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.relim()  # forget the removed data
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_autoscale_on(True)
    for text in list(fig.texts):
        text.remove()


def _caption(fig: Figure, lines: list[str]) -> None:
    """A caption under the plot area; the figure grows downwards to make room, so every way of saving keeps it."""
    lines = [line for line in lines if line]
    if not lines:
        return
    text = "\n".join(textwrap.fill(line, CAPTION_WIDTH) for line in lines)
    n_lines = text.count("\n") + 1
    extra = (n_lines * 9 * 1.35 + 6) / 72
    old = fig.get_figheight()
    pars = fig.subplotpars
    bottom, top = pars.bottom * old + extra, pars.top * old + extra
    fig.set_figheight(old + extra)
    fig.subplots_adjust(bottom=bottom / (old + extra), top=top / (old + extra))
    fig.text(0.01, 0.06 / (old + extra), text, ha="left", va="bottom", fontsize=9, color="#222222", gid="caption")


def _table(source) -> pd.DataFrame:
    """The indicator table of a Bundle, or the table itself."""
    return getattr(source, "table", source)


def axis_label(code: str, width: int = 28) -> str:
    """A short axis label naming the unit and the denominator, e.g. 'kWh/m²; nævner: opvarmet etageareal'."""
    ind = registry.get(code)
    den = registry.MEASURES[ind.denominator].label_da.lower()
    return textwrap.fill(f"{ind.unit}; nævner: {den}", width)


def _status_word(status: object) -> str:
    return fmt.STATUS_MARK_DA.get(str(status), "ingen tal")


def _series_rows(table: pd.DataFrame, code: str, kommune_code: str) -> dict[str, pd.DataFrame]:
    """The kommune's, its region's and the country's rows for one indicator, all years (cached per table)."""

    def make() -> dict[str, pd.DataFrame]:
        _name, region = kommuner.kommune_info(kommune_code)
        t = cuts.indicator_rows(table, code)
        level = t["level"]
        return {
            "kommune": t[((level == "kommune") & (t["kommune_code"] == kommune_code)).to_numpy()],
            "region": t[((level == "region") & (t["region"] == region)).to_numpy()],
            "national": t[(level == "national").to_numpy()],
        }

    return cuts.cached_item("series_rows", table, (code, kommune_code), make)


def _years(table: pd.DataFrame) -> list[int]:
    """The table's years, sorted (cached per table)."""
    return cuts.cached("years", table, lambda: sorted(int(y) for y in table["year"].unique()))


class _ValueLocator(MaxNLocator):
    """Ticks at 1, 2 or 5 times a power of ten that are whole multiples of the last decimal shown, so that no two
    tick labels read the same after rounding (MaxNLocator's default 2,5 steps shown without decimals would label
    117,5 as 118, next to 118 or 120). A range too narrow to hold such a multiple gets one tick."""

    def __init__(self, decimals: int, nbins: int):
        super().__init__(nbins=nbins, steps=[1, 2, 5, 10], integer=True, min_n_ticks=1)
        self._scale = 10.0**decimals

    def tick_values(self, vmin, vmax):
        ticks = super().tick_values(vmin * self._scale, vmax * self._scale)
        whole = np.round(ticks)
        return ticks[np.r_[True, whole[1:] != whole[:-1]]] / self._scale


def _draw_trend(ax, table: pd.DataFrame, kommune_code: str, code: str, years: list[int]) -> list[str]:
    ind = registry.get(code)
    name, region = kommuner.kommune_info(kommune_code)
    labels = {"kommune": name, "region": region, "national": "Hele landet"}
    omitted = []
    not_applicable = set()
    for key, rows in _series_rows(table, code, kommune_code).items():
        # One row per year at these levels; a year without a row has no status (None), value or coverage.
        where = np.searchsorted(years, rows["year"].to_numpy())
        by_year = {"status": np.full(len(years), None, dtype=object), "value": np.full(len(years), np.nan)}
        by_year["coverage"] = np.full(len(years), np.nan)
        by_year["status"][where] = rows["status"].astype(str).to_numpy()
        by_year["value"][where] = rows["value"].to_numpy(dtype=float)
        by_year["coverage"][where] = rows["coverage"].to_numpy(dtype=float)
        values = np.where(by_year["status"] == "reported", by_year["value"], np.nan)
        ax.plot(years, values, label=labels[key], **SERIES_STYLE[key])
        gaps = []
        statuses = cuts.unit_status(by_year["status"], by_year["coverage"])
        for year, status in zip(years, statuses, strict=True):
            if status == "not_applicable":
                not_applicable.add(year)
            elif status != "reported":
                gaps.append(f"{year} {_status_word(status)}")
        if gaps:
            omitted.append(f"{labels[key]}: {', '.join(gaps)}")
    ax.set_xticks(years, [str(y) for y in years])
    ax.yaxis.set_major_locator(_ValueLocator(ind.decimals, nbins=5))
    ax.yaxis.set_major_formatter(fmt.axis_formatter(ind.decimals))
    ax.set_ylabel(axis_label(code))
    ax.set_xlabel("År")
    ax.set_title(f"{code} {ind.name_da}: udvikling")
    ax.legend(loc="best")
    lines = []
    if not_applicable:
        first = ind.first_year or min(set(years) - not_applicable, default=max(years))
        lines.append(f"Målepunktet opgøres fra {first}.")
    if omitted:
        lines.append("Ikke vist (aldrig som nul): " + "; ".join(omitted) + ".")
    return lines


def trend_chart(b, kommune_code: str, code: str) -> Figure:
    """Line chart of one indicator over all years: the kommune, its region and the country.

    Returns a matplotlib Figure (not registered with pyplot; show it with `plots.show`). Missing and suppressed
    years are left out of the lines and named in the caption.
    """
    table = _table(b)
    fig, (ax,) = _new_figure(6.4, 3.6)
    with mpl.rc_context(STYLE):
        _caption(fig, _draw_trend(ax, table, kommune_code, code, _years(table)))
    return fig


def _draw_spread(ax, table: pd.DataFrame, kommune_code: str, year: int, code: str) -> list[str]:
    ind = registry.get(code)
    name, _region = kommuner.kommune_info(kommune_code)
    t = cuts.indicator_year_rows(table, code, year)
    afd = t[((t["level"] == "afdeling") & (t["kommune_code"] == kommune_code)).to_numpy()]
    status = afd["status"].astype(str)
    values = afd.loc[status.to_numpy() == "reported", "value"].to_numpy(dtype=float)
    n_missing = int((status == "missing").sum())
    n_suppressed = int((status == "suppressed").sum())
    ax.set_title(f"{code}: afdelingerne i {name}, {year}")
    ax.set_xlabel(axis_label(code))
    ax.set_yticks([])
    ax.xaxis.set_major_locator(_ValueLocator(ind.decimals, nbins=6))
    ax.xaxis.set_major_formatter(fmt.axis_formatter(ind.decimals))
    if (status == "not_applicable").all() and len(afd):
        ax.text(0.5, 0.5, f"Ikke opgjort i {year}", ha="center", va="center", transform=ax.transAxes)
        return [f"Målepunktet opgøres fra {ind.first_year}."] if ind.first_year else []
    if len(values) == 0:
        ax.text(0.5, 0.5, "Ingen afdelinger med tal", ha="center", va="center", transform=ax.transAxes)
    else:
        if len(values) >= 5:
            ax.boxplot(
                values,
                **_HORIZONTAL,
                positions=[0],
                widths=0.55,
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": "#ececec", "edgecolor": "#555555"},
                medianprops={"color": "black", "linewidth": 1.6},
                whiskerprops={"color": "#555555"},
                capprops={"color": "#555555"},
            )
        jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(values))
        ax.scatter(values, jitter, s=14, color=COLOURS["kommune"], alpha=0.6, linewidths=0, label="Afdeling", zorder=3)
    ax.set_ylim(-0.4, 0.85)
    ax.set_yticks([])
    refs = {
        key: rows[(rows["year"] == year).to_numpy()] for key, rows in _series_rows(table, code, kommune_code).items()
    }
    for key, label in (("kommune", f"{name} i alt"), ("national", "Hele landet")):
        rows = refs[key]
        if len(rows) and rows["status"].iloc[0] == "reported":
            style = SERIES_STYLE[key]
            ax.axvline(rows["value"].iloc[0], color=style["color"], linestyle=style["linestyle"], lw=1.6, label=label)
    ax.legend(loc="upper center", ncols=3, fontsize=9)
    lines = [f"{danish.count_da(len(values), 'afdeling', 'afdelinger')} med tal i {year}."]
    if n_missing or n_suppressed:
        lines.append(
            f"Ikke vist: {danish.count_da(n_missing, 'afdeling', 'afdelinger')} uden tal (mangler), "
            f"{danish.count_da(n_suppressed, 'afdeling', 'afdelinger')} udeladt af diskretionshensyn "
            "(vises aldrig som nul)."
        )
    return lines


def spread_chart(b, kommune_code: str, year: int, code: str) -> Figure | None:
    """Strip and box chart of the afdeling values in the kommune (reported ones only) with kommune and national lines.

    Returns a Figure, or None for indicators without afdeling figures (organisation and kommune level). The
    caption counts the afdelinger with missing or suppressed figures that are not shown.
    """
    if registry.get(code).level != "afdeling":
        return None
    fig, (ax,) = _new_figure(6.4, 3.0, margins=(0.3, 0.2, 0.4, 0.75))
    with mpl.rc_context(STYLE):
        _caption(fig, _draw_spread(ax, _table(b), kommune_code, year, code))
    return fig


def indicator_figure(b, kommune_code: str, year: int, code: str, *, reuse: bool = False) -> Figure:
    """One figure per indicator for the dimension reports: trend (left) and afdeling spread (right, if any).

    Returns a Figure with one caption for both panels. With `reuse`, the figure is drawn into the one the previous
    call with reuse returned for the same layout (cheaper, for a caller that shows each figure before asking for
    the next, as `show.indicator` does); that previous figure is then gone.
    """
    table = _table(b)
    with_spread = registry.get(code).level == "afdeling"
    if with_spread:
        fig, (left, right) = _new_figure(10.5, 3.4, ncols=2, width_ratios=[1.15, 1], wspace=0.08, reuse=reuse)
    else:
        fig, (left,) = _new_figure(6.4, 3.6, reuse=reuse)
    with mpl.rc_context(STYLE):
        lines = _draw_trend(left, table, kommune_code, code, _years(table))
        if with_spread:
            lines += _draw_spread(right, table, kommune_code, year, code)
        _caption(fig, lines)
    return fig


@lru_cache(maxsize=1)
def _tiles_cached() -> pd.DataFrame:
    return pd.read_csv(TILES_CSV, dtype={"kommune_code": str, "row": int, "col": int, "label": str})


def tile_layout() -> pd.DataFrame:
    """The tile-map layout: kommune_code, row (0 = north), col (0 = west) and a three-letter label per kommune."""
    return _tiles_cached().copy()


def _text_colour(rgba) -> str:
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _kommune_year(table: pd.DataFrame, code: str, year: int) -> pd.DataFrame:
    t = cuts.indicator_rows(table, code)
    t = t[((t["year"] == year) & (t["level"] == "kommune")).to_numpy()]
    out = pd.DataFrame(
        {
            "kommune_code": t["kommune_code"].astype(str).to_numpy(),
            "value": t["value"].to_numpy(dtype=float),
            "status": t["status"].astype(str).to_numpy(),
            "coverage": t["coverage"].to_numpy(dtype=float),
            "rank": t["rank"].to_numpy(dtype=float),
            "region": t["region"].astype(str).to_numpy(),
        }
    )
    return out.drop_duplicates("kommune_code").set_index("kommune_code")


def tile_map(table, code: str, year: int, highlight: str | None = None) -> Figure:
    """Tile map of Denmark: one square per kommune (98), coloured by the indicator's kommune value.

    `table` is the indicator table (or a Bundle). Kommuner without a figure are hatched white (never coloured as
    zero); the highlighted kommune gets a thick black outline. Returns a Figure with a colour bar and a legend.
    """
    table = _table(table)
    ind = registry.get(code)
    tiles = tile_layout()
    data = _kommune_year(table, code, year).reindex(tiles["kommune_code"])
    reported = (data["status"] == "reported").to_numpy()
    values = data["value"].to_numpy(dtype=float)
    size = 0.92
    corners = list(zip(tiles["col"].to_numpy() - size / 2, -tiles["row"].to_numpy() - size / 2, strict=True))
    fig, (ax,) = _new_figure(9.5, 6.6, margins=(0.1, 0.1, 0.4, 0.1))
    with mpl.rc_context(STYLE):
        shown = values[reported]
        norm = Normalize(*(np.nanmin(shown), np.nanmax(shown)) if len(shown) else (0.0, 1.0))
        cmap = mpl.colormaps[TILE_CMAP]
        filled = PatchCollection(
            [Rectangle(corners[i], size, size) for i in np.flatnonzero(reported)],
            cmap=cmap,
            norm=norm,
            edgecolor="white",
            linewidth=0.6,
            gid="tiles-reported",
        )
        filled.set_array(shown)
        ax.add_collection(filled)
        empty = PatchCollection(
            [Rectangle(corners[i], size, size) for i in np.flatnonzero(~reported)],
            facecolor=COLOURS["missing"],
            edgecolor="#777777",
            hatch=MISSING_HATCH,
            linewidth=0.6,
            gid="tiles-missing",
        )
        ax.add_collection(empty)
        colours = np.where(reported[:, None], cmap(norm(np.nan_to_num(values))), np.array(mpl.colors.to_rgba("white")))
        for (x, y), label, colour in zip(corners, tiles["label"], colours, strict=True):
            ax.text(x + size / 2, y + size / 2, label, ha="center", va="center", fontsize=9, color=_text_colour(colour))
        handles = [Patch(facecolor="white", edgecolor="#777777", hatch=MISSING_HATCH, label="Ingen tal")]
        if highlight is not None:
            i = int(np.flatnonzero(tiles["kommune_code"].to_numpy() == str(highlight))[0])
            ax.add_patch(Rectangle(corners[i], size, size, fill=False, edgecolor="black", linewidth=3.2, zorder=5))
            name, _region = kommuner.kommune_info(str(highlight))
            value = (
                fmt.with_unit(values[i], ind.unit, ind.decimals)
                if reported[i]
                else _status_word(data["status"].iloc[i])
            )
            handles.insert(0, Patch(fill=False, edgecolor="black", linewidth=3.2, label=f"{name}: {value}"))
        ax.legend(handles=handles, loc="upper right", fontsize=9)
        ax.set_xlim(tiles["col"].min() - 0.6, tiles["col"].max() + 0.6)
        ax.set_ylim(-tiles["row"].max() - 0.6, -tiles["row"].min() + 0.6)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{code} {ind.name_da}, {year} ({ind.direction_da.lower()})")
        bar = fig.colorbar(filled, ax=ax, shrink=0.6, format=fmt.axis_formatter(ind.decimals))
        bar.set_label(axis_label(code), fontsize=9)
        n_empty = int((~reported).sum())
        _caption(
            fig,
            [
                "Hver firkant er en kommune, placeret omtrent som på et danmarkskort; farven viser kommunens tal "
                "(lys = højt, mørk = lavt).",
                f"{danish.count_da(n_empty, 'kommune', 'kommuner')} uden tal (mangler eller diskretion) er skraverede, "
                "ikke farvet som nul."
                if n_empty
                else "",
            ],
        )
    return fig


def ranking_chart(table, code: str, year: int, highlight: str | None = None) -> Figure:
    """Bar chart of all kommuner with a figure for one indicator and year, sorted from best to worst.

    The highlighted kommune is dark blue and labelled with its value and rank, the other kommuner in its region
    orange and dotted, the national value a dotted line; kommuner with coverage below `registry.LOW_COVERAGE` carry a
    triangle. Kommuner without a figure are left out and counted in the caption. Returns a Figure.
    """
    table = _table(table)
    ind = registry.get(code)
    data = _kommune_year(table, code, year)
    shown = data[data["status"] == "reported"]
    if ind.direction == "context":
        shown = shown.sort_values("value", ascending=False, kind="stable")
        order_text = "fra højeste til laveste værdi"
    else:
        shown = shown.sort_values(["rank", "value"], kind="stable")
        order_text = "fra bedst til dårligst"
    x = np.arange(len(shown))
    values = shown["value"].to_numpy(dtype=float)
    codes = shown.index.to_numpy()
    name, region = kommuner.kommune_info(str(highlight)) if highlight is not None else (None, None)
    is_kommune = codes == str(highlight)
    is_region = (shown["region"].to_numpy() == region) & ~is_kommune
    fig, (ax,) = _new_figure(10.0, 4.0, margins=(1.0, 3.2, 0.4, 0.45))
    with mpl.rc_context(STYLE):
        other = ~is_kommune & ~is_region
        ax.bar(x[other], values[other], width=0.8, color=COLOURS["other"], label="Øvrige kommuner")
        if region is not None:
            ax.bar(
                x[is_region],
                values[is_region],
                width=0.8,
                color=COLOURS["region"],
                hatch="..",
                edgecolor="white",
                linewidth=0,
                label=f"Øvrige i {region}",
            )
            ax.bar(x[is_kommune], values[is_kommune], width=0.8, color=COLOURS["kommune"], label=name)
        rows = cuts.indicator_rows(table, code)
        national = rows[((rows["year"] == year) & (rows["level"] == "national")).to_numpy()]
        handles_extra = []
        if len(national) and national["status"].iloc[0] == "reported":
            nat = float(national["value"].iloc[0])
            ax.axhline(nat, color=COLOURS["national"], linestyle=":", linewidth=1.6)
            handles_extra.append(
                Line2D(
                    [],
                    [],
                    color=COLOURS["national"],
                    linestyle=":",
                    lw=1.6,
                    label=f"Hele landet: {fmt.with_unit(nat, ind.unit, ind.decimals)}",
                )  # fmt: skip
            )
        low = shown["coverage"].to_numpy(dtype=float) < registry.LOW_COVERAGE
        if low.any():
            top = np.nanmax(values) if len(values) else 0
            ax.scatter(x[low], values[low] + 0.03 * top, marker="v", s=22, color="black", zorder=4)
            handles_extra.append(
                Line2D(
                    [],
                    [],
                    marker="v",
                    color="black",
                    linestyle="none",
                    label=f"Dækning under {fmt.percent(registry.LOW_COVERAGE)}",
                )  # fmt: skip
            )
        if is_kommune.any():
            i = int(np.flatnonzero(is_kommune)[0])
            rank = shown["rank"].iloc[i]
            place = f"nr. {int(rank)}" if ind.direction != "context" and not np.isnan(rank) else f"nr. {i + 1}"
            ax.annotate(
                f"{name}: {fmt.with_unit(values[i], ind.unit, ind.decimals)}\n{place} af {len(shown)}",
                xy=(x[i], values[i]),
                xytext=(0, 28),
                textcoords="offset points",
                ha="center",
                fontsize=9,
                arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8},
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#555555", "lw": 0.6},
            )
        handles, _labels = ax.get_legend_handles_labels()
        ax.legend(handles=handles[::-1] + handles_extra, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
        ax.set_xticks([])
        ax.set_xlim(-1, max(len(shown), 1))
        ax.margins(y=0.18)
        ax.set_xlabel(f"Kommuner, sorteret {order_text}")
        ax.set_ylabel(axis_label(code))
        ax.yaxis.set_major_formatter(fmt.axis_formatter(ind.decimals))
        ax.set_title(f"{code} {ind.name_da}: alle kommuner, {year}")
        n_out = len(data) - len(shown)
        n_none = len(tile_layout()) - len(data)
        lines = []
        if n_out or n_none:
            lines.append(
                f"Ikke vist: {danish.count_da(n_out + n_none, 'kommune', 'kommuner')} uden tal (mangler, diskretion "
                "eller ingen enheder)."
            )
        if highlight is not None and not is_kommune.any():
            lines.append(f"{name} har ingen tal for {code} i {year}.")
        _caption(fig, lines)
    return fig
