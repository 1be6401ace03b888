"""Matplotlib figures for reports and pages: the chart style, fixed-margin layouts, PNG encoding and display."""

from __future__ import annotations

import base64
import html
import io
import struct
import textwrap
import zlib

import matplotlib as mpl
import numpy as np
import pandas as pd
import PIL.Image
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Affine2D, ScaledTranslation, blended_transform_factory
from zlib_ng import zlib_ng

from kompas_helpers import fmt, glyphs, registry

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
CAPTION_WIDTH = 120  # characters per caption line

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
# Deflate level for the PNGs: level 3 compresses a chart in 40 % less time than the default 6, to files 9 % larger.
# zlib-ng's deflate at this level takes 40 % less time again than zlib's (82 charts of 8 reports: 0.21 against
# 0.36 CPU-seconds for the whole encoding), for files 7 % larger; any inflater reads them.
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
    if rgba[:, :, 3].min() < 255:
        alpha = rgba[:, :, 3:] / 255.0
        rgb = np.rint(rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    else:  # opaque (every chart on white): Pillow drops the alpha bytes in a third of the time numpy's copy takes
        image = PIL.Image.frombuffer("RGBA", (width, height), np.ascontiguousarray(rgba), "raw", "RGBA", 0, 1)
        rgb = np.frombuffer(image.convert("RGB").tobytes(), dtype=np.uint8)
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # each row: filter type 0 (none), then its pixels
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    per_metre = round(dpi / 0.0254)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),  # 8-bit RGB
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", zlib_ng.compress(rows, PNG_ZLIB_LEVEL)),
            _png_chunk(b"IEND", b""),
        ]
    )


# The figure texts that go into the alt text after the titles: what the figure shows, then its caption.
GIDS = ("finding", "caption")


def alt_text(fig: Figure) -> str:
    """A text description of a figure for screen readers: its titles, what it shows (`finding`) and its caption."""
    titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center") if ax.get_title(loc)]
    texts = {gid: [t.get_text().replace("\n", " ") for t in fig.texts if t.get_gid() == gid] for gid in GIDS}
    return ". ".join(["Figur: " + "; ".join(titles), *texts["finding"], *texts["caption"]]).replace("..", ".")


def finding(fig: Figure, text: str) -> None:
    """Record what the figure shows (`findings`' sentences) for its alt text: an invisible text, never drawn, that
    goes with the figure wherever it is shown and is removed with everything else when the figure is reused."""
    fig.text(0, 0, text, visible=False, gid="finding")


def findings_of(fig: Figure) -> str:
    """The recorded findings of a figure, one sentence after the other (the Voilà pages add them to their alt)."""
    return " ".join(t.get_text() for t in fig.texts if t.get_gid() == "finding")


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


# Figures kept for reuse (see `new_figure`), one per layout.
_REUSABLE: dict[tuple, tuple[Figure, list]] = {}


def new_figure(
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
        empty(fig, axes)
    else:
        with mpl.rc_context(STYLE):
            fig = Figure(figsize=(width, height))
            # Saved on this canvas rather than one made per save; it keeps its renderer, and the renderer's text
            # measurements, for the next save at the same size.
            glyphs.Canvas(fig)
            axes = list(fig.subplots(1, ncols, width_ratios=width_ratios, squeeze=False)[0])
        if reuse:
            _REUSABLE[key] = (fig, axes)
    left, right, top, bottom = margins
    fig.set_figheight(height)  # a caption made a reused figure taller
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height, wspace=wspace
    )
    return fig, axes


def place_axis_labels(ax, below: float = 0.32, from_left: float = 0.06) -> None:
    """Put the axis labels at fixed places: the x label's top `below` inches under the axes, the y label's outer
    side `from_left` inches from the figure's left edge (in the fixed left margin, clear of tick labels up to about
    half an inch wide: seven characters at 9 pt).

    Matplotlib otherwise measures every tick label of the axis again at each draw to find room for its label, an
    eighth of a chart's drawing time; with fixed margins the room is known. It also lines up the labels of all
    charts of a kind, whatever their numbers' widths.
    """
    fig = ax.get_figure(root=True)
    ax.xaxis.set_label_coords(0.5, 0.0, transform=ax.transAxes + ScaledTranslation(0.0, -below, fig.dpi_scale_trans))
    ax.yaxis.set_label_coords(from_left, 0.5, transform=blended_transform_factory(fig.dpi_scale_trans, ax.transAxes))
    ax.xaxis.label.set_verticalalignment("top")
    ax.yaxis.label.set_verticalalignment("top")  # turned a quarter: its top side faces the figure's left edge


