"""Frames of ``flatten`` from its ``FlattenTrace``: where each input cell goes.

Panel 1 is the input (one grid per channel) with the current cell boxed, panel 2 the
index arithmetic of the current cell, panel 3 the output vector filling in (drawn as
columns of ``COL_ROWS`` cells). A slow tour of a few cells comes first, then a sweep.
"""
import numpy as np

from .dense import draw_columns, row_labels, tour_steps
from .draw import BOX_MARGIN, all_integers, cell_grid, fmt
from .fill import FillGrid
from . import grammar
from .frames import Animation, single_sample
from .layout import Box, Col, Panel, Row, Space, Text
from .legend import Legend
from .palette import ACCENT, DIM, auto_scale
from .tour import Candidate, choose

COL_ROWS = 16        # output cells per column
OUT_W = 52           # output cell width
MAX_D = 256          # most elements drawn


def _auto_tour(val, src, shape, count):
    """The largest value; the largest of each later channel (its index gains c·H·W); the
    non-zero cell furthest into its channel. Cells holding 0 are skipped when others exist."""
    C, H, W = shape
    live = val != 0
    if not live.any():
        live = (src[:, 1:] != 0).any(1)          # a zero input: still not x[0, 0, 0]
    order = [int(k) for k in np.argsort(-np.abs(val), kind="stable") if live[k]]
    if not order:
        return []
    per_channel = [Candidate("channel", f"the largest of channel {c}: k gains {c}·{H * W}",
                             step=next((k for k in order if src[k, 1] == c), None))
                   for c in range(C - 1, 0, -1)]
    far = max(order, key=lambda k: (src[k, 2] > 0 and src[k, 3] > 0, src[k, 2] * 1000 + src[k, 3]))
    return choose([Candidate("largest", "the largest value", step=order[0])] + per_channel[:2] +
                  [Candidate("far", "far into its channel: i·W + j", step=far)] +
                  [Candidate("another", "another large value", step=k) for k in order],
                  count, n_steps=len(val))


