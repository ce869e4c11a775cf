"""Frames of ``linear`` from its ``LinearTrace``: one output neuron per step.

Panel 1 is the input vector x beside the weight matrix (drawn transposed, one column per
neuron, the current column ringed); panel 2 the working of the current neuron: x, its
weights and their products, then the column sum, ``+ b`` and ``= y``; panel 3 the output
vector filling in. A slow tour of a few informative neurons comes first, then a sweep.
"""
import numpy as np

from .arith import adds_up, decimals_of, exact_product, exact_sum, number, show
from .dense import decimals_that_add, draw_columns, row_labels, tour_steps
from .draw import all_integers, cell_grid, fmt
from .fill import FillGrid
from . import grammar
from .frames import Animation, single_sample
from .layout import Box, Col, Panel, Row, Space, Text, measure
from .legend import Legend
from .palette import (ACCENT, BLACK, BLANK, DIM, GRID, TEXT, auto_scale, diverging_scale,
                      weight_scale)
from .tour import Candidate, choose

COL_W = 56           # width of a column of numbers
MAX_IN = 64          # most input features drawn
NUMBERS_MAX_IN = 24  # numbers written in the columns up to this many features
NUM_SIZE = 12        # font size of the numbers in the columns
OUT_ROWS = 16        # output cells per column
APPROX_NOTE = "≈: the rounded products miss the sum"
ROUNDED_NOTE = "≈: x and W are shown rounded; y is the op's own"
CHUNK = 3            # features a tour frame adds to the working: 3 weights and 3 products
APPROX_DECIMALS = 3


def _auto_tour(steps, values, exact, count):
    """Largest |y|; the largest y of the other sign; the neuron with the largest single
    product; then the next largest |y|. Neurons whose numbers are all 0 are skipped, and
    so are those whose sums only add up with ≈ while others add up exactly (then a pick
    that is not the overall largest says "a large" instead of "the largest")."""
    live = np.array([np.any(st.products != 0) or st.value != 0 for st in steps])
    if not live.any():
        return []
    pool = live & exact if np.any(live & exact) else live
    big = np.array([float(np.abs(st.products).max()) for st in steps])

    def best(score, ok):
        """The best step by ``score`` among ``pool & ok``, and whether it is the best
        among all live steps too."""
        cand = np.flatnonzero(pool & ok)
        if cand.size == 0:
            return None, False
        k = int(cand[np.argmax(score[cand])])
        return k, score[k] == score[np.flatnonzero(live & ok)].max()

    a = np.abs(values)
    top, t_all = best(a, np.ones(len(steps), bool))
    other, o_all = best(a, np.sign(values) == -np.sign(values[top]))
    prod, p_all = best(big, np.ones(len(steps), bool))
    order = [int(k) for k in np.argsort(-np.where(pool, a, -1.0), kind="stable") if pool[k]]
    return choose([Candidate("largest", ("the" if t_all else "a") + " largest |y|", step=top),
                   Candidate("other sign", ("the" if o_all else "a") +
                             " largest y of the other sign",
                             step=other if values[top] != 0 else None),
                   Candidate("largest product", ("the" if p_all else "a") +
                             " largest single product x·W", step=prod)] +
                  [Candidate("another", "another strong neuron", step=k) for k in order],
                  count, n_steps=len(steps))


def _neuron(t):
    t = t if np.isscalar(t) else tuple(t)
    if isinstance(t, tuple):
        if len(t) != 1:
            raise ValueError(f"render_linear: tour cell {t}, expected one neuron index")
        t = t[0]
    return int(t)


