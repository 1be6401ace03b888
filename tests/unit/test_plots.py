"""Charts on the hand-built dataset, checked through the figure's artists (values, counts, texts), not pixels."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PatchCollection
from matplotlib.text import Text

from kompas_helpers import compute, figures, fmt, kommuner, plots, registry, synthesize, uncertainty
from kompas_helpers.bundle import Bundle
from tests.fixtures import handmade


@pytest.fixture(scope="module")
def b() -> Bundle:
    dataset = handmade.dataset(handmade.all_2024())
    return Bundle(dataset, compute.indicator_table(dataset), Path("handmade"), "0" * 64)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


def caption(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts if t.get_gid() == "caption").replace("\n", " ")


def all_text_at_least_9_pt(fig) -> bool:
    fig.canvas.draw()  # tick labels exist only after a draw
    return all(t.get_fontsize() >= 9 for t in fig.findobj(Text) if t.get_text())


# --- tile layout --------------------------------------------------------------------------------------------------


def test_tiles_cover_every_kommune_once_at_unique_positions():
    tiles = plots.tile_layout()
    assert sorted(tiles["kommune_code"]) == sorted(kommuner.table()["kommune_code"])
    assert tiles["kommune_code"].is_unique
    assert not tiles.duplicated(["row", "col"]).any()
    assert tiles["label"].is_unique
    assert (tiles["label"].str.len() == 3).all()


def test_tiles_resemble_the_map():
    tiles = plots.tile_layout().merge(kommuner.table(), on="kommune_code")
    by_name = tiles.set_index("kommune_name")
    # Nordjylland lies north of every kommune in Syddanmark and Sjælland.
    nord = tiles.loc[tiles["region"] == "Region Nordjylland", "row"]
    south = tiles.loc[tiles["region"].isin(["Region Syddanmark", "Region Sjælland"]), "row"]
    assert nord.max() < south.min()
    assert by_name.loc["Hjørring", "row"] == tiles["row"].min()
    # Bornholm is off to the east, with a gap.
    others = tiles[tiles["kommune_name"] != "Bornholm"]
    assert by_name.loc["Bornholm", "col"] >= others["col"].max() + 2
    # København, Frederiksberg and the vestegn (codes 101-190) form a compact, connected cluster; the two share an edge.
    capital = tiles[tiles["kommune_code"].astype(int) < 200]
    assert capital["row"].max() - capital["row"].min() <= 4
    assert capital["col"].max() - capital["col"].min() <= 6
    cells = set(zip(capital["row"], capital["col"], strict=True))
    assert all({(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)} & cells for r, c in cells)
    kbh, frb = by_name.loc["København"], by_name.loc["Frederiksberg"]
    assert abs(kbh["row"] - frb["row"]) + abs(kbh["col"] - frb["col"]) == 1
    # Jutland (west of Lillebælt) lies west of Fyn, which lies west of Sjælland.
    assert by_name.loc["Esbjerg", "col"] < by_name.loc["Odense", "col"] < by_name.loc["Roskilde", "col"]


# --- tile map -----------------------------------------------------------------------------------------------------


def tile_collections(fig) -> dict[str, PatchCollection]:
    return {c.get_gid(): c for c in fig.axes[0].collections if c.get_gid()}


def test_tile_map_has_98_tiles_with_missing_ones_hatched(b):
    fig = plots.tile_map(b.table, "E1", 2024, highlight="101")
    tiles = tile_collections(fig)
    reported, missing = tiles["tiles-reported"], tiles["tiles-missing"]
    # E1 2024 has figures for København, Frederiksberg and Aarhus only.
    assert len(reported.get_paths()) == 3
    assert len(missing.get_paths()) == 95
    assert sorted(reported.get_array()) == pytest.approx([100.0, 120.0, 130.0])
    assert missing.get_hatch() == plots.MISSING_HATCH
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert len(labels) == 98 and "KBH" in labels
    assert "95 kommuner uden tal" in caption(fig)


def test_tile_map_outlines_the_highlighted_kommune(b):
    fig = plots.tile_map(b, "E1", 2024, highlight="751")
    outlines = [p for p in fig.axes[0].patches if p.get_linewidth() >= 3]
    assert len(outlines) == 1
    row = plots.tile_layout().set_index("kommune_code").loc["751"]
    assert outlines[0].get_x() == pytest.approx(row["col"] - 0.46)
    assert "Aarhus: 100 kWh/m²" in texts(fig)


def test_tile_map_colour_bar_uses_danish_numbers(b):
    fig = plots.tile_map(b.table, "E2", 2024)
    bar_axis = fig.axes[1].yaxis
    assert bar_axis.get_major_formatter()(9.5, 0) == "9,5"


# --- ranking ------------------------------------------------------------------------------------------------------


def test_ranking_chart_sorts_best_first_and_draws_the_national_line(b, monkeypatch):
    fig = plots.ranking_chart(b.table, "E1", 2024, highlight="101")
    ax = fig.axes[0]
    heights = [p.get_height() for p in sorted(ax.patches, key=lambda p: p.get_x())]
    # Lower is better: Aarhus 100, København 120, Frederiksberg 130 (none ranked: one afdeling each, sorted by value).
    assert heights == pytest.approx([100.0, 120.0, 130.0])
    national = [line for line in ax.lines if len(set(line.get_ydata())) == 1]
    assert national[0].get_ydata()[0] == pytest.approx(2980000 / 27000)
    assert "København: 120 kWh/m²\nikke rangeret: for få data" in texts(fig)
    monkeypatch.setattr(registry, "MIN_UNITS_FOR_VERDICT", 1)
    ranked = plots.ranking_chart(compute.indicator_table(handmade.dataset(handmade.all_2024())), "E1", 2024, "101")
    assert "København: 120 kWh/m²\nnr. 2 af 3" in texts(ranked)
    assert "Hele landet: 110 kWh/m²" in texts(fig)
    assert "Ikke vist: 95 kommuner uden tal" in caption(fig)


def test_ranking_chart_highlights_kommune_and_region(b):
    fig = plots.ranking_chart(b.table, "E1", 2024, highlight="101")
    colours = {mpl.colors.to_hex(p.get_facecolor()): p.get_height() for p in fig.axes[0].patches}
    assert colours[figures.COLOURS["kommune"]] == pytest.approx(120.0)
    assert colours[figures.COLOURS["region"]] == pytest.approx(130.0)  # Frederiksberg, same region
    assert colours[figures.COLOURS["other"]] == pytest.approx(100.0)


def test_ranking_chart_marks_low_coverage(b):
    table = b.table.copy()
    low = (table["indicator"] == "E1") & (table["level"] == "kommune") & (table["kommune_code"] == "147")
    table.loc[low, "coverage"] = 0.5
    fig = plots.ranking_chart(table, "E1", 2024, highlight="101")
    markers = [c for c in fig.axes[0].collections if len(c.get_offsets())]
    assert len(markers) == 1
    assert markers[0].get_offsets()[0][0] == 2  # Frederiksberg is third from the best
    assert "Dækning under 80 %" in texts(fig)


# --- trend and spread ---------------------------------------------------------------------------------------------


def test_trend_chart_plots_kommune_region_and_country(b):
    fig = plots.trend_chart(b, "101", "E1")
    lines = {line.get_label(): line for line in fig.axes[0].lines if line.get_gid() != figures.KEY_GID}
    assert set(lines) == {"København", "Region Hovedstaden", "Hele landet"}
    assert key_labels(fig.axes[0]) == ["København", "Region Hovedstaden", "Hele landet"]
    # 2025: (880000+30000)/8300.
    assert lines["København"].get_ydata() == pytest.approx([120.0, 910000 / 8300])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2024", "2025"]
    assert fig.axes[0].yaxis.get_major_formatter()(1234.5, 0) == "1.234"  # E1 has no decimals


def test_trend_chart_leaves_out_suppressed_and_missing_years_never_zero(b):
    fig = plots.trend_chart(b, "101", "S3")
    kommune = next(line for line in fig.axes[0].lines if line.get_label() == "København")
    assert np.isnan(kommune.get_ydata()).all()
    assert "København: 2024 diskretion, 2025 mangler" in caption(fig)


def test_spread_chart_shows_reported_afdelinger_and_counts_the_rest(b):
    fig = plots.spread_chart(b, "101", 2024, "E1")
    ax = fig.axes[0]
    points = [line for line in ax.lines if line.get_label() == "Afdeling"]
    assert points[0].get_xdata().tolist() == [120.0]  # Solgården; Lille Toft has no figure
    text = caption(fig)
    assert "1 afdeling med tal i 2024." in text
    assert "Ikke vist: 1 afdeling uden tal (mangler), 0 afdelinger udeladt af diskretionshensyn" in text


def key_labels(ax) -> list[str]:
    """The labels of a chart's key (`figures.chart_key`), top row first."""
    texts = [t for t in ax.texts if t.get_gid() == figures.KEY_GID]
    return [t.get_text() for t in sorted(texts, key=lambda t: -t.get_position()[1])]


