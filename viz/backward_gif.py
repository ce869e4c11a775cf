"""Backward GIFs: the gradient flowing back through a windowed op, from its backward trace.

Three panels, as the forward window GIFs: the upstream gradient ∂L/∂out with its current
cell; the working of one step (what this upstream cell adds where, and the running sum
there); the input gradient ∂L/∂x accumulating, on a diverging scale centred at 0. The GIF
tours a few informative steps slowly, sweeps through the rest in step order, then holds.

Every gradient drawn is the trace's own: ``stamp`` (what a step adds) and
``padded_output(upto=k)`` (the running sum after step k, in step order). The geometry the
forward GIFs leave implicit is drawn: cells no window reads stay 0 (dimmed), stamps on
padding are cropped (striped, and the lost sum is shown), and where windows overlap the
working shows how many windows touch each cell.

Gradients are often tiny (a well-classified digit gives ~1e-6): every gradient number is
shown in one unit per GIF, ``×10⁻⁶``, named in the labels and legends.
"""
import numpy as np

from .arith import product_grid, show, show_grid
from .draw import MINUS, RING_MARGIN, Canvas, all_integers, cell_grid
from . import grammar
from .frames import MAX_PLAY_S, Animation
from .layout import Box, Col, Panel, Row, Space, Text, gap_for, measure
from .legend import Legend
from .grammar import unit_of, unit_text  # noqa: F401  (the gradients' unit, named here too)
from .palette import (ACCENT, BLANK, DIM, MAXC, HATCH_B, PANEL, auto_scale, grad_scale,
                      weight_scale)
from .tour import TOUR_COUNT, Candidate, Stop, by_hand, choose, room

MAP_TARGET = 240          # px, the longer side of a gradient map
MAP_CELL_MAX = 40
LABEL_CELL = 30           # map cells at least this big get their numbers
NUM_SIZE = 11


