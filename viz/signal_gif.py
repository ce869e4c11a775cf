"""Frames of a 1-D sliding-window op (conv1d, max_pool1d, avg_pool1d) from its ``WindowTrace1d``.

A signal and its sliding window: panel 1 draws each input channel as bars over a row of
numbered cells (padding hatched, the window ringed, dilation's skipped cells dimmed);
panel 2 the working of one step (conv: x, w and the products x·w, their sums and
``+ bias = out``; avg: ``(a + b + …) / k``; max: the max ringed); panel 3 the output signal
filling in. Same grammar as the 2-D window GIFs: tour, sweep, hold.

``lead`` marks the first cells of the input as padding though they are part of ``x``: a
causal convolution pads on the left only, which the symmetric ``padding`` argument cannot
do, so the caller prepends the zeros and the renderer styles them as padding.
"""
import numpy as np

from .arith import APPROX, adds_up, decimals_for, divides, relation, show, signed_sum
from .draw import MINUS, RING_MARGIN, all_integers, cell_grid
from . import grammar
from .frames import Animation, single_sample
from .layout import Box, Col, Row, Space, Text
from .legend import Legend
from .palette import ACCENT, ACCENT2, BLANK, DIM, GRID, MAXC, TEXT, auto_scale, weight_scale
from .tour import TOUR_COUNT, by_hand, choose, ranked, room

BAR_H = 60          # px of the bar plot above a row of cells
NUM = 11
MAX_CHANNELS = 4


def title_of1d(tr):
    g = [f"stride={tr.stride}", f"padding={tr.padding}"]
    if tr.op != "avg_pool1d":
        g.append(f"dilation={tr.dilation}")
    if tr.op == "conv1d":
        f, c, k = tr.weight.shape
        bias = "" if tr.bias is None else ", bias"
        return f"conv1d(x, weight {f}×{c}×{k}{bias}, " + ", ".join(g) + ")"
    return f"{tr.op}(kernel_size={tr.kernel_size}, " + ", ".join(g) + ")"


def formula_of1d(tr, lead=0):
    """``out = ⌊(L + 2·p − k)/s⌋ + 1 = n``; with ``lead`` causal zeros, ``L + lead (left)``."""
    n, k, s, p, d = tr.input.shape[2] - lead, tr.kernel_size, tr.stride, tr.padding, tr.dilation
    span = f"{k}" if d == 1 else f"{d}·({k} {MINUS} 1) {MINUS} 1"
    pads = f"2·{p}" if not lead else (f"{lead} (left only)" if not p else f"{lead} + 2·{p}")
    return f"out = \u230a({n} + {pads} {MINUS} {span})/{s}\u230b + 1 = {tr.out_shape[2]}"


def steps_of1d(trace, cells):
    """Trace steps of output cells ``(i,)`` (channel 0) or ``(f, i)``."""
    _, F, OL = trace.out_shape
    idx = {tuple(int(v) for v in row[1:]): k for k, row in enumerate(trace.out_index)}
    out = []
    for cell in cells:
        full = (0,) + tuple(cell) if len(cell) == 1 else tuple(cell)
        if len(full) != 2 or full not in idx:
            raise ValueError(f"--tour {','.join(map(str, cell))}: not a cell of the output "
                             f"{F}×{OL} (expected I or F,I with 0 <= I < {OL})")
        out.append(idx[full])
    return out


def _strs(a, d):
    return [show(v, d) for v in np.asarray(a, float)]


