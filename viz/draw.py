"""Panel primitives drawn straight into palette-index arrays.

A :class:`Canvas` is a ``(H, W)`` uint8 array of palette indices (see :mod:`viz.palette`).
Everything is integer-aligned: images are upscaled by pixel repetition (crisp, no
blur); text is anti-aliased with blends looked up inside the palette.
"""
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from .fonts import font
from .palette import (ACCENT, BG, BLACK, DIM, GRID, HATCH_A, HATCH_B, PANEL, TEXT, WHITE,
                      blend_table, ink)

BOX_WIDTH = 2      # white line width of the window box, drawn just outside the window
BOX_HALO = 1       # black line outside the white one, so the box shows on white pixels too
BOX_MARGIN = BOX_WIDTH + BOX_HALO
RING_WIDTH = 2     # highlight ring: colour line width, between two black lines
RING_MARGIN = RING_WIDTH + 2
MINUS = "\u2212"
DIM_LEVEL = 11     # of 16: how far a dimmed cell moves towards the background
FAINT_LEVEL = 6    # of 16: cells no window reads, dimmed so the picture stays legible


def upscale(a, s):
    """Nearest-neighbour upscaling of a 2-D array by the integer factor ``s``."""
    return np.repeat(np.repeat(a, s, axis=0), s, axis=1)


def fmt(v, integers=False, decimals=None):
    """Short label of a number: ``-inf`` as "−∞", integers without decimals, else 2 decimals
    (1 above 10, none above 1000), or exactly ``decimals`` when given; a typographic minus."""
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return ("" if v > 0 else MINUS) + "\u221e"
    if decimals is not None:
        s = f"{v:.{int(decimals)}f}"
    elif integers:
        s = f"{v:.0f}"
    elif abs(v) >= 1000:
        s = f"{v:.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    if s.startswith("-") and float(s) == 0:     # "-0.00" reads as a mistake
        s = s[1:]
    return s.replace("-", MINUS)


def fmt_short(v):
    """:func:`fmt`, but in scientific notation ("1.0e30", "3.2e−5") where fixed decimals would
    run 31 digits long or round a nonzero value to 0.00 (legends, softmax's extreme logits)."""
    a = abs(float(v))
    if np.isfinite(a) and (a >= 1e4 or 0 < a < 0.005):
        mantissa, exponent = f"{float(v):.1e}".split("e")
        return f"{mantissa}e{int(exponent)}".replace("-", MINUS)
    return fmt(v)