def test_spread_chart_keys_what_it_draws(b):
    fig = plots.spread_chart(b, "101", 2024, "E1")
    assert key_labels(fig.axes[0]) == ["Afdeling", "København i alt", "Hele landet"]
    # S3 in 2024: no afdeling and not the kommune has a published figure, only the country: the key says just that.
    assert key_labels(plots.spread_chart(b, "101", 2024, "S3").axes[0]) == ["Hele landet"]


def test_spread_chart_is_none_for_organisation_indicators(b):
    assert plots.spread_chart(b, "101", 2024, "G4") is None


def test_indicator_figure_has_two_panels_for_afdeling_indicators(b):
    assert len(plots.indicator_figure(b, "101", 2024, "E1").axes) == 2
    assert len(plots.indicator_figure(b, "101", 2024, "S2").axes) == 1


def test_a_reused_figure_draws_exactly_what_a_new_one_draws(b):
    small = synthesize.synthesize(seed=7, scale=0.02)
    synthetic = Bundle(small, compute.indicator_table(small), Path("small"), "1" * 64)
    # Both layouts in turn; the synthetic data has box plots (5 or more afdelinger), the handmade data afdelinger
    # without figures, suppressed and missing years and an indicator that is first reported in 2025.
    calls = [(synthetic, "101", 2025, code) for code in ["E1", "S2", "S3", "G4", "E2", "E1", "G5"]]
    calls += [(b, "101", 2024, code) for code in ["E1", "S3", "S2", "E2", "G4"]]
    calls += [(b, "751", 2024, "E1"), (synthetic, "751", 2025, "S3")]
    for args in calls:
        fresh = plots.indicator_figure(*args)
        reused = plots.indicator_figure(*args, reuse=True)
        assert figures.png(reused) == figures.png(fresh), args
        assert figures.alt_text(reused) == figures.alt_text(fresh)
        assert reused.get_size_inches() == pytest.approx(fresh.get_size_inches())
    assert plots.indicator_figure(b, "101", 2024, "E1", reuse=True) is plots.indicator_figure(
        b, "101", 2024, "E2", reuse=True
    )
    assert plots.indicator_figure(b, "101", 2024, "E1") is not plots.indicator_figure(b, "101", 2024, "E1")


