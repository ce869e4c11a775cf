"""Receptive fields: which input pixels can reach one unit of a network, layer by layer, and
how strongly each one does (the gradient of the unit, from the backward pass).

Takes a field record (``training.receptive.ReceptiveField``: numbers and arrays); this module
imports no op and no network. One frame per windowed layer from the first up to the unit's:
the layer's map with the units that can reach the chosen one ringed, the field of one unit
of that layer in the input with its size formula filled in, and beside them the chosen unit's
whole field and its effective field ∂unit/∂x. The last frame says where the gradient lives.
"""
import numpy as np

from . import grammar
from .draw import cell_grid
from .frames import Animation
from .layout import Box, Col, Text
from .palette import ACCENT, ACCENT2, BLACK, DIM, auto_scale, grad_scale, gray_scale

MAP_PX = 224
PACE_MS = 2500
FORMULA = "r = r_prev + (k − 1)·j_prev,  j = j_prev·s  (r: field in input pixels, j: jump; " \
          "start r = j = 1)"


def _ix(u):
    return "[" + ", ".join(str(v) for v in u) + "]"


def _as_map(a, unit=None):
    """A drawable 2-D map of a layer's output: the unit's channel of a (C, H, W) map (else
    the max over channels), a vector in rows of 12. Returns (map, what, where of ``unit``)."""
    a = np.asarray(a, float)
    if a.ndim == 3:
        if unit is not None:
            return a[unit[0]], f"channel {unit[0]}", unit[1:]
        return a.max(axis=0), "max over channels", None
    n = a.size
    cols = min(12, n)
    m = np.full(-(-n // cols) * cols, np.nan)
    m[:n] = a.ravel()
    where = None if unit is None else (unit[0] // cols, unit[0] % cols)
    return m.reshape(-1, cols), f"in rows of {cols}", where


def _box(cv, xy, cell, box, color, width=2):
    """Outline input cells ``box`` = (r0, r1, c0, c1) inclusive (may reach off the map)."""
    x0, y0 = xy
    r0, r1, c0, c1 = box
    cv.outline(x0 + c0 * cell - 1, y0 + r0 * cell - 1, x0 + (c1 + 1) * cell + 2,
               y0 + (r1 + 1) * cell + 2, BLACK, 1)
    cv.outline(x0 + c0 * cell, y0 + r0 * cell, x0 + (c1 + 1) * cell + 1,
               y0 + (r1 + 1) * cell + 1, color, width)


def _draw(cv, node, m, scale, pad=0):
    """Draw map ``m`` in content box ``node`` (``pad`` cells of room around it for boxes
    that reach into the padding); returns the top-left of cell (0, 0) and the cell pitch."""
    h, w = m.shape
    cell = int(min(24, MAP_PX // (max(h, w) + 2 * pad)))
    x0, y0 = node.box[0] + pad * cell, node.box[1] + pad * cell
    finite = np.isfinite(m)
    idx = scale.index(np.where(finite, m, 0)).astype(np.uint8)
    idx[~finite] = 0
    cell_grid(cv, x0, y0, idx, cell, 1 if cell >= 8 else 0)
    return (x0, y0), cell


def render_field(rf, subtitle="", title=None, formula=None, unit_name=None):
    """Render a receptive field record to frames.

    Returns
    -------
    Animation : ``phases`` "layer" per windowed layer, then "hold" (the effective field);
    ``texts`` per frame (caption, work, region); ``layout`` has ``maps`` per frame (the
    three drawn maps: values, top-left, cell pitch, scale) for reading back.
    """
    name = unit_name or f"{rf.layer}{_ix(rf.unit)}"
    H, W = rf.x.shape[1:]
    img = rf.x[0] if rf.x.ndim == 3 else rf.x
    b = rf.box
    bh, bw = b[1] - b[0] + 1, b[3] - b[2] + 1
    g = np.asarray(rf.gradient, float)
    nz = int(np.count_nonzero(g))
    peak = np.unravel_index(int(np.argmax(np.abs(g))), g.shape)
    clipped = tuple(rf.box) != tuple(rf.unclipped)

    captions, works, regions = [], [], []
    j_prev = (1, 1)
    for st in rf.steps:
        k = "×".join(map(str, st.kernel[:1] if st.kernel[0] == st.kernel[1] else st.kernel))
        if st.kind == "linear":
            captions.append(f"{st.name} (linear): every unit reads all of the layer below")
        else:
            captions.append(f"{st.name} ({st.kind} {k}, stride {st.stride[0]}, padding "
                            f"{st.padding[0]}): one unit sees {st.r[0]}×{st.r[1]} input pixels")
        works.append(st.formula + ("" if st.kind == "linear" else
                                   f";  j = {j_prev[0]}·{st.stride[0]} = {st.j[0]}"))
        j_prev = st.j
        if st.region is None:
            regions.append(f"{name} reads every {st.name} unit")
        else:
            r0, r1, c0, c1 = st.region
            regions.append(f"the {st.name} units that can reach {name}: rows {r0}…{r1}, "
                           f"cols {c0}…{c1} ({r1 - r0 + 1}×{c1 - c0 + 1})")
    captions.append(f"effective field: ∂{name}/∂x (backward pass) is nonzero on {nz} of the "
                    f"{bh}×{bw} = {bh * bw} pixels that can reach it")
    works.append(f"the pixels that can reach {name}: rows {b[0]}…{b[1]}, cols {b[2]}…{b[3]}"
                 + (" (the rest of the field lies on the padding)" if clipped else ""))
    regions.append(f"the largest |∂{name}/∂x| is at x[{peak[0]}, {peak[1]}]")

    # -- declare the frame
    maps = [Box(MAP_PX, MAP_PX, f"map {i}") for i in range(3)]
    lab1 = Text(None, 11, color=DIM, name="layer label",
                widest=[_layer_label(rf, st) for st in rf.steps])
    rng = Text(None, 11, color=DIM, name="erf range", widest=["blue −8.88e−88 · 0 · red 8.88e−88"])
    reg = Text(None, 12, color=DIM, name="region", widest=regions)
    cap = Text(None, grammar.CAPTION_SIZE, "bold", ACCENT, name="caption", widest=captions)
    work = Text(None, 13, "mono", name="work", widest=works)
    key = Col(Text("orange: every pixel that can reach " + name, 11, color=DIM),
              Text("blue: what one unit of the layer sees", 11, color=DIM), gap=2)
    n = len(rf.steps)
    fr = grammar.Frame(
        title or f"Receptive field of {name}",
        formula if formula is not None else FORMULA,
        [(Col(lab1, maps[0], gap=4), "layer by layer"),
         (Col(maps[1], key, gap=4), f"input x ({H}×{W}): the geometric field"),
         (Col(maps[2], rng, gap=4), f"∂{name}/∂x: the effective field")],
        subtitle, [f"layer {n} / {n}", "effective field"], lead=4,
        caption=Col(cap, work, reg, gap=2))
    lay, counter = fr.lay, fr.counter
    x_scale = gray_scale(float(img.min()), float(img.max()))      # the digit as it looks
    g_scale = grad_scale(g)
    boxes = [rf.unclipped] + [st.one for st in rf.steps if st.one is not None]
    off = max([0] + [max(-bx[0], -bx[2], bx[1] - (H - 1), bx[3] - (W - 1)) for bx in boxes])
    xy1, c1 = _draw(lay.base, maps[1], img, x_scale, pad=off)
    xy2, c2 = _draw(lay.base, maps[2], g, g_scale)
    _box(lay.base, xy2, c2, b, ACCENT)
    lay.write(lay.base, rng, f"blue {_num(-g_scale.vmax)} · 0 · red {_num(g_scale.vmax)}")

    frames, phases, texts, drawn = [], [], [], []
    for t in range(n + 1):
        last = t == n
        st = rf.steps[min(t, n - 1)]
        cv = lay.new_frame()
        top = st.name == rf.layer
        m, what, where = _as_map(rf.maps[st.name], rf.unit if top else None)
        sc = auto_scale(m[np.isfinite(m)])
        xy0, c0 = _draw(cv, maps[0], m, sc)
        if st.region is not None and not top:
            r0, r1, q0, q1 = st.region
            _box(cv, xy0, c0, (r0, r1, q0, q1), ACCENT)
        if where is not None:
            _box(cv, xy0, c0, (where[0], where[0], where[1], where[1]), ACCENT)
        lay.write(cv, lab1, _layer_label(rf, st))
        _box(cv, xy1, c1, b, ACCENT)
        if st.one is not None and not last:
            _box(cv, xy1, c1, st.one, ACCENT2)
        lay.write(cv, cap, captions[t])
        lay.write(cv, work, works[t])
        lay.write(cv, reg, regions[t])
        lay.write(cv, counter, "effective field" if last else f"layer {t + 1} / {n}")
        frames.append(cv.px)
        phases.append("hold" if last else "layer")
        texts.append({"caption": captions[t], "work": works[t], "region": regions[t]})
        drawn.append({"layer": (m, xy0, c0, sc), "input": (img, xy1, c1, x_scale),
                      "erf": (g, xy2, c2, g_scale)})
    return Animation(frames, np.arange(len(frames)),
                     {"maps": drawn, **grammar.record(lay, fr.panels)},
                     frame_ms=PACE_MS, hold_ms=6000, phases=phases, texts=texts)


def _num(v):
    from .chain_gif import sig
    return sig(v)


def _layer_label(rf, st):
    a = np.asarray(rf.maps[st.name])
    shape = "×".join(map(str, a.shape))
    if a.ndim == 3:
        what = f"channel {rf.unit[0]}" if st.name == rf.layer else "max over channels"
    else:
        what = f"in rows of {min(12, a.size)}"
    return f"{st.name} output ({shape}), {what}"
