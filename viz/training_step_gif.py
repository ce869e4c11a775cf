"""The ``training-step`` GIF: one SGD step of a tiny net on one digit, from its record.

Top row: the forward pass, layer by layer (x → conv → relu → maxpool → linear + softmax and
the loss). Bottom row: the gradients flowing back, layer by layer, each read from the
layer's backward trace (``training.step_record``). A last frame shows the update
w ← w − lr·∂L/∂w: the weights before and after, and the loss before and after.

viz only draws the arrays of the record; it computes no op.
"""
import numpy as np

from .arith import show_grid
from .dense import row_labels
from .draw import DIGIT_MIN, RING_MARGIN, cell_grid
from .frames import Animation
from .layout import Box, Col, Layout, Panel, Row, Space, Text, gap_for
from .legend import Legend
from .grammar import unit_of, unit_text
from .palette import ACCENT, BG, DIM, GOOD, auto_scale, grad_scale, weight_scale

LEGEND_W = 96
FC_CELL = (4, 2)         # the 10×98 linear weight: 4 px rows, 2 px columns
NUM = DIGIT_MIN
W_CELL = 42             # a conv weight cell that carries a number ("−0.61" at NUM)
MAX_SIZE = (1280, 720)  # a slide


def _cell(s):
    """(height, width) of a cell pitch given as an int or a pair."""
    return (s, s) if np.isscalar(s) else tuple(s)


def _maps(arrs, s, name, across=False):
    ch, cw = _cell(s)
    g = gap_for(min(ch, cw))
    boxes = [Box(a.shape[1] * cw + g, a.shape[0] * ch + g, f"{name} {i}")
             for i, a in enumerate(arrs)]
    return boxes, (Row(*boxes, gap=4) if across else Col(*boxes, gap=4, align="c"))


class _Grid:
    """A declared map (or several channels) with its own colour scale and legend."""

    def __init__(self, arrs, scale, s, name, caption, numbers=False, d=2, unit=1.0,
                 across=False, index=None, legend=True):
        self.arrs, self.unit = [np.asarray(a, float) / unit for a in arrs], unit
        self.scale, self.s, self.numbers, self.d = scale, s, numbers, d
        self.boxes, maps = _maps(self.arrs, s, name, across)
        if index is not None:           # class indices 0–9 beside a column, the label marked
            k, label = index
            maps = Row(row_labels([f"label {i}" if i == label else str(i) for i in range(k)],
                                  _cell(s)[0], size=NUM, name=f"{name} class",
                                  colors=[GOOD if i == label else DIM for i in range(k)]),
                       maps, gap=4)
        self.label = None if index is None else index[1]
        self.node = Col(maps, Legend(scale, caption, width=LEGEND_W, name=f"{name} legend")
                        if legend else None, gap=5, align="c")

    def draw(self, cv):
        for a, b in zip(self.arrs, self.boxes):
            labels = show_grid(a, self.d) if self.numbers else None
            cell_grid(cv, b.box[0], b.box[1], self.scale.index(a), self.s,
                      gap_for(min(_cell(self.s))),
                      labels=labels, label_size=NUM if self.numbers else None)
            if self.label is not None:      # the true class's row ringed
                ch, cw = _cell(self.s)
                y = b.box[1] + self.label * ch
                cv.outline(b.box[0] - 2, y - 1, b.box[2] + 2, y + ch + 2, GOOD, 2)


def _grad_grid(arrs, s, name, what, numbers=False, **kw):
    e = unit_of(*arrs)
    u = 10.0 ** e
    return _Grid(arrs, grad_scale(*[np.asarray(a) / u for a in arrs]), s, name,
                 f"{what}{unit_text(e)}", numbers, unit=u, **kw)


