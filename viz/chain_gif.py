"""The chain rule along one path of a network, from the loss back to one weight or pixel.

One row per link, from the loss down: the layer, the unit on the path, its forward value,
the link's local derivative, the running product (this one path's share of ∂L/∂unit) and
∂L/∂unit from the backward pass (the sum over every path). Beside the rows, the map of that
layer's gradient with the path's unit ringed. The last frames write the target's gradient
as the sum over the first layer's cells and set it beside the backward pass's own number.

Takes a chain trace (``training.chain.ChainTrace``: plain numbers and arrays); this module
imports no op and no network.
"""
from decimal import Decimal

import numpy as np

from . import grammar
from .arith import number
from .draw import MINUS, cell_grid
from .frames import Animation
from .layout import Box, Col, Row, Text
from .palette import ACCENT, BLACK, DIM, TEXT, grad_scale

SIG = 3                 # significant digits of every number in the rows
MAP_PX = 168            # the map beside the rows
ROW_SIZE = 12
HEADER = ("layer", "unit", "value", "local ∂", "running product", "∂L/∂unit", "terms")
NOTES = ["local ∂: ∂(the unit one row up) / ∂(this unit)",
         "running product: this one path's share of ∂L/∂unit",
         "∂L/∂unit: the backward pass, the sum over every path (terms: its nonzero terms)",
         "≈: the rounded numbers shown multiply to it only up to rounding"]
KIND = {"loss": "loss", "logits": "logits", "linear": "linear", "conv": "conv",
        "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "maxpool": "max pool",
        "avgpool": "avg pool", "flatten": "flatten", "weight": "weight", "pixel": "pixel"}
PACE_MS = 1600          # each link adds one row of about 6 numbers: 250 ms a number, and the play stays under 30 s


def sig(v, digits=SIG):
    """``v`` to ``digits`` significant digits: fixed point from 0.01 to 1000 ("0.450",
    "16.2", "1"), else scientific ("−1.72e−5"); whole numbers stay whole."""
    v = float(v)
    if v == 0 or (v == int(v) and abs(v) < 1000):
        return f"{int(v)}".replace("-", MINUS)
    if 0.01 <= abs(v) < 1000:
        s = f"{v:.{max(0, digits - 1 - int(np.floor(np.log10(abs(v)))))}f}"
        d = Decimal(s)
        if d.adjusted() >= digits:           # rounding carried a digit
            s = f"{v:.0f}"
    else:
        m, e = f"{v:.{digits - 1}e}".split("e")
        s = f"{m}e{int(e)}"
    return s.replace("-", MINUS)


def round_sig(d, digits=SIG):
    """A Decimal rounded to ``digits`` significant digits (half to even)."""
    if d == 0:
        return d
    return d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1))


def product_shown(prev, local, shown):
    """Whether the shown ``prev`` × the shown ``local``, rounded as shown, is the shown
    ``shown`` (else the product is marked ≈)."""
    return round_sig(number(prev) * number(local)) == round_sig(number(shown))


def _unit(u):
    return "[" + ", ".join(str(v) for v in u) + "]" if u else ""


