"""One picture of a network's forward pass on one digit: the digit, every layer's feature
maps as grids, the hidden vectors as strips and the class probabilities as bars.

::

    title: net on DIGIT: predicted 7 (99.9%), true 7
    [digit] → [C1 6 maps] → [S2 6 maps] → [C3 16 maps | table] → [S4 16 maps]
    [C5 120 ▮▮▮▮▮▮▮▮▮▮▮▮▮▮▮▮]   [F6 | bitmap]   [probabilities 0..9, or distances y 0..9]
    [F6 84  ▮▮▮▮▮▮▮▮▮▮▮]
    footer

Every map and strip has its colour legend. For a stage with a connection table (the 1998
net's C3, Table I) the table sits beside its maps: row f is the stage's map f, a filled
cell a map of the stage before that it reads. For an RBF output (the 1998 net) the
probability bars give way to the ten distances y_i, the smallest (the answer) marked, and
the winner's 7×12 bitmap is drawn beside the vector it was measured from (F6's 84 outputs
reshaped the same way), so one sees F6 reproduce the bitmap.

The figure is declared on :mod:`viz.layout`. The numbers are the layers' own outputs
(computed by the caller with the model's layers, e.g. :func:`training.features.readout`);
this module only draws them.
"""
import numpy as np

from .draw import cell_grid, fmt, upscale
from .layout import PAD, Box, Col, Layout, Panel, Row, Space, Text, measure
from .legend import Legend
from .palette import (ACCENT, BLANK, DIM, GOOD, GRID, TEXT, BAD, auto_scale, diverging_scale,
                      gray_scale)

GAP = 26           # between panels (an arrow sits in it)
LABEL_SIZE = 12    # panel labels
MAP_GAP = 4
MAP_TARGET = 200   # about this many pixels for a grid of maps, per side
NUM_SIZE = 10      # the number above each map
CELL_W = 6         # pixels per element of a vector strip
STRIP_H = 26
BARS_W, BARS_H = 300, 130     # the probability plot
ROW_H = 20         # per class in the distance bars
DIST_W = 170       # bar length of the largest distance
TABLE_CELL = 13    # connection-table cell pitch
BITMAP_S = 12      # pixels per bitmap cell
FOOT_H = 26
KEY_H = 22         # the line naming the classes, when they have names
COL_GAP = 6        # between the figure's lines
SWATCH = 11


def _percent(p):
    """A probability as a percentage that never rounds a near-certainty up to 100%."""
    v = 100 * float(p)
    if v >= 100:
        return "100%"
    return f"{v:.1f}%" if v < 99.95 else ">99.9%"


