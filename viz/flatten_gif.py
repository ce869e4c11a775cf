"""Frames of ``flatten`` from its ``FlattenTrace``: where each input cell goes.

Panel 1 is the input (one grid per channel) with the current cell boxed, panel 2 the
index arithmetic of the current cell, panel 3 the output vector filling in (drawn as
columns of ``COL_ROWS`` cells).
"""
import numpy as np

from .draw import BOX_MARGIN, Canvas, all_integers, cell_grid, fmt
from .fill import FillGrid
from .frames import Animation, plan_steps, single_sample
from .layout import ThreePanels
from .palette import ACCENT, DIM, PANEL, TEXT, auto_scale

COL_ROWS = 16        # output cells per column
OUT_W = 52           # output cell width


def render_flatten(trace, max_frames=200, subtitle="", input_name="x"):
    """Render a ``FlattenTrace`` of an (N, C, H, W) input (one sample) to frames.

    Parameters
    ----------
    trace : ops.FlattenTrace
        ``cache.trace(sample=0)`` of ``flatten``; at most 256 elements per sample.
    max_frames : int
        Most frames (:func:`viz.frames.plan_steps`).
    subtitle : str
        Footer text.
    input_name : str
        What x is, for the title.

    Returns
    -------
    Animation : ``layout`` has ``input_xy`` (top-left of cell (0, 0) of each channel),
    ``cell``, ``output_xy`` (top-left of output cell 0), ``out_cell`` ((h, w)),
    ``col_rows`` and ``scale``.
    """
    shape = tuple(trace.input_shape)
    if len(shape) != 4:
        raise ValueError(f"render_flatten: input shape {shape}, expected (N, C, H, W)")
    single_sample(trace.src_index, "render_flatten")
    _, C, H, W = shape
    D = C * H * W
    if D > 256:
        raise ValueError(f"render_flatten: {D} elements per sample, expected at most 256 to draw")
    src, dst, val = trace.src_index, trace.dst_index[:, 1], trace.value
    x = np.full((C, H, W), np.nan)
    x[src[:, 1], src[:, 2], src[:, 3]] = val           # the input, put back from the trace
    scale = auto_scale(val)
    ints = all_integers(val)

    cell = int(np.clip(min(220 // W, (300 // C - 20) // H), 6, 48))
    in_w = W * cell + 1 + 2 * BOX_MARGIN
    blk = 16 + H * cell + 1 + 2 * BOX_MARGIN
    in_h = C * blk
    n_cols = -(-D // COL_ROWS)
    rows = min(D, COL_ROWS)
    oh = int(np.clip(300 // rows, 8, 18))
    vals = np.full((rows, n_cols), np.nan)
    steps = np.zeros((rows, n_cols), dtype=np.int64)
    vals[dst % rows, dst // rows] = val
    steps[dst % rows, dst // rows] = np.arange(len(trace))
    out_grids = [FillGrid(vals[:, j:j + 1], steps[:, j:j + 1], scale, (oh, OUT_W),
                          labels=oh >= 14) for j in range(n_cols)]
    col_pitch = OUT_W + 34
    out_w = n_cols * col_pitch
    out_h = 18 + out_grids[0].height
    lay = ThreePanels([(in_w, in_h), (250, max(in_h, out_h, 150)), (out_w, out_h)],
                      [f"input {C}×{H}×{W}", "where the cell goes", f"output ({D})"],
                      f"flatten(x), x = {input_name}: ({C}, {H}, {W}) → ({D},)",
                      f"k = c·{H}·{W} + i·{W} + j    (row-major: the last index moves fastest)",
                      subtitle)
    base = lay.base
    x0, y0 = lay.origin(0)
    in_xy = []
    labels = x.copy()
    for c in range(C):
        by = y0 + c * blk
        base.text(x0, by, f"channel {c}", size=12, color=DIM)
        gx, gy = x0 + BOX_MARGIN, by + 16 + BOX_MARGIN
        lab = np.array([[fmt(v, ints) for v in r] for r in labels[c]]) if cell >= 30 else None
        cell_grid(base, gx, gy, scale.index(x[c]), cell, 1, labels=lab)
        in_xy.append((gx + 1, gy + 1))
    ox, oy = lay.origin(2)
    for j in range(n_cols):
        cx = ox + j * col_pitch + 30
        for r in range(rows):
            if j * rows + r < D:
                base.text(cx - 4, oy + 18 + 1 + r * oh + (oh - 1) / 2, str(j * rows + r), size=11,
                          color=DIM, anchor="rm")
    base.text(ox + 30, oy, "y", size=12, color=DIM)

    px, py = lay.origin(1)
    cx = px + 125
    plan = plan_steps(len(trace), max_frames, W)
    frames = []
    for k in plan:
        c, i, j = (int(v) for v in src[k, 1:])
        d = int(dst[k])
        cv = lay.new_frame()
        gx, gy = in_xy[c]
        cv.window_box(gx + j * cell, gy + i * cell, gx + (j + 1) * cell - 1, gy + (i + 1) * cell - 1)
        cv.text(cx, py + 20, f"x[{c}, {i}, {j}]", size=16, color=TEXT, face="monobold", anchor="mm")
        big = Canvas(60, 40, PANEL)
        cell_grid(big, 0, 0, scale.index(np.array([[val[k]]])), (40, 60), 1,
                  labels=np.array([[fmt(val[k], ints)]]))
        cv.blit(cx - 30, py + 40, big.px)
        cv.text(cx, py + 100, "↓", size=22, color=TEXT, anchor="mm")
        cv.text(cx, py + 134, f"k = {c}·{H * W} + {i}·{W} + {j} = {d}", size=14, color=ACCENT,
                face="monobold", anchor="mm")
        cv.text(cx, py + 164, f"y[{d}]", size=16, color=TEXT, face="monobold", anchor="mm")
        for jj, g in enumerate(out_grids):
            cur = (d % rows, 0) if d // rows == jj else None
            g.draw(cv, ox + jj * col_pitch + 30, oy + 18, k, cur)
        lay.counter(cv, f"step {k + 1} / {len(trace)}")
        frames.append(cv.px)
    layout = {"input_xy": in_xy, "cell": cell, "scale": scale, "out_cell": (oh, OUT_W),
              "col_rows": rows, "output_xy": [g.cell_origin(ox + jj * col_pitch + 30, oy + 18)
                                              for jj, g in enumerate(out_grids)],
              "panels": lay.boxes, "size": (lay.width, lay.height)}
    return Animation(frames, plan, layout, frame_ms=300)