def render_linear(trace, max_frames=200, subtitle="", input_name="x", tour=None):
    """Render a ``LinearTrace`` (one sample) to frames.

    Parameters
    ----------
    trace : ops.LinearTrace
        ``cache.trace(sample=0)`` of ``linear``; at most 64 input features are drawn
        (numbers written when there are at most 24).
    max_frames : int
        Most frames (tour plus sweep, :func:`viz.dense.plan`).
    subtitle : str
        Footer text.
    input_name : str
        What x is, for the title.
    tour : None, "none" or list of int
        Neurons shown slowly first; default: a few informative ones chosen from the values.

    Returns
    -------
    Animation : ``phases`` tour, sweep, hold; ``texts`` per frame the displayed terms, sum,
    bias and y, their decimals and whether the sum is marked ≈. ``layout`` has
    ``output_xy`` (top-left of output cell 0 of each column), ``cell``, ``rows`` (cells
    per output column), ``out_scale`` and ``layout`` (the :class:`viz.layout.Layout`, with
    every placed box).
    """
    n = single_sample(trace.out_index, "render_linear")
    n_out, n_in = trace.weight.shape
    if n_in > MAX_IN:
        raise ValueError(f"render_linear: {n_in} input features, expected at most {MAX_IN} "
                         "to draw")
    x = trace.x[n]
    steps = [trace[k] for k in range(len(trace))]
    o_of = np.array([int(st.out_index[1]) for st in steps])
    step_of = {o: k for k, o in enumerate(o_of)}
    products = np.stack([st.products for st in steps]).astype(np.float64)
    x_scale = auto_scale(x)
    w_scale = weight_scale(trace.weight)
    p_scale = diverging_scale(np.abs(products).max())
    out_scale = diverging_scale(np.abs(trace.value).max())
    has_b = trace.bias is not None

    def to_step(t):
        o = _neuron(t)
        if o not in step_of:
            raise ValueError(f"render_linear: tour neuron {o}, expected 0 to {n_out - 1}")
        return step_of[o]

    # -- what each step writes. With numbers: each product is the exact product of the x and
    # W shown, Σ their exact sum, so both follow from what is on screen; y is the op's own,
    # "≈" when the rounded x and W miss it. Without numbers: the fewest decimals at which
    # Σ + b = y adds up on screen.
    work = []
    for k, st in enumerate(steps):
        p, s, b, y = products[k], float(products[k].sum()), float(st.bias or 0.0), float(st.value)
        xs, ws = [fmt(a) for a in st.inputs], [fmt(a) for a in st.weights]
        if n_in <= NUMBERS_MAX_IN:
            terms = [exact_product(a, c) for a, c in zip(xs, ws)]
            d = max(decimals_of(t) for t in terms)
            terms = [show(float(number(t)), d) for t in terms]     # one width: d decimals
            total = exact_sum(terms)
            bias = show(b, d) if has_b else None
            yy = show(y, d)
            rounded = not adds_up([total] + ([bias] if has_b else []), yy)
            work.append({"terms": terms, "x": xs, "w": ws, "sum": total, "bias": bias,
                         "y": yy, "approx": False, "rounded": rounded, "decimals": d,
                         "neuron": int(o_of[k])})
            continue
        d = decimals_that_add([([s, b], y)])
        approx = d is None
        d = APPROX_DECIMALS if approx else d
        work.append({"terms": [], "sum": show(s, d), "bias": show(b, d) if has_b else None,
                     "y": show(y, d), "approx": approx, "rounded": False, "decimals": d,
                     "neuron": int(o_of[k])})
    exact = np.array([not (w["approx"] or w["rounded"]) for w in work])
    tour = tour_steps(tour, lambda n: _auto_tour(steps, trace.value, exact, n), to_step,
                      "render_linear", max_frames)
    parts = -(-n_in // CHUNK) + 1 if n_in <= NUMBERS_MAX_IN else 1   # rows of 3, then Σ + b
    # the first stop opens on x alone: its numbers are new too
    first = tour[0].step if tour and parts > 1 else None
    plan = grammar.Tour(len(trace), tour, max_frames, hold="", what="neuron",
                        parts=lambda k: parts + (k == first))
    frame_steps, phases = plan.steps, plan.phases
    cap = plan.caption_slot("tour caption") if tour else None
    n_tour = phases.count("tour")
    xlabels = [fmt(v, all_integers(x)) for v in x] if n_in <= NUMBERS_MAX_IN else []

    def shows(i, k):
        """Features whose row tour frame ``i`` shows, and whether Σ, b and y are out."""
        if phases[i] != "tour":
            return n_in, True
        off = int(plan.nparts[i] > parts)
        return min(n_in, (plan.part[i] + 1 - off) * CHUNK), plan.last_part(i)

    working = []
    for i, k in enumerate(frame_steps):
        m, complete = shows(i, k)
        w = work[k]
        shown = list(xlabels) + list(w.get("w", [])[:m]) + list(w["terms"][:m]) + \
            ([w["sum"], w["y"]] + ([w["bias"]] if has_b else []) if complete else [])
        working.append(dict(w, reason=plan.reasons[i] if phases[i] == "tour" else None,
                            shown=shown, rows=m, complete=complete, part=plan.part[i],
                            parts=plan.nparts[i]))

    # -- declare the frame
    rh = int(np.clip(288 // n_in, 4, 18))
    numbers = n_in <= NUMBERS_MAX_IN
    wc = int(np.clip(220 // n_out, 6, 18))
    col_h = n_in * rh + 1
    ix = [str(i) for i in range(n_in)]
    x_box, w_box = Box(COL_W, col_h, "x"), Box(n_out * wc + 1, col_h, "W^T")
    legend_x = Legend(x_scale, "x", name="legend x")
    legend_w = Legend(w_scale, "W", name="legend W")
    p1 = Col(Row(Col(Text("i", 12, color=DIM), row_labels(ix, rh, name="i")),
                 Col(Text("x", 12, color=DIM), x_box),
                 Col(Text("Wᵀ", 12, color=DIM), w_box), gap=8),
             Space(0, 6), legend_x, legend_w, gap=6)

    oname = [f"{o}" for o in range(n_out)]
    wide_o = max(oname, key=len)
    hdr = [Text("x[i]", 12, color=DIM), Text(None, 12, color=DIM, widest=[f"W[{wide_o}, i]"]),
           Text("x·W", 12, color=DIM)]
    terms = [t for w in work for t in w["terms"]] or ["0.00"]
    p_w = max(COL_W, measure(max(terms, key=len), NUM_SIZE, "mono")[0] + 10)
    cols = [Box(COL_W, col_h, "x[i]"), Box(COL_W, col_h, "W[o, i]"), Box(p_w, col_h, "x·W")]
    grid_row = Row(Col(hdr[0], cols[0], align="c"), Text("×", 15),
                   Col(hdr[1], cols[1], align="c"), Text("=", 15),
                   Col(hdr[2], cols[2], align="c"), gap=6, align="m")
    vw = [w[key] for w in work for key in ("sum", "y", "bias") if w[key]]
    lab_w = {"sum": ["Σ x·W ≈"], "bias": [f"+ b[{wide_o}] ="], "y": [f"y[{wide_o}] ≈"]}
    slots = {}
    for key, face, color in (("sum", "mono", TEXT), ("bias", "mono", TEXT),
                             ("y", "monobold", ACCENT)):
        lab = Text(None, 13, face, color, widest=lab_w[key], align="r", name=f"{key} label")
        val = Text(None, 13, face, color, widest=[max(vw, key=len)], align="r",
                   name=f"{key} value")
        slots[key] = (lab, val, Row(lab, val, gap=6))
    rule_w = slots["sum"][1].size()[0]
    rules = [Box(rule_w, 1, "rule 1"), Box(rule_w, 1, "rule 2") if has_b else None]
    lines = [rules[0], slots["sum"][2]] + \
        ([slots["bias"][2], rules[1]] if has_b else []) + [slots["y"][2]]
    note = Text(None, 11, color=DIM, widest=[APPROX_NOTE, ROUNDED_NOTE], align="r",
                name="note") if any(w["approx"] or w["rounded"] for w in work) else None
    legend_p = Legend(p_scale, "x·W", name="legend x·W")
    p2 = Col(grid_row, Space(0, 2), *lines, note, Space(0, 4), legend_p, gap=4, align="r")

    rows = min(n_out, OUT_ROWS)
    n_cols = -(-n_out // rows)
    oh = int(np.clip(352 // rows, 8, 22))
    vals = np.full((rows, n_cols), np.nan)
    stepmap = np.zeros((rows, n_cols), dtype=np.int64)
    vals[o_of % rows, o_of // rows] = trace.value
    stepmap[o_of % rows, o_of // rows] = np.arange(len(trace))
    grids = [FillGrid(vals[:, j:j + 1], stepmap[:, j:j + 1], out_scale, (oh, 60),
                      labels=oh >= 14) for j in range(n_cols)]
    g_boxes = [Box(g.width, g.height, f"y column {j}") for j, g in enumerate(grids)]
    out_cols = [Row(Col(Space(0, grids[j].gap), row_labels(
        oname[j * rows:(j + 1) * rows], oh, name=f"o{j}")), g, gap=5)
        for j, g in enumerate(g_boxes)]
    legend_y = Legend(out_scale, "y", name="legend y")
    p3 = Col(Text("o", 12, color=DIM), Row(*out_cols, gap=14), Space(0, 6), legend_y, gap=4)

    # the counter's slot, sized for every counter this plan will show
    count_w = [plan.placed_counter(i, f"neuron {int(o_of[k])}", sweep_where=True)
               for i, k in enumerate(frame_steps)]
    neuron_lab = Text(None, 13, color=DIM, widest=[f"neuron {wide_o}"], name="neuron label")
    bias = ", bias" if has_b else ""
    of = "" if input_name == "x" else f", x = {input_name}"
    panels = [(p1, f"x ({n_in}) and Wᵀ ({n_in}×{n_out})"),
              Col(neuron_lab, Panel(p2, None), gap=6), (p3, f"output y ({n_out})")]
    fr = grammar.Frame(f"linear(x, weight {n_out}×{n_in}{bias}){of}",
                       f"y[o] = Σᵢ x[i] · W[o, i]{' + b[o]' if has_b else ''}    "
                       "(one output neuron per step)", panels, subtitle, count_w, lead=4,
                       caption=cap)
    lay, counter = fr.lay, fr.counter
    base = lay.base
    for lg in (legend_x, legend_w, legend_p, legend_y):
        lg.paint(base)
    for node in filter(None, rules):
        base.rect(*node.box, GRID)
    xlab = np.array([[fmt(v, all_integers(x))] for v in x]) if numbers else None
    size = min(NUM_SIZE, rh - 3)
    cell_grid(base, *x_box.box[:2], x_scale.index(x[:, None]), (rh, COL_W), 1, labels=xlab,
              label_size=size)
    wx, wy = w_box.box[:2]
    cell_grid(base, wx, wy, w_scale.index(trace.weight.T), (rh, wc), 1)
    g_xy = [b.box[:2] for b in g_boxes]

    frames = []
    for i, k in enumerate(frame_steps):
        cv = lay.new_frame()
        hold = phases[i] == "hold"          # the complete output, no cell ringed
        st, wk = steps[k], working[i]
        o = wk["neuron"]
        cv.outline(wx + o * wc - 1, wy - 1, wx + (o + 1) * wc + 2, wy + col_h + 1, BLACK, 1)
        cv.outline(wx + o * wc, wy, wx + (o + 1) * wc + 1, wy + col_h, ACCENT, 2)
        lay.write(cv, neuron_lab, f"neuron {o}", color=ACCENT)
        lay.write(cv, hdr[1], f"W[{o}, i]")
        m, complete = wk["rows"], wk["complete"]
        for box, v, sc, labs in zip(cols, [st.inputs, st.weights, products[k]],
                                    [x_scale, w_scale, p_scale],
                                    [[fmt(a) for a in st.inputs], [fmt(a) for a in st.weights],
                                     wk["terms"]]):
            idx = sc.index(np.asarray(v)[:, None])
            idx[m:] = BLANK                         # rows not built up yet
            lab = np.array(labs)[:, None] if numbers else None
            if lab is not None:
                lab[m:] = ""
            cell_grid(cv, *box.box[:2], idx,
                      (rh, box.box[2] - box.box[0]), 1, labels=lab, label_size=size)
        if complete:
            lay.write(cv, slots["sum"][0], "Σ x·W ≈" if wk["approx"] else "Σ x·W =")
            lay.write(cv, slots["sum"][1], wk["sum"])
            if has_b:
                lay.write(cv, slots["bias"][0], f"+ b[{o}] =")
                lay.write(cv, slots["bias"][1], wk["bias"])
            lay.write(cv, slots["y"][0], f"y[{o}] {'≈' if wk['rounded'] else '='}")
            lay.write(cv, slots["y"][1], wk["y"])
            if wk["approx"] or wk["rounded"]:
                lay.write(cv, note, APPROX_NOTE if wk["approx"] else ROUNDED_NOTE)
        done = plan.done(i)
        draw_columns(cv, grids, g_xy, k, done, None if hold else o, rows)
        if phases[i] == "tour":
            lay.write(cv, cap, plan.caption(i))
        lay.write(cv, counter, plan.placed_counter(i, f"neuron {o}", sweep_where=True))
        frames.append(cv.px)
    layout = {"output_xy": [g.cell_origin(gx, gy) for g, (gx, gy) in zip(grids, g_xy)],
              "cell": (oh, 60), "gap": grids[0].gap, "rows": rows, "out_scale": out_scale,
              **grammar.record(lay)}
    return Animation(frames, frame_steps, layout, phases=phases, texts=working)