def _grid_shape(n):
    """Columns and rows of a grid of ``n`` maps (2 columns for 6, 4 for 16)."""
    cols = int(np.ceil(np.sqrt(n))) if n > 8 else min(n, 2)
    return cols, -(-n // cols)


def _short(label):
    """A stage's short name: "C3" of "C3 conv + squash"."""
    return label.split()[0]


class _Key(Row):
    """A colour key of swatches: ``[(palette index, text), ...]`` side by side."""

    def __init__(self, items, name="key"):
        self.swatches = [(Box(SWATCH, SWATCH, f"{name} swatch {t}"), c) for c, t in items]
        super().__init__(*[Row(box, Text(t, 11, color=DIM, name=f"{name} {t}"), gap=5,
                               align="m") for (box, _), (_, t) in zip(self.swatches, items)],
                         gap=14, align="m", name=name)

    def paint(self, canvas):
        for box, color in self.swatches:
            canvas.rect(*box.box, GRID)
            canvas.rect(box.box[0] + 1, box.box[1] + 1, box.box[2] - 1, box.box[3] - 1, color)


class _Maps:
    """A grid of (C, H, W) maps, each upscaled by an integer factor and numbered."""

    def __init__(self, label, shape):
        C, H, W = shape
        self.label, self.C, self.H, self.W = label, C, H, W
        self.cols, self.rows = _grid_shape(C)
        self.s = max(1, MAP_TARGET // (max(self.cols * W, self.rows * H)))
        self.boxes = [Box(W * self.s, H * self.s, f"{label} map {c}") for c in range(C)]
        cells = [Col(Text(str(c), NUM_SIZE, color=DIM, width=W * self.s, align="c",
                          name=f"{label} number {c}"), b, gap=1)
                 for c, b in enumerate(self.boxes)]
        self.node = Col(*[Row(*cells[r * self.cols:(r + 1) * self.cols], gap=MAP_GAP)
                          for r in range(self.rows)], gap=MAP_GAP)

    def origins(self):
        return [b.box[:2] for b in self.boxes]

    def draw(self, cv, maps, scale):
        for c, b in enumerate(self.boxes):
            cv.blit(*b.box[:2], upscale(scale.index(maps[c]), self.s))


class _Table:
    """A connection table: row f for map f of a stage, column c for map c of the stage
    before, filled where f reads c."""

    def __init__(self, mask, rows_name, cols_name):
        self.mask = np.asarray(mask, dtype=bool)
        F, C = self.mask.shape
        num_h = measure("0", NUM_SIZE)[1]
        self.cell = max(TABLE_CELL, num_h)
        self.grid = Box(C * self.cell + 1, F * self.cell + 1, "connection table")
        head = Row(*[Text(str(c), NUM_SIZE, color=DIM, width=self.cell, align="c",
                          name=f"table column {c}") for c in range(C)], gap=0)
        lw = measure(str(F - 1), NUM_SIZE)[0]
        labels = Col(*[Text(str(f), NUM_SIZE, color=DIM, width=lw, height=self.cell, align="r",
                            name=f"table row {f}") for f in range(F)], gap=0)
        side = Text(f"{rows_name} map", NUM_SIZE, color=DIM, name="table rows")
        top = Text(f"reads {cols_name} map", NUM_SIZE, color=DIM, name="table columns")
        body = Row(Col(Space(0, head.size()[1] + 1), labels, gap=0),
                   Col(head, self.grid, gap=1), gap=3)
        self.node = Col(Text(f"{rows_name} reads (Table I)", 11, "bold", color=TEXT,
                             name="table caption"),
                        Row(side, Col(top, body, gap=2, align="r"), gap=4, align="m"),
                        _Key([(ACCENT, "reads"), (BLANK, "does not")], name="table key"),
                        gap=4, align="c")

    def draw(self, cv):
        x, y = self.grid.box[:2]
        cell_grid(cv, x, y, np.where(self.mask, ACCENT, BLANK).astype(np.uint8), self.cell)

    def cells(self):
        """``{(f, c): (x, y)}`` centre pixel of each cell."""
        x, y = self.grid.box[:2]
        h = (self.cell + 1) // 2
        F, C = self.mask.shape
        return {(f, c): (x + c * self.cell + h, y + f * self.cell + h)
                for f in range(F) for c in range(C)}


def default_scales(maps, vectors, rbf=None):
    """One colour scale per map stage and per vector (gray from 0 for non-negative values,
    diverging otherwise), from the values given: arrays (..., C, H, W) / (..., n), so
    several digits can share scales.

    With ``rbf`` (the dict :func:`render_feature_maps` takes, arrays with or without the
    leading digit axis) a third item: the diverging scale of the vector and the bitmaps
    (±1 at least), and the distance axis's end (the largest penalty).
    """
    out = ([auto_scale(m) for _, m in maps], [auto_scale(v) for _, v in vectors])
    if rbf is None:
        return out
    vabs = max(1.0, float(np.abs(rbf["input"]).max()), float(np.abs(rbf["bitmaps"]).max()))
    return out + ((diverging_scale(vabs), float(np.max(rbf["penalties"])) or 1.0),)


def render_feature_maps(image, maps, vectors, probs, label=None, title="", footer="",
                        scales=None, classes=None, connections=None, rbf=None):
    """Draw one forward pass.

    Parameters
    ----------
    image : ndarray (H, W)
        The digit in [0, 1], as shown (not normalised).
    maps : list of (str, ndarray (C, H, W))
        Labelled feature-map stages, in order (e.g. "C1 conv + relu", 6×28×28).
    vectors : list of (str, ndarray (n,))
        Labelled hidden vectors (e.g. "F5 linear + relu", 120).
    probs : ndarray (K,)
        Class probabilities (softmax of the logits).
    label : int, optional
        The true class (None: unknown).
    title, footer : str
        Text above and below; the title gets the verdict appended.
    scales : tuple, optional
        ``(map scales, vector scales)`` (a ColorScale per stage), plus with ``rbf`` a third
        item ``(ColorScale, distance axis end)``; default :func:`default_scales` of this
        digit. Pass shared ones to keep colours comparable across digits.
    classes : sequence of str, optional
        Name of each class (e.g. Fashion-MNIST's "T-shirt/top", ...): the verdict names the
        predicted and true classes, and a key under the bars says which number is which.
    connections : dict, optional
        Map-stage label -> (F, C) bool: map f of that stage reads map c of the stage
        before (the 1998 net's C3, Table I); drawn as a table beside the stage's maps.
    rbf : dict, optional
        An RBF output layer's readout: ``penalties`` (K,) the distances y_i, ``bitmaps``
        (K, h, w) its centres, ``input`` (h·w,) the vector they are measured from and
        ``input_label``. The distances replace the probability bars (the answer is the
        smallest), and the winner's bitmap is drawn beside the input reshaped to (h, w).

    Returns
    -------
    frame : ndarray (H, W) uint8
        Palette indices.
    layout : dict
        ``maps`` (per stage: list of map top-left pixels), ``map_scale`` (pixels per
        value), ``vectors`` (strip top-left), ``bars`` (x, y, width, height of each
        probability bar; empty with ``rbf``), ``scales``, ``size``, ``placed`` (the
        layout's leaves). With ``connections``: ``tables`` (stage label -> {(f, c): centre
        pixel of the cell}). With ``rbf``: ``distances`` ((x0, y0, x1, y1) of each bar),
        ``winner`` (the smallest y), ``bitmap`` and ``rbf_input`` (the two images' boxes),
        ``bitmap_scale`` (pixels per bitmap cell).
    """
    probs = np.asarray(probs, dtype=float)
    connections = connections or {}
    img = np.asarray(image, dtype=float)
    scales = scales or default_scales(maps, vectors, rbf)
    map_scales, vec_scales = scales[0], scales[1]
    if rbf is not None:
        penalties = np.asarray(rbf["penalties"], dtype=float)
        bitmaps = np.asarray(rbf["bitmaps"], dtype=float)
        rbf_in = np.asarray(rbf["input"], dtype=float)
        bmp_scale, dmax = scales[2] if len(scales) > 2 else \
            default_scales([], [], rbf)[2]
        pred = int(np.argmin(penalties))
    else:
        pred = int(np.argmax(probs))
    K = len(probs)
    named = (lambda k: f"{k} {classes[k]}") if classes is not None else str

    # -- title and verdict
    if rbf is not None:
        verdict = f"predicted {named(pred)} (nearest bitmap, y = {fmt(penalties[pred])})"
    else:
        verdict = f"predicted {named(pred)} ({_percent(probs[pred])})"
    if label is not None:
        verdict += f", true {named(label)}"
    vcolor = DIM if label is None else (GOOD if pred == label else BAD)
    head = Row(Text(title, 16, "bold", name="title") if title else None,
               Text(verdict, 16, "bold", color=vcolor, name="verdict"), gap=10)

    # -- row 1: digit → stage → stage ...; grids centred on one height, legends below
    in_s = max(1, 140 // max(img.shape))
    digit = Box(img.shape[1] * in_s, img.shape[0] * in_s, "digit")
    grids = [_Maps(lb, m.shape) for lb, m in maps]
    tables = {}
    for i, (lb, _) in enumerate(maps):
        if lb in connections:
            prev = _short(maps[i - 1][0]) if i > 0 else "input"
            tables[lb] = _Table(connections[lb], _short(lb), prev)
    bodies = [digit] + [g.node for g in grids]
    tallest = max([b.size()[1] for b in bodies] + [t.node.size()[1] for t in tables.values()])

    def column(node, legend):
        free = tallest - node.size()[1]
        return Col(Space(0, free // 2), node, Space(0, free - free // 2 + 6), legend, gap=0,
                   align="c")

    first = f"{'digit' if classes is None else 'image'} {img.shape[0]}×{img.shape[1]}"
    contents = [column(digit, Legend(gray_scale(0.0, 1.0), None, width=100,
                                     name="digit legend"))]
    for (lb, m), g, sc in zip(maps, grids, map_scales):
        w = g.node.size()[0]
        node = column(g.node, Legend(sc, None, width=max(100, min(150, w)),
                                     name=f"{lb} legend"))
        if lb in tables:
            node = Row(node, tables[lb].node, gap=18, align="t")
        contents.append(node)
    labels = [first] + [f"{lb}  {g.C}×{g.H}×{g.W}" for (lb, _), g in zip(maps, grids)]
    h1 = max(c.size()[1] for c in contents) + 2 * PAD
    row1 = []
    for i, (c, lb) in enumerate(zip(contents, labels)):
        if i:
            row1.append(Text("\u2192", 18, color=DIM, name=f"arrow {i}"))
        row1.append(Panel(c, lb, min_h=h1, name=lb, label_size=LABEL_SIZE))
    row1 = Row(*row1, gap=(GAP - measure("\u2192", 18)[0]) // 2, align="m")

    # -- row 2: hidden vectors as strips, each with its legend
    strips = []
    if vectors:
        lines = []
        for (lb, v), sc in zip(vectors, vec_scales):
            box = Box(len(v) * CELL_W, STRIP_H, f"{lb} strip")
            strips.append(box)
            lines.append(Col(Text(f"{lb}  ({len(v)})", 11, color=DIM, name=f"{lb} strip label"),
                             Row(box, Legend(sc, None, width=100, name=f"{lb} legend"),
                                 gap=14, align="m"), gap=3))
        row2 = [Col(*lines, gap=10)]
        row2_labels = ["hidden layers"]
    else:
        row2, row2_labels = [], []

    if rbf is not None:
        # the winner's bitmap beside the vector it is compared with, on one scale
        h, w = bitmaps.shape[1:]
        s = BITMAP_S
        f6_box, bmp_box = Box(w * s, h * s, "rbf input"), Box(w * s, h * s, "bitmap")
        in_name = _short(rbf.get("input_label", "input"))
        pair = Row(Col(Text(f"{in_name} ({rbf_in.size} as {h}×{w})", 11, color=DIM,
                            name="rbf input label"), f6_box, gap=3, align="c"),
                   Text("\u2248", 18, color=DIM, name="approx"),
                   Col(Text(f"bitmap of {pred}", 11, color=DIM, name="bitmap label", align="c",
                            widest=[f"bitmap of {k}" for k in range(K)]), bmp_box,
                       gap=3, align="c"), gap=8, align="m")
        # texts that change from digit to digit reserve room for the widest (GIF frames
        # share one size)
        widest = [fmt(v) for v in (dmax, 88.88, 888.8)]
        sums = [f"y{_sub(k)} = \u03a3 ({in_name} \u2212 bitmap)\u00b2 = " for k in (pred, 8)]
        sum_line = Text(sums[0] + fmt(penalties[pred]), 12, "mono", color=ACCENT, align="c",
                        name="winner sum", widest=[sums[1] + v for v in widest])
        row2.append(Col(pair, sum_line, Legend(bmp_scale, f"{in_name} outputs and ±1 bitmap",
                                               width=150, name="bitmap legend"),
                        gap=8, align="c"))
        row2_labels.append(f"{in_name} reproduces the winner's bitmap")
        # the distances, one bar per class
        texts = [fmt(v) for v in penalties]
        tag = "  \u25c0 nearest"
        dlabels = Col(*[Text(str(k), 12, "bold" if k == label else "sans",
                             color=GOOD if k == label else TEXT, width=12, height=ROW_H,
                             align="r", name=f"class {k}") for k in range(K)], gap=0)
        num_w = max(measure(t + tag, 11, "bold")[0] for t in texts + widest)
        dbox = Box(DIST_W + 6 + num_w, K * ROW_H, "distance bars")
        post_s = "softmax(\u2212y), the posterior the MAP criterion trains: {} on {}"
        post = Text(post_s.format(_percent(probs[pred]), pred), 11, color=DIM, name="posterior",
                    widest=[post_s.format(p, 8) for p in ("88.8%", ">99.9%")])
        key = [(ACCENT, "smallest y: the answer")] + \
            ([(GOOD, "green digit: the true class")] if label is not None else [])
        row2.append(Col(Row(dlabels, dbox, gap=6), _Key(key, name="distance key"), post,
                        gap=6))
        row2_labels.append("RBF distances  y\u1d62 = \u03a3\u2c7c (x\u2c7c \u2212 "
                           f"w\u1d62\u2c7c)\u00b2  (x = {in_name})")
    else:
        pbox = Box(BARS_W, BARS_H + 18, "probability bars")
        row2.append(pbox)
        row2_labels.append("softmax probabilities")
    h2 = max(c.size()[1] for c in row2) + 2 * PAD
    if vectors:     # the strips sit in the middle of their panel, not above an empty band
        free = h2 - 2 * PAD - row2[0].size()[1]
        row2[0] = Col(Space(0, free // 2), row2[0], gap=0)
    row2 = Row(*[Panel(c, lb, min_h=h2, name=lb, label_size=LABEL_SIZE)
                 for c, lb in zip(row2, row2_labels)], gap=GAP)

    key_line = None
    if classes is not None:     # the bars keep their numbers: the names do not fit under them
        key_line = Text("classes:  " + "  ·  ".join(f"{k} {c}" for k, c in enumerate(classes)),
                        12, color=TEXT, height=KEY_H - COL_GAP, name="classes")
    foot = Text(footer, 12, color=DIM, height=FOOT_H - COL_GAP, name="footer") if footer else None
    lay = Layout(Col(head, Space(0, 6), Col(row1, Space(0, 4), row2, gap=GAP - 4, align="c"),
                     key_line, foot, gap=COL_GAP))
    cv = lay.new_frame()

    # -- the content
    cv.blit(*digit.box[:2], upscale(gray_scale(0.0, 1.0).index(img), in_s))
    layout = {"maps": [], "map_scale": [], "scales": scales, "vectors": [], "bars": []}
    for (lb, m), g, sc in zip(maps, grids, map_scales):
        g.draw(cv, m, sc)
        layout["maps"].append(g.origins())
        layout["map_scale"].append(g.s)
    for t in tables.values():
        t.draw(cv)
    layout["tables"] = {lb: t.cells() for lb, t in tables.items()}
    for box, (_, v), sc in zip(strips, vectors, vec_scales):
        x, y, x1, y1 = box.box
        cv.rect(x - 1, y - 1, x1 + 1, y1 + 1, GRID)
        cv.blit(x, y, np.repeat(np.repeat(sc.index(np.asarray(v, float))[None], STRIP_H, 0),
                                CELL_W, 1))
        layout["vectors"].append((x, y))
    if rbf is not None:
        for box, a in ((f6_box, rbf_in.reshape(h, w)), (bmp_box, bitmaps[pred])):
            cv.rect(box.box[0] - 1, box.box[1] - 1, box.box[2] + 1, box.box[3] + 1, GRID)
            cv.blit(*box.box[:2], upscale(bmp_scale.index(a), s))
        x, y = dbox.box[:2]
        cv.rect(x, y, x + 1, y + K * ROW_H, GRID)
        bars = []
        for k in range(K):
            L = max(1, int(round(min(penalties[k] / dmax, 1.0) * DIST_W)))
            yy = y + k * ROW_H
            bars.append((x + 1, yy + 4, x + 1 + L, yy + ROW_H - 4))
            cv.rect(*bars[-1], ACCENT if k == pred else DIM)
            cv.text(x + L + 6, yy + ROW_H // 2, texts[k] + (tag if k == pred else ""), size=11,
                    color=ACCENT if k == pred else TEXT, face="bold" if k == pred else "sans",
                    anchor="lm")
        layout.update(distances=bars, winner=pred, bitmap=bmp_box.box, rbf_input=f6_box.box,
                      bitmap_scale=s)
    else:
        _prob_bars(cv, pbox.box, probs, pred, label, layout)
    layout["placed"] = lay.placed
    layout["size"] = (lay.width, lay.height)
    return cv.px, layout


def _sub(k):
    """``k`` in subscript digits (y₇)."""
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _prob_bars(cv, box, probs, pred, label, layout):
    """The probabilities as vertical bars in ``box``, with a 0 / 0.5 / 1 axis."""
    x0, y0, x1, y1 = box
    K = len(probs)
    ax0, ay1 = x0 + 30, y1 - 18                # plot origin (bottom left)
    ah = ay1 - y0 - 16
    pitch = (x1 - ax0) // K
    for t in (0.0, 0.5, 1.0):
        ty = ay1 - int(round(t * ah))
        cv.rect(ax0, ty, ax0 + K * pitch, ty + 1, GRID)
        cv.text(ax0 - 4, ty, fmt(t), size=10, color=DIM, anchor="rm")
    bars = []
    for k in range(K):
        bh = int(round(probs[k] * ah))
        bx = ax0 + k * pitch + 3
        bars.append((bx, ay1 - bh, pitch - 6, bh))
        cv.rect(bx, ay1 - bh, bx + pitch - 6, ay1, ACCENT if k == pred else DIM)
        is_true = label is not None and k == label
        cv.text(bx + (pitch - 6) / 2, ay1 + 3, str(k), size=12, color=GOOD if is_true else TEXT,
                face="bold" if is_true else "sans", anchor="mt")
    cv.text(bars[pred][0] + (pitch - 6) / 2, bars[pred][1] - 3, _percent(probs[pred]),
            size=11, color=ACCENT, anchor="md")
    layout["bars"] = bars
