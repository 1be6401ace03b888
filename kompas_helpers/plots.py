"""Charts of the indicator table: trend and spread per indicator, the kommune tile map and the ranking."""

from __future__ import annotations

from functools import lru_cache

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import AutoLocator, MaxNLocator

from kompas_helpers import comparison, cuts, danish, findings, fmt, kommuner, paths, registry, uncertainty
from kompas_helpers.figures import (
    COLOURS,
    SERIES_STYLE,
    STYLE,
    axis_label,
    caption,
    chart_key,
    finding,
    new_figure,
    place_axis_labels,
    source_table,
    status_word,
)

TILES_CSV = paths.REFERENCE_DIR / "kommune_tiles.csv"
NO_FIGURES_DA = "ingen tal"
TILE_CMAP = "cividis"
MISSING_HATCH = "///"
# Matplotlib 3.10 replaced boxplot's `vert` by `orientation` (and deprecates `vert` from 3.11).
_HORIZONTAL = (
    {"orientation": "horizontal"}
    if tuple(int(p) for p in mpl.__version__.split(".")[:2]) >= (3, 10)
    else {"vert": False}
)


# The layouts of the figures the dimension reports draw again and again (`new_figure(reuse=True)`).
TWO_PANELS = {"width": 10.5, "height": 3.4, "ncols": 2, "width_ratios": [1.15, 1], "wspace": 0.08}
ONE_PANEL = {"width": 6.4, "height": 3.6}
FUNNEL = {"width": 7.4, "height": 3.8, "margins": (1.0, 1.95, 0.4, 0.75)}  # the key right of the plot area


def prepare_figures() -> None:
    """Make the figures the reports reuse, one per layout, and draw each once with a placeholder: the batch's fork
    server does this before it forks the kernels (kernels.server), so that each report starts with its figures'
    Axes made, the fonts loaded and the canvases' renderers ready, as it has them from its second figure on.

    Nothing of the placeholder reaches a report: `new_figure(reuse=True)` empties a figure before handing it out,
    and a reused figure draws exactly what a new one draws (tested, also for figures made here).
    """
    with mpl.rc_context(STYLE):
        for layout in (TWO_PANELS, ONE_PANEL, FUNNEL):
            fig, axes = new_figure(**layout, reuse=True)
            for ax in axes:  # only what emptying removes, or what every chart of the layout sets again (its title)
                ax.plot([2021, 2025], [0.0, 100.0], **SERIES_STYLE["kommune"])
                ax.set_title("Figur")
                chart_key(ax, [("Hele landet", SERIES_STYLE["national"])])
            caption(fig, [NO_FIGURES_DA])
            fig.canvas.draw()