# A chart's key: rows this many points apart (9 pt text), line samples this long, this far from the axes' edges.
KEY_ROW = 12.0
KEY_SAMPLE = 22.0
KEY_PAD = 7.0
KEY_GID = "key"
KEY_CORNERS = {  # where a key's first row goes: (x, y) in axes fraction, and which way its rows run
    "lower left": ((0.0, 0.0), 1),
    "upper left": ((0.0, 1.0), -1),
    "right of the axes": ((1.0, 1.0), -1),  # in the right margin, beside the top of the plot area
}
_LINE_ONLY = ("color", "linestyle", "linewidth", "alpha")


def chart_key(ax, entries: list[tuple[str, dict]], corner: str = "lower left") -> None:
    """A legend of `entries` (label, Line2D style: a line sample with the style's marker in its middle, or the
    marker alone for `linestyle="none"`), drawn as plain lines and texts in rows at a corner of the axes, the first
    entry on top.

    Used instead of `Axes.legend`, whose nested layout boxes measure every text several times at each draw: a trend
    chart's PNG took 17 ms with a legend, 10 ms with this key (the same samples and labels). It places nothing by
    measuring, so each chart puts it where it keeps room (inside a corner it leaves free, or in a margin wide enough
    for its labels). Its artists have the gid "key" and lines labelled "_key" (so never in a legend).
    """
    fig = ax.get_figure(root=True)
    (x, y), step = KEY_CORNERS[corner]
    # Coordinates in points from the corner: points to inches to pixels, then moved to the corner as the axes move.
    to_points = Affine2D().scale(1 / 72) + fig.dpi_scale_trans + ScaledTranslation(x, y, ax.transAxes)
    heights = [KEY_ROW * (label.count("\n") + 1) for label, _style in entries]
    if step < 0:  # rows downwards from an upper corner
        centres = [-(KEY_PAD + sum(heights[:i]) + h / 2) for i, h in enumerate(heights)]
    else:  # rows upwards from a lower corner, the last entry nearest the edge
        centres = [KEY_PAD + sum(heights[i + 1 :]) + h / 2 for i, h in enumerate(heights)]
    left = KEY_PAD
    for (label, style), dy in zip(entries, centres, strict=True):
        common = {"transform": to_points, "gid": KEY_GID, "label": "_key", "clip_on": False}
        if style.get("linestyle") != "none":
            line = {k: v for k, v in style.items() if k in _LINE_ONLY}
            ax.add_artist(Line2D([left, left + KEY_SAMPLE], [dy, dy], **line, **common))
        if style.get("marker") not in (None, "", "none"):
            mark = {k: v for k, v in style.items() if k != "linestyle"}
            ax.add_artist(Line2D([left + KEY_SAMPLE / 2], [dy], linestyle="none", **mark, **common))
        ax.text(left + KEY_SAMPLE + 6, dy, label, ha="left", va="center", fontsize=9, transform=to_points, gid=KEY_GID)


def empty(fig: Figure, axes: list) -> None:
    """Remove everything the chart functions draw (artists, legends, captions) and reset the view to a new Axes'.

    Titles, axis labels, ticks, locators and formatters stay: every chart function that asks for reuse sets them.
    """
    for ax in axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images]:
            artist.remove()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.relim()  # forget the removed data
        for name in "xy":  # a new Axes' scales are linear (a funnel chart's x axis is logarithmic)
            if getattr(ax, f"get_{name}scale")() != "linear":
                getattr(ax, f"set_{name}scale")("linear")
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_autoscale_on(True)
    for text in list(fig.texts):
        text.remove()


def caption(fig: Figure, lines: list[str]) -> None:
    """A caption under the plot area; the figure grows downwards to make room, so every way of saving keeps it."""
    lines = [line for line in lines if line]
    if not lines:
        return
    width = min(CAPTION_WIDTH, int(fig.get_figwidth() * 15))  # about 15 characters of 9 pt text per inch
    text = "\n".join(textwrap.fill(line, width) for line in lines)
    n_lines = text.count("\n") + 1
    extra = (n_lines * 9 * 1.35 + 6) / 72
    old = fig.get_figheight()
    pars = fig.subplotpars
    bottom, top = pars.bottom * old + extra, pars.top * old + extra
    fig.set_figheight(old + extra)
    fig.subplots_adjust(bottom=bottom / (old + extra), top=top / (old + extra))
    fig.text(0.01, 0.06 / (old + extra), text, ha="left", va="bottom", fontsize=9, color="#222222", gid="caption")


def source_table(source) -> pd.DataFrame:
    """The indicator table of a Bundle, or the table itself."""
    return getattr(source, "table", source)


def axis_label(code: str, width: int = 28) -> str:
    """A short axis label naming the unit and the denominator, e.g. 'kWh/m²; nævner: opvarmet etageareal'."""
    ind = registry.get(code)
    den = registry.MEASURES[ind.denominator].label_da.lower()
    return textwrap.fill(f"{ind.unit}; nævner: {den}", width)


def status_word(status: object) -> str:
    return fmt.STATUS_MARK_DA.get(str(status), "ingen tal")
