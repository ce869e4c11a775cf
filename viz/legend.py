"""Colour legends: a bar of a colour scale with its minimum, 0 (where in range) and maximum."""
import numpy as np

from .draw import all_integers, fmt, fmt_short
from .layout import Box, Col, Spread, Text
from .palette import DIM, GRID

BAR_W = 150
BAR_H = 10
TICK_SIZE = 11


def ticks(scale):
    """The tick labels of a scale's legend, left to right."""
    if scale.constant:
        v = scale.vmin
        return [f"every value = {fmt(v, True) if all_integers([v]) and abs(v) < 1e4 else fmt_short(v)}"]
    if all_integers([scale.vmin, scale.vmax]) and max(abs(scale.vmin), abs(scale.vmax)) < 1e4:
        lo, hi = fmt(scale.vmin, True), fmt(scale.vmax, True)
    else:
        lo, hi = fmt_short(scale.vmin), fmt_short(scale.vmax)
    if scale.vmin < 0 < scale.vmax and scale.vmin == -scale.vmax:   # 0 sits in the middle
        return [lo, "0", hi]
    return [lo, hi]


class Legend(Col):
    """A layout node: the colour bar of ``scale`` above its tick labels, with a caption.

    0 is labelled only where the bar has it in the middle (diverging scales are symmetric);
    a gray scale starts at its minimum, usually 0. A constant scale is one neutral bar
    labelled with its single value.
    """

    def __init__(self, scale, caption=None, width=BAR_W, name="legend"):
        self.scale = scale
        labels = [Text(t, TICK_SIZE, color=DIM, name=f"{name} tick {t}") for t in ticks(scale)]
        spread = Spread(*labels, gap=8)
        self.bar = Box(max(width, spread.size()[0]), BAR_H, f"{name} bar")
        cap = Text(caption, TICK_SIZE, color=DIM, name=f"{name} caption") if caption else None
        super().__init__(cap, self.bar, spread, gap=2, name=name)

    def paint(self, canvas):
        x0, y0, x1, y1 = self.bar.box
        levels = self.scale.first + np.rint(np.linspace(0, self.scale.levels - 1, x1 - x0 - 2))
        canvas.rect(x0, y0, x1, y1, GRID)
        canvas.blit(x0 + 1, y0 + 1, np.repeat(levels.astype(np.uint8)[None], y1 - y0 - 2, 0))
