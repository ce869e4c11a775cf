"""A small line chart drawn into a palette canvas (no matplotlib figure per frame).

The axes, ticks and the whole curve (dim) are drawn once into a base frame; each frame
then redraws the part of the curve up to the cursor in colour, and the cursor itself.
"""
import numpy as np

from .draw import fmt
from .palette import DIM, GRID, PANEL, TEXT

LEFT, RIGHT, TOP, BOTTOM = 40, 8, 20, 18     # room for tick labels and the title


def _nice_log_ticks(lo, hi):
    """Powers of ten (and 2×, 5× when there are few) within [lo, hi]."""
    ticks = []
    for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1):
        ticks += [m * 10.0 ** e for m in (1, 2, 5)]
    inside = [t for t in ticks if lo <= t <= hi]
    decades = [t for t in inside if np.isclose(np.log10(t), round(np.log10(t)))]
    if len(decades) >= 2:
        return decades
    if len(inside) >= 2:
        return inside
    return [t for t in _nice_ticks(lo, hi) if t > 0]    # less than a factor 2: linear steps


def _nice_ticks(lo, hi, n=3):
    """About ``n`` round values (1, 2 or 5 × 10^k apart) within [lo, hi]."""
    raw = (hi - lo) / n
    mag = 10.0 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = np.ceil(lo / step) * step
    return [float(t) for t in np.arange(start, hi + 1e-12, step)]


def _label(v, percent):
    if percent:
        s = f"{100 * v:g}%"
        return s if len(s) <= 6 else f"{100 * v:.1f}%"
    return f"{v:g}" if abs(v) < 1000 else fmt(v)


class LinePlot:
    """One curve ``y(x)`` in the box ``(x0, y0, x0 + width, y0 + height)``.

    Parameters
    ----------
    x, y : ndarray (P,)
        The data; non-finite ``y`` values leave gaps.
    box : (x0, y0, width, height)
        Pixel box of the whole chart (title and tick labels included).
    title : str
        Drawn at the top left.
    color : int
        Palette index of the drawn curve.
    log : bool
        Logarithmic y axis (positive values only; others leave gaps).
    percent : bool
        Tick labels as percentages.
    """

    def __init__(self, x, y, box, title, color, log=False, percent=False):
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.box, self.title, self.color = box, title, color
        self.log, self.percent = log, percent
        ok = np.isfinite(self.y) & ((self.y > 0) if log else True)
        self.ok = ok
        x0, y0, w, h = box
        self.px0, self.py0 = x0 + LEFT, y0 + TOP
        self.w, self.h = w - LEFT - RIGHT, h - TOP - BOTTOM
        self.xlim = (float(self.x.min()), float(self.x.max())) if self.x.size else (0.0, 1.0)
        if self.xlim[1] <= self.xlim[0]:
            self.xlim = (self.xlim[0], self.xlim[0] + 1.0)
        if ok.any():
            lo, hi = float(self.y[ok].min()), float(self.y[ok].max())
        else:
            lo, hi = (0.1, 1.0) if log else (0.0, 1.0)
        if log:
            lo, hi = np.log10(lo), np.log10(hi)
            if hi - lo < 0.3:
                lo, hi = lo - 0.15, hi + 0.15
            m = 0.05 * (hi - lo)
            self.ylim = (lo - m, hi + m)
        else:
            lo = min(lo, 0.0)
            hi = hi if hi > lo else lo + 1.0
            self.ylim = (lo, hi + 0.06 * (hi - lo))

    def _fy(self, y):
        y = np.asarray(y, dtype=float)
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(y)
        return y

    def xy(self, x, y):
        """Pixel coordinates of data points (int arrays)."""
        (a, b), (c, d) = self.xlim, self.ylim
        px = self.px0 + (np.asarray(x, dtype=float) - a) / (b - a) * (self.w - 1)
        py = self.py0 + (d - self._fy(y)) / (d - c) * (self.h - 1)
        return np.rint(px).astype(int), np.rint(np.nan_to_num(py)).astype(int)

    def _runs(self, upto):
        """Index runs of finite points up to index ``upto`` (inclusive), for polylines."""
        runs, cur = [], []
        for i in range(min(upto, len(self.x) - 1) + 1):
            if self.ok[i]:
                cur.append(i)
            elif cur:
                runs.append(cur)
                cur = []
        if cur:
            runs.append(cur)
        return runs

    def _curve(self, cv, upto, color, width):
        for run in self._runs(upto):
            px, py = self.xy(self.x[run], self.y[run])
            if len(run) == 1:
                cv.rect(px[0] - 1, py[0] - 1, px[0] + 2, py[0] + 2, color)
            else:
                cv.polyline(list(zip(px, py)), color, width)

    def draw_static(self, cv, x_unit=""):
        """Background, axes, ticks, title, the x range (``x_unit`` after its end) and the
        whole curve in a dim colour."""
        x0, y0, w, h = self.box
        cv.rect(x0, y0, x0 + w, y0 + h, PANEL)
        cv.text(x0 + 6, y0 + 4, self.title, size=12, color=TEXT)
        cv.rect(self.px0, self.py0 + self.h, self.px0 + self.w, self.py0 + self.h + 1, GRID)
        cv.rect(self.px0 - 1, self.py0, self.px0, self.py0 + self.h, GRID)
        if self.log:
            ticks = _nice_log_ticks(10 ** self.ylim[0], 10 ** self.ylim[1])
        else:
            ticks = _nice_ticks(*self.ylim)
        for t in ticks:
            _, ty = self.xy(self.xlim[0], t)
            cv.rect(self.px0, ty, self.px0 + self.w, ty + 1, GRID)
            cv.text(self.px0 - 4, ty, _label(t, self.percent), size=10, color=DIM, anchor="rm")
        by = self.py0 + self.h + 3
        cv.text(self.px0, by, f"{self.xlim[0]:,.0f}", size=10, color=DIM, anchor="lt")
        end = f"{self.xlim[1]:,.0f}" + (f" {x_unit}" if x_unit else "")
        cv.text(self.px0 + self.w, by, end, size=10, color=DIM, anchor="rt")
        self._curve(cv, len(self.x) - 1, GRID, 2)

    def draw_frame(self, cv, k, cursor_color):
        """The curve up to point ``k`` in colour, a cursor line at ``x[k]`` and a dot."""
        self._curve(cv, k, self.color, 2)
        cx, cy = self.xy(self.x[k], self.y[k])
        cv.rect(cx, self.py0, cx + 1, self.py0 + self.h, cursor_color)
        if self.ok[k]:
            cv.rect(cx - 2, cy - 2, cx + 3, cy + 3, cursor_color)