def _map_of(trace, link):
    """The gradient map beside row ``link``: its layer's ∂L/∂output (the unit's channel of
    a map; a vector in rows of 12) and the unit's (row, col) in it, or None."""
    if link.kind in ("weight", "pixel"):
        c1 = trace.links[-2]
        g = np.asarray(trace.end_terms)
        ch = c1.unit[0] if g.ndim == 3 else None
        m = g[ch] if ch is not None else g
        u = c1.unit[1:] if ch is not None else c1.unit
        return m, u, ch
    if link.kind == "loss":
        link = trace.links[1]
    g = np.asarray(trace.grads[link.name])
    if g.ndim == 3:
        return g[link.unit[0]], link.unit[1:], link.unit[0]
    n = g.size
    cols = min(12, n)
    rows = -(-n // cols)
    m = np.full(rows * cols, np.nan)
    m[:n] = g.ravel()
    i = link.unit[0]
    return m.reshape(rows, cols), (i // cols, i % cols), None


def render_chain(trace, subtitle="", title=None, formula=None):
    """Render a chain trace to frames: one frame per link, then the sum over all paths.

    Returns
    -------
    Animation : ``phases`` "link" per link, then "hold" for the sum over all paths; ``texts`` per
    frame: ``caption``, and ``rows`` (every shown row's cells as written, by column of
    :data:`HEADER`), ``approx`` (the rows whose product is marked ≈), and on the last frames
    ``end`` (the written sum and the backward pass's number).
    """
    links = trace.links
    n = len(links)
    target = links[-1]
    tname = "w" if target.kind == "weight" else "x"
    tlabel = f"{tname}{_unit(target.unit)}"
    if target.kind == "weight":
        tlabel = f"{links[-2].name}.weight{_unit(target.unit)}"

    # -- every row's cells as written, and whether its product follows from the row above
    rows, approx = [], []
    for t, lk in enumerate(links):
        layer = {"loss": "L (loss)", "weight": f"{links[-2].name}.weight",
                 "pixel": "x (pixel)"}.get(lk.kind, f"{lk.name} ({KIND[lk.kind]})")
        cells = [layer,
                 _unit(lk.unit), sig(lk.value), "—" if t == 0 else sig(lk.local),
                 sig(lk.product), sig(lk.grad), str(lk.terms) if t > 0 else ""]
        exact = t < 2 or product_shown(rows[-1][4].lstrip("≈ "), cells[3], cells[4])
        if not exact:
            cells[4] = "≈ " + cells[4]
            approx.append(t)
        rows.append(cells)

    captions = []
    for t, lk in enumerate(links):
        if t == 0:
            captions.append(f"L = {sig(lk.value)}: the {lk.how} (the path starts here, "
                            "∂L/∂L = 1)")
        elif t == 1:
            captions.append(f"∂L/∂z{_unit(lk.unit)} = {lk.how} = {sig(lk.local)}")
        else:
            up = links[t - 1]
            captions.append(f"∂{up.name}{_unit(up.unit)} / ∂{_name(lk)} = {lk.how} = "
                            f"{sig(lk.local)}")
    first = links[-2]
    terms = np.asarray(trace.end_terms)
    over = (f"{first.name}[{first.unit[0]}]'s {terms[first.unit[0]].size} cells"
            if target.kind == "weight" and terms.ndim == 3 else
            f"the {terms.size} cells of {first.name}")
    end_sum = (f"∂L/∂{tlabel} = Σ over {over} of ∂L/∂{first.name} · ∂{first.name}/∂{tname}: "
               f"{links[-1].terms} nonzero terms, every path")
    end_line = (f"Σ = {sig(trace.end_value, 6)}    backward pass: {sig(trace.backward, 6)}"
                f"    |difference| = {sig(abs(trace.end_value - trace.backward), 2)}")
    path_line = (f"this one path: {sig(target.product)}, "
                 f"{sig(100 * target.product / trace.backward if trace.backward else 0, 3)} % "
                 "of the gradient; the other paths carry the rest")
    captions += [end_sum]

    # -- declare the frame
    cols, slots = [], {}
    for j, h in enumerate(HEADER):
        head = Text(h, 11, color=DIM, name=f"head {j}", align="r" if j > 1 else "l")
        w = max([head.size()[0]] + [Text(rows[t][j] or " ", ROW_SIZE, "mono").size()[0]
                                    for t in range(n)])
        h = Text("0", ROW_SIZE, "mono").size()[1] + 4          # rows 4 px apart
        col = [Text(None, ROW_SIZE, "mono", align="r" if j > 1 else "l", name=f"r{t}c{j}",
                      widest=[rows[t][j] or " "], width=w, height=h) for t in range(n)]
        slots.update((s.name, s) for s in col)
        cols.append(Col(head, *col, gap=0, align="r" if j > 1 else "l"))
    table = Col(Row(*cols, gap=10), *grammar.notes(NOTES), gap=4)
    map_box = Box(MAP_PX, MAP_PX, "map")
    map_lab = Text(None, 11, color=DIM, name="map label",
                   widest=[_map_label(trace, lk) for lk in links])
    map_range = Text(None, 11, color=DIM, name="map range",
                     widest=[f"blue {MINUS}8.88e{MINUS}88 · 0 · red 8.88e{MINUS}88"])
    p2 = Col(map_lab, map_box, map_range, gap=4)
    cap = Text(None, grammar.CAPTION_SIZE, "bold", ACCENT, name="caption", widest=captions)
    end1 = Text(None, 13, "mono", name="end", widest=[end_line])
    end2 = Text(None, 12, color=DIM, name="path share", widest=[path_line])
    counters = [f"link {n} / {n}", "the sum over all paths"]
    fr = grammar.Frame(
        title or f"The chain rule along one path: ∂L/∂{tlabel}",
        formula if formula is not None else
        "∂L/∂" + tname + " = Σ over every path of the product of its local derivatives; "
        "backprop sums them one layer at a time",
        [(table, "from the loss down, along the path of the largest terms"),
         (p2, "∂L/∂ the layer (backward pass)")], subtitle, counters, lead=4,
        caption=Col(cap, end1, end2, gap=2))
    lay, counter = fr.lay, fr.counter

    def draw_map(cv, t):
        m, u, ch = _map_of(trace, links[t])
        finite = np.isfinite(m)
        sc = grad_scale(m[finite]) if finite.any() else grad_scale(np.zeros(1))
        cell = int(min(24, MAP_PX // max(m.shape)))
        x0, y0 = map_box.box[:2]
        idx = sc.index(np.where(finite, m, 0))
        idx[~finite] = 0
        cell_grid(cv, x0, y0, idx.astype(np.uint8), cell, 1 if cell >= 8 else 0)
        r, c = u
        g = 1 if cell >= 8 else 0
        cv.outline(x0 + c * cell - 1 + g, y0 + r * cell - 1 + g, x0 + (c + 1) * cell + 1,
                   y0 + (r + 1) * cell + 1, BLACK, 1)
        cv.outline(x0 + c * cell + g, y0 + r * cell + g, x0 + (c + 1) * cell,
                   y0 + (r + 1) * cell, ACCENT, 2 if cell >= 10 else 1)
        lay.write(cv, map_lab, _map_label(trace, links[t]))
        lay.write(cv, map_range, f"blue {sig(-sc.vmax)} · 0 · red {sig(sc.vmax)}"
                  if not sc.constant else f"every value = {sig(sc.vmin)}")
        return m, (x0, y0), cell, sc, (r, c)

    frames, phases, texts, maps = [], [], [], []
    for t in range(n + 1):
        last = t == n
        cv = lay.new_frame()
        cur = min(t, n - 1)
        for r in range(cur + 1):
            for j in range(len(HEADER)):
                color = ACCENT if r == cur and not last else TEXT
                lay.write(cv, slots[f"r{r}c{j}"], rows[r][j], color=color)
        m, xy, cell, sc, ring = draw_map(cv, cur)
        lay.write(cv, cap, captions[t])
        text = {"caption": captions[t], "rows": [list(r) for r in rows[:cur + 1]],
                "approx": [a for a in approx if a <= cur]}
        if last:
            lay.write(cv, end1, end_line)
            lay.write(cv, end2, path_line)
            text.update(end=end_line, path=path_line)
        lay.write(cv, counter, "the sum over all paths" if last else f"link {t + 1} / {n}")
        frames.append(cv.px)
        phases.append("hold" if last else "link")     # paced by --frame-ms
        texts.append(text)
        maps.append({"values": m, "xy": xy, "cell": cell, "scale": sc, "ring": ring})
    return Animation(frames, np.arange(len(frames)),
                     {"maps": maps, "rows": rows, **grammar.record(lay, fr.panels)},
                     frame_ms=PACE_MS, hold_ms=6000, phases=phases, texts=texts)


def _name(lk):
    if lk.kind == "weight":
        return f"w{_unit(lk.unit)}"
    if lk.kind == "pixel":
        return f"x{_unit(lk.unit)}"
    return f"{lk.name}{_unit(lk.unit)}"


def _map_label(trace, lk):
    if lk.kind in ("weight", "pixel"):
        c1 = trace.links[-2]
        return (f"the sum's terms over {c1.name}, channel {c1.unit[0]}"
                if len(c1.unit) == 3 else f"the sum's terms over {c1.name}")
    if lk.kind == "loss":
        lk = trace.links[1]
    g = np.asarray(trace.grads[lk.name])
    if g.ndim == 3:
        return f"∂L/∂{lk.name}, channel {lk.unit[0]} ({g.shape[1]}×{g.shape[2]})"
    return f"∂L/∂{lk.name} ({g.size}, in rows of {min(12, g.size)})"
