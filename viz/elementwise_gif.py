"""Frames of an elementwise activation (relu, sigmoid, tanh) from its ``ElementwiseTrace``.

Panel 1 is the input map with the current element boxed, panel 2 the function's curve
with every element visited so far as a dot on it and, under it, the working of the current
element; panel 3 the output map filling in. A slow tour of a few telling elements (for relu
a negative input clipped and a positive one passing) comes first, then a sweep.

The working's intermediate numbers (``exp(−x)``, ``e^x``) are display-only, computed here
from the shown input; the result is always the trace's own output.
"""
import numpy as np

from .arith import number, show
from .dense import tour_steps
from .draw import BOX_MARGIN, all_integers, cell_grid, fmt, upscale
from .fill import LABEL_MIN_CELL, FillGrid
from . import grammar
from .frames import Animation, single_sample
from .layout import Box, Col, Space, Text, measure
from .legend import Legend
from .palette import ACCENT, ACCENT2, BLACK, DIM, GRID, auto_scale
from .tour import Candidate, choose

MAX_CELL = 40                    # map cell size at most (small inputs get big cells)
PLOT = 240                       # plot box, pixels (axes and tick labels inside)
PLOT_MARGIN = (38, 10, 12, 22)   # left, top, right, bottom inside the plot box
TICK = 11
WORK_SIZE = 13
APPROX_NOTE = "≈: the shown intermediates are rounded"
FORMULAS = {"relu": "relu(x) = max(0, x)",
            "sigmoid": "sigmoid(x) = 1 / (1 + exp(−x))",
            "tanh": "tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)"}


class _Plot:
    """Data-to-pixel mapping of the function plot drawn in ``box``."""

    def __init__(self, box, xlim, ylim):
        l, t, r, b = PLOT_MARGIN
        self.px0, self.py0 = box[0] + l, box[1] + t
        self.w, self.h = (box[2] - box[0]) - l - r, (box[3] - box[1]) - t - b
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


def _ticks(lo, hi):
    return [lo, 0.0, hi] if lo < 0 < hi else [lo, hi]


# the range of a squashing function: its y axis is marked at the ends and the middle
# (0, 0.5, 1 for sigmoid), not at the data's extremes (0.02, 0.98 say nothing)
RANGE_TICKS = {"sigmoid": [0.0, 0.5, 1.0], "tanh": [-1.0, 0.0, 1.0]}


def _auto_tour(name, x, y, count):
    """relu: the most negative input (clipped to 0), the largest (passes), then typical ones
    of each sign. sigmoid / tanh: both saturated ends, an input near ±1 (where the curve
    bends), a small one (the near-linear middle). Elements with x = 0 are never picked."""
    live = x != 0
    if not live.any():
        return []
    idx = np.flatnonzero(live)
    neg, pos = idx[x[idx] < 0], idx[x[idx] > 0]

    def near(cands, target):
        return None if cands.size == 0 else int(cands[np.argmin(np.abs(x[cands] - target))])

    lo, hi = x[idx].min(), x[idx].max()
    if name == "relu":
        c = [("most negative", near(neg, lo), "the most negative input: clipped to 0"),
             ("largest", near(pos, hi), "the largest input: passes unchanged"),
             ("typical positive", near(pos, np.median(x[pos])) if pos.size else None,
              "a typical positive input"),
             ("typical negative", near(neg, np.median(x[neg])) if neg.size else None,
              "a typical negative input")]
    else:
        small = idx[np.abs(x[idx]) >= 0.1 * np.abs(x[idx]).max()]
        ends = {"sigmoid": ("1", "0"), "tanh": ("1", "−1")}[name]
        c = [("largest", near(idx, hi), f"the largest input: saturates towards {ends[0]}"),
             ("most negative", near(idx, lo),
              f"the most negative input: saturates towards {ends[1]}"),
             ("bend", near(idx, 1.0 if pos.size else -1.0),
              "an input near ±1: where the curve bends"),
             ("small", near(small, 0.0), "a small input: the near-linear middle")]
    rest = [("another", int(k), "another large input") for k in idx[np.argsort(-np.abs(x[idx]))]]
    return choose([Candidate(kind, why, step=k) for kind, k, why in c + rest], count,
                  n_steps=len(x))