# -- numbers -------------------------------------------------------------------------------
def map_cell(h, w):
    return int(max(2, min(MAP_CELL_MAX, MAP_TARGET // max(h, w))))


def draw_map(cv, x, y, vals, scale, s, d=2, stripes=None, dim=None, labels=None):
    """A value map at ``(x, y)``, ``s`` px a cell; numbers written in cells of at least
    ``LABEL_CELL`` px; ``stripes`` (bool map) overlays half the pixels with hatching (the
    value stays readable), ``dim`` darkens cells."""
    vals = np.asarray(vals, float)
    idx = scale.index(vals)
    g = gap_for(s)
    if labels is None and s >= LABEL_CELL:
        labels = show_grid(vals, d)
    cell_grid(cv, x, y, idx, s, g, labels=labels, label_size=min(NUM_SIZE + 1, s // 3 + 2)
              if labels is not None else None)
    for r, c in zip(*np.nonzero(stripes if stripes is not None else [[]])):
        x0, y0 = x + g + c * s, y + g + r * s
        _stripe(cv, x0, y0, x0 + s - g, y0 + s - g)
    for r, c in zip(*np.nonzero(dim if dim is not None else [[]])):
        x0, y0 = x + g + c * s, y + g + r * s
        cv.dim(x0, y0, x0 + s - g, y0 + s - g)


def _stripe(cv, x0, y0, x1, y1, period=6):
    """Thin diagonal stripes over a cell: padding, while its colour stays visible."""
    yy, xx = np.mgrid[y0:y1, x0:x1]
    cv.px[y0:y1, x0:x1] = np.where((xx + yy) % period == 0, HATCH_B, cv.px[y0:y1, x0:x1])


def _span(a, b):
    return (f"{a}" if a == b else f"{a}…{b}").replace("-", MINUS)


HOLD = "the complete gradient"          # the hold's caption


# -- the scatter view (max/avg pool, conv dx) ----------------------------------------------
def scatter_candidates(trace):
    """The tour candidates of a one-channel ScatterTrace: the largest upstream gradient; a
    stamp that lands on gradient already there (overlap); a stamp cropped on the padding;
    the strongest of the other sign; another strong one."""
    S = len(trace)
    st = np.asarray(trace.stamp[:, 0], float).reshape(S, -1)
    nz = np.abs(st) > 0
    live = nz.any(1)
    if not live.any():
        return []
    up = np.asarray(trace.upstream, float)[tuple(trace.out_index.T)]
    aup = np.abs(up)
    cells = np.stack([trace.cells(k).reshape(-1, 2) for k in range(S)])    # (S, kh·kw, 2)
    flat = cells[..., 0] * trace.padded_size()[1] + cells[..., 1]
    first = np.full(np.prod(trace.padded_size()), S)
    np.minimum.at(first, flat[nz], np.broadcast_to(np.arange(S)[:, None], nz.shape)[nz])
    onto = (nz & (first[flat] < np.arange(S)[:, None])).any(1)
    pad = np.asarray(trace.is_pad).reshape(S, -1)
    lost = np.abs(np.where(pad, st, 0)).sum(1)
    cand = [Candidate("largest", "the largest upstream gradient", aup, live)]
    if onto.any():
        cand.append(Candidate("overlap", "windows overlap: this stamp adds onto gradient "
                              "already there", aup, onto))
    if (lost > 0).any():
        cand.append(Candidate("cropped", "the stamp reaches the padding: that part is "
                              "cropped, lost", lost, lost > 0))
    sign = np.sign(up[np.argmax(np.where(live, aup, -1))])
    cand.append(Candidate("other sign", "the strongest upstream gradient of the other sign",
                          aup, live & (np.sign(up) == -sign)))
    cand.append(Candidate("another", "another strong upstream gradient", aup, live))
    return cand


class _ScatterFrames:
    def __init__(self, tr, plan, x, weight, title, subtitle, names, e, scale=None):
        self.scale = scale
        self.tr, self.plan = tr, plan
        steps, phases = self.steps, self.phases = plan.steps, plan.phases
        self.op = tr.op
        self.kh, self.kw = tr.kernel_size
        self.dh, self.dw = tr.dilation
        self.ph, self.pw = tr.padding
        _, _, self.OH, self.OW = tr.upstream.shape
        self.Hp, self.Wp = tr.padded_size()
        self.e, self.unit = e, 10.0 ** e
        self.ext = (self.dh * (self.kh - 1) + 1, self.dw * (self.kw - 1) + 1)
        self.x, self.weight, self.names = x, weight, names
        up = np.asarray(tr.upstream[0, int(tr.out_index[0, 1])], float) / self.unit
        self.up = up
        self.d = 0 if all_integers(up) and (weight is None or all_integers(weight)) else 2
        # the running sum after each frame's step: the trace's own, in step order
        self.states = {int(k): np.asarray(tr.padded_output(int(k))[0, 0], float) / self.unit
                       for k in np.unique(steps)}
        final = self.states[len(tr) - 1]
        self.g_scale = grad_scale(final, *self.states.values())
        self.up_scale = grad_scale(up)
        self.counts = tr.overlap_counts()
        self.pad = np.zeros((self.Hp, self.Wp), bool)
        self.pad[:self.ph] = self.pad[self.ph + tr.grad_shape[2]:] = True
        self.pad[:, :self.pw] = self.pad[:, self.pw + tr.grad_shape[3]:] = True
        self.tour = {int(k) for k, p in zip(steps, phases) if p == "tour"}
        self.built = {}             # step -> its working's chunks (render_scatter sets them)
        self._declare(title, subtitle)

    # what one step shows
    def _where(self, k):
        i, j = (int(v) for v in self.tr.out_index[k, 2:])
        r0, c0 = (int(v) for v in self.tr.origin[k])
        rows = [r0 + self.dh * a - self.ph for a in range(self.kh)]
        cols = [c0 + self.dw * b - self.pw for b in range(self.kw)]
        v = show(self.up[i, j], self.d)
        return (f"{self.names['up']}[{i}, {j}] = {v}  →  input rows "
                f"{_span(rows[0], rows[-1])}, cols {_span(cols[0], cols[-1])}"), v

    def _window_vals(self, state, k):
        cells = self.tr.cells(k)
        return state[cells[..., 0], cells[..., 1]]

    def _work(self, k):
        tr = self.tr
        stamp = np.asarray(tr.stamp[k, 0], float) / self.unit
        adds = show_grid(stamp, self.d)
        if self.op == "conv2d" and self.weight is not None:
            # each product is the weight shown times the upstream value shown, at d decimals
            v = self._where(k)[1]
            ws = show_grid(self.weight, 0 if all_integers(self.weight) else 2)   # as drawn
            adds = product_grid(ws, np.full(ws.shape, v), self.d)
        w = {"adds": adds,
             "sum": show_grid(self._window_vals(self.states[k], k), self.d),
             "counts": self._window_counts(k)}
        if self.op == "max_pool2d":
            w["x"] = show_grid(self._window_vals(self.x, k), 2 if not all_integers(self.x) else 0)
            xs = self._window_vals(self.x, k)
            w["argmax"] = tuple(int(v) for v in np.unravel_index(int(np.asarray(
                self._argmax(k))), xs.shape))
            ties = np.argwhere(xs == xs[w["argmax"]])
            w["ties"] = [tuple(int(v) for v in t) for t in ties]
            w["tie"] = "" if len(ties) < 2 else (
                f"tie: {len(ties)} cells hold the max; all the gradient goes to the first "
                "(row-major), the op's argmax")
        return w

    def _argmax(self, k):
        """The window offset the op routed step k to: where its stamp is non-zero (the op's
        own routing); for a zero upstream cell, the first max of the window (the op's rule)."""
        hit = np.flatnonzero(np.asarray(self.tr.stamp[k, 0]).ravel())
        if hit.size:
            return int(hit[0])
        return int(np.argmax(np.nan_to_num(self._window_vals(self.x, k), nan=np.inf)))

    def _window_counts(self, k):
        return show_grid(self._window_vals(self.counts.astype(float), k), 0)

    # the declaration
    def _declare(self, title, subtitle):
        self.s1 = map_cell(self.OH, self.OW)
        self.s3 = int(self.scale) if self.scale else map_cell(self.Hp, self.Wp)
        self.up_box = Box(self.OW * self.s1 + 1 + 2 * RING_MARGIN,
                          self.OH * self.s1 + 1 + 2 * RING_MARGIN, "upstream map")
        u = unit_text(self.e)
        p1 = Col(self.up_box, Legend(self.up_scale, f"{self.names['up']}{u}",
                                     name="upstream legend"), gap=6)
        self.g_box = Box(self.Wp * self.s3 + 1 + 2 * RING_MARGIN,
                         self.Hp * self.s3 + 1 + 2 * RING_MARGIN, "gradient map")
        notes = []
        if self.ph or self.pw:
            notes.append("striped: padding; gradient stamped there is cropped (lost)")
        if (self.counts[~self.pad] == 0).any():
            notes.append("dimmed: no window reads these cells; their gradient is 0")
        lost_w = [f"lost to padding so far: {show(v, self.d)}{unit_text(self.e)}"
                  for v in self._lost_all()]
        self.lost = Text(None, 11, color=DIM, name="lost", widest=lost_w) if self.ph or self.pw \
            else None
        p3 = Col(self.g_box, *grammar.notes(notes), self.lost,
                 Legend(self.g_scale, f"{self.names['grad']}{u}", name="gradient legend"), gap=6)

        works = [self._work(k) for k in sorted(self.tour)] or [self._work(int(self.steps[0]))]
        strings = [t for w in works for key in ("adds", "sum", "x") if key in w
                   for t in w[key].ravel()]
        if self.weight is not None:
            self.w_str = show_grid(self.weight, 0 if all_integers(self.weight) else 2)
            strings += list(self.w_str.ravel())
        cw = max(measure(t, NUM_SIZE, "mono")[0] for t in strings) + 8
        self.cz = cz = max(cw, 22, min(44, 132 // max(self.kh, self.kw)))
        gw, gh = self.kw * cz + 1, self.kh * cz + 1
        wheres = [self._where(int(k))[0] for k in np.unique(self.steps)]
        self.caption = self.plan.caption_slot()
        self.where = grammar.where_slot(wheres)
        vals = [self._where(k)[1] for k in self.tour] or ["0"]
        self.grid = {}

        self.heads = {}

        def grid(key, head):
            self.grid[key] = Box(gw, gh, f"{key} grid")
            self.heads[key] = Text(head, 11, color=DIM, name=f"head {key}")
            return Col(self.heads[key], self.grid[key], gap=3)

        def sym(t, name):
            return Col(Space(0, measure("A", 11)[1] + 3),
                       Text(t, 14, align="c", height=gh, name=name))

        self.times = Text(None, 13, "mono", align="c", height=gh, name="times",
                          widest=[f"× {v}" for v in vals])
        if self.op == "conv2d":
            first = Row(grid("w", self.names["w"]),
                        Col(Space(0, measure("A", 11)[1] + 3), self.times), sym("=", "eq"),
                        grid("adds", f"adds {self.names['up']}·w{u}"), gap=8)
            how = ("each upstream cell stamps itself × the kernel into its window; "
                   "the stamps add up")
        elif self.op == "max_pool2d":
            first = Row(grid("x", "x (window): the max wins"), sym("→", "arrow"),
                        grid("adds", f"adds{u}: all to the max"), gap=8)
            how = "each upstream cell flows only to its window's max (argmax); the rest get 0"
        else:
            k2 = self.kh * self.kw
            first = Row(Col(Space(0, measure("A", 11)[1] + 3), self.times), sym("/", "div"),
                        sym(f"{k2}", "k2"), sym("=", "eq"),
                        grid("adds", f"adds{u}: the same share to every cell"), gap=8)
            how = (f"each upstream cell is shared equally over its window: {self.names['up']}"
                   f" / {k2}" + (", padding included" if self.ph or self.pw else ""))
        second = [grid("sum", f"{self.names['grad']} here now{u} (running sum)")]
        if self.counts.max() > 1:
            second.append(grid("counts", "windows that touch each cell"))
        self.pad_note = Text("hatched: padding, cropped", 11, color=DIM) if self.ph or self.pw \
            else None
        self.tie = None
        if self.op == "max_pool2d":
            self.tie = Text(None, 11, color=MAXC, name="tie",
                            widest=[w["tie"] for w in works if w["tie"]])
        p2 = Col(self.caption, self.where, Text(how, 11, color=DIM), Space(0, 2), first,
                 Row(*second, gap=24), self.tie, self.pad_note, gap=6)
        fr = grammar.Frame(title, self.names["formula"] or None,     # no empty formula line
                           [(p1, self.names["p1"]), (p2, "working: what this cell adds where"),
                            (p3, self.names["p3"])], subtitle, self.plan.counters())
        self.lay, self.panels, self.counter = fr.lay, fr.panels, fr.counter
        self.up_xy = (self.up_box.box[0] + RING_MARGIN, self.up_box.box[1] + RING_MARGIN)
        self.g_xy = (self.g_box.box[0] + RING_MARGIN, self.g_box.box[1] + RING_MARGIN)
        draw_map(self.lay.base, *self.up_xy, self.up, self.up_scale, self.s1, self.d)

    def _lost_all(self):
        return [self.states[k][self.pad].sum() for k in self.states]

    # drawing
    def frame(self, i):
        tr, lay, k = self.tr, self.lay, int(self.steps[i])
        cv = lay.new_frame()
        lay.write(cv, self.caption, self.plan.caption(i))
        state = self.states[k]
        unread = (self.counts == 0) & ~self.pad
        draw_map(cv, *self.g_xy, state, self.g_scale, self.s3, self.d, stripes=self.pad,
                 dim=unread)
        if self.lost is not None:
            lost = show(state[self.pad].sum(), self.d)
            lay.write(cv, self.lost, f"lost to padding so far: {lost}{unit_text(self.e)}")
        if self.phases[i] != "hold":
            ii, jj = (int(v) for v in tr.out_index[k, 2:])
            x0, y0 = self.up_xy
            g1 = gap_for(self.s1)
            cv.ring(x0 + g1 + jj * self.s1, y0 + g1 + ii * self.s1,
                    x0 + (jj + 1) * self.s1, y0 + (ii + 1) * self.s1)
            r0, c0 = (int(v) for v in tr.origin[k])
            gx, gy = self.g_xy
            cv.ring(gx + c0 * self.s3, gy + r0 * self.s3, gx + (c0 + self.ext[1]) * self.s3 + 1,
                    gy + (r0 + self.ext[0]) * self.s3 + 1)
            where, v = self._where(k)
            lay.write(cv, self.where, where)
            if self.phases[i] == "tour":
                self._draw_work(cv, k, v, self.revealed(i))
        if self.phases[i] != "tour":
            grammar.clear_working(lay, cv, self.panels[1], self.where)
        lay.write(cv, self.counter, self.plan.counter(i))
        return cv.px

    # the build-up: products row by row, then the running sum row by row
    def units(self, kind=""):
        """The units a stop's working is built up from (:func:`viz.grammar.build_up`): per
        row the kernel's (or the window's) row and what it adds, then per row the running
        sum (and how many windows touch it). A conv2d kernel's stamp is long to read: the
        running sum is shown where it is the lesson, on the stop whose stamp overlaps others."""
        first = {"conv2d": ("w", "adds"), "max_pool2d": ("x", "adds")}.get(self.op, ("adds",))
        second = ("sum", "counts") if "counts" in self.grid else ("sum",)
        if self.op == "conv2d" and kind not in ("overlap", "by hand"):
            second = ()
        return [[(g, r) for g in first] for r in range(self.kh)] + \
            [[(g, r) for g in second] for r in range(self.kh) if second]

    def shown(self, k, rev):
        """The numbers tour step ``k``'s working shows with units ``rev``, as strings."""
        w = dict(self._work(k), w=self.w_str) if self.weight is not None else self._work(k)
        out = [self._where(k)[1]]
        for g, r in sorted(rev):
            out += list(np.atleast_2d(w[g])[r])
        return out

    def chunks(self, stops):
        """Step -> how its working is built up, for ``stops`` in the order shown (the kernel,
        once shown, stays)."""
        out, prev, base = {}, set(), set()
        for s in stops:
            k = int(s.step)
            out[k], prev = grammar.build_up(self.units(s.kind), lambda rev: self.shown(k, rev),
                                            prev, base, merge=True)
            base = {("w", r) for r in range(self.kh)} if self.op == "conv2d" else set()
        return out

    def _kind(self, k):
        """The kind of the stop at step ``k``."""
        return next((s.kind for s in self.plan.stops if s.step == k), "")

    def revealed(self, i):
        """The units tour frame ``i`` shows: its stop's chunks up to its part."""
        k = int(self.steps[i])
        built = self.built.get(k) or [tuple(u for g in self.units() for u in g)]
        if self.plan.nparts[i] < len(built):        # no room to build it up: all at once
            built = [tuple(u for ch in built for u in ch)]
        rev = {u for ch in built[:self.plan.part[i] + 1] for u in ch}
        if self.op == "conv2d" and any(self.phases[j] == "tour" and self.steps[j] != k
                                       for j in range(i)):
            rev |= {("w", r) for r in range(self.kh)}
        return rev

    def _draw_work(self, cv, k, v, rev):
        tr, cz, w = self.tr, self.cz, self._work(k)
        pad = np.asarray(tr.is_pad[k])
        stamp = np.asarray(tr.stamp[k, 0], float) / self.unit

        def grid(key, idx, labels, hatch=None):
            """Grid ``key`` with the rows not yet shown blank."""
            rows = np.array([(key, r) in rev for r in range(self.kh)])[:, None]
            x0, y0 = self.grid[key].box[:2]
            cell_grid(cv, x0, y0, np.where(rows, idx, BLANK).astype(np.uint8), cz, 1,
                      labels=np.where(rows, labels, ""),
                      pad=None if hatch is None else hatch & rows, label_size=NUM_SIZE)

        if self.op != "max_pool2d":
            self.lay.write(cv, self.times, f"× {v}" if self.op == "conv2d" else v)
        grid("adds", self.g_scale.index(stamp), w["adds"], pad)
        grid("sum", self.g_scale.index(self._window_vals(self.states[k], k)), w["sum"], pad)
        if "counts" in self.grid:
            c = self._window_vals(self.counts.astype(float), k)
            grid("counts", auto_scale(np.concatenate([[0, self.counts.max()]])).index(c),
                 w["counts"])
        if not any(u[0] == "sum" for g in self.units(self._kind(k)) for u in g):
            # a stop that does not show the running sum: no empty grids under their heads
            for key in ("sum", "counts"):
                if key in self.grid:
                    x0, y0, hx1, _ = self.heads[key].box
                    cv.rect(x0, y0, max(hx1, self.grid[key].box[2]), self.grid[key].box[3],
                            PANEL)
        if self.op == "conv2d":
            grid("w", weight_scale(self.weight).index(self.weight), self.w_str)
        elif self.op == "max_pool2d":
            xs = self._window_vals(self.x, k)
            grid("x", auto_scale(self.x).index(xs), w["x"], pad)
            if ("adds", self.kh - 1) not in rev:        # the max is ringed with what it gets
                return
            gx, gy = self.grid["x"].box[:2]
            for r, c in w["ties"]:
                cv.outline(gx + 1 + c * cz, gy + 1 + r * cz, gx + (c + 1) * cz,
                           gy + (r + 1) * cz, MAXC, 1)
            r, c = w["argmax"]
            for key in ("x", "adds"):
                gx, gy = self.grid[key].box[:2]
                cv.outline(gx + 1 + c * cz, gy + 1 + r * cz, gx + (c + 1) * cz,
                           gy + (r + 1) * cz, MAXC, 3)
            if w["tie"]:
                self.lay.write(cv, self.tie, w["tie"])

    def texts(self, i):
        k = int(self.steps[i])
        out = {"caption": self.plan.caption(i)}
        if self.lost is not None:
            out["lost"] = self.states[k][self.pad].sum()
        if self.phases[i] == "tour":
            out.update(self._work(k))
            out["where"], out["upstream"] = self._where(k)
            out.update(part=self.plan.part[i], parts=self.plan.nparts[i])
            if self.plan.nparts[i] > 1:     # part of the working is on screen: say which
                out["shown"] = self.shown(k, self.revealed(i))
        return out

    def layout(self):
        return {"upstream_xy": self.up_xy, "upstream_cell": self.s1, "grad_xy": self.g_xy,
                "grad_cell": self.s3, "grad_scale": self.g_scale, "upstream_scale": self.up_scale,
                "unit": self.unit, "padding": tr_pad(self.tr),
                **grammar.record(self.lay, self.panels)}


def tr_pad(tr):
    return tuple(int(v) for v in tr.padding)


def render_scatter(trace, x=None, weight=None, max_frames=200, title="", subtitle="",
                   tour=None, tour_count=TOUR_COUNT, names=None, scale=None):
    """Render a one-channel ``ScatterTrace`` (max/avg pool, conv2d dx) to frames.

    Parameters
    ----------
    trace : ops.backtrace.ScatterTrace
        One sample, one upstream channel and one gradient channel (slice the op first).
    x : ndarray (Hp, Wp), optional
        max_pool2d: the padded forward input (its window shows where the max was).
    weight : ndarray (kh, kw), optional
        conv2d: the kernel each stamp multiplies.
    title, subtitle : str
    tour : list of int, optional
        Steps to tour (``[]``: none); default :func:`scatter_candidates`.
    names : dict, optional
        Words for "up" (∂L/∂out), "grad" (∂L/∂x), "w", "p1", "p3" and "formula".
    scale : int, optional
        Screen pixels per cell of the gradient map (default: about 240 px for the map).

    Returns
    -------
    Animation, with ``layout`` (``grad_xy``, ``grad_cell``, ``grad_scale``, ``unit``, ...)
    and ``texts`` per frame.
    """
    N, F = trace.upstream.shape[:2]
    if N != 1 or F != 1 or trace.grad_shape[1] != 1:
        raise ValueError(f"render_scatter: upstream {tuple(trace.upstream.shape)} and gradient "
                         f"{tuple(trace.grad_shape)}, expected one sample and one channel each")
    if trace.op == "max_pool2d" and x is None:
        raise ValueError("render_scatter: max_pool2d needs x, the padded forward input")
    if trace.op == "conv2d" and weight is None:
        raise ValueError("render_scatter: conv2d needs weight, the (kh, kw) kernel")
    e = unit_of(trace.upstream, trace.stamp)
    base = {"up": "∂L/∂out", "grad": "∂L/∂x", "w": "w (kernel)",
            "p1": f"upstream gradient ∂L/∂out {trace.upstream.shape[2]}×{trace.upstream.shape[3]}",
            "p3": "input gradient ∂L/∂x (padded {}×{})".format(*trace.padded_size()),
            "formula": ""}
    base.update(names or {})
    stops = choose(scatter_candidates(trace), room(tour_count, max_frames)) if tour is None \
        else by_hand(tour)
    def frames(parts):
        plan = grammar.Tour(len(trace), stops, max_frames, hold=HOLD, sweep="sweep: every "
                            "upstream cell in order, fast (the stamps add up)", parts=parts)
        return _ScatterFrames(trace, plan, None if x is None else np.asarray(x, float),
                              None if weight is None else np.asarray(weight, float),
                              title, subtitle, base, e, scale)

    while True:
        built = frames(1).chunks(stops)     # the layout is the same whatever the parts
        sf = frames(lambda k: len(built[int(k)]))
        sf.built, plan = built, sf.plan
        anim = Animation([None] * len(plan), plan.steps, phases=plan.phases,
                         texts=[sf.texts(i) for i in range(len(plan))])
        # a stamp of many numbers takes long to read: the last stop gives way to the 30 s
        if tour is not None or len(stops) <= 1 or sum(anim.durations()) <= MAX_PLAY_S * 1000:
            break
        stops = stops[:-1]
    anim.frames = [sf.frame(i) for i in range(len(plan))]
    anim.layout = sf.layout()
    return anim


# -- the gather view (conv2d dx as a full correlation), drawn by the window renderer -------
class _GatherAsWindow:
    """A one-channel GatherTrace seen as the conv2d WindowTrace it is: the zero-inserted,
    bordered ∂L/∂out is the input, the 180°-rotated kernel the weight, the padded ∂L/∂x the
    output. Gradients are divided by ``unit`` (a power of ten) for display."""
    op = "conv2d"
    out_name = "∂L/∂x_pad"
    bias = None
    argmax = None

    def __init__(self, g, unit):
        self.input = np.asarray(g.inserted, float) / unit
        self.padded = self.input
        self.out_index = g.out_index
        self.origin = g.out_index[:, 2:]
        self.field = np.asarray(g.field, float) / unit
        self.value = np.asarray(g.value, float) / unit
        self.weight = np.asarray(g.kernel).transpose(1, 0, 2, 3)
        self.contrib = self.value[:, None]
        n, c, h, w = g.grad_shape
        ph, pw = g.padding
        self.out_shape = (n, c, h + 2 * ph + g.pad_extra[0], w + 2 * pw + g.pad_extra[1])
        self.kernel_size, self.dilation = g.kernel_size, g.dilation
        self.stride, self.padding = (1, 1), (0, 0)
        dh, dw = g.dilation
        kh, kw = g.kernel_size
        y, x = g.out_index[:, 2], g.out_index[:, 3]
        rows = y[:, None, None] + dh * np.arange(kh)[None, :, None]
        cols = x[:, None, None] + dw * np.arange(kw)[None, None, :]
        self.is_pad = g.is_border[rows, cols]

    groups = 1

    def __len__(self):
        return len(self.value)

    def channels(self, k):
        """Every ∂L/∂out channel feeds every ∂L/∂x cell (one group)."""
        return np.arange(self.input.shape[1])


def render_gather(trace, max_frames=200, title="", subtitle="", weight_label=None, tour=None,
                  scale=None, part=""):
    """Render a one-channel ``GatherTrace`` (conv2d dx, ``view="gather"``) as the window GIF
    of the full correlation it is: zero-inserted ∂L/∂out ⋆ rotated kernel = padded ∂L/∂x,
    with the inserted zeros dimmed, the border hatched and the cropped cells dimmed.
    ``part`` qualifies ∂L/∂x in the labels (e.g. ", filter 3's part", for one filter of many)."""
    N, F = trace.inserted.shape[:2]
    if N != 1 or F != 1 or trace.grad_shape[1] != 1:
        raise ValueError(f"render_gather: ∂L/∂out {tuple(trace.inserted.shape)} and gradient "
                         f"{tuple(trace.grad_shape)}, expected one sample and one channel each")
    e = unit_of(trace.inserted)
    view = _GatherAsWindow(trace, 10.0 ** e)
    u = unit_text(e)
    st = trace.stride
    _, _, Hp, Wp = view.out_shape
    notes = []
    if trace.is_inserted.any():
        notes.append(f"dimmed: zeros inserted between ∂L/∂out cells (stride {_pairs(st)})")
    notes.append("hatched: the border of zeros, d·(k − 1) wide, of a full correlation")
    words = {"title": title or "conv2d backward: ∂L/∂x as a full correlation",
             "formula": "∂L/∂x_pad[y, x] = Σ ∂L/∂out_inserted[y + d·a, x + d·b] · "
                        "rot180(w)[a, b]   then crop the padding",
             "p1": f"∂L/∂out, zero-inserted and bordered {trace.inserted.shape[2]}×"
                   f"{trace.inserted.shape[3]}",
             "p2": "working: window × rotated kernel, summed",
             "p3": f"∂L/∂x{part}, padded {Hp}×{Wp}",
             "in_legend": f"∂L/∂out{u}", "out_legend": f"∂L/∂x{u}",
             "w_legend": "rot180(w): the kernel turned by 180°",
             "heads": [f"∂L/∂out window{u}", None, "products"],
             "in_notes": notes, "in_hatch": trace.is_border, "in_dim": trace.is_inserted,
             "out_notes": ["dimmed: on the forward's padding, cropped (lost)"]
             if trace.cropped.any() else [],
             "out_dim": trace.cropped.reshape(Hp, Wp),
             "no_tour": trace.cropped.ravel(),        # a cropped cell teaches nothing
             "hold": HOLD,
             "reasons": {"largest": "the largest |∂L/∂x|",
                         "spread": "the widest spread of ∂L/∂out values in a window",
                         "padding": "the window reaches into the zero border",
                         "other sign": "the strongest ∂L/∂x of the other sign",
                         "another": "another strong ∂L/∂x"}}
    from .window_gif import render_window
    if scale is None:               # small maps: cells big enough for 2-decimal numbers
        zh, zw = trace.inserted.shape[2:]
        scale = 240 // max(zh, zw)
        scale = min(40, max(scale, 36)) if scale >= 20 else None
    wl = (lambda _: f"rot180 of {weight_label}") if weight_label else (lambda _: "rot180(w)")
    anim = render_window(view, scale=scale, max_frames=max_frames, subtitle=subtitle, tour=tour,
                         weight_label=wl, words=words)
    anim.layout["unit"] = 10.0 ** e
    return anim


def _pairs(p):
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


# -- shared frame for the per-cell renderers below ---------------------------------------
def gradient_candidates(values):
    """Tour candidates of a gradient, one value per step: the largest |value|, the strongest
    of the other sign, then the next strongest (only to reach ``MIN_TOUR`` steps); never a
    step whose value is 0."""
    v = np.asarray(values, float)
    a = np.where(np.isfinite(v), np.abs(v), -1)
    live = a > 0
    if not live.any():
        return []
    top = int(np.argmax(a))
    return [Candidate("largest", "the largest gradient", a, live),
            Candidate("other sign", "the strongest gradient of the other sign", a,
                      live & (np.sign(v) == -np.sign(v[top])))] + \
        [Candidate("another", "another strong gradient", a, live, fallback=True)] * 3


def _map_box(h, w, s, name):
    return Box(w * s + 1 + 2 * RING_MARGIN, h * s + 1 + 2 * RING_MARGIN, name)


def _xy(box):
    return box.box[0] + RING_MARGIN, box.box[1] + RING_MARGIN


def _ring_cell(cv, xy, s, r, c, h=1, w=1):
    x0, y0 = xy
    g = gap_for(s)
    cv.ring(x0 + g + c * s, y0 + g + r * s, x0 + (c + w) * s, y0 + (r + h) * s)




# -- conv2d's weight gradient --------------------------------------------------------------
def render_dweight(trace, x_padded, stride=(1, 1), dilation=(1, 1), max_frames=200, title="",
                   subtitle="", weight_label="w", tour=None, tour_count=TOUR_COUNT, scale=None):
    """Render a one-sample, one-filter, one-channel ``WeightGradTrace``.

    Panel 1: the padded input with the cells tap (a, b) read (every ``stride``-th cell of the
    shifted block, ringed); panel 2: those cells × ∂L/∂out = products, Σ = ∂L/∂w[a, b];
    panel 3: ∂L/∂w filling in, and ∂L/∂b = Σ ∂L/∂out.
    """
    nf, c, kh, kw = trace.weight_shape
    n, _, OH, OW = trace.out_shape
    if nf != 1 or c != 1 or n != 1:
        raise ValueError(f"render_dweight: weight {trace.weight_shape}, {n} samples; expected "
                         "one filter, one channel and one sample")
    xp = np.asarray(x_padded, float)
    S = len(trace)
    # the unit of ∂L/∂out, as in every backward GIF (one quantity, one unit across GIFs);
    # ∂L/∂w, a sum of x · ∂L/∂out with x in [0, 1], is shown in the same unit
    e = unit_of(trace.upstream_last)
    u, unit = unit_text(e), 10.0 ** e
    up = np.asarray(trace.upstream(0)[0], float) / unit
    val = np.asarray(trace.value, float) / unit
    d = 0 if all_integers(val) and all_integers(xp) and all_integers(up) else 2
    picks = choose(gradient_candidates(val), room(tour_count, max_frames)) if tour is None \
        else by_hand(tour)
    plan = grammar.Tour(S, picks, max_frames, sweep="sweep: every weight cell, fast", hold=HOLD,
                        what="weight cell")
    steps, phases = plan.steps, plan.phases
    in_scale = auto_scale(xp)
    up_scale = grad_scale(up)
    prods = {int(k): np.asarray(trace.tap(int(k))[0], float) * up for k in np.unique(steps)}
    p_scale = grad_scale(*prods.values())
    w_scale = grad_scale(val)
    Hp, Wp = xp.shape
    s1 = int(scale) if scale else map_cell(Hp, Wp)
    sm = int(max(2, min(MAP_CELL_MAX, 150 // max(OH, OW))))
    s3 = max(LABEL_CELL, min(48, 200 // max(kh, kw)))
    in_box = _map_box(Hp, Wp, s1, "input map")
    p1 = Col(in_box, Text("ringed: the cells this tap read (one per output position)", 11,
                          color=DIM), Legend(in_scale, "input x", name="input legend"), gap=6)
    boxes = {k: _map_box(OH, OW, sm, f"{k} map") for k in ("tap", "up", "prod")}
    caption = plan.caption_slot()
    where = [f"tap (a, b) = ({a}, {b}): x[{a * dilation[0]} + {stride[0]}·i, "
             f"{b * dilation[1]} + {stride[1]}·j] for every output (i, j)"
             for (_, _, a, b) in trace.out_index]
    wslot = grammar.where_slot(where)
    finals = [f"Σ = ∂L/∂w[{a}, {b}] = {show(v, d)}{u}" for (_, _, a, b), v in
              zip(trace.out_index, val)]
    final = Text(None, 14, "monobold", ACCENT, name="final", widest=finals)

    def head(t, b):
        return Col(Text(t, 11, color=DIM), b, gap=3)
    p2 = Col(caption, wslot, Space(0, 2),
             Row(head("x the tap read", boxes["tap"]), Text("×", 15, height=boxes["tap"].size()[1]),
                 head(f"∂L/∂out{u}", boxes["up"]), Text("=", 15, height=boxes["tap"].size()[1]),
                 head(f"products{u}", boxes["prod"]), gap=8),
             Row(Legend(up_scale, f"∂L/∂out{u}", width=110, name="upstream legend"),
                 Legend(p_scale, f"products{u}", width=110, name="product legend"), gap=16),
             final, gap=6)
    w_box = _map_box(kh, kw, s3, "dw map")
    bias = "" if trace.bias is None else \
        f"∂L/∂b = Σ ∂L/∂out = {show(float(trace.bias[0]) / unit, d)}{u}"
    p3 = Col(w_box, Text(bias, 12, color=DIM) if bias else None,
             Legend(w_scale, f"∂L/∂w{u}", name="gradient legend"), gap=6)
    panels = [Panel(p1, f"input x, padded {Hp}×{Wp}"),
              Panel(p2, "working: Σ over output positions of x · ∂L/∂out"),
              Panel(p3, f"∂L/∂w {kh}×{kw} for {weight_label}")]
    fr = grammar.Frame(title, "∂L/∂w[a, b] = Σ_ij x_pad[s·i + d·a, s·j + d·b] · "
                       "∂L/∂out[i, j]        ∂L/∂b = Σ_ij ∂L/∂out[i, j]",
                       panels, subtitle, plan.counters())
    lay = fr.lay
    in_xy, w_xy = _xy(in_box), _xy(w_box)
    draw_map(lay.base, *in_xy, xp, in_scale, s1, d)
    grid_vals = val.reshape(kh, kw)

    def draw(i, k, cv):
        shown = np.where(plan.done(i).reshape(kh, kw), grid_vals, np.nan)
        draw_map(cv, *w_xy, np.nan_to_num(shown), w_scale, s3, d,
                 labels=np.where(np.isnan(shown), "", show_grid(np.nan_to_num(shown), d)))
        for r, q in zip(*np.nonzero(np.isnan(shown))):
            g = gap_for(s3)
            cv.rect(w_xy[0] + g + q * s3, w_xy[1] + g + r * s3, w_xy[0] + (q + 1) * s3,
                    w_xy[1] + (r + 1) * s3, BLANK)                    # not computed yet
        text = {}
        if phases[i] != "hold":
            _, _, a, b = (int(v) for v in trace.out_index[k])
            _ring_cell(cv, w_xy, s3, a, b)
            r0, c0 = a * dilation[0], b * dilation[1]
            hh, ww = stride[0] * (OH - 1) + 1, stride[1] * (OW - 1) + 1
            cv.ring(in_xy[0] + c0 * s1, in_xy[1] + r0 * s1, in_xy[0] + (c0 + ww) * s1 + 1,
                    in_xy[1] + (r0 + hh) * s1 + 1)
            if stride != (1, 1):                       # dim the cells between the taps
                for r in range(hh):
                    for q in range(ww):
                        if r % stride[0] or q % stride[1]:
                            x0, y0 = in_xy[0] + (c0 + q) * s1, in_xy[1] + (r0 + r) * s1
                            cv.dim(x0, y0, x0 + s1, y0 + s1)
            lay.write(cv, wslot, where[k])
            if phases[i] == "tour":
                tap = np.asarray(trace.tap(k)[0], float)
                draw_map(cv, *_xy(boxes["tap"]), tap, in_scale, sm, d)
                draw_map(cv, *_xy(boxes["up"]), up, up_scale, sm, d)
                draw_map(cv, *_xy(boxes["prod"]), prods[k], p_scale, sm, d)
                lay.write(cv, final, finals[k])
                text.update(final=finals[k], where=where[k])
        return text

    frames, texts = fr.play(plan, draw, caption, clear=(fr.panels[1], wslot))
    layout = {"grad_xy": w_xy, "grad_cell": s3, "grad_scale": w_scale, "unit": unit,
              **grammar.record(lay, panels)}
    return Animation(frames, steps, layout, phases=phases, texts=texts)


# -- relu / sigmoid / tanh -----------------------------------------------------------------
def render_elementwise_backward(trace, max_frames=200, title="", subtitle="", tour=None,
                                tour_count=TOUR_COUNT, scale=None):
    """Render a one-sample, one-channel ``ElementwiseBackwardTrace``: panel 1 ∂L/∂out with the
    current element, panel 2 the local derivative (for relu the mask x > 0) and this
    element's product, panel 3 ∂L/∂x = ∂L/∂out · local filling in."""
    x = np.asarray(trace.input, float)
    if x.ndim != 4 or x.shape[:2] != (1, 1):
        raise ValueError(f"render_elementwise_backward: input {x.shape}, expected (1, 1, H, W)")
    H, W = x.shape[2:]
    e = unit_of(trace.upstream, trace.value)
    u, unit = unit_text(e), 10.0 ** e
    up = np.asarray(trace.upstream[0, 0], float) / unit
    dx = np.asarray(trace.value[0, 0], float) / unit
    local = np.asarray(trace.local[0, 0], float)
    xs = x[0, 0]
    S = H * W
    d = 0 if all_integers(up) and all_integers(dx) else 2
    blocked = (local.ravel() == 0) & (up.ravel() != 0)
    picks = choose(gradient_candidates(dx.ravel()), room(tour_count, max_frames)) \
        if tour is None else by_hand(tour)
    if tour is None and blocked.any() and len(picks) < tour_count + 1:
        keep = picks[:max(tour_count - 1, 0)]
        free = blocked.copy()
        free[[s.step for s in keep]] = False          # never a step already toured
        if free.any():
            k = int(np.argmax(np.where(free, np.abs(up.ravel()), -1)))
            # shown after the gradients it contrasts with, in the order chosen
            picks = keep + [Stop(k, "blocked: x ≤ 0, so ∂L/∂out does not pass", "blocked")]
    plan = grammar.Tour(S, picks, max_frames, sweep="sweep: every element, fast", hold=HOLD,
                        what="element")
    steps, phases = plan.steps, plan.phases
    s = int(scale) if scale else map_cell(H, W)
    g_scale = grad_scale(up, dx)
    loc_scale = auto_scale(local) if trace.op != "relu" else auto_scale(np.array([0.0, 1.0]))
    up_box, loc_box, dx_box = (_map_box(H, W, s, n) for n in ("upstream map", "local map",
                                                              "gradient map"))
    op = trace.op
    rule = {"relu": "1 where x > 0, else 0", "sigmoid": "σ(x)·(1 − σ(x))",
            "tanh": "1 − tanh(x)²"}[op]
    caption = plan.caption_slot()
    works = {}
    for k in np.unique(steps):
        r, c = divmod(int(k), W)
        works[int(k)] = (f"x[{r}, {c}] = {show(xs[r, c], 2)}   local = {show(local[r, c], 2)}",
                         f"∂L/∂x = {show(up[r, c], d)} · {show(local[r, c], 2)} = "
                         f"{show(dx[r, c], d)}{u}")
    line1 = Text(None, 13, "mono", name="line1", widest=[w[0] for w in works.values()])
    line2 = Text(None, 14, "monobold", ACCENT, name="line2", widest=[w[1] for w in works.values()])
    p1 = Col(up_box, Legend(g_scale, f"∂L/∂out{u}", name="upstream legend"), gap=6)
    p2 = Col(caption, line1, line2, Space(0, 2), Text(f"local derivative: {rule}", 11, color=DIM),
             loc_box, Legend(loc_scale, "local derivative", name="local legend"), gap=6)
    p3 = Col(dx_box, Legend(g_scale, f"∂L/∂x{u}", name="gradient legend"), gap=6)
    panels = [Panel(p1, f"upstream gradient ∂L/∂out {H}×{W}"),
              Panel(p2, f"working: ∂L/∂out × {op}'(x)"), Panel(p3, f"∂L/∂x {H}×{W}")]
    fr = grammar.Frame(title or f"{op} backward",
                       f"∂L/∂x = ∂L/∂out · {op}'(x),   {op}'(x) = {rule}",
                       panels, subtitle, plan.counters())
    lay = fr.lay
    up_xy, loc_xy, dx_xy = _xy(up_box), _xy(loc_box), _xy(dx_box)
    draw_map(lay.base, *up_xy, up, g_scale, s, d)
    draw_map(lay.base, *loc_xy, local, loc_scale, s, 2)
    full = Canvas(lay.width, lay.height)
    draw_map(full, *dx_xy, dx, g_scale, s, d)
    g = gap_for(s)

    def draw(i, k, cv):
        shown = np.repeat(np.repeat(plan.done(i).reshape(H, W), s, 0), s, 1)
        region = (slice(dx_xy[1] + g, dx_xy[1] + g + H * s),
                  slice(dx_xy[0] + g, dx_xy[0] + g + W * s))
        cv.px[region] = np.where(shown, full.px[region], cv.px[region])
        text = {}
        if phases[i] != "hold":
            r, c = divmod(k, W)
            for xy in (up_xy, loc_xy, dx_xy):
                _ring_cell(cv, xy, s, r, c)
            if phases[i] == "tour":
                lay.write(cv, line1, works[k][0])
                lay.write(cv, line2, works[k][1])
                text.update(line1=works[k][0], line2=works[k][1])
        return text

    frames, texts = fr.play(plan, draw, caption)
    layout = {"grad_xy": dx_xy, "grad_cell": s, "grad_scale": g_scale, "unit": unit,
              **grammar.record(lay, panels)}
    return Animation(frames, steps, layout, phases=phases, texts=texts)


# -- linear --------------------------------------------------------------------------------
def _fold(n):
    """(rows, cols) of a near-square grid holding a vector of n values."""
    cols = int(np.ceil(np.sqrt(n)))
    return int(np.ceil(n / cols)), cols


def _folded(v, shape):
    out = np.full(shape[0] * shape[1], np.nan)
    out[:len(v)] = v
    return out.reshape(shape)


def render_linear_backward(trace, max_frames=200, title="", subtitle="", tour=None,
                           tour_count=3):
    """Render a one-sample ``RowTrace`` of linear, one output neuron o per step.

    wrt x: ∂L/∂x += ∂L/∂out[o] · W[o] (panel 2: W[o] times ∂L/∂out[o]; panel 3: the running
    sum); wrt weight: row o of ∂L/∂W = ∂L/∂out[o] · x (panel 3: ∂L/∂W filling row by row).
    Vectors are folded into near-square grids, read row by row.
    """
    if np.unique(trace.out_index[:, 0]).size != 1:
        raise ValueError("render_linear_backward: the trace holds several samples, expected one")
    S = len(trace)
    e = unit_of(trace.scale)
    u, unit = unit_text(e), 10.0 ** e
    dout = np.asarray(trace.scale, float) / unit
    rows = np.asarray(trace.rows, float)
    n_in = rows.shape[1]
    fshape = _fold(n_in)
    wrt_x = trace.wrt == "x"
    picks = choose(gradient_candidates(dout), room(tour_count, max_frames)) if tour is None \
        else by_hand(tour)
    plan = grammar.Tour(S, picks, max_frames, sweep="sweep: every output neuron", hold=HOLD,
                        what="neuron")
    steps, phases = plan.steps, plan.phases
    states = {int(k): np.asarray(trace.output(int(k)), float) / unit for k in np.unique(steps)}
    final = states[S - 1]
    g_scale = grad_scale(*states.values())
    adds = {k: dout[k] * rows[trace.row_index[k]] for k in states}
    a_scale = grad_scale(*adds.values())
    r_scale = weight_scale(rows) if wrt_x else auto_scale(rows)
    s2 = int(max(8, min(28, 200 // max(fshape))))
    su = int(max(14, min(28, 300 // S)))
    uw = max(measure(show(v, 2), NUM_SIZE, "mono")[0] for v in dout) + 10
    up_box = Box(uw + 1 + 2 * RING_MARGIN, S * su + 1 + 2 * RING_MARGIN, "upstream")
    row_box, add_box = _map_box(*fshape, s2, "row map"), _map_box(*fshape, s2, "adds map")
    if wrt_x:
        out_box = _map_box(*fshape, s2, "gradient map")
        s3 = s2
        gshape = fshape
    else:
        s3 = int(max(4, min(16, 420 // n_in)))
        gshape = final.shape
        out_box = Box(gshape[1] * s3 + 1 + 2 * RING_MARGIN, gshape[0] * max(s3, 12) + 1 +
                      2 * RING_MARGIN, "gradient map")
    rname = "W[o]" if wrt_x else "x"
    caption = plan.caption_slot()
    lines = [f"∂L/∂out[{o}] = {show(dout[k], 2)}{u}" for k, o in enumerate(trace.out_index[:, 1])]
    line = Text(None, 13, "monobold", ACCENT, name="line", widest=lines)
    p1 = Col(up_box, Legend(grad_scale(dout), f"∂L/∂out{u}", width=90, name="upstream legend"),
             gap=6)
    p2 = Col(caption, line, Space(0, 2),
             Row(Col(Text(rname + (" (weights)" if wrt_x else " (the layer's input)"), 11,
                          color=DIM), row_box, Legend(r_scale, rname, width=110,
                                                      name="row legend"), gap=3),
                 Text("× ∂L/∂out[o] =", 13, height=row_box.size()[1]),
                 Col(Text(f"adds{u}", 11, color=DIM), add_box,
                     Legend(a_scale, f"adds{u}", width=110, name="adds legend"), gap=3), gap=8),
             Text(f"{n_in} values, read row by row", 11, color=DIM), gap=6)
    what = f"∂L/∂x ({n_in}), running sum" if wrt_x else \
        f"∂L/∂W {gshape[0]}×{gshape[1]}, row o = ∂L/∂out[o] · x"
    p3 = Col(out_box, Legend(g_scale, f"{'∂L/∂x' if wrt_x else '∂L/∂W'}{u}",
                             name="gradient legend"), gap=6)
    panels = [Panel(p1, f"∂L/∂out ({S})"), Panel(p2, "working: one output neuron o"),
              Panel(p3, what)]
    formula = ("∂L/∂x = Σ_o ∂L/∂out[o] · W[o]   (∂L/∂out · W)" if wrt_x else
               "∂L/∂W[o] = ∂L/∂out[o] · x   (∂L/∂outᵀ · x),   ∂L/∂b = ∂L/∂out")
    fr = grammar.Frame(title or f"linear backward, {'∂L/∂x' if wrt_x else '∂L/∂W'}",
                       formula, panels, subtitle, plan.counters())
    lay = fr.lay
    up_xy, row_xy, add_xy, out_xy = (_xy(b) for b in (up_box, row_box, add_box, out_box))
    cell_grid(lay.base, *up_xy, grad_scale(dout).index(dout[:, None]), (su, uw), 1,
              labels=show_grid(dout[:, None], 2), label_size=min(NUM_SIZE, su - 3))

    def draw(i, k, cv):
        st = states[k]
        if wrt_x:
            draw_map(cv, *out_xy, np.nan_to_num(_folded(st[0], gshape)), g_scale, s3, 2,
                     labels=np.full(gshape, ""))
        else:
            draw_map_rect(cv, out_xy, st, g_scale, (max(s3, 12), s3))
        text = {}
        if phases[i] != "hold":
            cv.ring(up_xy[0] + 1, up_xy[1] + 1 + k * su, up_xy[0] + uw, up_xy[1] + (k + 1) * su)
            lay.write(cv, line, lines[k])
            draw_map(cv, *row_xy, np.nan_to_num(_folded(rows[trace.row_index[k]], fshape)),
                     r_scale, s2, 2, labels=np.full(fshape, ""))
            draw_map(cv, *add_xy, np.nan_to_num(_folded(adds[k], fshape)), a_scale, s2, 2,
                     labels=np.full(fshape, ""))
            if not wrt_x:
                o = int(trace.target[k])
                h = max(s3, 12)
                cv.ring(out_xy[0], out_xy[1] + o * h, out_xy[0] + gshape[1] * s3 + 1,
                        out_xy[1] + (o + 1) * h + 1)
            text["line"] = lines[k]
        return text

    frames, texts = fr.play(plan, draw, caption, clear=(fr.panels[1], line))
    layout = {"grad_xy": out_xy, "grad_cell": s3, "grad_scale": g_scale, "unit": unit,
              "fold": gshape, **grammar.record(lay, panels)}
    return Animation(frames, steps, layout, phases=phases, texts=texts)


def draw_map_rect(cv, xy, vals, scale, cell):
    """A value map with non-square cells ``(height, width)`` and no numbers."""
    cell_grid(cv, xy[0], xy[1], scale.index(vals), cell, gap_for(min(cell)))
