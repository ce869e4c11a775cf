"""Convolution as one matrix product: the patch matrix (im2col) and Dumoulin & Visin's C.

:func:`render_patches` draws conv2d as ``Y = W · P``: the windows of the input unfold one
by one into the columns of the patch matrix P (the very matrix the op multiplies), then a
few output cells are worked out as one weight row times one column, then the whole product.
:func:`render_transposed` draws the convolution's matrix C (one row per output cell: the
kernel placed where its window reads the flattened input) and conv_transpose2d as Cᵀ applied
to its flattened input. Both take arrays (``ops.matrix``): no op is imported here.
"""
from decimal import Decimal

import numpy as np

from . import grammar
from .arith import number, show, signed_sum
from .draw import all_integers, cell_grid
from .frames import Animation
from .layout import Box, Col, Row, Space, Text, gap_for
from .legend import Legend
from .palette import ACCENT, BLACK, BLANK, DIM, auto_scale, weight_scale
from .tour import Candidate, by_hand, choose, room

MAX_WIDTH = 880        # px: the frame fits a page's text column
MAX_COLS = 64           # most patch-matrix columns (output cells) drawn
MAX_ROWS = 36           # most patch-matrix rows (C·kh·kw)
MAX_TERMS = 12          # a working line writes every term up to this many
WORK_SIZE = 13
LABEL_MIN = 18          # cells at least this big get their numbers written
APPROX_NOTE = "≈: the factors are shown rounded; the op multiplies them unrounded"


class Grid:
    """A matrix drawn as cells: ``values`` (2-D), its colour ``scale``, the cell pitch,
    numbers written at ``decimals`` when the cells are big enough. ``node`` is its layout
    box; cells not yet ``shown`` are blank."""

    def __init__(self, values, scale, cell, decimals, name, pad=None):
        self.values = np.asarray(values, float)
        self.scale, self.cell, self.pad = scale, int(cell), pad
        self.gap = gap_for(self.cell)
        rows, cols = self.values.shape
        self.node = Box(cols * self.cell + self.gap, rows * self.cell + self.gap, name)
        self.labels = None
        if self.cell >= LABEL_MIN:
            self.labels = np.array([[show(v, decimals) for v in r] for r in self.values])

    def draw(self, cv, shown=None):
        idx = self.scale.index(self.values)
        labels = self.labels
        if shown is not None:
            idx = np.where(shown, idx, BLANK).astype(np.uint8)
            if labels is not None:
                labels = np.where(shown, labels, "")
        pad = None if self.pad is None else (self.pad if shown is None else self.pad & shown)
        cell_grid(cv, *self.node.box[:2], idx, self.cell, self.gap, labels=labels, pad=pad)

    def cell_box(self, r, c, r1=None, c1=None):
        """Pixel box of cells ``r..r1-1, c..c1-1`` (one cell by default)."""
        x, y = self.node.box[:2]
        r1, c1 = (r + 1 if r1 is None else r1), (c + 1 if c1 is None else c1)
        g, p = self.gap, self.cell
        return x + g + c * p, y + g + r * p, x + c1 * p, y + r1 * p

    def ring(self, cv, r, c, r1=None, c1=None, color=ACCENT):
        """Ring a cell, a row or a column inside the grid's bounds (neighbours stay legible)."""
        x0, y0, x1, y1 = self.cell_box(r, c, r1, c1)
        cv.outline(x0 - self.gap, y0 - self.gap, x1 + self.gap, y1 + self.gap, BLACK, 1)
        cv.outline(x0, y0, x1, y1, color, 2 if self.cell >= 10 else 1)

    def origin(self):
        """Top-left pixel of cell (0, 0) (for reading values back)."""
        return self.node.box[0], self.node.box[1]