def render_training_step(rec, subtitle="", hold_ms=4000):
    """Frames of one recorded SGD step (``training.step_record.StepRecord``).

    Returns an Animation whose phases are "tour" (each layer's frame, 1.5 s) and "hold"
    (the update); ``texts`` per frame name the stage; ``layout`` holds every panel's box.
    """
    A, D, G = rec.acts, rec.douts, rec.grads
    x = rec.x[0, 0]
    F = A["conv"].shape[1]
    K = A["fc"].shape[1]
    s14, s7 = 6, 12
    col = lambda v: np.asarray(v, float).reshape(-1, 1)          # noqa: E731
    cls = (K, rec.label)
    # forward
    fx = _Grid([x], auto_scale(x), s14 + 2, "x", "x")
    fconv = _Grid(list(A["conv"][0]), auto_scale(A["conv"]), s14, "conv", "conv out")
    frelu = _Grid(list(A["relu"][0]), auto_scale(A["relu"]), s14, "relu", "relu out")
    fpool = _Grid(list(A["pool"][0]), auto_scale(A["pool"]), s7, "pool", "pool out")
    logits = A["fc"][0]
    flog = _Grid([col(logits)], auto_scale(logits), (16, 46), "logits", "logits", numbers=True,
                 index=cls)
    fprob = _Grid([col(rec.probs)], auto_scale(np.array([0.0, 1.0])), (16, 46), "probs",
                  "softmax p", numbers=True, index=cls)
    # backward (from the traces)
    bconvw = _grad_grid(list(G["conv.weight"][:, 0]), W_CELL, "dwconv", "∂L/∂w conv",
                        numbers=True, across=True)
    bconv = _grad_grid(list(D["conv"][0]), s14, "dconv", "∂L/∂(conv out)")
    brelu = _grad_grid(list(D["relu"][0]), s14, "drelu", "∂L/∂(relu out)")
    bpool = _grad_grid(list(D["pool"][0]), s7, "dpool", "∂L/∂(pool out)", across=True)
    bfcw = _grad_grid([G["fc.weight"]], FC_CELL, "dwfc", "∂L/∂W fc")
    blog = _grad_grid([col(D["fc"][0])], (16, 46), "dlogits", "∂L/∂logits = p − onehot",
                      numbers=True, index=cls)
    # the update: conv weights before and after as maps, the change with its numbers
    wb, wa = rec.before["conv.weight"][:, 0], rec.after["conv.weight"][:, 0]
    ws = weight_scale(np.concatenate([wb.ravel(), wa.ravel()]))
    ubefore = _Grid(list(wb), ws, 20, "wbefore", None, across=True, legend=False)
    uafter = _Grid(list(wa), ws, 20, "wafter", "conv w (before, after)", across=True)
    fb, fa = rec.before["fc.weight"], rec.after["fc.weight"]
    fs = weight_scale(np.concatenate([fb.ravel(), fa.ravel()]))
    ufb = _Grid([fb], fs, FC_CELL, "fcbefore", "fc W before")
    # the change itself: what the step did (after − before, read from the two snapshots)
    uconvd = _grad_grid(list(wa - wb), W_CELL, "wchange", "conv Δw", numbers=True,
                        across=True)
    ufcd = _grad_grid([fa - fb], FC_CELL, "fcchange", "fc ΔW")

    panels = {
        "x": Panel(fx.node, f"x {x.shape[0]}×{x.shape[1]}"),
        "conv": Panel(fconv.node, f"conv 3×3, {F} filters"),
        "relu": Panel(frelu.node, "relu"),
        "pool": Panel(fpool.node, "maxpool 2"),
        "fc": Panel(Row(flog.node, fprob.node, gap=10),
                    f"linear {A['flat'].shape[1]} → {K}, softmax"),
        "dwconv": Panel(bconvw.node, "∂L/∂w of conv"),
        "dconv": Panel(bconv.node, "back through relu"),
        "drelu": Panel(brelu.node, "back through maxpool"),
        "dpool": Panel(Col(bpool.node, bfcw.node, gap=8, align="c"), "back through linear"),
        "dlogits": Panel(blog.node, "loss gradient"),
        # fc W after looks like fc W before at this scale: its change is the map to read
        "update": Panel(Col(ubefore.node, uafter.node, uconvd.node, ufb.node, ufcd.node,
                            gap=6, align="c"),
                        f"the update: w ← w − {rec.lr:g} · ∂L/∂w"),
    }
    stages = [  # (panels revealed, panels ringed, what the frame says)
        (["x"], ["x"], "forward 1/5: the digit, averaged down to 14×14"),
        (["conv"], ["conv"], f"forward 2/5: conv2d, {F} filters 3×3, padding 1 (plus bias)"),
        (["relu"], ["relu"], "forward 3/5: relu keeps the positive values"),
        (["pool"], ["pool"], "forward 4/5: max_pool2d 2×2 keeps each window's max"),
        (["fc"], ["fc"], f"forward 5/5: flatten, linear, softmax; loss = −log p[{rec.label}] = "
                         f"{rec.loss:.3f}"),
        (["dlogits"], ["dlogits"], "backward 1/5: ∂L/∂logits = softmax − onehot"),
        (["dpool"], ["dpool"], "backward 2/5: linear: ∂L/∂x = ∂L/∂out · W, ∂L/∂W = ∂L/∂outᵀ · x "
                               "(then unflatten)"),
        (["drelu"], ["drelu"], "backward 3/5: maxpool sends each gradient to its window's max, "
                               "0 elsewhere"),
        (["dconv"], ["dconv"], "backward 4/5: relu passes the gradient where its input was > 0"),
        (["dwconv"], ["dwconv"], "backward 5/5: conv ∂L/∂w[a, b] = Σ x_pad[i + a, j + b] · "
                                 "∂L/∂out[i, j]"),
        (["update"], ["update"], f"SGD: w ← w − {rec.lr:g}·∂L/∂w; loss {rec.loss:.3f} → "
                                 f"{rec.loss_after:.3f}, p[{rec.label}] {rec.probs[rec.label]:.2f}"
                                 f" → {rec.probs_after[rec.label]:.2f}"),
    ]
    grids = {"x": [fx], "conv": [fconv], "relu": [frelu], "pool": [fpool], "fc": [flog, fprob],
             "dwconv": [bconvw], "dconv": [bconv], "drelu": [brelu], "dpool": [bpool, bfcw],
             "dlogits": [blog], "update": [ubefore, uafter, uconvd, ufb, ufcd]}
    say = Text(None, 14, "bold", ACCENT, name="stage", widest=[t for _, _, t in stages])
    top = Row(*[panels[k] for k in ("x", "conv", "relu", "pool", "fc")], gap=10)
    bottom = Row(*[panels[k] for k in ("dwconv", "dconv", "drelu", "dpool", "dlogits")], gap=10)
    lay = Layout(Col(Text("one SGD step of a tiny net on one digit: conv → relu → maxpool → "
                          "linear → cross-entropy", 16, "bold"),
                     Text("top: forward, left to right; below: the gradients back, right to "
                          "left, each read from the layer's backward trace; right: the update",
                          13, color=DIM),
                     say, Row(Col(top, bottom, gap=10),
                              panels["update"], gap=10),
                     Text(subtitle, 12, color=DIM) if subtitle else None,
                     gap=8))
    if (lay.width, lay.height) > MAX_SIZE or lay.height > MAX_SIZE[1]:
        raise ValueError(f"training_step: {lay.width}×{lay.height} px does not fit a "
                         f"{MAX_SIZE[0]}×{MAX_SIZE[1]} slide")
    frames, texts, shown = [], [], set()
    for reveal, ring, text in stages:
        shown.update(reveal)
        cv = lay.new_frame()
        for k, p in panels.items():     # a stage not reached yet is not drawn at all
            if k not in shown:
                cv.rect(*p.box, BG)
        for k in shown:
            for g in grids[k]:
                g.draw(cv)
        for k in ring:
            x0, y0, x1, y1 = panels[k].panel_box
            cv.outline(x0 - RING_MARGIN, y0 - RING_MARGIN, x1 + RING_MARGIN, y1 + RING_MARGIN,
                       ACCENT, 2)
        lay.write(cv, say, text)
        frames.append(cv.px)
        texts.append({"stage": text, "shown": sorted(shown)})
    phases = ["tour"] * (len(frames) - 1) + ["hold"]
    layout = {"placed": lay.placed, "size": (lay.width, lay.height),
              "panels": {k: p.panel_box for k, p in panels.items()},
              # per panel, every drawn map: (box, colour scale, cell pitch, display unit)
              "grids": {k: [(b.box, g.scale, g.s, g.unit) for g in v for b in g.boxes]
                        for k, v in grids.items()}}
    return Animation(frames, np.arange(len(frames)), layout, frame_ms=1500, hold_ms=hold_ms,
                     phases=phases, texts=texts)
