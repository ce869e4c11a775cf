"""Frames of a sliding-window op (conv2d, max_pool2d, avg_pool2d) from its ``WindowTrace``.

Three panels: the padded input (padding hatched, the window ringed), the working of one
step (the window's numbers, and for conv2d the weights, the products x·w, their sums and
``+ bias = out``; for avg_pool2d ``(a + b + …) / k²``; for max_pool2d the max ringed and
ties marked), and the output filling in. The GIF tours a few informative steps slowly,
sweeps through the rest, then holds the complete output (:func:`viz.frames.plan_tour`).

Every number shown is read from the trace, except the products x·w and the per-channel
sums (``trace.contrib``), which are display-only. Numbers are shown at one precision per
GIF; an equation whose shown terms do not add up to its shown total says ≈ and why.
What each frame shows is kept in ``Animation.texts`` so tests can check the arithmetic.
"""
import dataclasses

import numpy as np

from .arith import (APPROX, adds_up, product_grid, decimals_for, divides, relation, show, show_grid,
                    signed_sum)
from .draw import FAINT_LEVEL, RING_MARGIN, MINUS, all_integers, cell_grid, upscale
from .fill import FillGrid
from . import grammar
from .frames import MAX_PLAY_S, NEW_MAX, READ_MS, Animation, single_sample
from .layout import Box, Col, Row, Space, Text, gap_for, grid_of, measure
from .legend import Legend
from .palette import (ACCENT, ACCENT2, BLANK, DIM, MAXC, PANEL, TEXT, auto_scale,
                      weight_scale)
from .tour import TOUR_COUNT, by_hand, choose, fit, room, window_candidates

# the tour reads at most about this long: the hold needs the rest of the 30 s, and the sweep
# gets what is left (render_window shortens it, or drops the last stop, if nothing is)
TOUR_BUDGET_MS = int(MAX_PLAY_S * 1000) - 2500
SWEEP_MIN_MS = 20         # the fastest sweep frame (viz.frames.sweep_pace)
MIN_SWEEP = 40            # a sweep shortened for the 30 s keeps at least this many frames

MAX_LABELLED = 7          # windows up to 7×7 get their numbers written in
NUM_SIZE = 11             # numbers in the working grids (9 for big multi-channel windows)
RULER_SIZE = 9            # input coordinates beside the window grid
INPUT_LABEL_MIN = 20      # input pixels at least this big get their values written in
OUT_CELL_MAX = 64
OUT_TARGET = 200          # px, the least side of an output map
EQ_SIZE = 13


def _pair_str(p):
    return str(p[0]) if p[0] == p[1] else f"({p[0]}, {p[1]})"


def title_of(trace, padding_mode=None):
    """``max_pool2d(kernel_size=2, stride=2, padding=0, dilation=1)`` and the like;
    ``padding_mode`` ("same"/"valid") is shown instead of the padding it resolved to."""
    pad = repr(padding_mode) if padding_mode else _pair_str(trace.padding)
    geo = [f"kernel_size={_pair_str(trace.kernel_size)}", f"stride={_pair_str(trace.stride)}",
           f"padding={pad}"]
    if trace.op != "avg_pool2d":
        geo.append(f"dilation={_pair_str(trace.dilation)}")
    if trace.op == "conv2d":
        f, c, kh, kw = trace.weight.shape
        bias = "" if trace.bias is None else ", bias"
        groups = [f"groups={trace.groups}"] if trace.groups > 1 else []
        return f"conv2d(x, weight {f}×{c}×{kh}×{kw}{bias}, " + ", ".join(geo[1:] + groups) + ")"
    return f"{trace.op}(" + ", ".join(geo) + ")"


def formula_of(trace):
    """The output-size formula with the numbers of ``trace``, one per distinct axis:
    ``out = ⌊(28 + 2·0 − 2)/2⌋ + 1 = 14``."""
    _, _, h, w = trace.input.shape
    parts = []
    for ax, n in enumerate((h, w)):
        k, st, p, d = (trace.kernel_size[ax], trace.stride[ax], trace.padding[ax],
                       trace.dilation[ax])
        span = f"{k}" if d == 1 else f"{d}·({k}{MINUS}1) {MINUS} 1"
        after = trace.padded.shape[2 + ax] - n - p        # 'same' pads one more at the end
        pads = f"2·{p}" if after == p else f"{p} + {after}"
        parts.append(f"\u230a({n} + {pads} {MINUS} {span})/{st}\u230b + 1 = "
                     f"{trace.out_shape[2 + ax]}")
    if parts[0] == parts[1]:
        return "out = " + parts[0]
    return f"OH = {parts[0]}     OW = {parts[1]}"


def _span(a, b, step):
    s = f"{a}" if a == b else f"{a}…{b}" + (f" step {step}" if step > 1 else "")
    return s.replace("-", MINUS)


class _Where:
    """Which output cell step ``k`` writes and which input cells its window covers."""

    def __init__(self, tr, k, F):
        self.k = k
        f, i, j = (int(v) for v in tr.out_index[k, 1:])
        out = getattr(tr, "out_name", "out")       # a trace may name its output (backward views)
        self.where = f"{out}[{f}, {i}, {j}]" if F > 1 else f"{out}[{i}, {j}]"
        ph, pw = tr.padding
        r0, c0 = (int(v) for v in tr.origin[k])
        kh, kw = tr.kernel_size
        dh, dw = tr.dilation
        self.rows = [r0 + dh * a - ph for a in range(kh)]        # input coordinates
        self.cols = [c0 + dw * b - pw for b in range(kw)]
        self.window = (f"input rows {_span(self.rows[0], self.rows[-1], dh)}, "
                       f"cols {_span(self.cols[0], self.cols[-1], dw)} → {self.where}")