@pytest.mark.parametrize(
    ("decimals", "low", "high"), [(0, 114.6, 125.3), (0, 65.4, 69.2), (0, 97.9, 98.6), (1, 4.55, 5.45), (1, 5.01, 5.04)]
)
def test_tick_labels_never_repeat(decimals, low, high):
    ticks = [t for t in plots._ValueLocator(decimals, nbins=5).tick_values(low, high) if low <= t <= high]
    labels = [fmt.number(t, decimals) for t in ticks]
    assert ticks and len(set(labels)) == len(labels)
    if np.ceil(low * 10**decimals) <= high * 10**decimals:  # room for a multiple of the last decimal: only those
        values = [float(label.replace(".", "").replace(",", ".")) for label in labels]
        assert values == pytest.approx(ticks)


def test_axis_labels_name_unit_and_denominator():
    assert figures.axis_label("E1") == "kWh/m²; nævner: opvarmet\netageareal"
    assert figures.axis_label("S3") == "%; nævner: beboere 18–64 år"


# --- style and print ----------------------------------------------------------------------------------------------


def test_style_sets_readable_font_sizes_and_a_colour_blind_palette():
    keys = ["font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize",
            "legend.title_fontsize"]  # fmt: skip
    assert min(figures.STYLE[k] for k in keys) >= 9
    with mpl.rc_context():
        figures.use_style()
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == "#0173b2"


@pytest.mark.parametrize("make", ["trend", "spread", "tile", "ranking"])
def test_every_text_in_a_figure_is_at_least_9_pt(b, make):
    fig = {
        "trend": lambda: plots.trend_chart(b, "101", "E2"),
        "spread": lambda: plots.spread_chart(b, "101", 2024, "E2"),
        "tile": lambda: plots.tile_map(b, "E2", 2024, highlight="101"),
        "ranking": lambda: plots.ranking_chart(b, "E2", 2024, highlight="101"),
    }[make]()
    assert all_text_at_least_9_pt(fig)