def _dots(size: float) -> dict:
    """Round dots of `size` points across, drawn as a line's markers rather than with `scatter`.

    A one-colour scatter works out its marker's extent at every draw, solving for the extremes of the circle's eight
    Bézier curves (about 4 ms a chart); a line's markers are drawn without that. The dots look the same (a scatter's
    `s` is the square of the size given here)."""
    return {"linestyle": "none", "marker": "o", "markersize": size}


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
    plotted = {}
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
        plotted[key] = values
        gaps = []
        statuses = cuts.unit_status(by_year["status"], by_year["coverage"])
        for year, status in zip(years, statuses, strict=True):
            if status == "not_applicable":
                not_applicable.add(year)
            elif status != "reported":
                gaps.append(f"{year} {status_word(status)}")
        if gaps:
            omitted.append(f"{labels[key]}: {', '.join(gaps)}")
    ax.set_xticks(years, [str(y) for y in years])
    shown = [line.get_ydata() for line in ax.lines]
    if not any(np.isfinite(np.asarray(values, dtype=float)).any() for values in shown):
        ax.text(0.5, 0.5, NO_FIGURES_DA, ha="center", va="center", transform=ax.transAxes, fontsize=11)
        ax.set_yticks([])
    else:
        # A quantity's axis starts at zero, so a small change does not look like a big one; room above the highest
        # point (matplotlib's margin is a share of the data's range, which leaves flat series' markers cut in half).
        ax.set_ylim(0, 1.06 * max(np.nanmax(np.asarray(values, dtype=float), initial=0.0) for values in shown) or 1)
    breaks = []
    for year, text in ind.series_breaks:
        if years[0] < year <= years[-1]:
            ax.axvline(year - 0.5, color="#555555", linestyle="--", linewidth=1.0)
            ax.annotate("brud i serien", xy=(year - 0.5, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10),
                        textcoords="offset points", fontsize=9, color="#333333")  # fmt: skip
            breaks.append(f"Brud i serien fra {year} (stiplet linje): {text}.")
    ax.yaxis.set_major_locator(_ValueLocator(ind.decimals, nbins=5))
    ax.yaxis.set_major_formatter(fmt.axis_formatter(ind.decimals))
    ax.set_ylabel(axis_label(code))
    ax.set_xlabel("År")
    place_axis_labels(ax)
    ax.set_title(f"{code} {ind.name_da}: udvikling")
    chart_key(ax, [(labels[k], SERIES_STYLE[k]) for k in ("kommune", "region", "national")], "lower left")
    finding(ax.figure, findings.trend(code, name, years, plotted["kommune"], plotted["national"]))
    lines = [*breaks]
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
    table = source_table(b)
    fig, (ax,) = new_figure(6.4, 3.6)
    with mpl.rc_context(STYLE):
        caption(fig, _draw_trend(ax, table, kommune_code, code, _years(table)))
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
    place_axis_labels(ax)
    ax.set_yticks([])
    ax.xaxis.set_major_locator(_ValueLocator(ind.decimals, nbins=6))
    ax.xaxis.set_major_formatter(fmt.axis_formatter(ind.decimals))
    entries: list[tuple[str, dict]] = []
    if (status == "not_applicable").all() and len(afd):
        ax.text(0.5, 0.5, f"Ikke opgjort i {year}", ha="center", va="center", transform=ax.transAxes)
        return [f"Målepunktet opgøres fra {ind.first_year}."] if ind.first_year else []
    finding(ax.figure, findings.spread(code, name, year, values, median=len(values) >= 5))  # the box shows it
    if len(values) == 0:
        ax.text(
            0.5, 0.5, f"Ingen afdelinger med tal: {NO_FIGURES_DA}", ha="center", va="center", transform=ax.transAxes
        )
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
        dots = {**_dots(3.7), "color": COLOURS["kommune"], "alpha": 0.6, "markeredgewidth": 0}
        ax.plot(values, jitter, **dots, label="Afdeling", zorder=3)
        entries.append(("Afdeling", dots))
        ax.set_xlim(left=0)  # from zero, like every axis of a quantity
    ax.set_ylim(-0.4, 0.85)
    ax.set_yticks([])
    refs = {
        key: rows[(rows["year"] == year).to_numpy()] for key, rows in _series_rows(table, code, kommune_code).items()
    }
    for key, label in (("kommune", f"{name} i alt"), ("national", "Hele landet")):
        rows = refs[key]
        if len(rows) and rows["status"].iloc[0] == "reported":
            style = {"color": SERIES_STYLE[key]["color"], "linestyle": SERIES_STYLE[key]["linestyle"], "linewidth": 1.6}
            ax.axvline(rows["value"].iloc[0], **style, label=label)
            entries.append((label, style))
    chart_key(ax, entries, "upper left")
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
    fig, (ax,) = new_figure(6.4, 3.0, margins=(0.3, 0.2, 0.4, 0.75))
    with mpl.rc_context(STYLE):
        caption(fig, _draw_spread(ax, source_table(b), kommune_code, year, code))
    return fig


def indicator_figure(b, kommune_code: str, year: int, code: str, *, reuse: bool = False) -> Figure:
    """One figure per indicator for the dimension reports: trend (left) and afdeling spread (right, if any).

    Returns a Figure with one caption for both panels. With `reuse`, the figure is drawn into the one the previous
    call with reuse returned for the same layout (cheaper, for a caller that shows each figure before asking for
    the next, as `show.indicator` does); that previous figure is then gone.
    """
    table = source_table(b)
    with_spread = registry.get(code).level == "afdeling"
    if with_spread:
        fig, (left, right) = new_figure(**TWO_PANELS, reuse=reuse)
    else:
        fig, (left,) = new_figure(**ONE_PANEL, reuse=reuse)
    with mpl.rc_context(STYLE):
        lines = _draw_trend(left, table, kommune_code, code, _years(table))
        if with_spread:
            lines += _draw_spread(right, table, kommune_code, year, code)
        caption(fig, lines)
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
            "interval_low": t["interval_low"].to_numpy(dtype=float),
            "interval_high": t["interval_high"].to_numpy(dtype=float),
            "region": t["region"].astype(str).to_numpy(),
        }
    )
    return out.drop_duplicates("kommune_code").set_index("kommune_code")