def _working(name, x, y):
    """Lines of the working for input ``x`` and the op's output ``y``, the decimals used and
    whether the result line had to say ≈ (the shown intermediates round differently)."""
    for d in range(2, 5):
        xs, ys = show(x, d), show(y, d)
        xv = float(number(xs))
        if name == "relu":
            if float(x) == round(float(x)):             # whole numbers stay whole
                d, xs, ys = 0, show(x, 0), show(y, 0)
            return [f"x = {xs}", f"max(0, {xs})", f"= {ys}"], {}, d, False
        if name == "sigmoid":
            parts = {"e": show(np.exp(-xv), d)}
            lines = [f"x = {xs}", f"1 / (1 + exp({show(-xv, d)}))", f"= 1 / (1 + {parts['e']})"]
        else:
            parts = {"a": show(np.exp(xv), d), "b": show(np.exp(-xv), d)}
            lines = [f"x = {xs}", "({a} − {b}) / ({a} + {b})".format(**parts)]
        if shown_result(name, parts, d) == ys:
            return lines + [f"= {ys}"], parts, d, False
    return lines + [f"≈ {ys}"], parts, d, True


def shown_result(name, parts, d):
    """The result the shown intermediates give, at ``d`` decimals (what a reader computes)."""
    if name == "sigmoid":
        return show(1 / (1 + float(number(parts["e"]))), d)
    a, b = float(number(parts["a"])), float(number(parts["b"]))
    return show((a - b) / (a + b), d)


