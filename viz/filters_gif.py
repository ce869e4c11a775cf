"""Frames of conv filters changing during training, from weight snapshots.

::

    +----------------------------------------------------------------+
    | title                                                          |
    | subtitle (parameter, shape, colour scale)                      |
    |   filter 0   filter 1   ...          (C > 1: one row per input |
    |   [5×5]      [5×5]                    channel, one column per  |
    |   ±0.83      ±0.61                    filter)                  |
    | [training loss, log y, cursor]   [test error, cursor]          |
    | step 1,410 / 7,035 · epoch 3.00 · loss 0.123 · test error 1.2% |
    +----------------------------------------------------------------+

Each filter has one diverging colour scale for the whole animation (purple–green for
weights, blue–red for a change w − w₀, as in every GIF) (±its largest |w| over
all snapshots), so a filter that grows gets more saturated, one that shrinks fades.
Filters are upscaled by pixel repetition (crisp). Nothing here computes an op: the
numbers drawn are the snapshots' own.
"""
import numpy as np

from .draw import Canvas, MINUS, fmt, text_size, upscale
from .frames import Animation
from .layout import MARGIN, PAD
from .palette import (ACCENT, ACCENT2, BAD, BG, BLANK, DIM, GRID, PANEL, TEXT, diverging_scale,
                      weight_scale)
from .plot import LinePlot

TITLE_H = 68
PLOT_H = 130
PLOT_GAP = 16
FOOT_H = 28
TARGET_W = 560          # about this wide, the filter grid
MAX_COLS = 8            # single-channel filters per row
# weights in the weight colours of every GIF (docs/gifs.md); a change w − w₀ is an update,
# in the colours of gradients and updates
NOTE = "purple < 0 < green; each filter on its own scale, \u00b1 its largest |w| over training"
CHANGE_NOTE = ("blue < 0 < red; each filter on its own scale, \u00b1 its largest |change| over "
               "training")