def test_figures_are_not_registered_with_pyplot(b):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.trend_chart(b, "101", "E1")
    assert plt.get_fignums() == before


def test_show_displays_a_png_with_alt_text_and_closes_the_figure(b, monkeypatch):
    import base64

    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    fig = plt.figure()  # a pyplot figure, to see that show() closes it
    fig.add_subplot().set_title("Prøve")
    figures.show(fig)
    figures.show(None)
    assert len(shown) == 1
    bundle, raw = shown[0]
    assert raw
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert 'alt="Figur: Prøve"' in bundle["text/html"]
    assert fig.number not in plt.get_fignums()


def test_alt_text_names_titles_finding_and_caption(b):
    fig = plots.trend_chart(b, "101", "S3")
    assert figures.alt_text(fig).startswith(
        "Figur: S3 Livschancer: udvikling. Livschancer i København: ingen tal at vise. Ikke vist (aldrig som nul): "
        "København: 2024 diskretion, 2025 mangler"
    )
    # The finding comes from the plotted figures: København 120 (2024) and 110 (2025); one afdeling shown in 2024.
    alt = figures.alt_text(plots.indicator_figure(b, "101", 2024, "E1"))
    assert alt.startswith(
        "Figur: E1 Energiforbrug: udvikling; E1: afdelingerne i København, 2024. Energiforbrug i København faldt fra "
        "120 til 110 kWh/m² fra 2024 til 2025; landet: 100 kWh/m² i 2025. Én afdeling i København har tal i 2024: "
        "120 kWh/m². 1 afdeling med tal i 2024."
    )
    # The finding is never drawn: the picture is the same with or without it.
    assert not [t for t in fig.texts if t.get_gid() == "finding" and t.get_visible()]


def test_png_keeps_the_caption_inside_the_image(b):
    fig = plots.trend_chart(b, "101", "S3")  # has a caption
    width, height = fig.get_size_inches()
    data = figures.png(fig)
    # PNG header: width and height in pixels at bytes 16-24.
    assert int.from_bytes(data[16:20], "big") == round(width * figures.STYLE["figure.dpi"])
    assert int.from_bytes(data[20:24], "big") == round(height * figures.STYLE["figure.dpi"])
    text = next(t for t in fig.texts if t.get_gid() == "caption")
    assert text.get_window_extent().y0 >= 0


def test_png_has_the_pixels_savefig_draws(b):
    import io

    from PIL import Image

    for fig in (plots.indicator_figure(b, "101", 2024, "E1"), plots.tile_map(b, "E1", 2024, highlight="101")):
        ours = Image.open(io.BytesIO(figures.png(fig)))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=figures.STYLE["figure.dpi"], facecolor="white")
        theirs = Image.open(buffer).convert("RGB")
        assert ours.mode == "RGB" and ours.info["dpi"] == pytest.approx((100, 100), abs=0.01)
        assert np.array_equal(np.asarray(ours), np.asarray(theirs))


def test_png_lays_transparency_on_white():
    import io

    from PIL import Image

    rgba = np.array([[[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 128]]], dtype=np.uint8)
    pixels = np.asarray(Image.open(io.BytesIO(figures._png_bytes(rgba, 100))))
    assert pixels.tolist() == [[[255, 255, 255], [255, 0, 0], [127, 127, 255]]]