def all_integers(values):
    """Whether every finite value is a whole number (then labels drop the decimals)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return v.size > 0 and bool(np.all(v == np.rint(v)))


# The smallest font size of a number in a cell: digits of DejaVu Sans Mono 12 are 9 px tall,
# the least that stays legible at native size (11 gives 8 px).
DIGIT_MIN = 12

# A recorder of the text drawn (:class:`viz.readback.TextLog`), set only while a test or tool
# reads a render's text back; None costs every text call one comparison.
_INK = None


@lru_cache(maxsize=8192)
def _glyphs(s, size, face, anchor):
    """Coverage (0..16, uint8) of text ``s`` and its offset from the anchor point."""
    f = font(size, face)
    left, top, right, bottom = f.getbbox(s, anchor=anchor)
    w, h = max(right - left, 1), max(bottom - top, 1)
    im = Image.new("L", (w, h), 0)
    ImageDraw.Draw(im).text((-left, -top), s, font=f, fill=255, anchor=anchor)
    cover = ((np.asarray(im, dtype=np.uint16) * 16 + 127) // 255).astype(np.uint8)
    return cover, left, top


def text_size(s, size, face="sans"):
    """Width and height in pixels of text ``s``."""
    cover, _, _ = _glyphs(s, size, face, "la")
    return cover.shape[1], cover.shape[0]


@lru_cache(maxsize=4096)
def fit_size(labels, width, largest=15, smallest=8, face="mono"):
    """Largest font size (``smallest`` .. ``largest``) at which every label fits ``width``
    pixels, or 0 when none does."""
    for size in range(largest, smallest - 1, -1):
        if max(font(size, face).getlength(s) for s in labels) <= width:
            return size
    return 0


class Canvas:
    """A frame (or part of one) as palette indices.

    Parameters
    ----------
    width, height : int
        Size in pixels.
    fill : int
        Palette index of the background.
    """

    def __init__(self, width, height, fill=BG):
        self.px = np.full((int(height), int(width)), fill, dtype=np.uint8)

    @property
    def width(self):
        return self.px.shape[1]

    @property
    def height(self):
        return self.px.shape[0]

    def copy(self):
        c = Canvas.__new__(Canvas)
        c.px = self.px.copy()
        if _INK is not None:
            _INK.copied(self, c)
        return c

    def _clip(self, x0, y0, x1, y1):
        h, w = self.px.shape
        return max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)

    def rect(self, x0, y0, x1, y1, color):
        """Fill ``[x0, x1) × [y0, y1)``."""
        x0, y0, x1, y1 = self._clip(x0, y0, x1, y1)
        if x1 > x0 and y1 > y0:
            self.px[y0:y1, x0:x1] = color

    def outline(self, x0, y0, x1, y1, color, width=1):
        """A ring of ``width`` pixels just inside ``[x0, x1) × [y0, y1)``."""
        self.rect(x0, y0, x1, y0 + width, color)
        self.rect(x0, y1 - width, x1, y1, color)
        self.rect(x0, y0, x0 + width, y1, color)
        self.rect(x1 - width, y0, x1, y1, color)

    def window_box(self, x0, y0, x1, y1):
        """The window outline: white, ``BOX_WIDTH`` px just outside ``[x0, x1) × [y0, y1)``,
        with a ``BOX_HALO`` px black line outside it (visible on white and on black)."""
        m = BOX_MARGIN
        self.outline(x0 - m, y0 - m, x1 + m, y1 + m, BLACK, BOX_HALO)
        self.outline(x0 - BOX_WIDTH, y0 - BOX_WIDTH, x1 + BOX_WIDTH, y1 + BOX_WIDTH, WHITE,
                     BOX_WIDTH)

    def ring(self, x0, y0, x1, y1, color=ACCENT):
        """A highlight ring just outside ``[x0, x1) × [y0, y1)``: ``RING_WIDTH`` px of
        ``color`` between two 1 px black lines, so it shows on white, black and colour."""
        m = RING_MARGIN
        self.outline(x0 - m, y0 - m, x1 + m, y1 + m, BLACK, m)
        self.outline(x0 - m + 1, y0 - m + 1, x1 + m - 1, y1 + m - 1, color, RING_WIDTH)

    def dim(self, x0, y0, x1, y1, level=DIM_LEVEL):
        """Darken ``[x0, x1) × [y0, y1)`` towards the background (cells not read) by
        ``level`` of 16."""
        x0, y0, x1, y1 = self._clip(x0, y0, x1, y1)
        if x1 > x0 and y1 > y0:
            self.px[y0:y1, x0:x1] = blend_table(BG)[self.px[y0:y1, x0:x1], level]

    def hatch(self, x0, y0, x1, y1, period=6):
        """Diagonal stripes over ``[x0, x1) × [y0, y1)`` (marks padding)."""
        x0, y0, x1, y1 = self._clip(x0, y0, x1, y1)
        if x1 <= x0 or y1 <= y0:
            return
        yy, xx = np.mgrid[y0:y1, x0:x1]
        self.px[y0:y1, x0:x1] = np.where((xx + yy) % period < period // 2, HATCH_B, HATCH_A)

    def blit(self, x, y, idx, mask=None):
        """Paste an index array at ``(x, y)`` (where ``mask`` is true, if given)."""
        h, w = idx.shape
        x0, y0, x1, y1 = self._clip(x, y, x + w, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        src = idx[y0 - y:y1 - y, x0 - x:x1 - x]
        if mask is None:
            self.px[y0:y1, x0:x1] = src
        else:
            m = mask[y0 - y:y1 - y, x0 - x:x1 - x]
            self.px[y0:y1, x0:x1] = np.where(m, src, self.px[y0:y1, x0:x1])

    def text(self, x, y, s, size=12, color=TEXT, face="sans", anchor="la"):
        """Anti-aliased text at ``(x, y)`` (Pillow anchor convention, e.g. "mm" centred).

        Returns the ``(x0, y0, x1, y1)`` box the text covers."""
        if not s:
            return (x, y, x, y)
        cover, left, top = _glyphs(s, int(size), face, anchor)
        h, w = cover.shape
        tx, ty = int(x) + left, int(y) + top
        x0, y0, x1, y1 = self._clip(tx, ty, tx + w, ty + h)
        if x1 > x0 and y1 > y0:
            region = self.px[y0:y1, x0:x1]
            a = cover[y0 - ty:y1 - ty, x0 - tx:x1 - tx]
            if _INK is not None:
                _INK.text(self, s, int(size), face, int(color), (x0, y0), region, a)
            self.px[y0:y1, x0:x1] = blend_table(int(color))[region, a]
        return (tx, ty, tx + w, ty + h)

    def polyline(self, points, color, width=1):
        """A polyline through ``points`` [(x, y), ...] (not anti-aliased)."""
        im = Image.fromarray(self.px)
        ImageDraw.Draw(im).line([(float(px), float(py)) for px, py in points], fill=int(color),
                                width=int(width), joint="curve")
        self.px[:] = np.asarray(im)

    def panel(self, x0, y0, x1, y1, label=None, size=13):
        """A panel background with its label above it."""
        self.rect(x0, y0, x1, y1, PANEL)
        if label:
            self.text(x0, y0 - 6, label, size=size, color=DIM, anchor="ld")


def cell_grid(canvas, x, y, idx, cell, gap=1, labels=None, pad=None, label_size=None,
              face="mono"):
    """A grid of coloured cells with optional number labels.

    Parameters
    ----------
    canvas : Canvas
    x, y : int
        Top-left corner.
    idx : ndarray (rows, cols) uint8
        Palette index of each cell.
    cell : int or (int, int)
        Cell pitch in pixels, or ``(height, width)``; the fill is the pitch minus ``gap``.
    gap : int
        Grid line width between cells (drawn in ``GRID``).
    labels : ndarray (rows, cols) of str, optional
        Text written in each cell; the colour is picked for contrast.
    pad : ndarray (rows, cols) bool, optional
        Cells drawn hatched instead of coloured (padding).
    label_size : int, optional
        Font size (at least :data:`DIGIT_MIN`), made smaller where the numbers would not fit
        their cells; fitted to the cell when omitted. No labels when nothing fits at
        ``DIGIT_MIN``.

    Returns
    -------
    (x1, y1) : the bottom-right corner (exclusive).
    """
    ch, cw = (int(cell), int(cell)) if np.isscalar(cell) else (int(cell[0]), int(cell[1]))
    rows, cols = idx.shape
    x1, y1 = x + cols * cw + gap, y + rows * ch + gap
    canvas.rect(x, y, x1, y1, GRID)
    ih, iw = ch - gap, cw - gap
    big = np.repeat(np.repeat(idx, ch, axis=0), cw, axis=1)
    keep = np.zeros((ch, cw), dtype=bool)
    keep[:ih, :iw] = True
    canvas.blit(x + gap, y + gap, big, np.tile(keep, (rows, cols)))
    if pad is not None:
        for r, c in zip(*np.nonzero(pad)):
            canvas.hatch(x + gap + c * cw, y + gap + r * ch,
                         x + gap + c * cw + iw, y + gap + r * ch + ih)
    if labels is not None:
        # the size asked for (at least DIGIT_MIN), or fitted to the cell; smaller where the
        # numbers would spill into their neighbours, none where not even DIGIT_MIN fits
        size = fit_size(tuple(labels.ravel()), iw - (2 if label_size else 4),
                        largest=max(label_size, DIGIT_MIN) if label_size else min(15, ih - 2),
                        smallest=DIGIT_MIN, face=face)
        if size:
            mark = _INK.mark(canvas) if _INK is not None else None
            for r in range(rows):
                for c in range(cols):
                    color = TEXT if pad is not None and pad[r, c] else ink(idx[r, c])
                    canvas.text(x + gap + c * cw + iw / 2, y + gap + r * ch + ih / 2,
                                labels[r, c], size=size, color=color, face=face, anchor="mm")
            if mark is not None:
                _INK.grid(canvas, mark, (x + gap, y + gap), (ch, cw), (rows, cols))
    return x1, y1