def _cell(n_cells, room_px, lo=6, hi=28):
    return int(np.clip(room_px // max(n_cells, 1), lo, hi))


def _dec(a):
    """Decimals a matrix is shown at: none on whole numbers, else 2."""
    return 0 if all_integers(np.asarray(a, float)) else 2


def _dot(w, p, bias, value, dw, dp, dy):
    """The working of one output cell, ``= w·p + … (+ b) = y``, with every factor shown at
    its matrix's decimals; "=" only when the shown factors give the shown y at ``dy``
    decimals, else "≈". Returns ``(text, exact)``."""
    ws, ps = [show(a, dw) for a in w], [show(c, dp) for c in p]
    s = sum((number(a) * number(c) for a, c in zip(ws, ps)), Decimal(0))
    b = "" if bias is None else f" + {show(bias, dy)}"
    if bias is not None:
        s += number(show(bias, dy))
    y = show(value, dy)
    exact = s.quantize(Decimal(1).scaleb(-dy)) == number(y)
    rel = "=" if exact else "≈"
    terms = (signed_sum([f"{a}·{c}" for a, c in zip(ws, ps)]) if len(w) <= MAX_TERMS
             else f"the sum of the {len(w)} products of the ringed row and column")
    return f"= {terms}{b} {rel} {y}", exact


def _product_tour(values, exact, count):
    """The product's tour: the largest |y|, the largest y of the other sign, the smallest
    nonzero |y| (an output that needed most of its terms to cancel), then strong ones."""
    v = np.asarray(values, float).ravel()
    live = v != 0
    exact = np.asarray(exact, bool) if np.any(exact & live) else np.ones(v.size, bool)
    if not live.any():
        return []
    top = int(np.argmax(np.where(live, np.abs(v), -1)))
    a = np.abs(v)
    other = np.flatnonzero(live & (np.sign(v) == -np.sign(v[top])))
    cands = [Candidate("largest", "the largest |y|", a, live & exact, near="equal"),
             Candidate("other sign", "the largest y of the other sign", a,
                       live & exact & (np.sign(v) == -np.sign(v[top]))) if other.size else None,
             Candidate("smallest", "the smallest nonzero |y|", -a, live & exact),
             Candidate("another", "another strong output", a, live, fallback=True)]
    return choose([c for c in cands if c is not None], count, n_steps=v.size)


def _stops(tour, values, exact, max_frames, shape):
    """The product's tour: chosen from ``values`` (None), none ("none"), or the cells given
    by hand as (i, j) or (f, i, j) of an output of ``shape`` (F, OH, OW), in row-major order."""
    if tour is None:
        return _product_tour(values, exact, room(3, max_frames // 2))
    if isinstance(tour, str):
        return []
    F, OH, OW = shape
    steps = []
    for cell in tour:
        f, i, j = (0,) + tuple(cell) if len(cell) == 2 else tuple(cell)
        if not (0 <= f < F and 0 <= i < OH and 0 <= j < OW):
            raise ValueError(f"--tour {','.join(map(str, cell))}: outside the output "
                             f"{F}×{OH}×{OW}")
        steps.append((f * OH + i) * OW + j)
    return by_hand(dict.fromkeys(steps))


def render_patches(pp, max_frames=200, subtitle="", title=None, formula=None, tour=None):
    """Render conv2d as the product of its weight rows and its patch matrix.

    Parameters
    ----------
    pp : ops.matrix.PatchProduct
        One sample's weight rows, patch matrix, bias and the op's own output.
    max_frames : int
        Most frames: the unfolding (one per column, evenly thinned), the tour of the
        product, its sweep and the hold.
    tour : None, "none" or list of (f, i, j) / (i, j)
        Output cells worked out slowly; default: a few informative ones.

    Returns
    -------
    Animation : ``phases`` "sweep" (the unfolding), then the product's "tour", "sweep" and
    "hold"; ``texts`` per frame: its ``stage`` ("unfold" with the ``column``, or "product"),
    its caption, and on the product's tour frames the cell, its working and whether it adds up. ``layout`` has
    ``grids`` (name -> (x, y) of cell (0, 0), cell pitch, scale, shape) for reading back and
    ``values`` (name -> the matrix drawn: "W", "P", "Y").
    """
    W, P, out = (np.asarray(a, float) for a in (pp.weight, pp.patches, pp.out))
    F, K = W.shape
    n_pos = P.shape[1]
    OH, OW = pp.out_size
    if n_pos > MAX_COLS or K > MAX_ROWS:
        raise ValueError(f"render_patches: the patch matrix is {K}×{n_pos}, expected at most "
                         f"{MAX_ROWS}×{MAX_COLS} to draw (a smaller input or kernel)")
    b = None if pp.bias is None else np.asarray(pp.bias, float)
    bias_cells = np.zeros(F) if b is None else b
    dw, dx, dy = _dec(W), _dec(P), _dec(np.concatenate([out.ravel(), bias_cells]))
    heads, works, exact = [], [], np.zeros((F, n_pos), bool)
    for f in range(F):
        for j in range(n_pos):
            heads.append(f"y[{f}, {j // OW}, {j % OW}] = W[{f}] · P[:, {j}]" +
                         (f" + b[{f}]" if b is not None else ""))
            text, exact[f, j] = _dot(W[f], P[:, j], None if b is None else b[f], out[f, j],
                                     dw, dx, dy)
            works.append(text)

    # -- the tour of the product
    n_steps = F * n_pos
    stops = _stops(tour, out, exact.ravel(), max_frames, (F, OH, OW))
    n_unfold = min(n_pos, max(1, (max_frames - len(stops) - 2) // 2))
    plan = grammar.Tour(n_steps, stops, max(len(stops) + 2, max_frames - n_unfold),
                        sweep="sweep: the other output cells, fast (the tour shows their working)",
                        hold="", what="output cell")
    unfold = np.unique(np.rint(np.linspace(0, n_pos - 1, n_unfold)).astype(int))

    # -- declare the frame: the biggest cells that keep the frame within MAX_WIDTH
    room_w = 470
    while True:
        cell = min(_cell(K + n_pos, room_w), _cell(K + F, 300))
        x_scale = auto_scale(pp.padded)
        w_scale = weight_scale(W)
        y_scale = auto_scale(np.concatenate([out.ravel(), [0.0]]))
        C, Hp, Wp = pp.padded.shape
        in_cell = min(_cell(max(Hp, Wp), 150), _cell(C * Hp, 300))
        pad_mask = np.zeros((C, Hp, Wp), bool)
        pad_mask[pp.taps[:, 0][:, None], pp.where[..., 0], pp.where[..., 1]] = pp.is_pad
        inputs = [Grid(pp.padded[c], x_scale, in_cell, dx, f"x channel {c}", pad=pad_mask[c])
                  for c in range(C)]
        gW = Grid(W, w_scale, cell, dw, "W")
        gP = Grid(P, x_scale, cell, dx, "P", pad=pp.is_pad)
        gY = Grid(out, y_scale, cell, dy, "Y")
        out_cell = min(_cell(max(OH, OW), 150), _cell(F * OH, 300))
        maps = [Grid(out[f].reshape(OH, OW), y_scale, out_cell, dy, f"y channel {f}")
                for f in range(F)]

        lab = dict(size=11, color=DIM)
        p1 = Col(*[Col(Text(f"channel {c}", **lab), g.node, gap=2) if C > 1 else g.node
                   for c, g in enumerate(inputs)], Space(0, 4), Legend(x_scale, "x", 120,
                                                                          name="legend x"), gap=6)
        wlab = Text(f"W ({F}×{K})", **lab, name="W label")
        plab = Text(f"P ({K}×{n_pos}): one column per window", **lab, name="P label")
        ylab = Text(f"Y = W·P ({F}×{n_pos})", **lab, name="Y label")
        kh, kw = int(pp.taps[:, 1].max()) + 1, int(pp.taps[:, 2].max()) + 1
        tap = (f"row k of P, column k of W: kernel cell (a, b), k = a·{kw} + b" if C == 1 else
               f"row k of P, column k of W: channel c, kernel cell (a, b), "
               f"k = (c·{kh} + a)·{kw} + b")
        p2 = Col(Row(Space(gW.node.size()[0], 0), Col(plab, gP.node, gap=2), gap=cell // 2),
                 Row(Col(wlab, gW.node, gap=2), Col(ylab, gY.node, gap=2), gap=cell // 2),
                 Space(0, 4), Legend(w_scale, "W", 120, name="legend W"),
                 *grammar.notes([tap]), gap=4)
        p3 = Col(*[Col(Text(f"filter {f}", **lab), g.node, gap=2) if F > 1 else g.node
                   for f, g in enumerate(maps)], Space(0, 4),
                 Legend(y_scale, "y", 120, name="legend y"), gap=6)
        captions = ([f"unfold: the window of y[{i // OW}, {i % OW}] becomes column {i} of P"
                     for i in unfold] + [plan.caption(i) for i in range(len(plan))] +
                    [f"Y = W·P: row f of Y, cut into rows of {OW}, is feature map f"])
        cap = Text(None, grammar.CAPTION_SIZE, "bold", ACCENT, name="caption", widest=captions)
        head = Text(None, WORK_SIZE, "mono", name="working head", widest=[max(heads, key=len)])
        work = Text(None, WORK_SIZE, "mono", name="working", widest=[max(works, key=len)])
        note = Text(None, 11, color=DIM, name="note", widest=[APPROX_NOTE]) \
            if not exact.all() else None
        counters = [f"window {n_pos} / {n_pos}"] + plan.counters() + [    # the placed ones too
            plan.placed_counter(i, f"y[{F - 1}, {OH - 1}, {OW - 1}]") for i in range(len(plan))]
        bias = ", bias" if b is not None else ""
        fr = grammar.Frame(title or f"conv2d as one matrix product: Y = W · P{bias and ' + b'}",
                           formula if formula is not None else
                           "P = im2col(x): column j holds the window of output cell j;  "
                           "y[f, j] = W[f] · P[:, j]" + (" + b[f]" if b is not None else ""),
                           [(p1, f"input x ({C}×{Hp}×{Wp}{', padded' if pp.is_pad.any() else ''})"),
                            (p2, "weights × patches"), (p3, f"output y ({F}×{OH}×{OW})")],
                           subtitle, counters, lead=4,
                           caption=Col(cap, head, work, note, gap=2))
        if fr.lay.width <= MAX_WIDTH or room_w <= 150:
            break
        room_w -= 30
    lay, counter = fr.lay, fr.counter
    for g in inputs:
        g.draw(lay.base)
    gW.draw(lay.base)

    frames, phases, steps, texts = [], [], [], []
    cols_shown = np.zeros(P.shape, bool)

    def window(cv, j):
        for c, g in enumerate(inputs):
            rows = pp.taps[:, 0] == c
            r, q = pp.where[rows, j, 0], pp.where[rows, j, 1]
            g.ring(cv, r.min(), q.min(), r.max() + 1, q.max() + 1)

    # 1. unfold: the windows become columns
    for n, j in enumerate(unfold):
        cv = lay.new_frame()
        cols_shown[:, :j + 1] = True
        gP.draw(cv, cols_shown)
        gY.draw(cv, np.zeros(out.shape, bool))
        for g in maps:
            g.draw(cv, np.zeros(g.values.shape, bool))
        window(cv, j)
        gP.ring(cv, 0, j, K, j + 1)
        lay.write(cv, cap, captions[n])
        lay.write(cv, counter, f"window {j + 1} / {n_pos}")
        frames.append(cv.px)
        phases.append("sweep")          # paced like a sweep: about 6 s in all
        steps.append(int(j))
        texts.append({"caption": captions[n], "stage": "unfold", "column": int(j)})

    # 2. the product: tour, sweep, hold
    for i in range(len(plan)):
        k = int(plan.steps[i])
        f, j = divmod(k, n_pos)
        hold = plan.phases[i] == "hold"
        done = np.ones(n_steps, bool) if hold else plan.done(i)
        cv = lay.new_frame()
        gP.draw(cv)
        gY.draw(cv, done.reshape(F, n_pos))
        for g, dm in zip(maps, done.reshape(F, OH, OW)):
            g.draw(cv, dm)
        text = captions[len(unfold) + len(plan)] if hold else plan.caption(i)
        t = {"caption": text, "stage": "product"}
        if not hold:
            window(cv, j)
            gW.ring(cv, f, 0, f + 1, K)
            gP.ring(cv, 0, j, K, j + 1)
            gY.ring(cv, f, j)
            maps[f].ring(cv, j // OW, j % OW)
            if plan.phases[i] == "tour":
                lay.write(cv, head, heads[k])
                lay.write(cv, work, works[k])
                t.update(cell=(f, j // OW, j % OW), head=heads[k], working=works[k],
                         exact=bool(exact[f, j]), decimals=(dw, dx, dy))
                if note is not None and not exact[f, j]:
                    lay.write(cv, note, APPROX_NOTE)
        lay.write(cv, cap, text)
        lay.write(cv, counter, plan.placed_counter(i, f"y[{f}, {j // OW}, {j % OW}]")
                  if plan.phases[i] != "sweep" else plan.counter(i))
        frames.append(cv.px)
        phases.append(plan.phases[i])
        steps.append(k)
        texts.append(t)

    grids = {name: (g.origin(), g.cell, g.scale, g.values.shape)
             for name, g in [("W", gW), ("P", gP), ("Y", gY)] +
             [(f"y{f}", g) for f, g in enumerate(maps)] +
             [(f"x{c}", g) for c, g in enumerate(inputs)]}
    values = {"W": W, "P": P, "Y": out}
    return Animation(frames, np.array(steps), {"grids": grids, "values": values,
                                                "decimals": (dw, dx, dy),
                                                **grammar.record(lay, fr.panels)},
                     frame_ms=None, hold_ms=4000, phases=phases, texts=texts)   # the reading rule


def render_transposed(C, x, out, bias, geom, max_frames=200, subtitle="", title=None,
                      formula=None, tour=None):
    """Render conv_transpose2d as the transpose of a convolution's matrix.

    Parameters
    ----------
    C : ndarray (C_in·H·W, C_out·OH·OW)
        The matrix of the convolution that conv_transpose2d transposes
        (``ops.matrix.transpose_matrix``): it maps the transposed op's output space onto
        its input's.
    x : ndarray (C_in, H, W)
        conv_transpose2d's input (one sample); ``out`` (C_out, OH, OW) its own output,
        ``bias`` (C_out,) or None, ``geom`` the convolution's geometry (for the titles).
    tour : None, "none" or list of (r, c) / (f, r, c)
        Output cells worked out slowly.

    Returns
    -------
    Animation : ``phases`` "sweep" (the rows of C), then the product's "tour", "sweep",
    "hold"; ``texts`` per frame (``stage`` "C" with its ``row``, or "product" with the
    working of toured cells); ``layout["grids"]`` as :func:`render_patches`.
    """
    C = np.asarray(C, float)
    x, out = np.asarray(x, float), np.asarray(out, float)
    n_in, n_out = C.shape
    ci, H, W_ = x.shape
    co, OH, OW = out.shape
    if n_out > MAX_COLS or n_in > MAX_ROWS:
        raise ValueError(f"render_transposed: C is {n_in}×{n_out}, expected at most "
                         f"{MAX_ROWS}×{MAX_COLS} to draw (a smaller input or kernel)")
    CT, xv, yv = C.T, x.ravel(), out.ravel()
    b = None if bias is None else np.asarray(bias, float)
    bcell = np.zeros(n_out) if b is None else np.repeat(b, OH * OW)
    dc, dx, dy = _dec(C), _dec(xv), _dec(np.concatenate([yv, bcell]))
    heads, works, exact = [], [], np.zeros(n_out, bool)
    for r in range(n_out):
        f, ij = divmod(r, OH * OW)
        heads.append(f"y[{f}, {ij // OW}, {ij % OW}] = Cᵀ[{r}] · x" +
                     (f" + b[{f}]" if b is not None else ""))
        text, exact[r] = _dot(CT[r], xv, None if b is None else b[f], yv[r], dc, dx, dy)
        works.append(text)
    stops = _stops(tour, yv, exact, max_frames, (co, OH, OW))
    n_rows = min(n_in, max(1, (max_frames - len(stops) - 2) // 2))
    rows_shown = np.unique(np.rint(np.linspace(0, n_in - 1, n_rows)).astype(int))
    plan = grammar.Tour(n_out, stops, max(len(stops) + 2, max_frames - len(rows_shown)),
                        sweep="sweep: the other output cells, fast (the tour shows their working)",
                        hold="", what="output cell")

    room_w = 340
    while True:
        cell = min(_cell(n_out, room_w), _cell(n_in, 150, hi=24))
        c_scale = weight_scale(C)
        v_scale = auto_scale(np.concatenate([xv, yv, [0.0]]))
        gC = Grid(C, c_scale, cell, dc, "C")
        gCT = Grid(CT, c_scale, cell, dc, "C^T")
        gx = Grid(xv[:, None], v_scale, cell, dx, "vec x")
        gy = Grid(yv[:, None], v_scale, cell, dy, "vec y")
        map_cell = _cell(max(OH, OW, H, W_), 110, hi=28)
        row_map = Grid(np.zeros((co * OH, OW)), c_scale, map_cell, dc, "row of C")
        xmaps = [Grid(x[c], v_scale, map_cell, dx, f"x channel {c}") for c in range(ci)]
        ymaps = [Grid(out[f], v_scale, map_cell, dy, f"y channel {f}") for f in range(co)]

        lab = dict(size=11, color=DIM)
        conv = f"{co}×{OH}×{OW} → {ci}×{H}×{W_}"
        row_lab = Text(None, name="row label", widest=[f"row {n_in - 1} of C, as a {OH}×{OW} map"],
                       **lab)
        p1 = Col(Text(f"C ({n_in}×{n_out}): the convolution {conv}", **lab), gC.node,
                 Space(0, 6), row_lab, row_map.node, Space(0, 4),
                 Legend(c_scale, "C (the kernel's weights)", 140, name="legend C"), gap=4)
        p2 = Row(Col(Text(f"Cᵀ ({n_out}×{n_in})", **lab), gCT.node, gap=2),
                 Col(Space(0, 16), Text("·", 16), gap=0),
                 Col(Text("x", **lab), gx.node, gap=2), Col(Space(0, 16), Text("=", 16), gap=0),
                 Col(Text("y", **lab), gy.node, gap=2), gap=6)
        p3 = Col(Text(f"x ({ci}×{H}×{W_})", **lab), *[g.node for g in xmaps], Space(0, 6),
                 Text(f"y ({co}×{OH}×{OW})", **lab), *[g.node for g in ymaps], Space(0, 4),
                 Legend(v_scale, "x, y", 110, name="legend v"), gap=4)
        captions = ([f"C, row {r}: the kernel where the window of the convolution's output cell "
                     f"{r % (H * W_) // W_},{r % W_} reads" for r in rows_shown] +
                    [plan.caption(i) for i in range(len(plan))] +
                    ["conv_transpose2d(x) = Cᵀ · vec(x), cut into rows: the op's own output"])
        cap = Text(None, grammar.CAPTION_SIZE, "bold", ACCENT, name="caption", widest=captions)
        head = Text(None, WORK_SIZE, "mono", name="working head", widest=[max(heads, key=len)])
        work = Text(None, WORK_SIZE, "mono", name="working", widest=[max(works, key=len)])
        note = Text(None, 11, color=DIM, name="note", widest=[APPROX_NOTE]) \
            if not exact.all() else None
        s, p = geom.stride, geom.padding
        fr = grammar.Frame(
            title or f"conv_transpose2d as a matrix: y = Cᵀ · x  (stride {s[0]}, padding {p[0]})",
            formula if formula is not None else
            f"a convolution {conv} is vec(out) = C · vec(in); conv_transpose2d maps back: "
            "vec(y) = Cᵀ · vec(x)",
            [(p1, "the convolution's matrix C"), (p2, "conv_transpose2d = Cᵀ"),
             (p3, "as maps")], subtitle,
            [f"row {n_in} / {n_in}"] + plan.counters() +
            [plan.placed_counter(i, f"y[{co - 1}, {OH - 1}, {OW - 1}]") for i in range(len(plan))],
            lead=4,
            caption=Col(cap, head, work, note, gap=2))
        if fr.lay.width <= MAX_WIDTH or room_w <= 150:
            break
        room_w -= 30
    lay, counter = fr.lay, fr.counter
    gC.draw(lay.base)
    gx.draw(lay.base)
    for g in xmaps:
        g.draw(lay.base)

    frames, phases, steps, texts = [], [], [], []
    for n, r in enumerate(rows_shown):
        cv = lay.new_frame()
        gC.ring(cv, r, 0, r + 1, n_out)
        row_map.values = C[r].reshape(co * OH, OW)
        row_map.labels = None if row_map.labels is None else \
            np.array([[show(v, dc) for v in rr] for rr in row_map.values])
        row_map.draw(cv)
        gCT.draw(cv, np.zeros(CT.shape, bool))
        gy.draw(cv, np.zeros((n_out, 1), bool))
        for g in ymaps:
            g.draw(cv, np.zeros(g.values.shape, bool))
        c0 = r // (H * W_)
        xmaps[c0].ring(cv, r % (H * W_) // W_, r % W_)
        gx.ring(cv, r, 0)
        lay.write(cv, row_lab, f"row {r} of C, as a {OH}×{OW} map")
        lay.write(cv, cap, captions[n])
        lay.write(cv, counter, f"row {r + 1} / {n_in}")
        frames.append(cv.px)
        phases.append("sweep")
        steps.append(int(r))
        texts.append({"caption": captions[n], "stage": "C", "row": int(r)})

    for i in range(len(plan)):
        k = int(plan.steps[i])
        hold = plan.phases[i] == "hold"
        done = np.ones(n_out, bool) if hold else plan.done(i)
        cv = lay.new_frame()
        gCT.draw(cv)
        gy.draw(cv, done[:, None])
        for g, dm in zip(ymaps, done.reshape(co, OH, OW)):
            g.draw(cv, dm)
        text = captions[-1] if hold else plan.caption(i)
        t = {"caption": text, "stage": "product"}
        f, ij = divmod(k, OH * OW)
        if not hold:
            gCT.ring(cv, k, 0, k + 1, n_in)
            gx.ring(cv, 0, 0, n_in, 1)
            gy.ring(cv, k, 0)
            ymaps[f].ring(cv, ij // OW, ij % OW)
            gC.ring(cv, 0, k, n_in, k + 1)      # row k of Cᵀ is column k of C
            if plan.phases[i] == "tour":
                lay.write(cv, head, heads[k])
                lay.write(cv, work, works[k])
                t.update(cell=(f, ij // OW, ij % OW), head=heads[k], working=works[k],
                         exact=bool(exact[k]), decimals=(dc, dx, dy))
                if note is not None and not exact[k]:
                    lay.write(cv, note, APPROX_NOTE)
        lay.write(cv, cap, text)
        lay.write(cv, counter, plan.counter(i) if plan.phases[i] == "sweep" else
                  plan.placed_counter(i, f"y[{f}, {ij // OW}, {ij % OW}]"))
        frames.append(cv.px)
        phases.append(plan.phases[i])
        steps.append(k)
        texts.append(t)

    grids = {name: (g.origin(), g.cell, g.scale, g.values.shape)
             for name, g in [("C", gC), ("CT", gCT), ("x", gx), ("y", gy)] +
             [(f"y{f}", g) for f, g in enumerate(ymaps)]}
    values = {"C": C, "CT": CT, "x": xv[:, None], "y": yv[:, None]}
    return Animation(frames, np.array(steps), {"grids": grids, "values": values,
                                                "decimals": (dc, dx, dy),
                                                **grammar.record(lay, fr.panels)},
                     frame_ms=None, hold_ms=4000, phases=phases, texts=texts)   # the reading rule