def test_png_of_an_opaque_image_has_its_pixels():
    import io

    from PIL import Image

    rgba = np.random.default_rng(3).integers(0, 256, size=(7, 11, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255
    rgba = rgba[:, ::-1]  # a view that is not contiguous, as an image's flipped or cut buffer may be
    pixels = np.asarray(Image.open(io.BytesIO(figures._png_bytes(rgba, 100))))
    assert pixels.shape == (7, 11, 3)
    assert np.array_equal(pixels, rgba[:, :, :3])


def test_kommune_year_never_turns_missing_into_zero(b):
    data = plots._kommune_year(b.table, "S3", 2024)
    assert pd.isna(data.loc["101", "value"])
    assert data.loc["101", "status"] == "suppressed"


def test_funnel_limits_by_hand():
    e3 = registry.get("E3")
    # A share of 50 % over 100 dwellings: 50 ± 1.96·√(0.25/100)·100 = 50 ± 9.8.
    low, high = uncertainty.funnel_limits(e3, 50.0, [100.0], uncertainty.Z95)
    assert (low[0], high[0]) == (pytest.approx(50 - 9.79982, abs=1e-4), pytest.approx(50 + 9.79982, abs=1e-4))
    # Ratios over units: σ² = Σ(y − R·x)²/Σx; units (10, 1), (30, 1): R = 20, σ² = 200/2 = 100; at X = 4, ±1.96·5.
    spread = uncertainty.unit_dispersion([10.0, 30.0], [1.0, 1.0])
    assert spread == pytest.approx(100.0)
    low, high = uncertainty.funnel_limits(registry.get("E1"), 20.0, [4.0], uncertainty.Z95, spread)
    assert (low[0], high[0]) == (pytest.approx(20 - 9.79982, abs=1e-4), pytest.approx(20 + 9.79982, abs=1e-4))


def test_funnel_chart_plots_every_kommune_against_its_size(b):
    fig = plots.funnel_chart(b.table, "E3", 2024, highlight="101")
    ax = fig.axes[0]
    dots = [line for line in ax.lines if line.get_marker() == "o" and line.get_gid() != figures.KEY_GID]
    points = np.vstack([line.get_xydata() for line in dots])
    # København 80/104, Frederiksberg 50/50, Aarhus 200/200 dwellings with label A–C.
    assert sorted(map(tuple, points.round(3))) == [(50.0, 100.0), (104.0, 76.923), (200.0, 100.0)]
    assert ax.get_xscale() == "log" and "logaritmisk" in ax.get_xlabel()
    assert ax.get_ylim()[0] == 0
    # The key beside the plot area, never on the points: limits, the country with its value, the kommuner.
    assert key_labels(ax)[:2] == ["95 %-grænser", "99,8 %-grænser"]
    assert key_labels(ax)[2].startswith("Hele landet:\n") and key_labels(ax)[3:] == ["Kommuner", "København"]
    fig.canvas.draw()
    plot_area = ax.get_window_extent()
    renderer = fig.canvas.get_renderer()
    keyed = [t.get_window_extent(renderer) for t in ax.texts if t.get_gid() == figures.KEY_GID]
    assert all(box.x0 > plot_area.x1 for box in keyed)
    assert plots.funnel_chart(b.table, "S2", 2024) is None  # no interval method, no funnel


def test_a_log_axis_is_labelled_in_danish_numbers_without_minor_ticks(b):
    fig = plots.funnel_chart(b.table, "E3", 2024, highlight="101")
    ax = fig.axes[0]
    fig.canvas.draw()
    low, high = ax.get_xlim()
    shown = [(t.get_loc(), t.label1.get_text()) for t in ax.xaxis.get_major_ticks() if low <= t.get_loc() <= high]
    # The axis spans 50–200 dwellings (40–250 with its margins): too narrow for two of 1 and 3 times a power of ten,
    # so even steps as on a linear axis.
    assert shown == [(50.0, "50"), (100.0, "100"), (150.0, "150"), (200.0, "200"), (250.0, "250")]
    assert ax.xaxis.get_minor_locator()() == []
    assert [fmt.compact(v) for v in (300, 10_000, 1_000_000, 3_000_000, 2_500_000, 2.5, 0.75)] == [
        "300", "10.000", "1 mio.", "3 mio.", "2,5 mio.", "2,5", "0,75"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (80, 60_000, [30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000]),  # 1 and 3 times each power of ten
        (1, 10, [1, 3, 10]),
        (250, 3_100, [100, 300, 1_000, 3_000, 10_000]),
        (40, 250, [50, 100, 150, 200, 250]),  # narrower than 1 to 3: even steps inside the axis
        (95, 105, [96, 98, 100, 102, 104]),
        (2.2, 2.9, [2.2, 2.4, 2.6, 2.8]),
        (0, 10, []),  # no logarithm of zero
    ],
)
def test_log_ticks_are_the_same_with_every_matplotlib(low, high, ticks):
    assert fmt.log_ticks(low, high) == ticks
    assert fmt.log_ticks(high, low) == ticks


def test_charts_with_nothing_to_show_say_so_and_quantities_start_at_zero(b):
    table = b.table.copy()
    e1 = (table["indicator"] == "E1").to_numpy()
    table.loc[e1, "value"] = np.nan
    table.loc[e1, "status"] = "missing"
    empty = plots.trend_chart(table, "101", "E1")
    assert plots.NO_FIGURES_DA in texts(empty)
    fig = plots.trend_chart(b, "101", "E1")
    assert plots.NO_FIGURES_DA not in texts(fig)
    assert fig.axes[0].get_ylim()[0] == 0


def test_a_known_break_in_a_series_is_marked(b, monkeypatch):
    assert registry.get("E2").series_breaks[0][0] == 2023  # BR18's emission factors
    quiet = plots.trend_chart(b, "101", "E2")  # the hand-made data spans 2024–2025: the break lies before it
    assert "brud i serien" not in texts(quiet)
    e2 = dataclasses.replace(registry.get("E2"), series_breaks=((2025, "Nye faktorer"),))
    monkeypatch.setitem(registry.INDICATORS, "E2", e2)
    fig = plots.trend_chart(b, "101", "E2")
    assert "brud i serien" in texts(fig)
    assert "Brud i serien fra 2025 (stiplet linje): Nye faktorer." in caption(fig)


def test_figures_prepared_in_advance_draw_exactly_what_new_ones_draw(b, monkeypatch):
    """What the batch's fork server does before forking (plots.prepare_figures): the first figure of each layout a
    report then asks for is the prepared one, and draws what a new figure draws."""
    monkeypatch.setattr(figures, "_REUSABLE", {})
    plots.prepare_figures()
    prepared = {id(fig) for fig, _axes in figures._REUSABLE.values()}
    assert len(prepared) == 3
    for args in [(b, "101", 2024, "E1"), (b, "101", 2024, "G4")]:  # two panels, one panel
        reused = plots.indicator_figure(*args, reuse=True)
        assert id(reused) in prepared
        assert figures.png(reused) == figures.png(plots.indicator_figure(*args)), args
        assert figures.alt_text(reused) == figures.alt_text(plots.indicator_figure(*args))
    reused = plots.funnel_chart(b.table, "E1", 2024, "101", reuse=True)
    assert id(reused) in prepared
    assert figures.png(reused) == figures.png(plots.funnel_chart(b.table, "E1", 2024, "101"))


def test_a_reused_funnel_chart_draws_exactly_what_a_new_one_draws(b):
    small = synthesize.synthesize(seed=7, scale=0.02)
    table = compute.indicator_table(small)
    # Log axes after log axes, a kommune without figures, an indicator with no funnel (S2: None), and the handmade
    # data's suppressed and missing figures.
    calls = [(table, code, 2025, "101") for code in ["E1", "S2", "S3", "G4", "E2", "G1", "E1"]]
    calls += [(table, "S3", 2025, None), (b.table, "E1", 2024, "101"), (b.table, "S3", 2024, "751")]
    calls += [(b.table, "G4", 2024, "101"), (table, "E3", 2025, "751")]
    for args in calls:
        fresh = plots.funnel_chart(*args)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. «non-positive xlim on a log-scaled axis» from emptying it
            reused = plots.funnel_chart(*args, reuse=True)
        if fresh is None:
            assert reused is None, args
            continue
        assert figures.png(reused) == figures.png(fresh), args
        assert figures.alt_text(reused) == figures.alt_text(fresh)
        assert reused.get_size_inches() == pytest.approx(fresh.get_size_inches())
    assert plots.funnel_chart(table, "E1", 2025, reuse=True) is plots.funnel_chart(table, "E2", 2025, reuse=True)


# --- fixed places of axis labels and titles -----------------------------------------------------------------------


def shown_tick_labels(ax) -> list[Text]:
    """The tick labels matplotlib draws: those of major ticks within the axis' view (it keeps others, not drawn)."""
    shown = []
    for axis in (ax.xaxis, ax.yaxis):
        low, high = sorted(axis.get_view_interval())
        shown += [t.label1 for t in axis.get_major_ticks() if low <= t.get_loc() <= high and t.label1.get_visible()]
    return shown


def overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("kommune_code", ["101", "825", "760"])  # the largest, the smallest, the longest name
def test_every_chart_s_axis_labels_clear_the_tick_labels_and_no_text_leaves_the_figure(kommune_code):
    """Axis labels sit at fixed places (`figures.place_axis_labels`) instead of where matplotlib would measure room:
    on the synthetic data's charts for every indicator they touch no tick label, and no text (titles, legends,
    labels, captions) reaches beyond the figure's edges."""
    from kompas_helpers import bundle

    b = bundle.load(kommune_code=kommune_code)
    year = b.latest_year
    charts = []
    for code in registry.CODES:
        charts += [plots.indicator_figure(b, kommune_code, year, code), plots.trend_chart(b, kommune_code, code)]
        charts += [
            plots.spread_chart(b, kommune_code, year, code),
            plots.funnel_chart(b.table, code, year, kommune_code),
        ]
    labels = 0
    for fig in filter(None, charts):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        drawn_ticks = {ax: shown_tick_labels(ax) for ax in fig.axes}
        every_tick = {id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in axis.findobj(Text)}
        for text in [*sum(drawn_ticks.values(), []), *(t for t in fig.findobj(Text) if id(t) not in every_tick)]:
            if text.get_text() and text.get_visible():
                box = text.get_window_extent(renderer)
                assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, text.get_text()
                assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, text.get_text()
        for ax in fig.axes:
            ticks = [
                t.get_window_extent(renderer) for t in [*ax.get_xticklabels(), *ax.get_yticklabels()] if t.get_text()
            ]
            for label in (ax.xaxis.label, ax.yaxis.label):
                if label.get_text():
                    box = label.get_window_extent(renderer)
                    assert not any(overlaps(box, tick) for tick in ticks), (ax.get_title("left"), label.get_text())
                    labels += 1
    assert labels > 90  # the x and y labels of ~70 charts


@pytest.mark.parametrize("kommune_code", ["101", "760"])
def test_charts_drawn_with_the_process_s_text_store_are_the_pixels_matplotlib_draws(kommune_code):
    """`glyphs.Canvas` keeps each text's measurement and image for the process: every chart of the reports, drawn
    with texts new to the store and again wholly from it, is byte for byte the PNG matplotlib's own canvas draws."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kompas_helpers import bundle, glyphs

    b = bundle.load(kommune_code=kommune_code)
    year = b.latest_year
    glyphs._metrics.clear()
    glyphs._images.clear()

    def charts(code):  # one after the other: a chart reusing a figure empties the one before
        yield plots.indicator_figure(b, kommune_code, year, code, reuse=True)
        yield plots.funnel_chart(b.table, code, year, kommune_code, reuse=True)
        yield plots.trend_chart(b, kommune_code, code)
        yield plots.tile_map(b.table, code, year, highlight=kommune_code)
        yield plots.ranking_chart(b.table, code, year, highlight=kommune_code)

    compared = 0
    for code in registry.CODES:
        for fig in charts(code):
            if fig is None:
                continue
            assert isinstance(fig.canvas, glyphs.Canvas)
            first, again = figures.png(fig), figures.png(fig)  # the second wholly from the store
            own = fig.canvas
            FigureCanvasAgg(fig)
            assert figures.png(fig) == first == again, (code, fig.axes[0].get_title("left"))
            own.figure = fig  # back on the store's canvas, for the next chart reusing this figure
            fig.set_canvas(own)
            compared += 1
    assert compared >= 5 * len(registry.CODES) - 10
    assert 0 < len(glyphs._images) < 2000


def test_the_text_store_tells_fonts_apart_by_the_families_they_resolve_to():
    """The store's key names what decides the font file (the properties and the generic families' lists), not the
    file: a text drawn under one sans-serif list and then under another is the other font's pixels, as matplotlib
    draws them, and the same again when the first list comes back."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from kompas_helpers import glyphs

    glyphs._metrics.clear()
    glyphs._images.clear()

    def drawn(canvas_class) -> bytes:
        fig = Figure(figsize=(3, 1), dpi=100)
        canvas_class(fig)
        fig.text(0.05, 0.4, "Hele landet 2025: 118 kWh/m²", family="sans-serif", size=9)
        fig.text(0.05, 0.1, "Hele landet", family="sans-serif", size=9, rotation=90)
        return figures.png(fig)

    pages = []
    for families in (["DejaVu Sans"], ["DejaVu Sans Mono"], ["DejaVu Sans"]):
        with mpl.rc_context({"font.sans-serif": families}):
            ours = drawn(glyphs.Canvas)
            assert ours == drawn(FigureCanvasAgg), families
            pages.append(ours)
    assert pages[0] != pages[1]  # two fonts: had the store mixed them up, one of the comparisons above would fail
    assert pages[2] == pages[0]