class _Working(_Where):
    """The strings one step's working shows, and whether each equation adds up."""

    def __init__(self, tr, k, d, F):
        super().__init__(tr, k, F)
        f = int(tr.out_index[k, 1])
        field = np.asarray(tr.field[k], float)
        # whole-number arrays (an integer kernel, the toy input) are shown without decimals
        dx = 0 if all_integers(tr.input[int(tr.out_index[k, 0])]) else d
        value = float(tr.value[k])
        if tr.op == "max_pool2d" and dx:
            # a near-tie (1.000 and 0.996) would read "1.00" twice: one more digit, until the
            # max differs from every cell that is not equal to it
            fin = field[np.isfinite(field)]
            while dx < 4 and any(show(v, dx) == show(value, dx) for v in fin if v != value):
                dx += 1
            d = max(d, dx)
        self.x = [show_grid(fc, dx) for fc in field]
        self.value = show(value, d)
        self.equations = []           # (terms, total, exact) for the arithmetic test
        if tr.op == "conv2d":
            w = np.asarray(tr.weight[f], float)
            self.w = [show_grid(wc, 0 if all_integers(tr.weight) else d) for wc in w]
            # each product is the shown window number times the shown weight, at d decimals:
            # a reader can check it; the op's own sum may then differ (≈, said below)
            self.p = [product_grid(xc, wc, d) for xc, wc in zip(self.x, self.w)]
            C = len(field)
            single = C == 1 and tr.bias is None
            sums = [value] if single else [float(v) for v in tr.contrib[k]]
            self.sums, self.sum_exact = [], []
            for c in range(C):
                s = show(sums[c], d)
                ok = adds_up(list(self.p[c].ravel()), s)
                self.sums.append(s)
                self.sum_exact.append(ok)
                self.equations.append((list(self.p[c].ravel()), s, ok))
            if single:
                self.final = f"{self.where} = {self.value}"
                self.final_exact = True
            else:
                terms = list(self.sums) + ([] if tr.bias is None else [show(tr.bias[f], d)])
                self.final_exact = adds_up(terms, self.value)
                self.equations.append((terms, self.value, self.final_exact))
                self.final = (f"{signed_sum(terms)} {relation(self.final_exact)} {self.value}"
                              f"  = {self.where}")
            self.exact = all(self.sum_exact) and self.final_exact
        elif tr.op == "avg_pool2d":
            terms = list(self.x[0].ravel())
            n = len(terms)
            total = show(float(field.sum()), dx)                 # display-only sum
            ok_sum = adds_up(terms, total)
            ok_div = divides(total, n, self.value)
            self.equations.append((terms, total, ok_sum))
            rows = [signed_sum(list(r)) for r in self.x[0]]
            self.lines = ["(" + rows[0]] + [("+ " + r) if not r.startswith(MINUS) else
                                              (MINUS + " " + r[1:]) for r in rows[1:]]
            self.lines[-1] += f") / {n}"
            self.final = (f"{relation(ok_sum)} {total} / {n} {relation(ok_div)} {self.value}"
                          f"  = {self.where}")
            self.sum_exact, self.final_exact = [ok_sum], ok_div
            self.divide = (total, n, self.value, ok_div)
            self.exact = ok_sum and ok_div
        else:
            r, c = (int(v) for v in tr.argmax[k])
            self.argmax = (r, c)
            hit = np.argwhere(field[0] == field[0, r, c])
            self.ties = [tuple(int(v) for v in t) for t in hit]
            self.final = f"max = {self.value}  = {self.where}"
            if len(self.ties) > 1:
                self.tie = (f"tie: {len(self.ties)} cells hold {self.value}; the op takes the "
                            f"first in row-major order (thick ring)")
            else:
                self.tie = ""
            self.exact = True
        self.note = "" if self.exact else (
            f"{APPROX}: every number is rounded to {d} decimals, so the shown terms miss "
            "the shown total; the total is the op's own")