class _Signal:
    def __init__(self, tr, max_frames, subtitle, tour, title, formula, lead):
        self.tr = tr
        single_sample(tr.out_index, "render_signal")
        self.S = len(tr)
        self.conv = tr.op == "conv1d"
        self.xp = np.asarray(tr.padded[0], float)              # (C, Lp)
        self.C, self.Lp = self.xp.shape
        _, self.F, self.OL = tr.out_shape
        self.k, self.dil, self.p, self.lead = tr.kernel_size, tr.dilation, tr.padding, lead
        self.ext = self.dil * (self.k - 1) + 1
        ints = [tr.input[0]] + ([tr.weight] + ([tr.bias] if tr.bias is not None else [])
                                if self.conv else [])
        self.d = decimals_for(*ints, tr.value)      # a mean of whole numbers may not be one
        self.in_scale = auto_scale(tr.input[0])
        self.out_scale = auto_scale(tr.value) if self.conv else self.in_scale
        if tour is None:
            field = np.asarray(tr.field, float).reshape(self.S, -1)
            fin = np.where(np.isfinite(field), field, 0)
            nz = (fin != 0).any(1)
            val = np.asarray(tr.value, float)
            aval = np.where(np.isfinite(val), np.abs(val), 0) * nz + 1e-9 * nz
            pad = self._pad_cells()
            touches = np.array([pad[tr.cells(s)].any() for s in range(self.S)])
            kinds = [("largest", "largest |output|", aval),
                     ("spread", "the widest spread of values", (fin.max(1) - fin.min(1)) * nz)]
            if tr.op == "max_pool1d":
                kinds.append(("tie", "a tie: several cells hold the max",
                              aval * ((fin == val[:, None]).sum(1) > 1)))
            kinds.append(("padding", "the window reaches into the padding",
                          aval * touches + touches * nz))
            stops = choose(ranked(kinds), room(TOUR_COUNT, max_frames))
        else:
            stops = by_hand(tour)
        self.plan = grammar.Tour(self.S, stops, max_frames, sweep=grammar.sweep_other("windows"))
        self.steps, self.phases = self.plan.steps, self.plan.phases
        self.work = {int(k): self._working(int(k)) for k, ph in zip(self.steps, self.phases)
                     if ph == "tour"}
        self._declare(title or title_of1d(tr), formula or formula_of1d(tr, lead), subtitle)

    def _pad_cells(self):
        pad = np.zeros(self.Lp, bool)
        pad[:self.p + self.lead] = True
        pad[self.Lp - self.p:] = True
        return pad

    def _working(self, k):
        tr, d = self.tr, self.d
        f, i = int(tr.out_index[k, 1]), int(tr.out_index[k, 2])
        field = np.asarray(tr.field[k], float)                  # (Cf, k)
        where = f"out[{f}, {i}]" if self.F > 1 else f"out[{i}]"
        o = int(tr.origin[k]) - self.p - self.lead
        cells = f"input cells {o}…{o + self.ext - 1}".replace("-", MINUS) + \
            (f" step {self.dil}" if self.dil > 1 else "")
        dx = 0 if all_integers(tr.input[0]) else d
        value = show(float(tr.value[k]), d)
        w = dict(where=where, window=f"{cells} → {where}", x=[_strs(c, dx) for c in field],
                 value=value, f=f, equations=[])
        if self.conv:
            wt = np.asarray(tr.weight[f], float)
            w["w"] = [_strs(c, 0 if all_integers(tr.weight) else d) for c in wt]
            prods = field * wt                                   # display-only
            w["p"] = [_strs(c, d) for c in prods]
            single = len(field) == 1 and tr.bias is None
            sums = [float(tr.value[k])] if single else [float(v) for v in tr.contrib[k]]
            w["sums"] = [show(v, d) for v in sums]
            w["sum_exact"] = [adds_up(p, s) for p, s in zip(w["p"], w["sums"])]
            w["equations"] = [(p, s, ok) for p, s, ok in zip(w["p"], w["sums"], w["sum_exact"])]
            if single:
                w["final"] = f"{where} = {value}"
                ok = True
            else:
                terms = w["sums"] + ([] if tr.bias is None else [show(tr.bias[f], d)])
                ok = adds_up(terms, value)
                w["equations"].append((terms, value, ok))
                w["final"] = f"{signed_sum(terms)} {relation(ok)} {value}  = {where}"
            exact = ok and all(w["sum_exact"])
        elif tr.op == "avg_pool1d":
            terms = w["x"][0]
            total = show(float(field.sum()), dx)                 # display-only
            ok1, ok2 = adds_up(terms, total), divides(total, self.k, value)
            w["equations"] = [(terms, total, ok1)]
            w["final"] = (f"({signed_sum(terms)}) / {self.k} {relation(ok1)} {total} / {self.k} "
                          f"{relation(ok2)} {value}  = {where}")
            exact = ok1 and ok2
        else:
            a = int(tr.argmax[k])
            w["argmax"] = a
            w["ties"] = [int(t) for t in np.flatnonzero(field[0] == field[0, a])]
            w["final"] = f"max = {value}  = {where}" + \
                (f"   (tie: {len(w['ties'])} cells; the op takes the first)"
                 if len(w["ties"]) > 1 else "")
            exact = True
        w["note"] = "" if exact else (f"{APPROX}: every number is rounded to {d} decimals, so "
                                      "the shown terms miss the shown total")
        return w

    def _declare(self, title, formula, subtitle):
        s = max(18, min(40, 480 // self.Lp))
        self.s = s
        tr = self.tr
        self.in_boxes = [Box(self.Lp * s + 1 + 2 * RING_MARGIN, BAR_H + s + 4 + 2 * RING_MARGIN,
                             f"input {c}") for c in range(self.C)]
        notes = []
        if self.p:
            notes.append(f"hatched: padding {self.p} on each side "
                         f"({'−∞' if tr.op == 'max_pool1d' else '0'})")
        if self.lead:
            notes.append(f"hatched: causal padding, {self.lead} zeros on the left only "
                         "(prepended to x)")
        p1 = Col(*[Col(Text(f"channel {c}", 12, color=DIM) if self.C > 1 else None, b, gap=2)
                   for c, b in enumerate(self.in_boxes)],
                 *grammar.notes(notes),
                 Legend(self.in_scale, "input values", name="input legend"), gap=6)
        o = max(18, min(40, 480 // self.OL))
        self.o = o
        self.out_boxes = [Box(self.OL * o + 1 + 2 * RING_MARGIN, BAR_H + o + 4 + 2 * RING_MARGIN,
                              f"output {f}") for f in range(self.F)]
        p3 = Col(*[Col(Text(f"{'filter' if self.conv else 'channel'} {f}", 12, color=DIM)
                       if self.F > 1 else None, b, gap=2) for f, b in enumerate(self.out_boxes)],
                 Legend(self.out_scale, "output values", name="output legend"), gap=6)
        works = list(self.work.values())
        self.caption = self.plan.caption_slot()
        self.where = grammar.where_slot([w["window"] for w in works], "window")
        cz = 34
        self.cz = cz
        gw = self.k * cz + 1
        rows = []
        self.rows = []
        nrow = self.C if self.conv else 1
        for c in range(nrow):
            boxes = {t: Box(gw, cz + 1, f"{t} row {c}") for t in
                     (("x", "w", "p") if self.conv else ("x",))}
            self.rows.append(boxes)
            if self.conv:
                sm = Text(None, 13, "mono", name=f"sum {c}",
                          widest=[f"Σ = {t}" for w in works for t in w["sums"]] or ["Σ"])
                boxes["sum"] = sm
                lab = "x (window)" if self.C == 1 else f"x, channel {c}"
                boxes["wl"] = Text(None, 11, color=DIM, name=f"wl {c}",
                                   widest=[f"× w[{f}, {c}]" for f in range(self.F)])
                rows.append(Col(Text(lab, 11, color=DIM, name=f"xl {c}"), boxes["x"],
                                boxes["wl"], boxes["w"],
                                Text("= x · w", 11, color=DIM, name=f"pl {c}"),
                                Row(boxes["p"], sm, gap=10, align="m"), gap=3))
            else:
                rows.append(Col(Text("x (window)", 11, color=DIM), boxes["x"], gap=3))
        self.final = Text(None, 13, "monobold", ACCENT, name="final",
                          widest=[w["final"] for w in works] or [""])
        self.note = grammar.note_slot([w["note"] for w in works if w["note"]])
        leg = Legend(weight_scale(tr.weight), "weights (their own colours)",
                     name="weight legend") if self.conv else None
        p2 = Col(self.caption, self.where, Space(0, 4), *rows, self.final, self.note, leg, gap=6)
        what = {"conv1d": "working: window × weights, summed",
                "max_pool1d": "working: the max of the window",
                "avg_pool1d": "working: the mean of the window"}[tr.op]
        L = tr.input.shape[2] - self.lead
        lead = f" (+ {self.lead} causal zeros)" if self.lead else ""
        fr = grammar.Frame(title, formula, [(p1, f"input {self.C}×{L}{lead}"), (p2, what),
                                            (p3, f"output {self.F}×{self.OL}")],
                           subtitle, self.plan.counters())
        self.lay, self.panels, self.counter = fr.lay, fr.panels, fr.counter
        pad = self._pad_cells()
        for c, b in enumerate(self.in_boxes):
            self._draw_signal(self.lay.base, b, self.xp[c], self.in_scale, s,
                              np.ones(self.Lp, bool), pad)

    def _draw_signal(self, cv, box, values, scale, s, shown, pad=None):
        """Bars above a row of numbered cells; cells not ``shown`` stay blank."""
        x0, y0 = box.box[0] + RING_MARGIN, box.box[1] + RING_MARGIN
        v = np.where(np.isfinite(values), values, 0.0)
        lo, hi = min(scale.vmin, 0.0), max(scale.vmax, 0.0)
        zero = y0 + int(round(BAR_H * hi / (hi - lo))) if hi > lo else y0 + BAR_H
        cv.rect(x0, zero, x0 + len(v) * s + 1, zero + 1, GRID)          # the 0 line
        idx = scale.index(values)
        for i in np.flatnonzero(shown):
            if pad is not None and pad[i]:
                continue
            top = zero - int(round(BAR_H * v[i] / (hi - lo))) if hi > lo else zero
            cv.rect(x0 + i * s + 3, min(top, zero), x0 + (i + 1) * s - 2, max(top, zero) + 1,
                    int(idx[i]) if scale.vmax > 0 else ACCENT2)
        ints = all_integers(values[np.isfinite(values)])
        labels = np.array([[show(val, 0 if ints else self.d) if sh else ""
                            for val, sh in zip(values, shown)]])
        cidx = np.where(shown, idx, BLANK)[None]
        cell_grid(cv, x0, y0 + BAR_H + 4, cidx.astype(np.uint8), s, 1, labels=labels,
                  pad=None if pad is None else pad[None], label_size=min(12, s // 2 - 1))
        return x0, y0 + BAR_H + 4

    def frame(self, i, done):
        tr, lay, s = self.tr, self.lay, self.s
        k, ph = int(self.steps[i]), self.phases[i]
        cv = lay.new_frame()
        lay.write(cv, self.caption, self.plan.caption(i))
        vals = np.full((self.F, self.OL), np.nan)
        shown = np.zeros((self.F, self.OL), bool)
        f_, i_ = tr.out_index[:, 1], tr.out_index[:, 2]
        vals[f_, i_] = tr.value
        shown[f_[done], i_[done]] = True
        for f, b in enumerate(self.out_boxes):
            self._draw_signal(cv, b, vals[f], self.out_scale, self.o, shown[f])
        if ph != "hold":
            f, oi = int(tr.out_index[k, 1]), int(tr.out_index[k, 2])
            bx, by = self.out_boxes[f].box[0] + RING_MARGIN, \
                self.out_boxes[f].box[1] + RING_MARGIN + BAR_H + 4
            cv.ring(bx + 1 + oi * self.o, by + 1, bx + (oi + 1) * self.o, by + self.o)
            r0 = int(tr.origin[k])
            chans = range(self.C) if self.conv else [f]
            for c in chans:
                x0 = self.in_boxes[c].box[0] + RING_MARGIN
                y0 = self.in_boxes[c].box[1] + RING_MARGIN + BAR_H + 4
                for j in range(self.ext):
                    if j % self.dil:
                        cv.dim(x0 + 1 + (r0 + j) * s, y0 + 1, x0 + (r0 + j + 1) * s, y0 + s)
                cv.ring(x0 + 1 + r0 * s, y0 + 1, x0 + (r0 + self.ext) * s, y0 + s)
            if ph == "tour":
                self._draw_working(cv, k, self.work[k])
        if ph != "tour":
            grammar.clear_working(lay, cv, self.panels[1], self.where)
        lay.write(cv, self.counter, self.plan.counter(i))
        return cv.px

    def _draw_working(self, cv, k, w):
        tr, lay, cz = self.tr, self.lay, self.cz
        lay.write(cv, self.where, w["window"])
        pad = np.asarray(tr.is_pad[k], bool)
        if self.lead:          # the prepended causal zeros are padding too
            cells = tr.cells(k)
            pad = pad | (cells < self.p + self.lead)
        field = np.asarray(tr.field[k], float)
        for c, boxes in enumerate(self.rows):
            cell_grid(cv, *boxes["x"].box[:2], self.in_scale.index(field[c])[None], cz, 1,
                      labels=np.array([w["x"][c]]), pad=pad[None], label_size=NUM)
            if self.conv:
                wt = np.asarray(tr.weight[w["f"], c], float)
                lay.write(cv, boxes["wl"], f"× w[{w['f']}, {c}]")
                cell_grid(cv, *boxes["w"].box[:2], weight_scale(tr.weight).index(wt)[None], cz, 1,
                          labels=np.array([w["w"][c]]), label_size=NUM)
                cell_grid(cv, *boxes["p"].box[:2], np.full((1, self.k), BLANK, np.uint8), cz, 1,
                          labels=np.array([w["p"][c]]), label_size=NUM)
                lay.write(cv, boxes["sum"], f"Σ {relation(w['sum_exact'][c])} {w['sums'][c]}",
                          color=TEXT)
            elif tr.op == "max_pool1d":
                x0, y0 = boxes["x"].box[:2]
                for t in w["ties"]:
                    cv.outline(x0 + 1 + t * cz, y0 + 1, x0 + (t + 1) * cz, y0 + cz, MAXC,
                               4 if t == w["argmax"] else 2)
        lay.write(cv, self.final, w["final"])
        if w["note"]:
            lay.write(cv, self.note, w["note"])

    def texts(self, i):
        return self.plan.texts(i, self.work)


def render_signal(trace, max_frames=200, subtitle="", tour=None, title=None, formula=None,
                  lead=0):
    """Render a ``WindowTrace1d`` (one sample) to frames: tour, sweep, hold.

    Parameters
    ----------
    trace : ops.conv1d.WindowTrace1d
        From ``cache.trace(sample=0)`` of conv1d, max_pool1d or avg_pool1d.
    max_frames : int
    subtitle : str
    tour : list of int, optional
        Steps to tour; default: a few informative ones; ``[]``: none.
    title, formula : str, optional
        Replace the op call and the output-size line.
    lead : int
        The first ``lead`` input cells are zeros the caller prepended (causal padding):
        drawn as padding.

    Returns
    -------
    Animation (``texts`` per frame; ``layout`` with ``placed`` boxes and the scales).
    """
    if trace.input.shape[1] > MAX_CHANNELS or trace.out_shape[1] > MAX_CHANNELS:
        raise ValueError(f"render_signal: {trace.input.shape[1]} input and {trace.out_shape[1]} "
                         f"output channels, expected at most {MAX_CHANNELS} each")
    if max_frames < 2:
        raise ValueError(f"render_signal: max_frames={max_frames}, expected at least 2")
    r = _Signal(trace, max_frames, subtitle, tour, title, formula, int(lead))
    frames = [r.frame(i, r.plan.done(i)) for i in range(len(r.steps))]
    layout = {**grammar.record(r.lay),
              "in_scale": r.in_scale, "out_scale": r.out_scale, "decimals": r.d,
              "cell": r.o, "out_cells": [(b.box[0] + RING_MARGIN + 1,
                                          b.box[1] + RING_MARGIN + BAR_H + 5)
                                         for b in r.out_boxes]}
    return Animation(frames, r.steps, layout, phases=r.phases,
                     texts=[r.texts(i) for i in range(len(r.steps))])
