"""Frames of conv_transpose2d from its ``ConvTransposeTrace``, in either view of the trace.

*scatter*: each input cell stamps ``x × w`` into the output; panel 3 is the padded output
accumulating the stamps, the cropped padding hatched (what lands there is lost).
*direct*: the same output as an ordinary convolution of the zero-inserted, padded input
with the 180°-rotated kernel; panel 1 shows the input, then the array the window slides
over, where the inserted zeros (ringed, blue "0") and the padding (hatched) are drawn
differently from the input's own cells, so the picture cannot be taken for a direct
convolution of the input (conv_arithmetic issues #30, #35).

Both play the window grammar: a slow tour of a few steps with their working, a fast sweep
and a hold on the op's own output. Every number comes from the trace, except the products
and per-channel sums of the working, which are display-only.
"""
import numpy as np

from .arith import adds_up, decimals_for, relation, show, show_grid, signed_sum
from .draw import MINUS, RING_MARGIN, all_integers, cell_grid, fmt
from .fill import FillGrid
from . import grammar
from .frames import Animation
from .layout import Box, Col, Row, Space, Text, gap_for
from .legend import Legend
from .palette import (ACCENT, ACCENT2, BLANK, DIM, TEXT, auto_scale, gray_scale, ink,
                      weight_scale)
from .tour import TOUR_COUNT, by_hand, choose, ranked, room

MAX_CHANNELS = 4
NUM = 11
LABEL_CELL = 18     # cells at least this many px get their number written in
COUNT_CELL, COUNT_SIZE = 30, 9   # --counts: "2×" in the corner of output cells this big
WORK_CELL = 34


def _p(v):
    return str(v[0]) if v[0] == v[1] else f"({v[0]}, {v[1]})"


def _m(v):
    return str(v).replace("-", MINUS)


def transpose_geometry(trace, x, weight):
    """(stride, padding, output_padding, dilation, groups, out_shape) of the op behind
    ``trace``, read from the trace and the arrays it ran on."""
    st = trace.steps
    _, c_out, oh, ow = trace.value.shape
    k = weight.shape[2:]
    opad = tuple(o - ((n - 1) * s - 2 * p + d * (kk - 1) + 1) for o, n, s, p, d, kk in
                 zip((oh, ow), x.shape[2:], st.stride, st.padding, st.dilation, k))
    return st.stride, st.padding, opad, st.dilation, c_out // weight.shape[1], trace.value.shape


def transpose_title(trace, x, weight):
    s, p, op, d, g, _ = transpose_geometry(trace, x, weight)
    parts = [f"stride={_p(s)}", f"padding={_p(p)}"]
    if any(op):
        parts.append(f"output_padding={_p(op)}")
    if g > 1:
        parts.append(f"groups={g}")
    if any(v > 1 for v in d):
        parts.append(f"dilation={_p(d)}")
    shape = "×".join(map(str, weight.shape))
    bias = "" if trace.bias is None else ", bias"
    return f"conv_transpose2d(x, weight {shape}{bias}, " + ", ".join(parts) + ")"


def transpose_formula(trace, x, weight):
    """``out = (in − 1)·s − 2·p + d·(k − 1) + output_padding + 1`` with the numbers."""
    s, p, op, d, _, shape = transpose_geometry(trace, x, weight)
    parts = []
    for a in range(2):
        parts.append(f"({x.shape[2 + a]} {MINUS} 1)·{s[a]} {MINUS} 2·{p[a]} + {d[a]}·"
                     f"({weight.shape[2 + a]} {MINUS} 1) + {op[a]} + 1 = {shape[2 + a]}")
    if parts[0] == parts[1]:
        return "out = (in − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1 = " \
               + parts[0]
    return f"OH = {parts[0]}     OW = {parts[1]}"