def render_flatten(trace, max_frames=200, subtitle="", input_name="x", tour=None):
    """Render a ``FlattenTrace`` of an (N, C, H, W) input (one sample) to frames.

    Parameters
    ----------
    trace : ops.FlattenTrace
        ``cache.trace(sample=0)`` of ``flatten``; at most 256 elements per sample.
    max_frames : int
        Most frames (tour plus sweep).
    subtitle : str
        Footer text.
    input_name : str
        What x is, for the title.
    tour : None, "none" or list of int
        Output indices shown slowly first; default: a few chosen from the values.

    Returns
    -------
    Animation : ``phases`` tour, sweep, hold; ``texts`` per frame the index terms, k and the
    value. ``layout`` has ``input_xy`` (top-left of cell (0, 0) of each
    channel), ``cell``, ``output_xy`` (top-left of output cell 0 of each column),
    ``out_cell`` ((h, w)), ``col_rows``, ``scale`` and ``layout`` (the Layout).
    """
    shape = tuple(trace.input_shape)
    if len(shape) != 4:
        raise ValueError(f"render_flatten: input shape {shape}, expected (N, C, H, W)")
    single_sample(trace.src_index, "render_flatten")
    _, C, H, W = shape
    D = C * H * W
    if D > MAX_D:
        raise ValueError(f"render_flatten: {D} elements per sample, expected at most {MAX_D} "
                         "to draw")
    src, dst, val = trace.src_index, trace.dst_index[:, 1], trace.value
    x = np.full((C, H, W), np.nan)
    x[src[:, 1], src[:, 2], src[:, 3]] = val           # the input, put back from the trace
    scale = auto_scale(val)
    ints = all_integers(val)
    step_of = {int(d): k for k, d in enumerate(dst)}

    def to_step(t):
        d = int(t if np.isscalar(t) else (tuple(t) + (None,))[0])
        if d not in step_of:
            raise ValueError(f"render_flatten: tour index {d}, expected 0 to {D - 1}")
        return step_of[d]

    tour = tour_steps(tour, lambda n: _auto_tour(np.asarray(val, float), src, (C, H, W), n),
                      to_step, "render_flatten", max_frames)
    plan = grammar.Tour(len(trace), tour, max_frames, hold="", what="cell")
    frame_steps, phases = plan.steps, plan.phases
    cap = plan.caption_slot("tour caption") if tour else None
    n_tour = phases.count("tour")
    working = [{"terms": [int(src[k, 1]) * H * W, int(src[k, 2]) * W, int(src[k, 3])],
                "k": int(dst[k]), "value": fmt(val[k], ints),
                "reason": tour[i].why if i < n_tour else None} for i, k in enumerate(frame_steps)]

    # -- declare the frame: channels two abreast when there are more than two
    per_row = 2 if C > 2 else 1
    brows = -(-C // per_row)
    cell = int(np.clip(min(220 // (W * per_row), (320 // brows - 20) // H), 6, 48))
    in_boxes = [Box(W * cell + 1, H * cell + 1, f"channel {c}") for c in range(C)]
    blocks = [Col(Text(f"channel {c}", 12, color=DIM), Space(0, BOX_MARGIN), b, gap=0)
              for c, b in enumerate(in_boxes)]
    grid_rows = [Row(*blocks[r * per_row:(r + 1) * per_row], gap=12) for r in range(brows)]
    legend_in = Legend(scale, "x", name="legend x")
    p1 = Col(*grid_rows, Space(0, 4), legend_in, gap=10)

    w_txt = [f"x[{C - 1}, {H - 1}, {W - 1}]"]
    src_t = Text(None, 16, "monobold", widest=w_txt, align="c", name="source")
    cell_box = Box(60, 40, "value")
    k_terms = f"k = c·{H * W} + i·{W} + j"
    k_t = Text(None, 14, "monobold", ACCENT, align="c", name="k",
               widest=[f"k = {C - 1}·{H * W} + {H - 1}·{W} + {W - 1} = {D - 1}"])
    dst_t = Text(None, 16, "monobold", widest=[f"y[{D - 1}]"], align="c", name="dest")
    p2 = Col(src_t, cell_box, Text("↓", 22, align="c"), Text(k_terms, 12, color=DIM, align="c"),
             k_t, Text("↓", 22, align="c"), dst_t, gap=8, align="c")

    rows = min(D, COL_ROWS)
    n_cols = -(-D // rows)
    oh = int(np.clip(352 // rows, 8, 22))
    vals = np.full((rows, n_cols), np.nan)
    steps = np.zeros((rows, n_cols), dtype=np.int64)
    vals[dst % rows, dst // rows] = val
    steps[dst % rows, dst // rows] = np.arange(len(trace))
    grids = [FillGrid(vals[:, j:j + 1], steps[:, j:j + 1], scale, (oh, OUT_W), labels=oh >= 14)
             for j in range(n_cols)]
    g_boxes = [Box(g.width, g.height, f"y column {j}") for j, g in enumerate(grids)]
    names = [str(d) for d in range(D)]
    out_cols = [Row(Col(Space(0, g.gap), row_labels(names[j * rows:(j + 1) * rows], oh,
                                                    name=f"k{j}")), b, gap=5)
                for j, (g, b) in enumerate(zip(grids, g_boxes))]
    legend_out = Legend(scale, "y", name="legend y")
    p3 = Col(Text("k", 12, color=DIM), Row(*out_cols, gap=12), Space(0, 4), legend_out, gap=4)

    of = "" if input_name == "x" else f", x = {input_name}"
    panels = [(p1, f"input {C}×{H}×{W}"), Panel(p2, "where the cell goes", min_w=250),
              (p3, f"output ({D})")]
    fr = grammar.Frame(f"flatten(x){of}: ({C}, {H}, {W}) → ({D},)",
                       f"y[k] = x[c, i, j]  with  k = c·{H}·{W} + i·{W} + j    (row-major: the "
                       "last index moves fastest)", panels, subtitle,
                       [f"tour {n_tour} / {n_tour} · x[{C - 1}, {H - 1}, {W - 1}]",
                        f"step {len(trace)} / {len(trace)}", f"all {D} cells"], lead=4,
                       caption=cap)
    lay, counter = fr.lay, fr.counter
    base = lay.base
    legend_in.paint(base)
    legend_out.paint(base)
    in_xy = []
    for c, b in enumerate(in_boxes):
        lab = np.array([[fmt(v, ints) for v in r] for r in x[c]]) if cell >= 24 else None
        cell_grid(base, *b.box[:2], scale.index(x[c]), cell, 1, labels=lab)
        in_xy.append((b.box[0] + 1, b.box[1] + 1))
    g_xy = [b.box[:2] for b in g_boxes]

    frames = []
    for fi, k in enumerate(frame_steps):
        cv = lay.new_frame()
        hold = phases[fi] == "hold"         # the complete output, no cell ringed
        c, i, j = (int(v) for v in src[k, 1:])
        d = int(dst[k])
        gx, gy = in_xy[c]
        cv.window_box(gx + j * cell, gy + i * cell, gx + (j + 1) * cell - 1,
                      gy + (i + 1) * cell - 1)
        lay.write(cv, src_t, f"x[{c}, {i}, {j}]")
        cell_grid(cv, *cell_box.box[:2], scale.index(np.array([[val[k]]])), (40, 60), 1,
                  labels=np.array([[fmt(val[k], ints)]]))
        lay.write(cv, k_t, f"k = {c}·{H * W} + {i}·{W} + {j} = {d}")
        lay.write(cv, dst_t, f"y[{d}]")
        done = plan.done(fi)
        draw_columns(cv, grids, g_xy, k, done, None if hold else d, rows)
        if fi < n_tour:
            lay.write(cv, cap, plan.caption(fi))
        lay.write(cv, counter, plan.placed_counter(fi, f"x[{c}, {i}, {j}]"))
        frames.append(cv.px)
    layout = {"input_xy": in_xy, "cell": cell, "scale": scale, "out_cell": (oh, OUT_W),
              "col_rows": rows, "output_xy": [g.cell_origin(ox, oy) for g, (ox, oy)
                                              in zip(grids, g_xy)],
              **grammar.record(lay)}
    return Animation(frames, frame_steps, layout, phases=phases, texts=working)
