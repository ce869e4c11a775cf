"""Frames of an elementwise activation (relu, sigmoid, tanh) from its ``ElementwiseTrace``.

Panel 1 is the input map with the current element boxed, panel 2 the function's curve
with every element visited so far as a dot on it, panel 3 the output map filling in.
"""
import numpy as np

from .draw import BOX_MARGIN, fmt, upscale
from .fill import FillGrid
from .frames import Animation, plan_steps, single_sample
from .layout import ThreePanels
from .palette import ACCENT, ACCENT2, BLACK, DIM, GRID, auto_scale

PLOT = 240                 # plot area, pixels
PLOT_MARGIN = (34, 14, 10, 40)   # left, top, right, bottom inside panel 2


def _ticks(lo, hi):
    return [lo, 0.0, hi] if lo < 0 < hi else [lo, hi]


class _Plot:
    """Data-to-pixel mapping of the function panel."""

    def __init__(self, x0, y0, xlim, ylim):
        l, t, r, b = PLOT_MARGIN
        self.px0, self.py0 = x0 + l, y0 + t
        self.w, self.h = PLOT - l - r, PLOT - t - b
        self.xlim, self.ylim = xlim, ylim

    def xy(self, x, y):
        (a, b), (c, d) = self.xlim, self.ylim
        px = self.px0 + (np.asarray(x, float) - a) / (b - a) * (self.w - 1)
        py = self.py0 + (d - np.asarray(y, float)) / (d - c) * (self.h - 1)
        return np.rint(px).astype(int), np.rint(py).astype(int)


def _limits(v):
    lo, hi = float(np.min(v)), float(np.max(v))
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    m = 0.06 * (hi - lo)
    return lo - m, hi + m