def tile_map(table, code: str, year: int, highlight: str | None = None) -> Figure:
    """Tile map of Denmark: one square per kommune (98), coloured by the indicator's kommune value.

    `table` is the indicator table (or a Bundle). Kommuner without a figure are hatched white (never coloured as
    zero); the highlighted kommune gets a thick black outline. Returns a Figure with a colour bar and a legend.
    """
    table = source_table(table)
    ind = registry.get(code)
    tiles = tile_layout()
    data = _kommune_year(table, code, year).reindex(tiles["kommune_code"])
    reported = (data["status"] == "reported").to_numpy()
    values = data["value"].to_numpy(dtype=float)
    size = 0.92
    corners = list(zip(tiles["col"].to_numpy() - size / 2, -tiles["row"].to_numpy() - size / 2, strict=True))
    fig, (ax,) = new_figure(9.5, 6.6, margins=(0.1, 0.1, 0.4, 0.1))
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
                fmt.with_unit(values[i], ind.unit, ind.decimals) if reported[i] else status_word(data["status"].iloc[i])
            )
            handles.insert(0, Patch(fill=False, edgecolor="black", linewidth=3.2, label=f"{name}: {value}"))
            finding(fig, f"{name}: {value}.")
        names = [kommuner.name(c) for c in tiles["kommune_code"]]
        finding(fig, findings.extremes(code, year, names, np.where(reported, values, np.nan)))
        ax.legend(handles=handles, loc="upper right", fontsize=9)
        ax.set_xlim(tiles["col"].min() - 0.6, tiles["col"].max() + 0.6)
        ax.set_ylim(-tiles["row"].max() - 0.6, -tiles["row"].min() + 0.6)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{code} {ind.name_da}, {year} ({ind.direction_da.lower()})")
        bar = fig.colorbar(filled, ax=ax, shrink=0.6, format=fmt.axis_formatter(ind.decimals))
        bar.set_label(axis_label(code), fontsize=9)
        n_empty = int((~reported).sum())
        caption(
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
    table = source_table(table)
    ind = registry.get(code)
    data = _kommune_year(table, code, year)
    shown = data[data["status"] == "reported"]
    if ind.direction == "context":
        shown = shown.sort_values("value", ascending=False, kind="stable")
        order_text = "fra højeste til laveste værdi"
    else:
        # Ranked kommuner first (only those with enough data are ranked), then the rest by value.
        shown = shown.assign(_unranked=shown["rank"].isna())
        ascending = ind.direction == "lower_better"
        shown = shown.sort_values(["_unranked", "rank", "value"], ascending=[True, True, ascending], kind="stable")
        order_text = "fra bedst til dårligst; kommuner med for få data til sidst"
    x = np.arange(len(shown))
    values = shown["value"].to_numpy(dtype=float)
    codes = shown.index.to_numpy()
    name, region = kommuner.kommune_info(str(highlight)) if highlight is not None else (None, None)
    is_kommune = codes == str(highlight)
    is_region = (shown["region"].to_numpy() == region) & ~is_kommune
    fig, (ax,) = new_figure(10.0, 4.0, margins=(1.0, 3.2, 0.4, 0.45))
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
            n_ranked = int(shown["rank"].notna().sum())
            if np.isnan(rank):
                place = "ikke rangeret: for få data"
            elif ind.is_context:
                place = f"nr. {int(rank)} af {n_ranked} efter størrelse"
            else:
                place = f"nr. {int(rank)} af {n_ranked}"
                others = shown["value"].to_numpy(dtype=float)[shown["rank"].notna().to_numpy() & ~is_kommune]
                span = comparison.rank_range(shown["interval_low"].iloc[i], shown["interval_high"].iloc[i], others,
                                             ind.direction, rank=float(rank))  # fmt: skip
                if span and span[0] != span[1]:
                    place += f" (usikkerhed: nr. {span[0]}–{span[1]})"
            finding(fig, findings.ranking(code, year, name, rank, n_ranked, values[i]))
            ax.annotate(
                f"{name}: {fmt.with_unit(values[i], ind.unit, ind.decimals)}\n{place}",
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
        if highlight is None:
            finding(fig, findings.extremes(code, year, [kommuner.name(str(c)) for c in codes], values))
        caption(fig, lines)
    return fig


def funnel_chart(table, code: str, year: int, highlight: str | None = None, *, reuse: bool = False) -> Figure | None:
    """Funnel plot of all kommuner for one indicator and year: each kommune's value against the size its figure
    rests on (the denominator), with the national value and the 95 % and 99.8 % limits a figure that differs from
    the country only by chance stays within. None for indicators without an interval method (S2).

    With `reuse`, drawn into the figure the previous call with reuse returned, as `indicator_figure` does."""
    table = source_table(table)
    ind = registry.get(code)
    if ind.interval == "none":
        return None
    rows = cuts.indicator_year_rows(table, code, year)
    national = rows[(rows["level"] == "national").to_numpy()]
    kommune = rows[((rows["level"] == "kommune") & (rows["status"] == "reported")).to_numpy()]
    size = kommune["denominator"].to_numpy(dtype=float)
    value = kommune["value"].to_numpy(dtype=float)
    fig, (ax,) = new_figure(**FUNNEL, reuse=reuse)
    with mpl.rc_context(STYLE):
        if reuse:  # what the chart without figures below does not set starts as on a new Axes
            ax.xaxis.set_major_locator(AutoLocator())
            ax.yaxis.set_major_locator(AutoLocator())
            ax.set_xlabel("")
            ax.set_ylabel("")
        ax.set_title(f"{code} {ind.name_da}: alle kommuner, {year}")
        if not len(national) or national["status"].iloc[0] != "reported" or not len(kommune):
            ax.text(0.5, 0.5, NO_FIGURES_DA, ha="center", va="center", transform=ax.transAxes, fontsize=11)
            ax.set_xticks([])
            ax.set_yticks([])
            caption(fig, [])
            return fig
        nat = float(national["value"].iloc[0])
        base = rows[((rows["level"] == ind.level) & (rows["status"] == "reported")).to_numpy()]
        spread = uncertainty.unit_dispersion(base["numerator"], base["denominator"])
        grid = np.geomspace(max(np.nanmin(size), 1e-9) * 0.8, np.nanmax(size) * 1.25, 120)
        entries = []
        for z, dashes, label in ((uncertainty.Z95, "--", "95 %-grænser"), (uncertainty.Z998, ":", "99,8 %-grænser")):
            low, high = uncertainty.funnel_limits(ind, nat, grid, z, spread)
            style = {"color": "#555555", "linestyle": dashes, "linewidth": 1.1}
            ax.plot(grid, low, **style, label=label)
            ax.plot(grid, high, **style)
            entries.append((label, style))
        style = {"color": COLOURS["national"], "linewidth": 1.4}
        label = f"Hele landet:\n{fmt.with_unit(nat, ind.unit, ind.decimals)}"
        ax.axhline(nat, **style, label=label.replace("\n", " "))
        entries.append((label, style))
        codes = kommune["kommune_code"].astype(str).to_numpy()
        mine = codes == str(highlight)
        low, high = uncertainty.funnel_limits(ind, nat, size, uncertainty.Z95, spread)
        side = np.where(value > high, "over", np.where(value < low, "under", "inden for"))
        place = (kommuner.name(str(highlight)), str(side[mine][0])) if mine.any() else None
        finding(fig, findings.funnel(code, year, int((side == "over").sum()), int((side == "under").sum()),
                                     len(value), nat, place))  # fmt: skip
        others = {**_dots(4.0), "color": COLOURS["other"], "markeredgecolor": "#777777", "markeredgewidth": 0.4}
        ax.plot(size[~mine], value[~mine], **others, label="Kommuner", zorder=3)
        entries.append(("Kommuner", others))
        lines = [
            "Hver prik er en kommune. Ligger den uden for tragten, er forskellen fra landet større, end tilfældigheder "
            "forklarer; inden for tragten kan den skyldes tilfældigheder. Jo mindre grundlag, jo bredere tragt."
        ]
        if mine.any():
            name, _region = kommuner.kommune_info(str(highlight))
            own = {**_dots(6.8), "color": COLOURS["kommune"], "markeredgecolor": "black", "markeredgewidth": 0.8}
            ax.plot(size[mine], value[mine], **own, label=name, zorder=4)
            entries.append((name, own))
        elif highlight is not None:
            lines.append(f"{kommuner.kommune_info(str(highlight))[0]} har ingen tal for {code} i {year}.")
        ax.set_xscale("log")
        fmt.log_axis(ax.xaxis)
        ax.set_xlabel(f"{registry.MEASURES[ind.denominator].label_da} i kommunen (logaritmisk akse)")
        ax.set_ylim(bottom=0)
        ax.set_ylabel(axis_label(code))
        place_axis_labels(ax)
        ax.yaxis.set_major_formatter(fmt.axis_formatter(ind.decimals))
        chart_key(ax, entries, "right of the axes")
        caption(fig, lines)
    return fig