def auto_scale_factor(filters, channels, kw):
    """Default pixels per weight: the grid about ``TARGET_W`` px wide, 4 to 24."""
    cols = filters if channels > 1 else min(filters, MAX_COLS)
    gap = 6 if channels > 1 else 16
    return int(np.clip((TARGET_W / cols - gap) // kw, 4, 24))


class _Grid:
    """Where each (filter, channel) kernel goes, and the static labels around them."""

    def __init__(self, shape, s, scales):
        F, C, kh, kw = shape
        self.F, self.C, self.kh, self.kw, self.s = F, C, kh, kw, s
        self.kpx_h, self.kpx_w = kh * s, kw * s
        self.multi = C > 1
        if self.multi:      # columns: filters, rows: input channels
            self.cols, self.rows = F, C
            self.col_gap, self.row_gap = 6, 3
            self.left = text_size("in 88", 11)[0] + 8
            self.head_h, self.foot_h = 16, 14
        else:
            self.cols = min(F, MAX_COLS)
            self.rows = -(-F // self.cols)
            self.col_gap, self.row_gap = 16, 8
            self.left = 0
            self.head_h, self.foot_h = 16, 16
        self.pitch_w = max(self.kpx_w, text_size("88", 10)[0]) + self.col_gap
        if self.multi:
            self.block_h = self.head_h + C * self.kpx_h + (C - 1) * self.row_gap + self.foot_h
            self.width = self.left + F * self.pitch_w - self.col_gap
            self.height = self.block_h
        else:
            self.pitch_w = max(self.kpx_w, text_size("filter 88", 12)[0]) + self.col_gap
            self.block_h = self.head_h + self.kpx_h + self.foot_h
            self.width = self.cols * self.pitch_w - self.col_gap
            self.height = self.rows * self.block_h + (self.rows - 1) * self.row_gap
        self.scales = scales

    def cells(self, x0, y0):
        """Top-left pixel of each kernel: ``{(f, c): (x, y)}``."""
        out = {}
        for f in range(self.F):
            if self.multi:
                bx, by = x0 + self.left + f * self.pitch_w, y0 + self.head_h
                for c in range(self.C):
                    out[(f, c)] = (bx, by + c * (self.kpx_h + self.row_gap))
            else:
                r, q = divmod(f, self.cols)
                bx = x0 + q * self.pitch_w + (self.pitch_w - self.col_gap - self.kpx_w) // 2
                out[(f, 0)] = (bx, y0 + r * (self.block_h + self.row_gap) + self.head_h)
        return out

    def draw_static(self, cv, x0, y0, cells, connected):
        for f in range(self.F):
            x, y = cells[(f, 0)]
            cx = x + self.kpx_w // 2
            head = str(f) if self.multi else f"filter {f}"
            cv.text(cx, y - 4, head, size=11 if self.multi else 12, color=DIM, anchor="md")
            vabs = self.scales[f].vmax
            y_end = cells[(f, self.C - 1)][1] + self.kpx_h
            label = "\u00b1" + fmt(vabs)
            size = 10 if self.multi else 11
            if text_size(label, size)[0] > self.pitch_w - 1:
                label = fmt(vabs)
            cv.text(cx, y_end + 3, label, size=size, color=DIM, anchor="mt")
            for c in range(self.C):
                x, y = cells[(f, c)]
                if connected[f, c]:
                    cv.outline(x - 1, y - 1, x + self.kpx_w + 1, y + self.kpx_h + 1, GRID)
                else:           # a kernel the layer does not have: an empty slot
                    cv.rect(x, y, x + self.kpx_w, y + self.kpx_h, BLANK)
        if self.multi:
            for c in range(self.C):
                _, y = cells[(0, c)]
                cv.text(x0, y + self.kpx_h // 2, f"in {c}", size=11, color=DIM, anchor="lm")


def _caption(step, total, epoch, loss, err):
    parts = [f"step {step:,} / {total:,}", f"epoch {epoch:.2f}"]
    parts.append("loss " + ("\u2013" if not np.isfinite(loss) else f"{loss:.3f}"))
    parts.append("test error " + ("\u2013" if not np.isfinite(err) else f"{100 * err:.2f}%"))
    return "   ·   ".join(parts).replace("-", MINUS)


def render_filters(weights, step, epoch, loss, test_error, title, subtitle="", scale=None,
                   progress=None, note=NOTE, connections=None, change=False):
    """Render filter snapshots to frames, one per snapshot.

    Parameters
    ----------
    weights : ndarray (K, F, C, kh, kw)
        The filters at each of the K snapshots.
    step : ndarray (K,) int
        Optimiser steps completed at each snapshot (0: initialisation).
    epoch, loss, test_error : ndarray (K,) float
        Fractional epoch, training loss and latest test error (a fraction) of each
        snapshot; NaN where unknown (drawn as a gap / a dash).
    title, subtitle : str
        The first two lines.
    note : str
        Third line (small): how to read the colours.
    scale : int, optional
        Screen pixels per weight (default :func:`auto_scale_factor`).
    progress : callable, optional
        Wraps the frame loop's iterable (e.g. ``tqdm``).
    connections : ndarray (F, C) bool, optional
        Which kernels the layer has (the 1998 net's C3 reads the S2 maps of its Table I):
        the others are drawn as empty slots. Default: all.

    Returns
    -------
    Animation : ``frames`` (H, W) uint8 palette indices, ``steps`` the snapshot index of
    each frame, ``layout`` with ``cells`` ({(f, c): (x, y)} top-left of each kernel),
    ``scale`` (pixels per weight), ``scales`` (the ColorScale of each filter), ``plots``
    (the two chart boxes), ``connected`` ((F, C) bool) and ``size``.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 5 or w.shape[0] < 1:
        raise ValueError(f"render_filters: weights has shape {w.shape}, expected "
                         "(K, F, C, kh, kw) with K >= 1")
    K, F, C, kh, kw = w.shape
    step, epoch, loss, test_error = (np.asarray(v) for v in (step, epoch, loss, test_error))
    for name, v in (("step", step), ("epoch", epoch), ("loss", loss),
                    ("test_error", test_error)):
        if v.shape != (K,):
            raise ValueError(f"render_filters: {name} has shape {v.shape}, expected ({K},)")
    connected = np.ones((F, C), dtype=bool) if connections is None else \
        np.asarray(connections, dtype=bool)
    if connected.shape != (F, C):
        raise ValueError(f"render_filters: connections has shape {connected.shape}, expected "
                         f"({F}, {C})")
    s = int(scale) if scale is not None else auto_scale_factor(F, C, kw)
    if s < 1:
        raise ValueError(f"render_filters: scale={scale}, expected an integer >= 1")
    # one scale per filter, fixed over the whole animation
    vabs = np.abs(w).reshape(K, F, -1).max(axis=(0, 2))
    scales = [diverging_scale(v) if change else weight_scale(np.array([-v, v])) for v in vabs]
    grid = _Grid((F, C, kh, kw), s, scales)

    body_w = max(grid.width + 2 * PAD, 2 * 240 + PLOT_GAP)
    total = int(step[-1])
    worst = _caption(total, total, float(np.nanmax(epoch)), 8.888, 0.8888)
    counter = f"snapshot {K} / {K}"
    text_w = max(text_size(title, 16, "bold")[0], text_size(subtitle, 13)[0] if subtitle else 0,
                 text_size(note, 11)[0],
                 text_size(worst, 13, "mono")[0] + text_size(counter, 12)[0] + 24)
    width = max(body_w, text_w) + 2 * MARGIN
    inner = width - 2 * MARGIN
    gx0, gy0 = MARGIN, MARGIN + TITLE_H
    panel_h = grid.height + 2 * PAD
    px0 = gx0 + (inner - grid.width) // 2
    cells = grid.cells(px0, gy0 + PAD)
    plot_y = gy0 + panel_h + PLOT_GAP
    plot_w = (inner - PLOT_GAP) // 2
    height = plot_y + PLOT_H + FOOT_H + MARGIN // 2

    base = Canvas(width, height, BG)
    base.text(MARGIN, MARGIN, title, size=16, color=TEXT, face="bold")
    if subtitle:
        base.text(MARGIN, MARGIN + 25, subtitle, size=13, color=DIM)
    base.text(MARGIN, MARGIN + 45, note, size=11, color=DIM)
    base.rect(gx0, gy0, gx0 + inner, gy0 + panel_h, PANEL)
    grid.draw_static(base, px0, gy0 + PAD, cells, connected)
    x = step.astype(float)
    plots = [LinePlot(x, loss, (gx0, plot_y, plot_w, PLOT_H), "training loss", BAD, log=True),
             LinePlot(x, test_error, (gx0 + plot_w + PLOT_GAP, plot_y, plot_w, PLOT_H),
                      "test error", ACCENT2, log=True, percent=True)]
    for p in plots:
        p.draw_static(base, x_unit="steps")
    foot_y = plot_y + PLOT_H + FOOT_H // 2 + 2

    frames = []
    for k in (progress or iter)(range(K)):
        cv = base.copy()
        for f in range(F):
            sc = scales[f]
            for c in np.flatnonzero(connected[f]):
                cx, cy = cells[(f, c)]
                cv.blit(cx, cy, upscale(sc.index(w[k, f, c]), s))
        for p in plots:
            p.draw_frame(cv, k, ACCENT)
        cv.text(MARGIN, foot_y, _caption(int(step[k]), total, float(epoch[k]), float(loss[k]),
                                         float(test_error[k])),
                size=13, color=TEXT, face="mono", anchor="lm")
        cv.text(width - MARGIN, foot_y, f"snapshot {k + 1} / {K}", size=12, color=DIM,
                anchor="rm")
        frames.append(cv.px)
    layout = {"cells": cells, "scale": s, "scales": scales, "size": (width, height),
              "plots": [p.box for p in plots], "kernel": (kh, kw), "connected": connected}
    return Animation(frames, np.arange(K), layout)
