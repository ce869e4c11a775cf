"""Frames of ``linear`` from its ``LinearTrace``: one output neuron per step.

Panel 1 is the input vector x beside the weight matrix (drawn transposed, one column per
neuron, the current column ringed); panel 2 the current neuron: x, its weights and their
products, with the sum; panel 3 the output vector filling in.
"""
import numpy as np

from .draw import all_integers, cell_grid, fmt
from .fill import FillGrid
from .frames import Animation, plan_steps, single_sample
from .layout import ThreePanels
from .palette import ACCENT, DIM, TEXT, auto_scale, diverging_scale

COL_W = 50          # width of a column of numbers
SYM_W = 18


def render_linear(trace, max_frames=200, subtitle="", input_name="x"):
    """Render a ``LinearTrace`` (one sample) to frames.

    Parameters
    ----------
    trace : ops.LinearTrace
        ``cache.trace(sample=0)`` of ``linear``; at most 64 input features are drawn
        (numbers written when there are at most 24).
    max_frames : int
        Most frames (:func:`viz.frames.plan_steps`).
    subtitle : str
        Footer text.
    input_name : str
        What x is, for the title.

    Returns
    -------
    Animation : one frame per planned step; ``layout`` has ``output_xy`` (top-left of
    output cell 0), ``cell`` ((height, width) of an output cell) and ``out_scale``.
    """
    n = single_sample(trace.out_index, "render_linear")
    n_out, n_in = trace.weight.shape
    if n_in > 64:
        raise ValueError(f"render_linear: {n_in} input features, expected at most 64 to draw")
    x = trace.x[n]
    steps = [trace[k] for k in range(len(trace))]
    products = np.stack([st.products for st in steps])
    x_scale = auto_scale(x)
    w_scale = diverging_scale(np.abs(trace.weight).max())
    p_scale = diverging_scale(np.abs(products).max())
    out_scale = diverging_scale(np.abs(trace.value).max())

    rh = int(np.clip(264 // n_in, 4, 18))
    numbers = rh >= 12
    wc = int(np.clip(220 // n_out, 6, 18))
    col_h = n_in * rh + 1
    p1 = (COL_W + 14 + n_out * wc + 1, col_h + 18)
    p2 = (3 * COL_W + 2 * SYM_W + 8, col_h + 18 + 62)
    oh = int(np.clip(264 // n_out, 8, 26))
    vals = np.full((n_out, 1), np.nan)
    stepmap = np.zeros((n_out, 1), dtype=np.int64)
    o_idx = trace.out_index[:, 1]
    vals[o_idx, 0] = trace.value
    stepmap[o_idx, 0] = np.arange(len(trace))
    grid = FillGrid(vals, stepmap, out_scale, (oh, 60), labels=oh >= 14)
    p3 = (grid.width + 34, grid.height + 18)
    bias = "" if trace.bias is None else " + b"
    lay = ThreePanels([p1, p2, p3], [f"x ({n_in}) and Wᵀ ({n_in}×{n_out})", "one neuron",
                                     f"output y ({n_out})"],
                      f"linear(x, weight {n_out}×{n_in}{', bias' if bias else ''}),"
                      f" x = {input_name}",
                      f"y[o] = Σᵢ x[i] · W[o, i]{bias}[o]   (one output neuron per step)",
                      subtitle)
    base = lay.base
    x0, y0 = lay.origin(0)
    xlab = np.array([[fmt(v, all_integers(x))] for v in x]) if numbers else None
    base.text(x0, y0, "x", size=12, color=DIM)
    cell_grid(base, x0, y0 + 18, x_scale.index(x[:, None]), (rh, COL_W), 1, labels=xlab)
    wx = x0 + COL_W + 14
    base.text(wx, y0, "Wᵀ (one column per neuron)", size=12, color=DIM)
    cell_grid(base, wx, y0 + 18, w_scale.index(trace.weight.T), (rh, wc), 1)
    ox, oy = lay.origin(2)
    base.text(ox + 34, oy, "y", size=12, color=DIM)
    for o in range(n_out):
        base.text(ox + 28, oy + 18 + grid.gap + o * oh + (oh - grid.gap) / 2, str(o), size=11,
                  color=DIM, anchor="rm")
    gx, gy = ox + 34, oy + 18

    px, py = lay.origin(1)
    cols = [px, px + COL_W + SYM_W, px + 2 * (COL_W + SYM_W)]
    plan = plan_steps(len(trace), max_frames, n_out)
    frames = []
    for k in plan:
        st = steps[k]
        o = int(st.out_index[1])
        cv = lay.new_frame()
        cv.outline(wx + o * wc, y0 + 18, wx + (o + 1) * wc + 1, y0 + 18 + col_h, ACCENT, 2)
        for c, t in zip(cols, ["x[i]", f"W[{o}, i]", "product"]):
            cv.text(c, py, t, size=12, color=DIM)
        for c, v, sc in zip(cols, [st.inputs, st.weights, st.products], [x_scale, w_scale, p_scale]):
            lab = np.array([[fmt(a)] for a in v]) if numbers else None
            cell_grid(cv, c, py + 18, sc.index(v[:, None]), (rh, COL_W), 1, labels=lab)
        mid = py + 18 + col_h // 2
        cv.text(cols[0] + COL_W + SYM_W // 2, mid, "×", size=15, color=TEXT, anchor="mm")
        cv.text(cols[1] + COL_W + SYM_W // 2, mid, "=", size=15, color=TEXT, anchor="mm")
        ty = py + 18 + col_h + 14
        if st.bias is not None:
            cv.text(px, ty, f"bias b[{o}] = {fmt(st.bias)}", size=13, color=TEXT, face="mono")
        cv.text(px, ty + 22, f"y[{o}] = Σ products" + (" + b" if st.bias is not None else "") +
                f" = {fmt(st.value)}", size=13, color=ACCENT, face="monobold")
        grid.draw(cv, gx, gy, k, (o, 0))
        lay.counter(cv, f"step {k + 1} / {len(trace)}  (neuron {o})")
        frames.append(cv.px)
    layout = {"output_xy": [grid.cell_origin(gx, gy)], "cell": (oh, 60), "gap": grid.gap,
              "out_scale": out_scale, "panels": lay.boxes, "size": (lay.width, lay.height)}
    return Animation(frames, plan, layout, frame_ms=800, hold_ms=3000)