def render_elementwise(trace, curve=None, scale=None, max_frames=200, subtitle="",
                       input_name="x", tour=None):
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
        Most frames (tour plus sweep).
    subtitle : str
        Footer text.
    input_name : str
        What the input is called in the title (e.g. "sobel-x response").
    tour : None, "none" or list of (row, col)
        Elements shown slowly first; default: a few chosen from the values.

    Returns
    -------
    Animation : ``phases`` tour, sweep, hold; ``texts`` on the tour frames the shown input
    x, output y, intermediates ``parts``, decimals, the lines of working, whether the result
    says ≈ and the tour's reason (None on the sweep, too fast to read, and on the hold).
    ``layout`` has ``input_xy``, ``output_xy`` (top-left of cell (0, 0)), ``scale``,
    ``cell``, ``in_scale``, ``out_scale``, ``placed`` and ``layout`` (the Layout).
    """
    x = trace.input
    out_arr = trace.output_array
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"render_elementwise: input has shape {x.shape}, expected (N, 1, H, W)")
    n = single_sample(trace.index, "render_elementwise")
    name = trace.op
    if name not in FORMULAS:
        raise ValueError(f"render_elementwise: op {name!r}, expected one of {sorted(FORMULAS)}")
    H, W = x.shape[2:]
    s = int(scale) if scale is not None else max(1, min(MAX_CELL, 240 // max(H, W)))
    if s < 1:
        raise ValueError(f"render_elementwise: scale={scale}, expected an integer >= 1")
    xin = x[n, 0]
    in_scale, out_scale = auto_scale(xin), auto_scale(out_arr[n, 0])
    rows, cols = trace.index[:, 2], trace.index[:, 3]
    inputs = np.asarray(xin[rows, cols], dtype=float)      # the element each step reads
    values = np.asarray(trace.value, dtype=float)
    vals = np.full((H, W), np.nan)
    vals[rows, cols] = values
    steps = np.zeros((H, W), dtype=np.int64)
    steps[rows, cols] = np.arange(len(trace))
    grid = FillGrid(vals, steps, out_scale, s)          # numbers in cells >= 30 px
    step_of = {(int(r), int(c)): k for k, (r, c) in enumerate(zip(rows, cols))}

    def to_step(t):
        t = tuple(int(v) for v in np.atleast_1d(t))
        if t not in step_of:
            raise ValueError(f"render_elementwise: tour cell {','.join(map(str, t))}: outside "
                             f"the {H}×{W} output")
        return step_of[t]

    tour = tour_steps(tour, lambda n: _auto_tour(name, inputs, values, n), to_step,
                      "render_elementwise", max_frames)
    plan = grammar.Tour(len(trace), tour, max_frames, hold="", what="element")
    frame_steps, phases = plan.steps, plan.phases
    cap = plan.caption_slot("tour caption") if tour else None
    n_tour = phases.count("tour")
    working = []
    for i, k in enumerate(frame_steps):
        lines, parts, d, approx = _working(name, inputs[k], values[k])
        working.append(None if i >= n_tour else
                       {"x": show(inputs[k], d), "y": show(values[k], d), "lines": lines,
                        "parts": parts, "decimals": d, "approx": approx,
                        "reason": tour[i].why})

    # -- declare the frame
    m = BOX_MARGIN
    in_box = Box(W * s + 2 * m, H * s + 2 * m, "input map")
    out_box = Box(grid.width, grid.height, "output map")
    plot_box = Box(PLOT, PLOT, "plot")
    shown = [w for w in working if w]
    n_lines = max([len(w["lines"]) for w in shown] or [0])
    widest = [ln for w in shown for ln in w["lines"]]
    slots = [Text(None, WORK_SIZE, "mono", widest=widest, align="c", name=f"work {i}")
             for i in range(n_lines)]
    note = Text(None, 11, color=DIM, widest=[APPROX_NOTE], align="c", name="note") \
        if any(w["approx"] for w in shown) else None
    legend_in = Legend(in_scale, "x", name="legend x")
    legend_out = Legend(out_scale, f"{name}(x)", name="legend y")
    of = "" if input_name == "x" else f", x = {input_name}"
    panels = [(Col(in_box, Space(0, 6), legend_in, gap=4), f"input {H}×{W}"),
              (Col(plot_box, Space(0, 4), *slots, note, gap=3, align="c"), f"{name}(x)"),
              (Col(out_box, Space(0, 6), legend_out, gap=4), f"output {H}×{W}")]
    fr = grammar.Frame(f"{name}(x){of}", FORMULAS[name] + "    (one element per step)", panels,
                       subtitle, [f"tour {n_tour} / {n_tour} · x[{H - 1}, {W - 1}]",
                                  f"step {len(trace)} / {len(trace)}", f"all {H * W} elements"],
                       lead=4, caption=cap)
    lay, counter = fr.lay, fr.counter
    base = lay.base
    legend_in.paint(base)
    legend_out.paint(base)
    ix, iy = in_box.box[0] + m, in_box.box[1] + m
    if s >= LABEL_MIN_CELL:            # small inputs (e.g. --input toy): numbers in the cells
        ints = all_integers(xin)
        cell_grid(base, ix, iy, in_scale.index(xin), s, 0,
                  labels=np.array([[fmt(v, ints) for v in row] for row in xin]))
    else:
        base.blit(ix, iy, upscale(in_scale.index(xin), s))

    # the function plot: axes, ticks and the curve, all static
    if curve is None:
        order = np.argsort(inputs, kind="stable")
        curve = (inputs[order], values[order])
    cx, cy = (np.asarray(c, dtype=float) for c in curve)
    xlim = _limits(np.concatenate([cx, inputs]))
    yticks = RANGE_TICKS.get(name, _ticks(float(values.min()), float(values.max())))
    ylim = _limits(np.concatenate([cy, values, yticks]))
    plot = _Plot(plot_box.box, xlim, ylim)
    ax0, ay0 = plot.xy(0.0 if xlim[0] < 0 < xlim[1] else xlim[0],
                       0.0 if ylim[0] < 0 < ylim[1] else ylim[0])
    base.rect(plot.px0, ay0, plot.px0 + plot.w, ay0 + 1, GRID)
    base.rect(ax0, plot.py0, ax0 + 1, plot.py0 + plot.h, GRID)
    _tick_labels(base, plot, _ticks(float(inputs.min()), float(inputs.max())), ay0, "x")
    _tick_labels(base, plot, yticks, ax0, "y")
    qx, qy = plot.xy(cx, cy)
    base.polyline(list(zip(qx, qy)), DIM, 2)
    dots_x, dots_y = plot.xy(inputs, values)

    frames = []
    gx, gy = out_box.box[:2]
    for fi, k in enumerate(frame_steps):
        cv = lay.new_frame()
        done = plan.done(fi)
        cv.px[dots_y[done], dots_x[done]] = ACCENT2
        if phases[fi] == "hold":            # the complete output and every dot, no working
            grid.draw(cv, gx, gy, k, None, done)
            lay.write(cv, counter, plan.placed_counter(fi, None))
            frames.append(cv.px)
            continue
        r, c = int(rows[k]), int(cols[k])
        cv.window_box(ix + c * s, iy + r * s, ix + (c + 1) * s, iy + (r + 1) * s)
        dx, dy = dots_x[k], dots_y[k]
        cv.rect(dx, min(dy, ay0), dx + 1, max(dy, ay0) + 1, DIM)
        cv.rect(min(dx, ax0), dy, max(dx, ax0) + 1, dy + 1, DIM)
        cv.rect(dx - 3, dy - 3, dx + 4, dy + 4, BLACK)
        cv.rect(dx - 2, dy - 2, dx + 3, dy + 3, ACCENT)
        if working[fi]:                     # the sweep is too fast to read a working
            lines = working[fi]["lines"]
            for i, (slot, line) in enumerate(zip(slots, lines)):
                lay.write(cv, slot, line, color=ACCENT if i == len(lines) - 1 else None)
            if working[fi]["approx"]:
                lay.write(cv, note, APPROX_NOTE)
        grid.draw(cv, gx, gy, k, (r, c), done, ring=True)
        if fi < n_tour:
            lay.write(cv, cap, plan.caption(fi))
        lay.write(cv, counter, plan.placed_counter(fi, f"x[{r}, {c}]"))
        frames.append(cv.px)
    layout = {"input_xy": [(ix, iy)], "output_xy": [grid.cell_origin(gx, gy)], "scale": s,
              "cell": s, "gap": grid.gap, "in_scale": in_scale, "out_scale": out_scale,
              **grammar.record(lay)}
    return Animation(frames, frame_steps, layout, phases=phases, texts=working)


def _tick_labels(cv, plot, ticks, axis, which):
    """Tick marks and labels of one axis, inside the plot box; a label that would touch the
    one before it is left out (0 close to an end)."""
    last = None
    for t in ticks:
        s = fmt(t, all_integers(ticks))
        w, h = measure(s, TICK)
        if which == "x":
            tx, _ = plot.xy(t, 0)
            box = (tx - w // 2, plot.py0 + plot.h + 4, tx + w - w // 2, plot.py0 + plot.h + 4 + h)
        else:
            _, ty = plot.xy(0, t)
            box = (plot.px0 - 6 - w, ty - h // 2, plot.px0 - 6, ty + h - h // 2)
        if last is not None and (box[0] < last[2] + 4 if which == "x" else box[3] + 2 > last[1]):
            continue
        if which == "x":
            cv.rect(tx, axis - 2, tx + 1, axis + 3, DIM)
            cv.text(box[0], box[1], s, size=TICK, color=DIM)
        else:
            cv.rect(axis - 2, ty, axis + 3, ty + 1, DIM)
            cv.text(box[0], box[1], s, size=TICK, color=DIM)
        last = box