def _inserted_zeros(cv, x0, y0, mask, z, size=None, label=True):
    """The zeros inserted between input cells: blank, a thin blue ring and a blue 0, unlike
    the input's own cells (coloured) and the padding (hatched); small cells get a blue dot."""
    g = gap_for(z)
    for r, q in zip(*np.nonzero(mask)):
        X, Y = x0 + g + q * z, y0 + g + r * z
        cv.rect(X, Y, X + z - g, Y + z - g, BLANK)
        if z >= 8:
            cv.outline(X + 2, Y + 2, X + z - g - 2, Y + z - g - 2, ACCENT2, 1)
        else:
            cv.rect(X + z // 2 - 1, Y + z // 2 - 1, X + z // 2 + 1, Y + z // 2 + 1, ACCENT2)
        if label:
            cv.text(X + (z - g) / 2, Y + (z - g) / 2, "0", size=size or min(12, z // 2),
                    color=ACCENT2, face="mono", anchor="mm")


class _Base:
    """What both views share: title, formula, panels, footer, the tour plan."""

    def _finish(self, p1, p2, p3, labels, title, formula, subtitle):
        fr = grammar.Frame(title, formula, list(zip((p1, p2, p3), labels)), subtitle,
                           self.plan.counters())
        self.lay, self.panels, self.counter = fr.lay, fr.panels, fr.counter

    def _plan(self, stops, max_frames, parts=1):
        self.plan = grammar.Tour(self.S, stops, max_frames, sweep=grammar.sweep_other("steps"),
                                 parts=parts)
        self.steps, self.phases = self.plan.steps, self.plan.phases


class _Scatter(_Base):
    def __init__(self, trace, x, weight, max_frames, tour, title, formula, subtitle, counts):
        st = trace.steps
        self.tr, self.st, self.x, self.w = trace, st, np.asarray(x[0], float), weight
        self.S = len(st)
        self.C = self.x.shape[0]
        self.kh, self.kw = st.kernel_size
        self.ph, self.pw = st.padding
        self.Hp, self.Wp = st.padded_size()
        _, self.F, self.OH, self.OW = trace.value.shape
        self.d = decimals_for(self.x, weight)
        if tour is None:
            xs = np.abs(self.x[st.out_index[:, 1], st.out_index[:, 2], st.out_index[:, 3]])
            counts_ = st.overlap_counts()
            overl = np.array([(counts_[tuple(st.cells(k).reshape(-1, 2).T)] > 1).sum()
                              for k in range(self.S)]) * (xs > 0)
            lost = st.is_pad.reshape(self.S, -1).sum(1) * (xs > 0)
            stops = choose(ranked([
                ("largest", "the largest input cell: the biggest stamp", xs),
                ("overlap", "its stamp overlaps others: the outputs add up", overl * 1.0),
                ("cropped", "part of its stamp lands on the cropped padding", lost * 1.0),
                ("another", "another large input cell", xs)]), room(TOUR_COUNT - 1, max_frames))
        else:
            stops = by_hand(tour)
        self._plan(stops, max_frames)
        full = st.padded_output()[0]                              # (F, Hp, Wp)
        self.out_scale = auto_scale(np.concatenate([full.ravel(), trace.value[0].ravel()]))
        self.in_scale = auto_scale(self.x)
        self.w_scale = weight_scale(weight)
        self.counts = st.overlap_counts() if counts else None
        # the first step whose stamp reaches each padded output cell (S: none)
        self.first_touch = np.full((self.F, self.Hp, self.Wp), self.S)
        for k in range(self.S - 1, -1, -1):
            cells = st.cells(k).reshape(-1, 2)
            for f in st.channels[k]:
                self.first_touch[f, cells[:, 0], cells[:, 1]] = k
        self._declare(title, formula, subtitle)

    def _declare(self, title, formula, subtitle):
        s = max(4, min(40, 200 // max(self.x.shape[1:])))
        self.s = s
        self.in_boxes = [Box(self.x.shape[2] * s + 1 + 2 * RING_MARGIN,
                             self.x.shape[1] * s + 1 + 2 * RING_MARGIN, f"input {c}")
                         for c in range(self.C)]
        p1 = Col(*[Col(Text(f"channel {c}", 12, color=DIM) if self.C > 1 else None, b, gap=2)
                   for c, b in enumerate(self.in_boxes)],
                 Text("each cell is one step: it stamps", 11, color=DIM),
                 Text("cell × kernel into the output", 11, color=DIM),
                 Legend(self.in_scale, "input values", name="input legend"), gap=6)
        o = max(4, min(40, 480 // max(self.Hp, self.Wp)))
        self.o = o
        self.out_boxes = [Box(self.Wp * o + 1 + 2 * RING_MARGIN, self.Hp * o + 1 + 2 * RING_MARGIN,
                              f"output {f}") for f in range(self.F)]
        notes = []
        if self.ph or self.pw:
            notes.append(f"hatched: padding={_p(self.st.padding)}, cropped from the output")
            notes.append("(what lands there is lost)")
        if self.tr.bias is not None:
            notes.append("the last frame adds the bias: the op's own output")
        extra = []
        if self.counts is not None:
            c = self.counts[self.ph:self.ph + self.OH, self.pw:self.pw + self.OW]
            self.count_box = Box(self.OW * 18 + 1, self.OH * 18 + 1, "overlap counts")
            extra = [Text("stamps per output cell (uneven: checkerboard)", 12, color=DIM),
                     self.count_box,
                     Text("(also the small n× in each output cell)", 11, color=DIM)]
            self.count_vals = c
        p3 = Col(*[Col(Text(f"channel {f}", 12, color=DIM) if self.F > 1 else None, b, gap=2)
                   for f, b in enumerate(self.out_boxes)],
                 *grammar.notes(notes),
                 Legend(self.out_scale, "output values (running sums)", name="output legend"),
                 *extra, gap=6)
        # panel 2: x[c, i, j] × w[c, f] = stamp, one row per output channel it feeds
        self.cz = WORK_CELL if max(self.kh, self.kw) <= 5 else 24
        gw, gh = self.kw * self.cz + 1, self.kh * self.cz + 1
        nf = min(self.st.channels.shape[1], MAX_CHANNELS)
        self.head = Text(None, 13, "monobold", ACCENT, name="head",
                         widest=[self._head(k) for k in range(self.S)])
        self.caption = self.plan.caption_slot()
        self.where = grammar.where_slot([self._where(k) for k in range(self.S)])
        widest_x = [f"{show(v, self.d)} ×" for v in np.unique(self.x)]
        self.rows = []
        rows = []
        for j in range(nf):
            xs = Text(None, 15, "mono", align="r", height=gh, name=f"x {j}", widest=widest_x)
            wb, sb = Box(gw, gh, f"w grid {j}"), Box(gw, gh, f"stamp grid {j}")
            lab = Text(None, 11, color=DIM, name=f"w label {j}",
                       widest=[self._w_label(c, f, f) for c in range(self.C)
                               for f in range(self.F)])
            self.rows.append((xs, wb, sb, lab))
            rows.append(Row(xs, Col(lab, wb, gap=2), Text("=", 15, height=gh, name=f"= {j}"),
                            Col(Text("stamp" if j == 0 else "", 11, color=DIM,
                                     name=f"stamp label {j}"), sb, gap=2), gap=8, align="b"))
        self.note = grammar.note_slot(["hatched stamp cells land on the cropped padding: lost"])
        p2 = Col(self.caption, self.head, self.where, Space(0, 4), *rows, self.note,
                 Legend(self.w_scale, "weights (their own colours)", name="weight legend"), gap=6)
        C, H, W = self.x.shape
        self._finish(p1, p2, p3, [f"input {C}×{H}×{W}", "working: input cell × kernel = stamp",
                                  f"output {self.F}×{self.OH}×{self.OW}"],
                     title, formula, subtitle)
        for c, b in enumerate(self.in_boxes):
            ix, iy = b.box[0] + RING_MARGIN, b.box[1] + RING_MARGIN
            labels = show_grid(self.x[c], self.d) if s >= LABEL_CELL else None
            cell_grid(self.lay.base, ix, iy, self.in_scale.index(self.x[c]), s, gap_for(s),
                      labels=labels, label_size=min(13, s // 2))
        if self.counts is not None:
            x0, y0 = self.count_box.box[:2]
            lab = np.array([[str(int(v)) for v in r] for r in self.count_vals])
            hi = max(int(self.count_vals.max()), 1)
            cell_grid(self.lay.base, x0, y0, gray_scale(0, hi).index(self.count_vals), 18, 1,
                      labels=lab, label_size=11)

    def out_cells(self):
        """Top-left pixel of output cell (0, 0) of each channel (inside the cropped padding)."""
        return [(b.box[0] + RING_MARGIN + 1 + self.pw * self.o,
                 b.box[1] + RING_MARGIN + 1 + self.ph * self.o) for b in self.out_boxes]

    def _w_label(self, c, j, f):
        """The kernel of input channel c towards output channel f (column j of its group)."""
        return f"w[{c}, {j}]" + (f" → channel {f}" if self.F > 1 else "")

    def _head(self, k):
        _, c, i, j = (int(v) for v in self.st.out_index[k])
        cc = f"{c}, " if self.C > 1 else ""
        return f"x[{cc}{i}, {j}] = {show(self.x[c, i, j], self.d)}"

    def _where(self, k):
        r0, c0 = (int(v) for v in self.st.origin[k])
        dh, dw = self.st.dilation
        r = (r0 - self.ph, r0 - self.ph + dh * (self.kh - 1))
        c = (c0 - self.pw, c0 - self.pw + dw * (self.kw - 1))
        return (f"added into output rows {_m(r[0])}…{_m(r[1])}, cols {_m(c[0])}…{_m(c[1])}"
                + ("" if r[0] >= 0 and c[0] >= 0 and r[1] < self.OH and c[1] < self.OW else
                   " (beyond 0…OH−1: cropped)"))

    def _draw_output(self, cv, state, k, hold):
        o = self.o
        reached = self.first_touch <= k                               # cells a stamp reached
        pad = np.ones((self.Hp, self.Wp), bool)
        pad[self.ph:self.ph + self.OH, self.pw:self.pw + self.OW] = False
        ints = all_integers(state)
        for f, b in enumerate(self.out_boxes):
            touched = reached[f]
            vals = state[f].copy()
            if hold:       # the op's own output (bias included), the padding as accumulated
                vals[self.ph:self.ph + self.OH, self.pw:self.pw + self.OW] = self.tr.value[0, f]
            idx = self.out_scale.index(vals)
            idx[~touched] = BLANK
            labels = np.array([[fmt(v, ints) if t else "" for v, t in zip(r, tr_)]
                               for r, tr_ in zip(vals, touched)]) if o >= LABEL_CELL else None
            ox, oy = b.box[0] + RING_MARGIN, b.box[1] + RING_MARGIN
            g = gap_for(o)
            cell_grid(cv, ox, oy, idx, o, g, labels=labels, pad=pad & touched,
                      label_size=min(12, o // 2 - 1))
            for r, c in zip(*np.nonzero(pad & ~touched)):
                cv.hatch(ox + g + c * o, oy + g + r * o, ox + (c + 1) * o, oy + (r + 1) * o)
            if self.counts is not None and o >= COUNT_CELL:   # stamps this cell receives
                for r, c in zip(*np.nonzero(touched)):
                    color = TEXT if pad[r, c] else ink(idx[r, c])
                    cv.text(ox + g + c * o + 2, oy + g + r * o + 1, f"{self.counts[r, c]}×",
                            size=COUNT_SIZE, color=color, face="mono")

    def frame(self, i, states):
        st, lay = self.st, self.lay
        k, ph = int(self.steps[i]), self.phases[i]
        cv = lay.new_frame()
        lay.write(cv, self.caption, self.plan.caption(i))
        hold = ph == "hold"
        self._draw_output(cv, states[k], k, hold)
        if not hold:
            _, c, r, q = (int(v) for v in st.out_index[k])
            ix, iy = self.in_boxes[c].box[0] + RING_MARGIN, self.in_boxes[c].box[1] + RING_MARGIN
            cv.ring(ix + 1 + q * self.s, iy + 1 + r * self.s, ix + (q + 1) * self.s,
                    iy + (r + 1) * self.s)
            r0, c0 = (int(v) for v in st.origin[k])
            eh = st.dilation[0] * (self.kh - 1) + 1
            ew = st.dilation[1] * (self.kw - 1) + 1
            for f in st.channels[k]:
                b = self.out_boxes[int(f)]
                ox, oy = b.box[0] + RING_MARGIN, b.box[1] + RING_MARGIN
                cv.ring(ox + 1 + c0 * self.o, oy + 1 + r0 * self.o, ox + (c0 + ew) * self.o,
                        oy + (r0 + eh) * self.o)
            if ph == "tour":
                self._draw_working(cv, k)
        if ph != "tour":
            grammar.clear_working(lay, cv, self.panels[1], self.where)
        lay.write(cv, self.counter, self.plan.counter(i))
        return cv.px

    def _draw_working(self, cv, k):
        st, lay = self.st, self.lay
        _, c, r, q = (int(v) for v in st.out_index[k])
        lay.write(cv, self.head, self._head(k))
        lay.write(cv, self.where, self._where(k))
        g0 = int(st.channels[k][0])
        for j, (xs, wb, sb, lab) in enumerate(self.rows):
            f = int(st.channels[k][j])
            wk = self.w[c, f - g0]
            lay.write(cv, xs, f"{show(self.x[c, r, q], self.d)} ×")
            lay.write(cv, lab, self._w_label(c, f - g0, f))
            dw = 0 if all_integers(self.w) else self.d
            cell_grid(cv, *wb.box[:2], self.w_scale.index(wk), self.cz, 1,
                      labels=show_grid(wk, dw), label_size=NUM)
            stamp = np.asarray(st.stamp[k, j], float)
            cell_grid(cv, *sb.box[:2], self.out_scale.index(stamp), self.cz, 1,
                      labels=show_grid(stamp, self.d), pad=st.is_pad[k], label_size=NUM)
        if st.is_pad[k].any():
            lay.write(cv, self.note, "hatched stamp cells land on the cropped padding: lost")

    def texts(self, i):
        k, ph = int(self.steps[i]), self.phases[i]
        out = {"caption": self.plan.caption(i)}
        if ph == "tour":
            out.update(head=self._head(k), where=self._where(k),
                       stamp=[show_grid(s, self.d) for s in self.st.stamp[k]])
        return out


class _Direct(_Base):
    def __init__(self, trace, x, weight, max_frames, tour, title, formula, subtitle):
        gt = trace.steps
        self.tr, self.gt, self.x = trace, gt, np.asarray(x[0], float)
        self.kh, self.kw = gt.kernel_size
        self.dh, self.dw = gt.dilation
        self.ph, self.pw = gt.padding
        _, self.F, self.OH, self.OW = trace.value.shape
        keep = ~gt.cropped & (gt.out_index[:, 0] == 0)
        self.idx = np.flatnonzero(keep)                  # trace steps drawn, row-major
        self.S = len(self.idx)
        self.eh, self.ew = self.dh * (self.kh - 1) + 1, self.dw * (self.kw - 1) + 1
        # the part of the inserted array the output's windows read
        rows = slice(self.ph, self.ph + self.OH + self.eh - 1)
        cols = slice(self.pw, self.pw + self.OW + self.ew - 1)
        self.z = np.asarray(gt.inserted[0][:, rows, cols], float)      # (C_in, Zh, Zw)
        self.ins, self.border = gt.is_inserted[rows, cols], gt.is_border[rows, cols]
        self.C = self.z.shape[0]
        self.d = decimals_for(self.x, weight)
        groups = self.F // weight.shape[1]
        self.cg = self.C // groups
        val = np.asarray(gt.value[self.idx], float)
        field = np.asarray(gt.field[self.idx], float).reshape(self.S, -1)
        if tour is None:
            data = (~(self.ins | self.border))
            n_data = np.array([self._mask_in_window(data, s).sum() for s in range(self.S)])
            n_pad = np.array([self._mask_in_window(self.border, s).sum() for s in range(self.S)])
            nz = (field != 0).any(1)
            stops = choose(ranked([
                ("largest", "largest |output|", np.abs(val) * nz + 1e-9 * nz),
                ("coverage", "the window covers the most input cells", n_data * nz * 1.0),
                ("padding", "the window reaches into the padding",
                 (n_pad > 0) * nz * (np.abs(val) + 1)),
                ("another", "another strong output", np.abs(val) * nz)]),
                room(TOUR_COUNT - 1, max_frames))
        else:
            stops = by_hand(tour)
        self.built = self._build_up(stops)
        self._plan(stops, max_frames, lambda k: len(self.built[int(k)]))
        self.in_scale = auto_scale(self.x)
        self.out_scale = auto_scale(trace.value[0])
        self.w_scale = weight_scale(weight)
        self.work = {int(s): self._working(int(s)) for s, ph in zip(self.steps, self.phases)
                     if ph == "tour"}
        self._declare(title, formula, subtitle)

    # the build-up: row by row (the window's row, the kernel's, the products), then Σ
    def _units(self, w):
        return [[(g, j, r) for g in ("x", "w", "p")] for j in range(len(w["chans"]))
                for r in range(self.kh)] + [[("sum",)]]

    def _shown(self, w, rev):
        """The numbers step ``w``'s working shows with units ``rev``, as strings."""
        out = [t for g, j, r in (u for u in sorted(rev, key=str) if len(u) == 3)
               for t in w[g][j][r]]
        if ("sum",) in rev:
            out += list(w["sums"]) + [w["value"]] + \
                ([] if self.tr.bias is None else [show(self.tr.bias[w["f"]], self.d)])
        return out

    def _build_up(self, stops):
        """Step -> its working's chunks (:func:`viz.grammar.build_up`); a kernel once shown
        whole stays for the next stop of the same output channel."""
        out, prev, seen = {}, set(), set()
        for st in stops:
            w = self._working(int(st.step))
            base = {("w", j, r) for j in range(len(w["chans"])) for r in range(self.kh)} \
                if w["f"] in seen else set()
            out[int(st.step)], prev = grammar.build_up(self._units(w),
                                                       lambda rev: self._shown(w, rev), prev,
                                                       base, merge=True)
            seen.add(w["f"])
        return out

    def _revealed(self, i):
        k = int(self.steps[i])
        built = self.built.get(k) or [tuple(u for g in self._units(self.work[k]) for u in g)]
        if self.plan.nparts[i] < len(built):        # no room to build it up: all at once
            built = [tuple(u for ch in built for u in ch)]
        rev = {u for ch in built[:self.plan.part[i] + 1] for u in ch}
        f = self.work[k]["f"]
        if any(self.phases[j] == "tour" and self.steps[j] != k and
               self.work[int(self.steps[j])]["f"] == f for j in range(i)):
            rev |= {("w", j, r) for j in range(len(self.work[k]["chans"]))
                    for r in range(self.kh)}
        return rev

    def out_cells(self):
        """Top-left pixel of output cell (0, 0) of each channel."""
        return [(b.box[0] + RING_MARGIN + g.gap, b.box[1] + RING_MARGIN + g.gap)
                for b, g in zip(self.out_boxes, self.grids)]

    def _pos(self, s):
        _, f, y, x = (int(v) for v in self.gt.out_index[self.idx[s]])
        return f, y - self.ph, x - self.pw

    def _mask_in_window(self, mask, s):
        _, r, c = self._pos(s)
        return mask[r:r + self.eh:self.dh, c:c + self.ew:self.dw]

    def _chans(self, f):
        g = f // (self.F // (self.C // self.cg))         # the group of output channel f
        return list(range(g * self.cg, (g + 1) * self.cg))[:MAX_CHANNELS]

    def _working(self, s):
        k = self.idx[s]
        f, r, c = self._pos(s)
        field = np.asarray(self.gt.field[k], float)             # (C_in, kh, kw)
        ker = np.asarray(self.gt.kernel[:, f], float)            # (C_in, kh, kw) rotated
        chans = self._chans(f)
        x = [show_grid(field[ch], self.d if not all_integers(field) else 0) for ch in chans]
        wk = [show_grid(ker[ch], 0 if all_integers(ker) else self.d) for ch in chans]
        prods = [field[ch] * ker[ch] for ch in chans]           # display-only
        p = [show_grid(pp, self.d) for pp in prods]
        sums = [show(pp.sum(), self.d) for pp in prods]
        sum_ok = [adds_up(list(ps.ravel()), sm) for ps, sm in zip(p, sums)]
        value = float(self.tr.value[0, f, r, c])
        vs = show(value, self.d)
        terms = list(sums) + ([] if self.tr.bias is None else [show(self.tr.bias[f], self.d)])
        ok = adds_up(terms, vs)
        where = f"out[{f}, {r}, {c}]" if self.F > 1 else f"out[{r}, {c}]"
        final = f"{signed_sum(terms)} {relation(ok)} {vs}  = {where}"
        eq = [(list(ps.ravel()), sm, o) for ps, sm, o in zip(p, sums, sum_ok)] + [(terms, vs, ok)]
        if len(chans) == 1 and self.tr.bias is None:
            final = f"{where} = {vs}"
        return dict(x=x, w=wk, p=p, sums=sums, sum_exact=sum_ok, final=final, value=vs,
                    equations=eq, chans=chans, where=where, f=f,
                    inserted=self._mask_in_window(self.ins, s),
                    border=self._mask_in_window(self.border, s),
                    window=f"window rows {r}…{r + self.eh - 1}, cols {c}…{c + self.ew - 1} of "
                           f"the array → {where}")

    def _declare(self, title, formula, subtitle):
        C, H, W = self.x.shape
        Zh, Zw = self.z.shape[1:]
        s = max(4, min(36, 150 // max(H, W)))
        self.s_in = s
        z = max(4, min(32, 420 // max(Zh, Zw)))
        self.sz = z
        self.x_boxes = [Box(W * s + gap_for(s), H * s + gap_for(s), f"input {c}")
                        for c in range(C)]
        self.z_boxes = [Box(Zw * z + 1 + 2 * RING_MARGIN, Zh * z + 1 + 2 * RING_MARGIN,
                            f"inserted {c}") for c in range(C)]
        sh, sw = self.gt.stride
        lines = []
        if sh > 1 or sw > 1:
            many = "s" if max(sh, sw) > 2 else ""
            lines.append(f"insert stride − 1 = {_p((sh - 1, sw - 1))} zero{many} between cells "
                         "(blue 0s)")
        bh, bw = self.eh - 1 - self.ph, self.ew - 1 - self.pw
        lines.append(f"pad dilation·(k − 1) − padding = {_p((bh, bw))} on each side (hatched)")
        op = tuple(o - ((n - 1) * st_ - 2 * pp + e - 1 + 1) for o, n, st_, pp, e in
                   zip((self.OH, self.OW), (H, W), self.gt.stride, self.gt.padding,
                       (self.eh, self.ew)))
        if any(op):
            lines.append(f"output_padding {_p(op)}: one more padded row/col at bottom/right")
        p1 = Col(*[Col(Text(f"input channel {c}" if C > 1 else "the input x", 12, color=DIM),
                       b, gap=2) for c, b in enumerate(self.x_boxes)],
                 *grammar.notes(lines),
                 Text(f"the array the window slides over ({Zh}×{Zw}):", 12, color=DIM),
                 *self.z_boxes, Legend(self.in_scale, "input values", name="input legend"),
                 gap=6)
        o = max(4, min(40, 420 // max(self.OH, self.OW)))
        self.grids = []
        vals = np.asarray(self.tr.value[0], float)
        step_of = np.zeros((self.F, self.OH, self.OW), dtype=np.int64)
        for s_i in range(self.S):
            f, r, c = self._pos(s_i)
            step_of[f, r, c] = s_i
        for f in range(self.F):
            self.grids.append(FillGrid(vals[f], step_of[f], self.out_scale, o))
        self.o = o
        self.out_boxes = [Box(g.width + 2 * RING_MARGIN, g.height + 2 * RING_MARGIN, f"output {f}")
                          for f, g in enumerate(self.grids)]
        p3 = Col(*[Col(Text(f"channel {f}", 12, color=DIM) if self.F > 1 else None, b, gap=2)
                   for f, b in enumerate(self.out_boxes)],
                 Legend(self.out_scale, "output values", name="output legend"), gap=6)
        works = list(self.work.values())
        self.caption = self.plan.caption_slot()
        self.where = grammar.where_slot([w["window"] for w in works], "window")
        cz = WORK_CELL if max(self.kh, self.kw) <= 5 else 24
        self.cz = cz
        gw, gh = self.kw * cz + 1, self.kh * cz + 1
        nrow = max([len(w["chans"]) for w in works] or [1])
        self.rows = []
        rows = []
        for j in range(nrow):
            xb, wb, pb = (Box(gw, gh, f"{t} grid {j}") for t in ("x", "w", "p"))
            sm = Text(None, 13, "mono", name=f"sum {j}",
                      widest=[f"Σ = {t}" for w in works for t in w["sums"]] or ["Σ = 0"])
            lab = Text(None, 11, color=DIM, name=f"w label {j}",
                       widest=[f"kernel, rotated 180° (channel {c} → {f})" for c in
                               range(self.C) for f in range(self.F)])
            self.rows.append((xb, wb, pb, sm, lab))
            rows.append(Row(Col(Text("window" if j == 0 else "", 11, color=DIM,
                                     name=f"xl {j}"), xb, gap=2),
                            Text("×", 15, height=gh, name=f"× {j}"), Col(lab, wb, gap=2),
                            Text("=", 15, height=gh, name=f"= {j}"),
                            Col(Text("products" if j == 0 else "", 11, color=DIM,
                                     name=f"pl {j}"), pb, gap=2), sm, gap=8, align="b"))
        self.final = Text(None, 13, "monobold", ACCENT, name="final",
                          widest=[w["final"] for w in works] or [""])
        p2 = Col(self.caption, self.where, Space(0, 4), *rows, self.final,
                 Legend(self.w_scale, "weights (their own colours)", name="weight legend"), gap=6)
        what = "working: a direct convolution of the zero-inserted, padded input"
        self._finish(p1, p2, p3, [f"input {C}×{H}×{W}", what,
                                  f"output {self.F}×{self.OH}×{self.OW}"],
                     title, formula, subtitle)
        base = self.lay.base
        for c, b in enumerate(self.x_boxes):
            cell_grid(base, *b.box[:2], self.in_scale.index(self.x[c]), s, gap_for(s),
                      labels=show_grid(self.x[c], self.d) if s >= LABEL_CELL else None,
                      label_size=min(13, s // 2))
        for c, b in enumerate(self.z_boxes):
            self._draw_z(base, c, b)

    def _draw_z(self, cv, c, b):
        z = self.sz
        x0, y0 = b.box[0] + RING_MARGIN, b.box[1] + RING_MARGIN
        idx = self.in_scale.index(self.z[c])
        idx[self.ins] = BLANK
        big = z >= LABEL_CELL
        cell_grid(cv, x0, y0, idx, z, gap_for(z), labels=show_grid(self.z[c], self.d) if big
                  else None, pad=self.border, label_size=min(12, z // 2))
        _inserted_zeros(cv, x0, y0, self.ins, z, label=big)
        self.z_xy = getattr(self, "z_xy", {})
        self.z_xy[c] = (x0, y0)

    def frame(self, i, done):
        lay = self.lay
        k, ph = int(self.steps[i]), self.phases[i]
        cv = lay.new_frame()
        lay.write(cv, self.caption, self.plan.caption(i))
        current = None
        if ph != "hold":
            f, r, c = self._pos(k)
            current = (f, (r, c))
            chans = self._chans(f)
            z = self.sz
            for ch in chans:
                x0, y0 = self.z_xy[ch]
                if self.dh > 1 or self.dw > 1:
                    taps = np.zeros((self.eh, self.ew), bool)
                    taps[::self.dh, ::self.dw] = True
                    for a, bb in zip(*np.nonzero(~taps)):
                        cv.dim(x0 + 1 + (c + bb) * z, y0 + 1 + (r + a) * z,
                               x0 + (c + bb + 1) * z, y0 + (r + a + 1) * z)
                cv.ring(x0 + 1 + c * z, y0 + 1 + r * z, x0 + (c + self.ew) * z,
                        y0 + (r + self.eh) * z)
            if ph == "tour":
                self._draw_working(cv, self.work[k], self._revealed(i))
        if ph != "tour":
            grammar.clear_working(lay, cv, self.panels[1], self.where)
        for g, b, ff in zip(self.grids, self.out_boxes, range(self.F)):
            g.draw(cv, b.box[0] + RING_MARGIN, b.box[1] + RING_MARGIN, k,
                   current[1] if current and current[0] == ff else None, done=done, ring=True)
        lay.write(cv, self.counter, self.plan.counter(i))
        return cv.px

    def _draw_working(self, cv, w, rev):
        lay, cz = self.lay, self.cz
        lay.write(cv, self.where, w["window"])
        f = w["f"]
        done = ("sum",) in rev
        for j, ch in enumerate(w["chans"]):
            xb, wb, pb, sm, lab = self.rows[j]

            def rows(g):
                return np.array([(g, j, r) in rev for r in range(self.kh)])[:, None]

            xv = np.array([[float(v.replace(MINUS, "-")) for v in r] for r in w["x"][j]])
            on = rows("x")
            cell_grid(cv, *xb.box[:2], np.where(on, self.in_scale.index(xv), BLANK).astype(
                np.uint8), cz, 1, labels=np.where(on, w["x"][j], ""), pad=w["border"] & on,
                label_size=NUM)
            _inserted_zeros(cv, *xb.box[:2], w["inserted"] & on, cz, NUM)
            wv = np.array([[float(v.replace(MINUS, "-")) for v in rr] for rr in w["w"][j]])
            on = rows("w")
            cell_grid(cv, *wb.box[:2], np.where(on, self.w_scale.index(wv), BLANK).astype(
                np.uint8), cz, 1, labels=np.where(on, w["w"][j], ""), label_size=NUM)
            cell_grid(cv, *pb.box[:2], np.full(wv.shape, BLANK, np.uint8), cz, 1,
                      labels=np.where(rows("p"), w["p"][j], ""), label_size=NUM)
            if done:
                lay.write(cv, sm, f"Σ {relation(w['sum_exact'][j])} {w['sums'][j]}",
                          color=TEXT)
            lay.write(cv, lab, f"kernel, rotated 180° (channel {ch} → {f})" if self.F > 1 or
                      self.C > 1 else "kernel, rotated 180°")
        if done:
            lay.write(cv, self.final, w["final"])

    def texts(self, i):
        out = self.plan.texts(i, self.work)
        if self.phases[i] == "tour":
            rev = self._revealed(i)
            out.update(shown=self._shown(self.work[int(self.steps[i])], rev),
                       part=self.plan.part[i], parts=self.plan.nparts[i],
                       complete=("sum",) in rev)
        return out


def transpose_steps(trace, cells):
    """Trace steps of cells given as ``(r, c)`` (channel 0) or ``(ch, r, c)``: input cells for
    the scatter view, output cells for the direct view. Raises ValueError naming the cell."""
    st = trace.steps
    if trace.view == "scatter":
        rows, what = st.out_index[:, 1:], "input"
        shape = st.upstream.shape[1:]
    else:
        keep = np.flatnonzero(~st.cropped & (st.out_index[:, 0] == 0))
        rows = st.out_index[keep, 1:] - np.array([0, st.padding[0], st.padding[1]])
        what, shape = "output", trace.value.shape[1:]
    idx = {tuple(int(v) for v in r): k for k, r in enumerate(rows)}
    out = []
    for cell in cells:
        full = (0,) + tuple(cell) if len(cell) == 2 else tuple(cell)
        if full not in idx:
            raise ValueError(f"--tour {','.join(map(str, cell))}: not a cell of the {what} "
                             f"{'×'.join(map(str, shape))} ({trace.view} view)")
        out.append(idx[full])
    return out


def render_transpose(trace, x, weight, max_frames=200, subtitle="", tour=None, title=None,
                     formula=None, counts=False):
    """Render a ``ConvTransposeTrace`` (one sample) to frames: tour, sweep, hold.

    Parameters
    ----------
    trace : ops.ConvTransposeTrace
        From ``cache.trace(view="scatter")`` or ``view="direct"``.
    x, weight : ndarray
        The input (1, C_in, H, W) and weight (C_in, C_out/groups, kh, kw) the op ran on.
    max_frames : int
    subtitle : str
        Footer text.
    tour : list of int, optional
        Steps to tour (scatter: input cells in row-major order; direct: output cells);
        default: a few informative ones; ``[]``: none.
    title, formula : str, optional
        Replace the op call and the output-size line (e.g. with the guide's relationship).
    counts : bool
        Scatter view: also show how many stamps each output cell receives.

    Returns
    -------
    Animation (``texts`` per frame; ``layout`` with ``placed`` boxes and the scales).
    """
    x, weight = np.asarray(x), np.asarray(weight)
    if x.shape[0] != 1 or trace.value.shape[0] != 1:
        raise ValueError(f"render_transpose: x has {x.shape[0]} samples, expected one")
    if x.shape[1] > MAX_CHANNELS or trace.value.shape[1] > MAX_CHANNELS:
        raise ValueError(f"render_transpose: {x.shape[1]} input and {trace.value.shape[1]} "
                         f"output channels, expected at most {MAX_CHANNELS} each")
    title = title or transpose_title(trace, x, weight)
    formula = formula or transpose_formula(trace, x, weight)
    if max_frames < 2:
        raise ValueError(f"render_transpose: max_frames={max_frames}, expected at least 2")
    states = {}
    if trace.view == "scatter":
        r = _Scatter(trace, x, weight, max_frames, tour, title, formula, subtitle, counts)
        # the running output is the trace's own (ScatterTrace.padded_output), sample 0
        states = {int(k): r.st.padded_output(int(k))[0] for k in np.unique(r.steps)}
        frames = [r.frame(i, states) for i in range(len(r.steps))]
    else:
        r = _Direct(trace, x, weight, max_frames, tour, title, formula, subtitle)
        frames = [r.frame(i, r.plan.done(i)) for i in range(len(r.steps))]
    texts = [r.texts(i) for i in range(len(r.steps))]
    layout = {**grammar.record(r.lay),
              "out_scale": r.out_scale, "in_scale": r.in_scale, "view": trace.view,
              "output_boxes": [b.box for b in r.out_boxes], "decimals": r.d,
              "last_sum": states[max(states)] if trace.view == "scatter" else None,
              "cell": r.o, "out_cells": r.out_cells()}
    return Animation(frames, r.steps, layout, phases=r.phases,
                     texts=texts)