def render_elementwise(trace, curve=None, scale=None, max_frames=200, subtitle="",
                       input_name="x"):
    """Render an ``ElementwiseTrace`` of a (1, 1, H, W) input to frames.

    Parameters
    ----------
    trace : ops.ElementwiseTrace
        ``cache.trace(sample=0)`` of relu / sigmoid / tanh on an input of shape (N, 1, H, W).
    curve : (ndarray (P,), ndarray (P,)), optional
        Points ``(x, f(x))`` of the function, computed by the op itself on a grid (the
        caller runs it); default: the trace's own (input, output) pairs sorted by input.
    scale : int, optional
        Pixels per element of the maps (default: about 240 px per map).
    max_frames : int
        Most frames (:func:`viz.frames.plan_steps`).
    subtitle : str
        Footer text.
    input_name : str
        What the input is called in the title (e.g. "sobel-x response").

    Returns
    -------
    Animation : ``layout`` has ``input_xy``, ``output_xy`` (top-left of cell (0, 0)),
    ``scale``, ``cell``, ``in_scale``, ``out_scale``.
    """
    x = trace.input
    out_arr = trace.output_array
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"render_elementwise: input has shape {x.shape}, expected (N, 1, H, W)")
    n = single_sample(trace.index, "render_elementwise")
    H, W = x.shape[2:]
    s = int(scale) if scale is not None else max(1, min(12, 240 // max(H, W)))
    if s < 1:
        raise ValueError(f"render_elementwise: scale={scale}, expected an integer >= 1")
    xin = x[n, 0]
    in_scale, out_scale = auto_scale(xin), auto_scale(out_arr[n, 0])
    rows, cols = trace.index[:, 2], trace.index[:, 3]
    inputs = xin[rows, cols]                       # the element each step reads
    vals = np.full((H, W), np.nan)
    vals[rows, cols] = trace.value
    steps = np.zeros((H, W), dtype=np.int64)
    steps[rows, cols] = np.arange(len(trace))
    grid = FillGrid(vals, steps, out_scale, s, labels=False)

    in_w, in_h = W * s + 2 * BOX_MARGIN, H * s + 2 * BOX_MARGIN
    name = trace.op
    lay = ThreePanels([(in_w, in_h), (PLOT, max(PLOT, in_h)), (grid.width, grid.height)],
                      [f"input {H}×{W}", f"{name}(x)", f"output {H}×{W}"],
                      f"{name}(x), x = {input_name}", _formula(name), subtitle)
    base = lay.base
    ix, iy = lay.origin(0)
    ix, iy = ix + BOX_MARGIN, iy + BOX_MARGIN
    base.blit(ix, iy, upscale(in_scale.index(xin), s))

    # the function panel: axes, ticks and the curve, all static
    px, py = lay.origin(1)
    if curve is None:
        order = np.argsort(inputs, kind="stable")
        curve = (inputs[order], trace.value[order])
    cx, cy = (np.asarray(c, dtype=float) for c in curve)
    xlim = _limits(np.concatenate([cx, inputs]))
    ylim = _limits(np.concatenate([cy, trace.value]))
    plot = _Plot(px, py, xlim, ylim)
    ax0, ay0 = plot.xy(0.0 if xlim[0] < 0 < xlim[1] else xlim[0], 0.0 if ylim[0] < 0 < ylim[1]
                       else ylim[0])
    base.rect(plot.px0, ay0, plot.px0 + plot.w, ay0 + 1, GRID)
    base.rect(ax0, plot.py0, ax0 + 1, plot.py0 + plot.h, GRID)
    for t in _ticks(float(np.min(inputs)), float(np.max(inputs))):
        tx, _ = plot.xy(t, 0)
        base.rect(tx, ay0 - 2, tx + 1, ay0 + 3, DIM)
        base.text(tx, plot.py0 + plot.h + 4, fmt(t), size=11, color=DIM, anchor="mt")
    for t in _ticks(float(np.min(trace.value)), float(np.max(trace.value))):
        _, ty = plot.xy(0, t)
        base.rect(ax0 - 2, ty, ax0 + 3, ty + 1, DIM)
        base.text(plot.px0 - 4, ty, fmt(t), size=11, color=DIM, anchor="rm")
    qx, qy = plot.xy(cx, cy)
    base.polyline(list(zip(qx, qy)), DIM, 2)
    dots_x, dots_y = plot.xy(inputs, trace.value)

    plan = plan_steps(len(trace), max_frames, W)
    gx, gy = lay.origin(2)
    frames = []
    for fi, k in enumerate(plan):
        cv = lay.new_frame()
        r, c = int(rows[k]), int(cols[k])
        cv.window_box(ix + c * s, iy + r * s, ix + (c + 1) * s, iy + (r + 1) * s)
        cv.px[dots_y[:k + 1], dots_x[:k + 1]] = ACCENT2
        dx, dy = dots_x[k], dots_y[k]
        cv.rect(dx, min(dy, ay0), dx + 1, max(dy, ay0) + 1, DIM)
        cv.rect(min(dx, ax0), dy, max(dx, ax0) + 1, dy + 1, DIM)
        cv.rect(dx - 3, dy - 3, dx + 4, dy + 4, BLACK)
        cv.rect(dx - 2, dy - 2, dx + 3, dy + 3, ACCENT)
        cv.text(px + PLOT // 2, py + PLOT - 6, f"{name}({fmt(inputs[k])}) = {fmt(trace.value[k])}",
                size=14, color=ACCENT, face="monobold", anchor="md")
        grid.draw(cv, gx, gy, k, (r, c))
        jump = fi > 0 and k - plan[fi - 1] > 1
        lay.counter(cv, f"step {k + 1} / {len(trace)}" + ("  (fast-forward)" if jump else ""))
        frames.append(cv.px)
    layout = {"input_xy": [(ix, iy)], "output_xy": [grid.cell_origin(gx, gy)], "scale": s,
              "cell": s, "gap": grid.gap, "in_scale": in_scale, "out_scale": out_scale,
              "panels": lay.boxes, "size": (lay.width, lay.height)}
    return Animation(frames, plan, layout)


def _formula(name):
    return {"relu": "relu(x) = max(0, x)",
            "sigmoid": "sigmoid(x) = 1 / (1 + exp(−x))",
            "tanh": "tanh(x) = (exp(x) − exp(−x)) / (exp(x) + exp(−x))"}.get(name, "")
