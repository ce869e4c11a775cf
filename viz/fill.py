"""An output grid that fills in step by step: computed cells coloured, the rest blank."""
import numpy as np

from .draw import Canvas, all_integers, cell_grid, fmt
from .layout import gap_for
from .palette import ACCENT, BLANK, PANEL

LABEL_MIN_CELL = 30      # cells at least this wide get their value written in


class FillGrid:
    """Pre-rendered finished and blank versions of a grid, and which step writes each pixel.

    Parameters
    ----------
    values : ndarray (rows, cols)
        The value of each cell once computed (NaN: never written, stays blank).
    steps : ndarray (rows, cols) int
        The step that writes each cell.
    scale : viz.palette.ColorScale
        Colour of the values.
    cell : int or (int, int)
        Cell pitch in pixels, ``(height, width)`` for non-square cells.
    labels : bool, optional
        Write values in the cells; default when cells are at least ``LABEL_MIN_CELL`` wide.
    """

    def __init__(self, values, steps, scale, cell, labels=None):
        values = np.asarray(values, dtype=float)
        ch, cw = (cell, cell) if np.isscalar(cell) else cell
        self.ch, self.cw = int(ch), int(cw)
        self.gap = gap_for(min(ch, cw))
        rows, cols = values.shape
        self.width, self.height = cols * self.cw + self.gap, rows * self.ch + self.gap
        idx = scale.index(values)
        idx[np.isnan(values)] = BLANK
        if labels is None:
            labels = self.cw >= LABEL_MIN_CELL and self.ch >= 14
        text = None
        if labels:
            ints = all_integers(values)
            text = np.array([["" if np.isnan(v) else fmt(v, ints) for v in row] for row in values])
        full, blank = Canvas(self.width, self.height, PANEL), Canvas(self.width, self.height, PANEL)
        cell_grid(full, 0, 0, idx, (self.ch, self.cw), self.gap, labels=text)
        cell_grid(blank, 0, 0, np.full_like(idx, BLANK), (self.ch, self.cw), self.gap)
        smap = np.repeat(np.repeat(np.asarray(steps, dtype=np.int64), self.ch, 0), self.cw, 1)
        inner = np.zeros((self.ch, self.cw), dtype=bool)
        inner[:self.ch - self.gap, :self.cw - self.gap] = True
        smap = np.where(np.tile(inner, (rows, cols)), smap, -1)
        smap[np.repeat(np.repeat(np.isnan(values), self.ch, 0), self.cw, 1)] = np.iinfo(np.int64).max
        self.step_map = np.full((self.height, self.width), -1, dtype=np.int64)
        self.step_map[self.gap:, self.gap:] = smap
        self.full, self.blank = full.px, blank.px

    def draw(self, cv, x, y, k, current=None, done=None, ring=False):
        """Paint the grid at ``(x, y)`` as it is after step ``k`` (or, given ``done``, a bool
        per step, with exactly those steps written); ring cell ``current`` ``(row, col)`` in
        the accent colour (with ``ring``: outside the cell, between black lines)."""
        if done is None:
            shown = self.step_map <= k
        else:
            lut = np.concatenate([[True], np.asarray(done, bool), [False]])
            shown = lut[np.clip(self.step_map + 1, 0, len(lut) - 1)]
        cv.px[y:y + self.height, x:x + self.width] = np.where(shown, self.full, self.blank)
        if current is not None and ring:
            r, c = current
            x0, y0 = x + self.gap + c * self.cw, y + self.gap + r * self.ch
            cv.ring(x0, y0, x0 + self.cw - self.gap, y0 + self.ch - self.gap)
        elif current is not None:
            r, c = current
            x0, y0 = x + self.gap + c * self.cw, y + self.gap + r * self.ch
            cv.outline(x0, y0, x0 + self.cw - self.gap, y0 + self.ch - self.gap, ACCENT,
                       max(1, min(self.ch, self.cw) // 8))

    def cell_origin(self, x, y):
        """Top-left pixel of cell (0, 0) when the grid is drawn at ``(x, y)``."""
        return x + self.gap, y + self.gap