class _WindowFrames:
    """Declared layout and per-step drawing for one trace (one sample)."""

    def __init__(self, trace, scale, subtitle, plan, chunks, weight_label, words=None,
                 title=None, formula=None):
        self.words = words or {}
        self.title = title or self.words.get("title") or title_of(trace)
        self.formula = formula or self.words.get("formula") or formula_of(trace)
        self.tr = tr = trace
        self.n = n = single_sample(tr.out_index, "render_window")
        self.conv = tr.op == "conv2d"
        self.s = int(scale)
        self.kh, self.kw = tr.kernel_size
        self.dh, self.dw = tr.dilation
        self.ph, self.pw = tr.padding
        self.xp = np.asarray(tr.padded[n])                        # (C, Hp, Wp)
        self.C, self.Hp, self.Wp = self.xp.shape
        self.Cw = tr.field.shape[1]              # channels one window reads (C / groups)
        self.groups = getattr(tr, "groups", 1)
        _, self.F, self.OH, self.OW = tr.out_shape
        self.ext = (self.dh * (self.kh - 1) + 1, self.dw * (self.kw - 1) + 1)
        self.labelled = max(self.kh, self.kw) <= MAX_LABELLED
        self.plan = plan
        self.chunks = chunks
        steps, phases = self.steps, self.phases = plan.steps, plan.phases

        self.in_scale = auto_scale(tr.input[n])
        self.out_scale = auto_scale(tr.value) if self.conv else self.in_scale
        self.d = _decimals(tr, n)
        # the working of the tour steps; the sweep is too fast to read, it shows where only
        slow = {int(k) for k, ph in zip(steps, phases) if ph == "tour"}
        self.work = {int(k): (_Working(tr, int(k), self.d, self.F) if k in slow else
                              _Where(tr, int(k), self.F)) for k in np.unique(steps)}
        if self.conv:
            self.w_scale = weight_scale(tr.weight)
        self._declare(subtitle, weight_label)

    # -- the declaration -------------------------------------------------------------------
    def _declare(self, subtitle, weight_label):
        tr, s = self.tr, self.s
        wheres = list(self.work.values())
        works = [w for w in wheres if isinstance(w, _Working)] or \
            [_Working(tr, int(self.steps[0]), self.d, self.F)]
        # panel 1: one padded image per channel, room for the window ring around it
        self.read = self._read_mask()
        self.in_boxes = [Box(self.Wp * s + 2 * RING_MARGIN, self.Hp * s + 2 * RING_MARGIN,
                             f"input {c}") for c in range(self.C)]
        chans = [Col(Text(self._in_name(c), 12, color=DIM) if self.C > 1 else None, b, gap=2)
                 for c, b in enumerate(self.in_boxes)]
        in_notes = []
        if self.ph or self.pw:
            fill = "−∞" if tr.op == "max_pool2d" else "0"
            in_notes.append(f"hatched: padding ({fill})")
        if not self.read.all():
            in_notes.append("dimmed: never read by any window")
        in_notes += self.words.get("in_notes", [])
        p1 = Col(grid_of(chans, 2 if self.C > 2 else 1), *grammar.notes(in_notes),
                 Legend(self.in_scale, self.words.get("in_legend", "input values"),
                        name="input legend"), gap=6)

        # panel 3: one output map per output channel
        # as big as the input map, and never smaller than OUT_TARGET px (stacked channels
        # make small input maps)
        o = min((self.Hp * s) // self.OH, (self.Wp * s) // self.OW, OUT_CELL_MAX)
        self.o = max(o, min(OUT_TARGET // max(self.OH, self.OW), OUT_CELL_MAX), 2)
        self.ogap = gap_for(self.o)
        grid_vals = np.full((self.F, self.OH, self.OW), np.nan)
        grid_step = np.zeros((self.F, self.OH, self.OW), dtype=np.int64)
        _, f_, i_, j_ = tr.out_index.T
        grid_vals[f_, i_, j_] = tr.value
        grid_step[f_, i_, j_] = np.arange(len(tr))
        self.grids = [FillGrid(grid_vals[f], grid_step[f], self.out_scale, self.o)
                      for f in range(self.F)]
        self.out_boxes = [Box(g.width + 2 * RING_MARGIN, g.height + 2 * RING_MARGIN, f"output {f}")
                          for f, g in enumerate(self.grids)]
        outs = [Col(Text(self._out_name(f), 12, color=DIM)
                    if self.F > 1 else None, b, gap=2) for f, b in enumerate(self.out_boxes)]
        p3 = Col(grid_of(outs, 2 if self.F > 2 else 1),
                 *grammar.notes(self.words.get("out_notes", [])),
                 Legend(self.out_scale, self.words.get("out_legend", "output values"),
                        name="output legend"), gap=6)

        # panel 2: the working
        self.caption = self.plan.caption_slot()
        self.where = grammar.where_slot([w.window for w in wheres], "window")
        head = [self.caption, self.where]
        if self.conv and self.groups > 1:
            self.wiring = Text(None, 12, color=ACCENT2, name="wiring",
                               widest=[self._wiring(f) for f in range(self.F)])
            head.append(self.wiring)
        if self.dh > 1 or self.dw > 1:
            head.append(Text(f"{self.kh}×{self.kw} taps spanning {self.ext[0]}×{self.ext[1]} "
                             f"(dilation {_pair_str(tr.dilation)}); skipped cells dimmed",
                             12, color=DIM))
        body = self.body = self._declare_conv(works, weight_label) if self.conv else \
            self._declare_pool(works)
        self.note = grammar.note_slot([w.note for w in works if w.note])
        p2 = Col(*head, Space(0, 4), body, self.note, gap=5)

        dims = f"{self.C}×{tr.input.shape[2]}×{tr.input.shape[3]}"
        what = {"conv2d": "working: window × weights, summed",
                "max_pool2d": "working: the max of the window",
                "avg_pool2d": "working: the mean of the window"}[tr.op]
        wd = self.words
        fr = grammar.Frame(self.title, self.formula,
                           [(p1, wd.get("p1", f"input {dims}")), (p2, wd.get("p2", what)),
                            (p3, wd.get("p3", f"output {self.F}×{self.OH}×{self.OW}"))],
                           subtitle, self.plan.counters())
        self.lay, self.panels, self.counter = fr.lay, fr.panels, fr.counter
        self._draw_static()

    def _cell_size(self, strings, size):
        w = max(measure(t, size, "mono")[0] for t in strings) if strings else 0
        cz = max(w + 6, measure("0", size, "mono")[1] + 6, 18)
        return max(cz, min(48, 144 // max(self.kh, self.kw)))

    def _rulers(self, works, cz, name):
        """Coordinate slots above (columns) and left of (rows) a window grid."""
        # The widest labels by measured width (ties by text): deterministic, unlike set order.
        labels = {str(v).replace("-", MINUS) for w in self.work.values() for v in w.rows + w.cols}
        widest = sorted(labels, key=lambda t: (measure(t, RULER_SIZE)[0], t))[-3:]
        rw = max(measure(t, RULER_SIZE)[0] for t in widest) + 3
        cols = [Text(None, RULER_SIZE, color=DIM, widest=widest, width=cz, align="c",
                     name=f"{name} col {b}") for b in range(self.kw)]
        rows = [Text(None, RULER_SIZE, color=DIM, widest=widest, width=rw, height=cz, align="r",
                     name=f"{name} row {a}") for a in range(self.kh)]
        return cols, rows, Row(Space(rw + 1, 0), *cols, gap=0), Col(Space(0, 1), *rows, gap=0)

    def _grid_with_rulers(self, box, works, cz, name):
        cols, rows, top, left = self._rulers(works, cz, name)
        self.ruler_slots.append((cols, rows))
        return Col(top, Row(left, box, gap=0), gap=1)

    def _declare_conv(self, works, weight_label):
        tr = self.tr
        size = NUM_SIZE if self.Cw <= 2 or max(self.kh, self.kw) <= 4 else 9
        strings = [t for w in works for g in w.x + w.w + w.p for t in g.ravel()]
        self.num_size = size
        self.cz = cz = self._cell_size(strings if self.labelled else [], size)
        gw, gh = self.kw * cz + 1, self.kh * cz + 1
        self.ruler_slots, self.x_boxes, self.w_boxes, self.p_boxes = [], [], [], []
        self.sum_slots = []
        sum_w = [f"Σ = {t}" for w in works for t in w.sums] + \
                [f"Σ {APPROX} {t}" for w in works for t in w.sums]
        wl = weight_label or (lambda f: f"w[{f}] ({'×'.join(map(str, tr.weight.shape))})")
        self.wl = wl
        self.w_head = Text(None, 12, color=DIM, name="weight head",
                           widest=[wl(f) for f in range(self.F)])
        heads = self.words.get("heads", ["x (window)", None, "x · w"])
        rows = []
        self.chan_slots = []
        for c in range(self.Cw):
            xb, wb, pb = (Box(gw, gh, f"{t} grid {c}") for t in ("x", "w", "p"))
            self.x_boxes.append(xb)
            self.w_boxes.append(wb)
            self.p_boxes.append(pb)
            slot = Text(None, EQ_SIZE, "mono", name=f"sum {c}", widest=sum_w)
            self.sum_slots.append(slot)
            xcol = self._grid_with_rulers(xb, works, cz, f"x {c}")
            lift = xcol.size()[1] - gh             # the x column's ruler sits above its grid

            def sym(t, c=c, lift=lift):
                return Col(Space(0, lift), Text(t, 15, align="c", height=gh, width=16,
                                                name=f"{t} {c}"))
            head = [(Text(h, 12, color=DIM, name=f"head {h}") if h else self.w_head)
                    if c == 0 else None for h in heads]
            rows.append(Row(Col(head[0], xcol, gap=2), sym("×"),
                            Col(head[1], Space(0, lift), wb, gap=2),
                            sym("="), Col(head[2], Space(0, lift), pb, gap=2),
                            Col(self._chan_slot(c), slot, gap=2), gap=8, align="b"))
        self.final = Text(None, EQ_SIZE, "monobold", ACCENT, name="final",
                          widest=[w.final for w in works])
        leg = Legend(self.w_scale, self.words.get("w_legend", "weights (their own colours)"),
                     name="weight legend")
        return Col(*rows, Space(0, 2), self.final, leg, gap=8)

    def _chan_slot(self, c):
        if self.C == 1:
            return Text("sum", 11, color=DIM)
        t = Text(None, 11, color=DIM, name=f"channel slot {c}",
                 widest=[f"channel {ch}" for ch in range(self.C)])
        self.chan_slots.append(t)
        return t

    def _group_span(self, g):
        """(input channels, filters) of group g as text: ``"2…3"``, ``"2"``."""
        per = self.F // self.groups

        def span(a, n):
            return f"{a}" if n == 1 else f"{a}…{a + n - 1}"
        return span(g * self.Cw, self.Cw), span(g * per, per)

    def _in_name(self, c):
        if not self.conv or self.groups == 1:
            return f"channel {c}"
        per = self.F // self.groups
        fs = self._group_span(c // self.Cw)[1]
        return f"channel {c} → filter{'s' * (per > 1)} {fs}"

    def _out_name(self, f):
        if not self.conv:
            return f"channel {f}"
        if self.groups == 1:
            return f"filter {f}"
        ch = self._group_span(f // (self.F // self.groups))[0]
        return f"filter {f} ← channel{'s' * (self.Cw > 1)} {ch}"

    def _wiring(self, f):
        """Which input channels filter ``f`` reads (groups > 1)."""
        per = self.F // self.groups
        g = f // per
        ch = f"{g * self.Cw}" if self.Cw == 1 else f"{g * self.Cw}…{(g + 1) * self.Cw - 1}"
        fs = f"{g * per}" if per == 1 else f"{g * per}…{(g + 1) * per - 1}"
        return (f"groups={self.groups}: filter {f} reads input channel{'s' * (self.Cw > 1)} "
                f"{ch} only (group {g}: channels {ch} → filters {fs}); the rest dimmed")

    def _declare_pool(self, works):
        strings = [t for w in works for t in w.x[0].ravel()]
        self.num_size = NUM_SIZE
        self.cz = cz = max(self._cell_size(strings if self.labelled else [], NUM_SIZE), 36)
        gw, gh = self.kw * cz + 1, self.kh * cz + 1
        self.ruler_slots = []
        self.x_boxes = [Box(gw, gh, "x grid")]
        grid = self._grid_with_rulers(self.x_boxes[0], works, cz, "x")
        self.final = Text(None, 15, "monobold", ACCENT, name="final",
                          widest=[w.final for w in works])
        parts = [grid]
        if self.tr.op == "avg_pool2d":
            self.lines = [Text(None, EQ_SIZE, "mono", name=f"line {a}",
                               widest=[w.lines[a] for w in works]) for a in range(self.kh)]
            parts += [Col(*self.lines, gap=1)]
            if self.ph or self.pw:
                parts.append(Text(f"padding counts as 0 and in the divisor {self.kh * self.kw}",
                                  11, color=DIM))
        else:
            self.tie = Text(None, 12, color=MAXC, name="tie",
                            widest=[w.tie for w in works if w.tie])
            parts.append(self.tie)
        parts.append(self.final)
        return Col(*parts, gap=8)

    def _read_mask(self):
        """Padded input cells that some window reads."""
        rows = np.zeros(self.Hp, bool)
        cols = np.zeros(self.Wp, bool)
        for a in range(self.kh):        # a loop over kernel offsets
            rows[np.arange(self.OH) * self.tr.stride[0] + a * self.dh] = True
        for b in range(self.kw):
            cols[np.arange(self.OW) * self.tr.stride[1] + b * self.dw] = True
        return rows[:, None] & cols[None, :]

    # -- drawing ---------------------------------------------------------------------------
    def _draw_static(self):
        base, s = self.lay.base, self.s
        big = s >= INPUT_LABEL_MIN
        pad = np.ones((self.Hp, self.Wp), bool)              # 'same' may pad one more at the end
        h, w = self.tr.input.shape[2:]
        pad[self.ph:self.ph + h, self.pw:self.pw + w] = False
        pad |= self.words.get("in_hatch", False)          # cells a backward view marks as border
        self.pad_mask = pad
        self.in_xy = []
        for c, box in enumerate(self.in_boxes):
            ix, iy = box.box[0] + RING_MARGIN, box.box[1] + RING_MARGIN
            self.in_xy.append((ix, iy))
            idx = self.in_scale.index(self.xp[c])
            if big:
                labels = show_grid(self.xp[c], self.d)
                cell_grid(base, ix, iy, idx, s, gap_for(s), labels=labels, pad=pad,
                          label_size=min(NUM_SIZE + 2, s // 2))
            else:
                base.blit(ix, iy, upscale(idx, s))
                for r, q in zip(*np.nonzero(pad)):
                    base.hatch(ix + q * s, iy + r * s, ix + (q + 1) * s, iy + (r + 1) * s)
            for r, q in zip(*np.nonzero(~self.read | self.words.get("in_dim", False))):
                base.dim(ix + q * s, iy + r * s, ix + (q + 1) * s, iy + (r + 1) * s,
                         FAINT_LEVEL)        # the digit stays a digit, not dots
        self.out_xy = [(b.box[0] + RING_MARGIN, b.box[1] + RING_MARGIN) for b in self.out_boxes]

    def _labels(self, strings):
        return strings if self.labelled else None

    def _draw_rulers(self, cv, w):
        for cols, rows in self.ruler_slots:
            for slot, v in zip(cols, w.cols):
                self.lay.write(cv, slot, str(v).replace("-", MINUS))
            for slot, v in zip(rows, w.rows):
                self.lay.write(cv, slot, str(v).replace("-", MINUS))

    def _draw_working(self, cv, k, w, rev):
        tr, cz, lay = self.tr, self.cz, self.lay
        done = _complete(rev)
        pad = tr.is_pad[k]
        field = np.asarray(tr.field[k], float)
        lay.write(cv, self.where, w.window)
        self._draw_rulers(cv, w)
        size = self.num_size
        if self.conv:
            f = int(tr.out_index[k, 1])
            lay.write(cv, self.w_head, self.wl(f))
            chans = tr.channels(k)
            for c in range(self.Cw):
                if self.chan_slots:
                    lay.write(cv, self.chan_slots[c], f"channel {int(chans[c])}")
                rows = [_has(rev, "x", c, r) for r in range(self.kh)]
                x0, y0 = self.x_boxes[c].box[:2]
                cell_grid(cv, x0, y0, _hide(self.in_scale.index(field[c]), rows), cz, 1,
                          labels=self._labels(_hide(w.x[c], rows, "")),
                          pad=pad[c] & np.array(rows)[:, None] if pad.ndim == 3 else
                          pad & np.array(rows)[:, None], label_size=size)
                rows = [_has(rev, "w", c, r) for r in range(self.kh)]
                x0, y0 = self.w_boxes[c].box[:2]
                cell_grid(cv, x0, y0, _hide(self.w_scale.index(tr.weight[f, c]), rows), cz, 1,
                          labels=self._labels(_hide(w.w[c], rows, "")), label_size=size)
                rows = [_has(rev, "p", c, r) for r in range(self.kh)]
                x0, y0 = self.p_boxes[c].box[:2]
                cell_grid(cv, x0, y0, np.full((self.kh, self.kw), BLANK, np.uint8), cz, 1,
                          labels=self._labels(_hide(w.p[c], rows, "")), label_size=size)
                if done:
                    lay.write(cv, self.sum_slots[c],
                              f"Σ {relation(w.sum_exact[c])} {w.sums[c]}", color=TEXT)
            if done:
                lay.write(cv, self.final, w.final)
        else:
            x0, y0 = self.x_boxes[0].box[:2]
            cell_grid(cv, x0, y0, self.in_scale.index(field[0]), cz, 1,
                      labels=self._labels(w.x[0]), pad=pad, label_size=size)
            if not done:
                return
            if tr.op == "max_pool2d":
                r0, c0 = w.argmax
                for r, c in w.ties:          # the one the op takes gets the thick ring
                    cv.outline(x0 + 1 + c * cz, y0 + 1 + r * cz, x0 + (c + 1) * cz,
                               y0 + (r + 1) * cz, MAXC, 4 if (r, c) == (r0, c0) else 2)
                if w.tie:
                    lay.write(cv, self.tie, w.tie)
            else:
                for slot, line in zip(self.lines, w.lines):
                    lay.write(cv, slot, line)
            lay.write(cv, self.final, w.final)
        if w.note and done:
            lay.write(cv, self.note, w.note)

    def _draw_input(self, cv, k, w):
        tr, s = self.tr, self.s
        r0, c0 = (int(v) for v in tr.origin[k])
        chans = tr.channels(k) if self.conv else [int(tr.out_index[k, 1])]
        if self.conv and self.groups > 1:          # the wiring: channels this filter skips
            lay = self.lay
            lay.write(cv, self.wiring, self._wiring(int(tr.out_index[k, 1])))
            for c in set(range(self.C)) - {int(v) for v in chans}:
                ix, iy = self.in_xy[c]
                cv.dim(ix, iy, ix + self.Wp * self.s, iy + self.Hp * self.s)
        dilated = self.dh > 1 or self.dw > 1
        for c in chans:
            ix, iy = self.in_xy[int(c)]
            X0, Y0 = ix + c0 * s, iy + r0 * s
            if dilated:                    # dim the cells inside the span that are skipped
                taps = np.zeros(self.ext, bool)
                taps[::self.dh, ::self.dw] = True
                for r, q in zip(*np.nonzero(~taps)):
                    cv.dim(X0 + q * s, Y0 + r * s, X0 + (q + 1) * s, Y0 + (r + 1) * s)
                if s >= 4:
                    for r, q in zip(*np.nonzero(taps)):
                        cv.outline(X0 + q * s, Y0 + r * s, X0 + (q + 1) * s, Y0 + (r + 1) * s,
                                   ACCENT2, 1)
            cv.ring(X0, Y0, X0 + self.ext[1] * s, Y0 + self.ext[0] * s)
            if tr.op == "max_pool2d" and s >= 4:
                r, q = (int(v) for v in tr.argmax[k])
                ax, ay = X0 + q * self.dw * s, Y0 + r * self.dh * s
                cv.outline(ax, ay, ax + s, ay + s, MAXC, 1 if s < 8 else 2)

    def frame(self, i, done):
        """Frame ``i`` of the plan; ``done``: bool per step, the output cells written."""
        tr, lay = self.tr, self.lay
        k, phase = int(self.steps[i]), self.phases[i]
        cv = lay.new_frame()
        lay.write(cv, self.caption, self.plan.caption(i))
        current = None
        if phase != "tour":     # no working panel around nothing: the sweep and hold blank it
            cv.rect(*self.body.box, PANEL)
        if phase != "hold":
            w = self.work[k]
            self._draw_input(cv, k, w)
            if isinstance(w, _Working) and phase == "tour":
                self._draw_working(cv, k, w, self._revealed(i))
            f, r, c = (int(v) for v in tr.out_index[k, 1:])
            current = (f, (r, c))
        for g, (gx, gy), ff in zip(self.grids, self.out_xy, range(self.F)):
            g.draw(cv, gx, gy, k, current[1] if current and current[0] == ff else None,
                   done=done, ring=True)
            if "out_dim" in self.words:                   # e.g. dx cells cropped by padding
                for r, q in zip(*np.nonzero(self.words["out_dim"])):
                    x0, y0 = gx + g.gap + q * g.cw, gy + g.gap + r * g.ch
                    cv.dim(x0, y0, x0 + g.cw - g.gap, y0 + g.ch - g.gap)
        lay.write(cv, self.counter, self.plan.counter(i))
        return cv.px

    def _revealed(self, i):
        """What of its step's working tour frame ``i`` shows: the chunks up to its part, and
        every weight row of a filter an earlier stop showed whole."""
        k = int(self.steps[i])
        built = self.chunks[k]
        if self.plan.nparts[i] < len(built):        # no room to build it up: all at once
            built = [tuple(u for ch in built for u in ch)]
        rev = {u for ch in built[:self.plan.part[i] + 1] for u in ch}
        if self.conv:
            f = int(self.tr.out_index[k, 1])
            seen = {int(self.tr.out_index[int(self.steps[j]), 1]) for j in range(i)
                    if self.phases[j] == "tour" and self.steps[j] != k}
            if f in seen:
                rev |= _weights(self.tr)
        return rev

    def _shown(self, w, rev):
        """The numbers tour frame's working shows, as strings (for the reading rule)."""
        return _shown(self.tr, w, rev, self.d)

    def texts(self, i):
        """What frame ``i`` shows in words and numbers (the declared text)."""
        w = self.work[int(self.steps[i])]
        if not isinstance(w, _Working) or self.phases[i] != "tour":
            return {"caption": self.plan.caption(i)}
        rev = self._revealed(i)
        out = {"caption": self.plan.caption(i), "window": w.window, "final": w.final,
               "equations": w.equations, "note": w.note, "x": w.x, "value": w.value,
               "part": self.plan.part[i], "parts": self.plan.nparts[i],
               "shown": self._shown(w, rev), "complete": _complete(rev)}
        if self.conv:
            f = int(self.tr.out_index[w.k, 1])
            out.update(w=w.w, p=w.p, sums=w.sums, sum_exact=w.sum_exact, w_head=self.wl(f),
                       channels=[int(c) for c in self.tr.channels(w.k)])
            if self.groups > 1:
                out["wiring"] = self._wiring(f)
        elif self.tr.op == "avg_pool2d":
            out.update(lines=w.lines, divide=w.divide)
        else:
            out.update(ties=w.ties, argmax=w.argmax, tie=w.tie)
        return out

    def layout(self):
        return {"input_xy": self.in_xy, "scale": self.s, "output_xy":
                [(x + g.gap, y + g.gap) for (x, y), g in zip(self.out_xy, self.grids)],
                "cell": self.o, "gap": self.ogap, "in_scale": self.in_scale,
                "out_scale": self.out_scale, **grammar.record(self.lay, self.panels),
                "decimals": self.d, "work_cell": self.cz,
                "x_grids": [b.box for b in self.x_boxes],
                "slots": {"final": self.final, "caption": self.caption, "window": self.where,
                          "note": self.note}}


def units(tr):
    """The units a window step's working is built up from, in groups a frame never mixes:
    conv2d row by row (the window's row, the weights', the products'), then Σ and + bias;
    a pool: the window and its max or mean (together when small, else one after the other)."""
    kh, kw = tr.kernel_size
    if tr.op != "conv2d":
        return [[("all",)]] if kh * kw + 1 <= NEW_MAX else [[("x", 0, None)], [("sum",)]]
    return [[("x", c, r), ("w", c, r), ("p", c, r)] for c in range(tr.field.shape[1])
            for r in range(kh)] + [[("sum",)]]


def chunks(tr, stops, d):
    """How each toured step's working is built up, one chunk (a tuple of :func:`units`) a
    frame, so that no frame shows more than ``NEW_MAX`` numbers the frame before did not: a
    group's units go together while they fit, else one after the other. ``stops`` in the
    order shown (a filter's weights, once shown whole, stay). Returns step -> chunks."""
    F = tr.out_shape[1]
    out, prev, seen = {}, set(), set()
    for s in stops:
        k = int(s.step)
        w = _Working(tr, k, d, F)
        f = int(tr.out_index[k, 1])
        base = _weights(tr) if tr.op == "conv2d" and f in seen else set()
        out[k], prev = grammar.build_up(units(tr), lambda rev: _shown(tr, w, rev, d), prev,
                                        base)
        seen.add(f)
    return out


def _weights(tr):
    """Every weight row's unit."""
    return {("w", c, r) for c in range(tr.field.shape[1]) for r in range(tr.kernel_size[0])}


def _has(rev, what, c, r):
    """Whether units ``rev`` show row ``r`` of grid ``what`` of channel ``c``."""
    return ("all",) in rev or (("x", 0, None) in rev and what == "x") or (what, c, r) in rev


def _shown(tr, w, rev, d):
    """The numbers a tour frame's working ``w`` shows with units ``rev``, as strings."""
    conv = tr.op == "conv2d"
    out = []
    for c in range(len(w.x)):
        for r in range(tr.kernel_size[0]):
            if _has(rev, "x", c, r):
                out += list(w.x[c][r])
            if conv and _has(rev, "w", c, r):
                out += list(w.w[c][r])
            if conv and _has(rev, "p", c, r):
                out += list(w.p[c][r])
    if _complete(rev):
        if conv:
            out += list(w.sums) + ([] if tr.bias is None else
                                   [show(tr.bias[int(tr.out_index[w.k, 1])], d)])
        elif tr.op == "avg_pool2d":
            out += [w.divide[0], str(w.divide[1])]
        out.append(w.value)
    return out


def _reading(tr, k, d, F, before):
    """How long step ``k``'s working takes to read (``READ_MS`` a number): the window, the
    products, the sums, the output, and the weights unless a stop ``before`` showed them."""
    w = _Working(tr, k, d, F)
    shown = {t for g in w.x for t in g.ravel()} | {w.value}
    if tr.op == "conv2d":
        f = int(tr.out_index[k, 1])
        shown |= {t for g in w.p for t in g.ravel()} | set(w.sums)
        if all(int(tr.out_index[s.step, 1]) != f for s in before):
            shown |= {t for g in w.w for t in g.ravel()}
    return READ_MS * (len(shown) + 1)


def _complete(rev):
    return ("sum",) in rev or ("all",) in rev


def _hide(a, rows, blank=BLANK):
    """``a`` with the rows not yet shown blank."""
    a = np.array(a, copy=True)
    for r, ok in enumerate(rows):
        if not ok:
            a[r] = blank
    return a


def _decimals(tr, n):
    """0 when every number shown is whole: the input and, for conv2d, weights and bias; for
    avg_pool2d the means too (a mean of whole numbers need not be one: 16 / 9 is not 2)."""
    ints = [tr.input[n]] + ([tr.weight] + ([tr.bias] if tr.bias is not None else [])
                            if tr.op == "conv2d" else []) + \
        ([tr.value] if tr.op == "avg_pool2d" else [])
    return decimals_for(*ints)


def auto_scale_factor(height, width, channels=1):
    """Default ``scale``: about 240 px for the (padded) input, 40 at most (small inputs
    get big cells with their numbers), smaller when several channels are stacked."""
    s = min(40, 240 // max(height, width), 360 // (channels * height) if channels > 1 else 40)
    return max(1, s)


def _sweep_cap(anim, max_frames):
    """``max_frames`` for a sweep short enough that ``anim`` (tour and hold as they are) plays
    within ``MAX_PLAY_S`` at the fastest sweep pace; None below ``MIN_SWEEP`` frames."""
    tour = [d for d, ph in zip(anim.durations(), anim.phases) if ph == "tour"]
    n = int((MAX_PLAY_S * 1000 - sum(tour) - anim.hold_ms) // SWEEP_MIN_MS)
    return len(tour) + n + 1 if MIN_SWEEP <= n < max_frames - len(tour) - 1 else None


def _tourable(cands, no_tour):
    """``cands`` without the steps ``no_tour`` (bool per step) marks: a backward view's
    cells that are cropped away are not worth a tour stop, the lesson is elsewhere."""
    if no_tour is None:
        return cands
    no_tour = np.asarray(no_tour, bool).ravel()
    out = []
    for c in cands:
        if c.score is not None:
            ok = np.ones(no_tour.size, bool) if c.ok is None else np.asarray(c.ok, bool)
            out.append(dataclasses.replace(c, ok=ok & ~no_tour))
        elif c.step is None or not no_tour[int(c.step)]:
            out.append(c)
    return out


def render_window(trace, scale=None, max_frames=200, subtitle="", tour=None,
                  tour_count=TOUR_COUNT, weight_label=None, words=None, title=None, formula=None,
                  padding_mode=None):
    """Render a ``WindowTrace`` (one sample) to frames: tour, sweep, hold.

    Parameters
    ----------
    trace : ops.WindowTrace
        From ``cache.trace(sample=n)`` of conv2d, max_pool2d or avg_pool2d.
    scale : int, optional
        Screen pixels per input pixel in panel 1 (integer: crisp upscaling); default
        :func:`auto_scale_factor` of the padded input.
    max_frames : int
        Most frames in all (tour, sweep and hold).
    subtitle : str
        Footer text (what the input and the kernel are).
    tour : list of int, optional
        Trace steps to tour (``[]``: no tour); default: :func:`viz.tour.window_candidates`.
    tour_count : int
        How many steps the default tour picks.
    weight_label : callable, optional
        ``f -> str`` naming filter ``f``'s weights, e.g. ``"w[3] of conv1 (6×1×5×5)"``.
    words : dict, optional
        For views that draw another array as a window op (conv2d's gather backward):
        ``title``, ``formula``, ``p1``/``p2``/``p3`` panel labels, ``in_legend``,
        ``out_legend``, ``w_legend``, ``heads``, ``in_notes``/``out_notes`` (lists), and
        bool masks ``in_hatch``, ``in_dim`` (padded input) and ``out_dim`` (output map);
        ``reasons``: the view's own caption for each kind of tour stop (``"largest"``,
        ``"spread"``, ``"padding"``, ... of :func:`viz.tour.window_candidates`).
    title, formula : str, optional
        Replace the op call and the output-size line (e.g. with the guide's relationship).
    padding_mode : {"same", "valid"}, optional
        Name conv2d's string padding in the title instead of the padding it resolved to.

    Returns
    -------
    Animation : ``frames``, ``steps``, ``phases``, ``texts`` (per frame, what the working
    shows) and ``layout`` (``input_xy``, ``scale``, ``output_xy``, ``cell``, ``gap``,
    ``in_scale``, ``out_scale``, ``placed``: every text/content/panel box).
    """
    if scale is None:
        _, c, hp, wp = trace.padded.shape
        scale = auto_scale_factor(hp, wp, c)
    if int(scale) < 1:
        raise ValueError(f"render_window: scale={scale}, expected an integer >= 1")
    n = single_sample(trace.out_index, "render_window")
    F = trace.out_shape[1]
    if tour is None:
        d = _decimals(trace, n)
        # a short --max-frames shortens the tour: the sweep and the hold need a frame each
        # every filter of a multi-filter conv once, as far as the 30 s allow
        stops = choose(_tourable(window_candidates(trace), (words or {}).get("no_tour")),
                       room(max(tour_count, F), max_frames),
                       exact=lambda k: _Working(trace, k, d, F).exact)
        stops = fit(stops, lambda i, s: _reading(trace, s.step, d, F, stops[:i]),
                    TOUR_BUDGET_MS)
    else:
        stops = by_hand(tour)
    own = (words or {}).get("reasons", {})          # a backward view's words for each kind
    d = _decimals(trace, n)
    cap = max_frames
    while True:
        built = chunks(trace, stops, d)
        plan = grammar.Tour(len(trace), [s.worded(own) for s in stops], cap,
                            sweep=grammar.sweep_other("windows"),
                            hold=(words or {}).get("hold", grammar.OUTPUT),
                            parts=lambda k: len(built[int(k)]))
        wf = _WindowFrames(trace, scale, subtitle, plan, built, weight_label, words,
                           title or (words or {}).get("title") or title_of(trace, padding_mode),
                           formula)
        texts = [wf.texts(i) for i in range(len(plan))]
        anim = Animation([], plan.steps, phases=plan.phases, texts=texts)
        anim.frames = [None] * len(plan)
        # the estimate of the tour's reading time is rough: when the whole would play longer
        # than MAX_PLAY_S, a shorter sweep (fewer frames at the fastest pace), else the last
        # stop gives way
        if tour is not None or len(stops) <= 1 or \
                sum(anim.durations()) <= MAX_PLAY_S * 1000:
            break
        cap = _sweep_cap(anim, max_frames) if cap == max_frames else None
        if cap is None:
            stops, cap = stops[:-1], max_frames
    anim.frames = [wf.frame(i, plan.done(i)) for i in range(len(plan))]
    anim.layout = wf.layout()
    return anim
