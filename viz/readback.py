"""Read a GIF written by :mod:`viz.encode` back into palette indices, and the text its frames
print (for tests and tools)."""
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import numpy as np
from PIL import GifImagePlugin, Image

from .arith import number
from .palette import palette_rgb


def rgb_to_index(rgb):
    """Palette index of every pixel of an ``(H, W, 3)`` uint8 image; -1 where a colour is not
    in the palette."""
    pal = palette_rgb().astype(np.int64)
    keys = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
    order = np.argsort(keys)
    px = rgb[..., :3].astype(np.int64)
    k = (px[..., 0] << 16) | (px[..., 1] << 8) | px[..., 2]
    pos = np.clip(np.searchsorted(keys[order], k), 0, 255)
    found = keys[order][pos] == k
    return np.where(found, order[pos], -1)


def read_gif(path):
    """Decode every frame of a GIF as composited by a viewer.

    ``path`` may be a file object (e.g. ``io.BytesIO(anim.gif())``).

    Returns
    -------
    frames : list of ndarray (H, W) int
        Palette indices (-1 for colours outside the palette).
    durations : list of int
        Delay of each frame in ms.
    loop : int or None
        The NETSCAPE loop count (0: forever).
    """
    frames, durations = [], []
    # frames stay palette images while the palette does not change (ours never does): the
    # colour of an index is looked up once, not per pixel
    strategy, GifImagePlugin.LOADING_STRATEGY = (
        GifImagePlugin.LOADING_STRATEGY,
        GifImagePlugin.LoadingStrategy.RGB_AFTER_DIFFERENT_PALETTE_ONLY)
    try:
        with Image.open(path) as im:
            loop = im.info.get("loop")
            for i in range(im.n_frames):
                im.seek(i)
                if im.mode == "P":
                    pal = np.frombuffer(bytes(im.getpalette("RGB")), np.uint8).reshape(1, -1, 3)
                    frames.append(rgb_to_index(pal)[0][np.asarray(im)])
                else:
                    frames.append(rgb_to_index(np.asarray(im.convert("RGB"))))
                durations.append(int(im.info.get("duration", 0)))
    finally:
        GifImagePlugin.LOADING_STRATEGY = strategy
    return frames, durations, loop


def read_map(frame, xy, cell, shape, scale, unit=1.0):
    """Values of a map of cells drawn with :func:`viz.draw.cell_grid` at ``xy`` (cell pitch
    ``cell`` or ``(height, width)``, grid lines as :func:`viz.layout.gap_for` draws them),
    read back through ``scale`` from each cell's most common colour and multiplied by
    ``unit``; NaN where that colour is not on the scale (blank, dimmed)."""
    from .layout import gap_for
    ch, cw = (cell, cell) if np.isscalar(cell) else cell
    g = gap_for(min(ch, cw))
    x0, y0 = xy
    got = np.full(shape, np.nan)
    for r in range(shape[0]):
        for c in range(shape[1]):
            px = frame[y0 + g + r * ch:y0 + (r + 1) * ch, x0 + g + c * cw:x0 + (c + 1) * cw]
            idx = np.bincount(px[px >= 0].ravel()).argmax()
            if scale.contains(idx):
                got[r, c] = scale.value(idx) * unit
    return got


# -- text: which string a frame prints where ------------------------------------------------
@dataclass(frozen=True)
class Ink:
    """One text as drawn: the string, its font, colour, the top-left ``xy`` of the pixels its
    glyphs were blended into, the palette indices under them before (``under``) and the font's
    coverage of each (0..16)."""
    s: str
    size: int
    face: str
    color: int
    xy: tuple
    under: np.ndarray
    cover: np.ndarray

    @property
    def box(self):
        """``(x0, y0, x1, y1)`` of the glyphs' pixels, exclusive at the right and bottom."""
        (x, y), (h, w) = self.xy, self.cover.shape
        return x, y, x + w, y + h

    @property
    def middle(self):
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


@dataclass
class Grid:
    """The labels of a grid of cells (:func:`viz.draw.cell_grid`): ``cells[(r, c)]`` is the
    :class:`Ink` of cell (r, c); ``box`` the cells' area."""
    box: tuple
    shape: tuple
    cells: dict


class _Drawn:
    def __init__(self, canvas, inks=(), grids=()):
        self.canvas, self.inks, self.grids = canvas, list(inks), list(grids)


class TextLog:
    """Every text drawn while it is active, canvas by canvas (a copy starts with what its
    original holds), to read a render's frames back::

        with TextLog() as log:
            anim = render_window(trace)
        inks, grids = log.of(anim.frames[0])

    Only one is active at a time."""

    def __init__(self):
        self._drawn = {}
        self._by_px = None

    def __enter__(self):
        from . import draw
        if draw._INK is not None:
            raise RuntimeError("TextLog: another TextLog is already recording")
        draw._INK = self
        return self

    def __exit__(self, *exc):
        from . import draw
        draw._INK = None
        self._by_px = None

    def _of(self, canvas):
        d = self._drawn.get(id(canvas))
        if d is None:
            d = self._drawn[id(canvas)] = _Drawn(canvas)
        return d

    # the hooks viz.draw calls
    def copied(self, src, dst):
        d = self._of(src)
        self._drawn[id(dst)] = _Drawn(dst, d.inks, d.grids)

    def text(self, canvas, s, size, face, color, xy, region, cover):
        self._of(canvas).inks.append(Ink(s, size, face, color, xy, region.copy(), cover))

    def mark(self, canvas):
        return len(self._of(canvas).inks)

    def grid(self, canvas, mark, origin, pitch, shape):
        d = self._of(canvas)
        (x, y), (ch, cw) = origin, pitch
        cells = {}
        for ink in d.inks[mark:]:
            mx, my = ink.middle
            cells[(int((my - y) // ch), int((mx - x) // cw))] = ink
        d.grids.append(Grid((x, y, x + shape[1] * cw, y + shape[0] * ch), tuple(shape), cells))

    def of(self, frame):
        """``(inks, grids)`` drawn on the canvas whose pixels are ``frame`` (an array of an
        ``Animation``'s frames, by identity), in drawing order; None when none is known."""
        if self._by_px is None:
            self._by_px = {id(d.canvas.px): d for d in self._drawn.values()}
        d = self._by_px.get(id(frame))
        return None if d is None or d.canvas.px is not frame else (d.inks, d.grids)


@lru_cache(maxsize=None)
def _decoded_index():
    """The index a decoded frame (:func:`rgb_to_index`) holds for each palette index."""
    return rgb_to_index(palette_rgb()[None])[0]


def printed(frame, ink):
    """Whether decoded ``frame`` (palette indices, :func:`read_gif`) shows ``ink``'s text: every
    pixel of its box is the real font's glyphs of that string blended over what was under
    them, as :meth:`viz.draw.Canvas.text` draws it. Another string, a covered or clipped
    glyph, a shifted position or a lost colour all fail."""
    from .palette import blend_table
    x0, y0, x1, y1 = ink.box
    if x0 < 0 or y0 < 0 or y1 > frame.shape[0] or x1 > frame.shape[1]:
        return False
    want = _decoded_index()[blend_table(ink.color)[ink.under, ink.cover]]
    return bool(np.array_equal(frame[y0:y1, x0:x1], want))


# -- arithmetic as printed -----------------------------------------------------------------
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|exp|max|min|[-+\u2212\u00d7\u00b7/(),\u230a\u230b])")
_UNIT = re.compile(r"\s*\(\u00d710[\u207b\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+\)")
OPERATORS = {"+", "-", "\u2212", "\u00d7", "\u00b7", "/"}


def tokens(s):
    """The arithmetic tokens of printed text ``s`` (numbers, + − × · /, brackets, ⌊ ⌋, exp,
    max, min; a unit such as "(×10⁻⁶)" is left out), or None when it holds anything else
    (a name such as "out[2, 3]" or "Σ")."""
    s, out, i = _UNIT.sub("", s).strip(), [], 0
    while i < len(s):
        m = _TOKEN.match(s, i)
        if not m:
            return None
        out.append(m.group(1))
        i = m.end()
        while i < len(s) and s[i].isspace():
            i += 1
    return out or None


def evaluate(toks):
    """The exact value (Decimal) of arithmetic ``toks`` (:func:`tokens`) computed from the
    printed numbers as they are printed, or None when they are no complete expression."""
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take(t=None):
        v = peek()
        if v is None or (t is not None and v != t):
            raise ValueError(t)
        pos[0] += 1
        return v

    def expr():
        v = term()
        while peek() in ("+", "-", "\u2212"):
            v = v + term() if take() == "+" else v - term()
        return v

    def term():
        v = unary()
        while peek() in ("\u00d7", "\u00b7", "/"):
            v = v * unary() if take() != "/" else v / unary()
        return v

    def unary():
        if peek() in ("-", "\u2212"):
            take()
            return -unary()
        return atom()

    def atom():
        t = take()
        if t == "(":
            v = expr()
            take(")")
            return v
        if t == "\u230a":
            v = expr()
            take("\u230b")
            return v.to_integral_value(rounding="ROUND_FLOOR")
        if t in ("exp", "max", "min"):
            take("(")
            args = [expr()]
            while peek() == ",":
                take()
                args.append(expr())
            take(")")
            return args[0].exp() if t == "exp" else (max if t == "max" else min)(args)
        return Decimal(t)

    try:
        v = expr()
    except (ValueError, ArithmeticError):
        return None
    return v if pos[0] == len(toks) else None


def is_number(toks):
    """Whether ``toks`` are one printed number (with its sign)."""
    return toks is not None and (len(toks) == 1 and toks[0][0].isdigit() or
                                 len(toks) == 2 and toks[0] in ("-", "\u2212") and
                                 toks[1][0].isdigit())


def follows(exact, shown):
    """Whether printed number ``shown`` (a string) is ``exact`` (a Decimal) at the precision it
    is printed with: within half a unit of its last digit (either way of rounding a tie)."""
    v = number(shown.strip())
    return abs(exact - v) <= Decimal(5).scaleb(v.as_tuple().exponent - 1)
