"""An Agg canvas that lays out and rasterises each distinct text once per process, for the charts' many repeats.

Matplotlib's Agg renderer asks FreeType to lay out a text (`FT2Font.set_text`) every time it measures it and every
time it draws it, and keeps its measurements per renderer, i.e. per figure. A report's charts repeat the same texts
(the years on every trend axis, «0 %» … «100 %», the key's labels, the panel titles' fonts) dozens of times: in the
eight pages of two kommuner, 3,527 layouts for 2,184 drawn texts, a tenth of the charts' drawing time. `Canvas`
keeps, per process, each text's measurement and its rasterised image (with the offsets Agg places it by) under
everything that decides them: the text, the font's properties and what decides the file they resolve to (the generic
families' lists, the font manager), the size, the resolution and the hinting and antialiasing settings; a text found
there needs no font lookup. Drawn from the store, a text is the same pixels: the image is made exactly as
`RendererAgg.draw_text` makes it (unrotated; Agg rotates it when it lays it on the canvas), and placed by the same
arithmetic. Mathtext and TeX go to matplotlib as before.
"""

from __future__ import annotations

from math import cos, radians, sin

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontProperties

# At most this many texts are kept (a page's kernel lives for hours): the store starts again when it is full.
LIMIT = 20_000
_metrics: dict[tuple, tuple[float, float, float]] = {}
_images: dict[tuple, tuple[np.ndarray, float, float, float]] = {}


def _properties(prop: FontProperties) -> tuple:
    """Everything of a FontProperties that decides the font and its size (what FontProperties.__hash__ hashes)."""
    return (
        tuple(prop.get_family()),
        prop.get_slant(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
        prop.get_math_fontfamily(),
    )


# The generic families' lists: with a FontProperties' own properties, they decide which font file it stands for
# (matplotlib's findfont keeps its answers under the same settings).
_FAMILY_LISTS = ("font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace")


def _font_choice() -> tuple:
    """Everything besides a FontProperties that decides which font file it resolves to: the generic families' lists
    and the font manager with the fonts it knows (a font added later may be the better match)."""
    rc, manager = mpl.rcParams, font_manager.fontManager
    return (id(manager), len(manager.ttflist), *(tuple(rc[name]) for name in _FAMILY_LISTS))


class Renderer(RendererAgg):
    """RendererAgg with the process's store of text measurements and images (see the module's docstring)."""

    def _key(self, s: str, prop: FontProperties) -> tuple:
        """The store's key: what decides the font file rather than the file found, so that a text found in the store
        needs no font lookup (the key takes 3 µs, looking the font up and sizing it 19 µs), the size, resolution and
        settings."""
        rc = mpl.rcParams
        settings = (rc["text.hinting"], rc["text.hinting_factor"], rc["text.kerning_factor"])
        return (s, _properties(prop), _font_choice(), self.dpi, settings)

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = self._key(s, prop)
        found = _metrics.get(key)
        if found is None:
            font = self._prepare_font(prop)  # as RendererAgg does: the font for these properties, at this size
            font.set_text(s, 0.0, flags=get_hinting_flag())
            width, height = font.get_width_height()  # of the unrotated text
            found = (width / 64.0, height / 64.0, font.get_descent() / 64.0)
            _keep(_metrics, key, found)
        return found

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        key = (*self._key(s, prop), gc.get_antialiased())
        found = _images.get(key)
        if found is None:
            # RendererAgg.draw_text's own steps (angle 0: Agg rotates the image as it lays it on the canvas).
            font = self._prepare_font(prop)
            font.set_text(s, 0, flags=get_hinting_flag())
            font.draw_glyphs_to_bitmap(antialiased=gc.get_antialiased())
            xo, yo = font.get_bitmap_offset()
            found = (np.asarray(font.get_image()).copy(), xo / 64.0, yo / 64.0, font.get_descent() / 64.0)
            _keep(_images, key, found)
        image, xo, yo, d = found
        # The descent needs to be adjusted for the angle (as in RendererAgg.draw_text).
        x = round(x + xo + d * sin(radians(angle)))
        y = round(y + yo + d * cos(radians(angle)))
        self._renderer.draw_text_image(image, x, y + 1, angle, gc)


def _keep(store: dict, key: tuple, value) -> None:
    if len(store) >= LIMIT:
        store.clear()
    store[key] = value


class Canvas(FigureCanvasAgg):
    """FigureCanvasAgg drawing with `Renderer` (made, like FigureCanvasAgg's own, anew when the size changes)."""

    def get_renderer(self):
        w, h = self.figure.bbox.size
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = Renderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer
