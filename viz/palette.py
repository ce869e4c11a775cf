"""One fixed 256-colour palette shared by every frame of every GIF, and the colour scales
that index into it.

Frames are drawn directly as palette indices (uint8 arrays), so no frame is ever
quantised or dithered: a value's colour is the same exact palette entry in every frame.

Layout of the palette (indices):

* ``0 .. 15``   interface colours (background, text, window box, highlights, hatching)
* ``16 .. 111`` ``GRAY_LEVELS`` grays, black to light gray: non-negative activations
  (stops short of pure white, which only marks interface elements)
* ``112 .. 182`` ``DIV_LEVELS`` (odd) steps of matplotlib's ``RdBu_r``: signed activations,
  blue < 0, light gray at 0, red > 0
* ``183 .. 253`` ``WDIV_LEVELS`` (odd) steps of ``PRGn``: weights, purple < 0, green > 0,
  so a weight is never mistaken for an activation
* ``255``       ``TRANSPARENT``: never drawn; the encoder uses it for unchanged pixels

A constant array gets :func:`constant_scale`: one neutral colour (``NEUTRAL``), since no
colour difference could mean anything.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib import colormaps    # colormaps as lookup tables only

# Interface colours.
BG, PANEL, BLANK, GRID, TEXT, DIM, WHITE, ACCENT, ACCENT2, HATCH_A, HATCH_B, GOOD, BAD, \
    PANEL_EDGE = range(14)
_UI_RGB = [
    (21, 23, 28),      # BG: frame background
    (32, 35, 43),      # PANEL: panel background
    (46, 50, 60),      # BLANK: an output cell not computed yet
    (64, 69, 82),      # GRID: grid lines, axes
    (232, 232, 236),   # TEXT
    (150, 156, 168),   # DIM: secondary text
    (255, 255, 255),   # WHITE: the window box (used for nothing else)
    (255, 176, 0),     # ACCENT: the current step (output cell, window ring, caption)
    (64, 200, 255),    # ACCENT2: structure: inserted zeros, dilation taps, the current point
    (70, 62, 88),      # HATCH_A: padding stripes
    (112, 98, 140),    # HATCH_B
    (120, 215, 140),   # GOOD: the true class (and nothing else)
    (255, 110, 110),   # BAD: the loss
    (52, 56, 68),      # PANEL_EDGE
    (125, 125, 118),   # NEUTRAL: every value of a constant array
    (250, 232, 90),    # MAXC: the max of a window, a tie (and nothing else)
]
NEUTRAL, MAXC = 14, 15
GRAY0, GRAY_LEVELS = 16, 96
DIV0, DIV_LEVELS = 112, 71
WDIV0, WDIV_LEVELS = 183, 71
TRANSPARENT = 255
GRAY_TOP = 240          # lightest gray; 255 is kept for the window box
BLACK = GRAY0           # halo around the window box, dark text on light cells


def _diverging_rgb(n, name="RdBu_r"):
    return np.rint(colormaps[name](np.linspace(0, 1, n))[:, :3] * 255).astype(int)


@lru_cache(maxsize=1)
def palette_rgb():
    """The global palette, ``(256, 3)`` uint8 with all 256 colours distinct."""
    rgb = np.zeros((256, 3), dtype=int)
    rgb[:len(_UI_RGB)] = _UI_RGB
    for i in range(len(_UI_RGB), GRAY0):                       # spare entries, never drawn
        rgb[i] = (255, 0, 128 + 8 * i)
    g = np.rint(np.linspace(0, GRAY_TOP, GRAY_LEVELS)).astype(int)
    rgb[GRAY0:GRAY0 + GRAY_LEVELS] = g[:, None]
    rgb[DIV0:DIV0 + DIV_LEVELS] = _diverging_rgb(DIV_LEVELS)
    rgb[WDIV0:WDIV0 + WDIV_LEVELS] = _diverging_rgb(WDIV_LEVELS, "PRGn")
    rgb[TRANSPARENT] = (255, 0, 255)
    # GIF encoders match colours by value: nudge any accidental duplicate by one unit.
    seen = set()
    for i in range(256):
        while tuple(rgb[i]) in seen:
            rgb[i, 2] = rgb[i, 2] + 1 if rgb[i, 2] < 255 else rgb[i, 2] - 1
        seen.add(tuple(rgb[i]))
    out = rgb.astype(np.uint8)
    out.flags.writeable = False
    return out


def palette_bytes():
    """The palette as the 768 bytes a GIF colour table holds."""
    return palette_rgb().tobytes()


@lru_cache(maxsize=1)
def _ink_table():
    lum = palette_rgb().astype(float) @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(lum > 150, BLACK, TEXT).astype(np.uint8)


def ink(index):
    """Readable text colour (black or light) on palette entry ``index``."""
    return int(_ink_table()[int(index)])


@lru_cache(maxsize=None)
def blend_table(fg, levels=16):
    """``(256, levels + 1)`` palette index nearest to ``a*fg + (1-a)*bg`` for bg index and
    alpha ``a = j / levels``: anti-aliased text without leaving the palette."""
    rgb = palette_rgb().astype(float)
    a = np.linspace(0, 1, levels + 1)
    mix = a[None, :, None] * rgb[fg] + (1 - a[None, :, None]) * rgb[:, None, :]   # (256, L+1, 3)
    cand = np.array([i for i in range(256) if i not in (TRANSPARENT, WHITE)])
    c = rgb[cand]
    d = (c * c).sum(1) - 2 * mix @ c.T          # squared distance up to a per-row constant
    table = cand[d.argmin(-1)].astype(np.uint8)
    table[:, -1] = fg                  # full coverage is the exact text colour
    table[:, 0] = np.arange(256)       # no coverage leaves the background alone
    return table


@dataclass(frozen=True)
class ColorScale:
    """A linear map from values in ``[vmin, vmax]`` to a run of palette entries.

    Parameters
    ----------
    first : int
        Palette index of the lowest level.
    levels : int
        Number of palette entries in the run.
    vmin, vmax : float
        Values mapped to the first and the last level (values outside are clipped).
    """
    first: int
    levels: int
    vmin: float
    vmax: float

    @property
    def step(self):
        """Value difference between two neighbouring levels (the quantisation step)."""
        return (self.vmax - self.vmin) / max(self.levels - 1, 1)

    @property
    def constant(self):
        return self.levels == 1

    @property
    def diverging(self):
        return self.first in (DIV0, WDIV0)

    def index(self, values):
        """Palette indices (uint8, same shape) of ``values``; NaN and ±inf are clipped."""
        v = np.nan_to_num(np.asarray(values, dtype=float), nan=self.vmin,
                          posinf=self.vmax, neginf=self.vmin)
        if self.levels == 1:                       # a constant array: one colour
            return np.full(v.shape, self.first, dtype=np.uint8)
        t = np.clip((v - self.vmin) / (self.vmax - self.vmin), 0.0, 1.0)
        return (self.first + np.rint(t * (self.levels - 1))).astype(np.uint8)

    def value(self, index):
        """Inverse of :meth:`index`: the value at the centre of each level."""
        lvl = np.asarray(index, dtype=float) - self.first
        return self.vmin + lvl * self.step

    def contains(self, index):
        """Whether each palette index belongs to this scale."""
        i = np.asarray(index, dtype=int)
        return (i >= self.first) & (i < self.first + self.levels)


def _finite_range(values):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return (0.0, 0.0) if v.size == 0 else (float(v.min()), float(v.max()))


def gray_scale(vmin=0.0, vmax=1.0):
    """Black (``vmin``) to light gray (``vmax``) scale."""
    if not vmax > vmin:
        vmax = vmin + 1.0
    return ColorScale(GRAY0, GRAY_LEVELS, float(vmin), float(vmax))


def diverging_scale(vabs):
    """Blue-gray-red scale symmetric around 0, so 0 sits exactly on the middle level."""
    vabs = float(vabs) if vabs > 0 else 1.0
    return ColorScale(DIV0, DIV_LEVELS, -vabs, vabs)


def constant_scale(value):
    """Every value in the one ``NEUTRAL`` colour (a constant array)."""
    return ColorScale(NEUTRAL, 1, float(value), float(value))


def weight_scale(values):
    """Weights: purple-green scale symmetric around 0 (``PRGn``), or one neutral colour when
    every finite weight is the same."""
    lo, hi = _finite_range(values)
    if lo == hi:
        return constant_scale(lo)
    vabs = max(-lo, hi)
    return ColorScale(WDIV0, WDIV_LEVELS, -vabs, vabs)


def auto_scale(values):
    """A scale for ``values`` (non-finite values ignored): one neutral colour when they are
    all equal; diverging around 0 when any value is negative; otherwise gray from 0 to 1 for
    data within [0, 1], or from 0 to the maximum."""
    lo, hi = _finite_range(values)
    if lo == hi:
        return constant_scale(lo)
    if lo < 0:
        return diverging_scale(max(-lo, hi))
    return gray_scale(0.0, 1.0 if hi <= 1.0 else hi)


def grad_scale(*arrays):
    """Diverging scale centred at 0 over the finite values (one neutral colour when all 0)."""
    v = np.concatenate([np.asarray(a, float).ravel() for a in arrays])
    v = v[np.isfinite(v)]
    vabs = float(np.abs(v).max()) if v.size else 0.0
    return diverging_scale(vabs) if vabs > 0 else constant_scale(0.0)
