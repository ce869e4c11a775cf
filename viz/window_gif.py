"""Frames of a sliding-window op (conv2d, max_pool2d, avg_pool2d) from its ``WindowTrace``.

Panel 1 shows the padded input (padding hatched) with the window as a white outline,
panel 2 the receptive field zoomed with its numbers, panel 3 the output filling in.
Every number shown is read from the trace; nothing here computes the op.
"""
import numpy as np

from .draw import BOX_MARGIN, MINUS, all_integers, cell_grid, fmt, text_size, upscale
from .fill import FillGrid
from .frames import Animation, plan_steps, single_sample
from .layout import ThreePanels
from .palette import ACCENT, ACCENT2, BLACK, DIM, TEXT, auto_scale, diverging_scale

MAX_LABELLED = 7          # windows up to 7x7 get their numbers written in
RF_TARGET = 224           # typical content height, pixels
SYM_W = 22                # width of the "×" and "=" columns in the conv panel


def _pair_str(p):
    return str(p[0]) if p[0] == p[1] else f"({p[0]}, {p[1]})"


def title_of(trace):
    """``max_pool2d(kernel_size=2, stride=2, padding=0, dilation=1)`` and the like."""
    geo = [f"kernel_size={_pair_str(trace.kernel_size)}", f"stride={_pair_str(trace.stride)}",
           f"padding={_pair_str(trace.padding)}"]
    if trace.op != "avg_pool2d":
        geo.append(f"dilation={_pair_str(trace.dilation)}")
    if trace.op == "conv2d":
        f, c, kh, kw = trace.weight.shape
        bias = "" if trace.bias is None else ", bias"
        return f"conv2d(x, weight {f}×{c}×{kh}×{kw}{bias}, " + ", ".join(geo[1:]) + ")"
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
        parts.append(f"\u230a({n} + 2·{p} {MINUS} {span})/{st}\u230b + 1 = {trace.out_shape[2 + ax]}")
    if parts[0] == parts[1]:
        return "out = " + parts[0]
    return f"OH = {parts[0]}     OW = {parts[1]}"


def _expr(terms, bias, value):
    """``0.12 − 0.50 + 0.10 = −0.28`` from already known numbers."""
    s = fmt(terms[0])
    for t in list(terms[1:]) + ([] if bias is None else [bias]):
        s += (f" {MINUS} " + fmt(-t)) if t < 0 else (" + " + fmt(t))
    return s + " = " + fmt(value)


class _WindowFrames:
    """Static layout and per-step drawing for one trace (one sample)."""

    def __init__(self, trace, scale, subtitle):
        self.tr = tr = trace
        self.n = n = single_sample(tr.out_index, "render_window")
        self.conv = tr.op == "conv2d"
        self.s = s = int(scale)
        self.kh, self.kw = tr.kernel_size
        self.dh, self.dw = tr.dilation
        self.ph, self.pw = tr.padding
        self.xp = tr.padded[n]                                   # (C, Hp, Wp)
        self.C, self.Hp, self.Wp = self.xp.shape
        _, self.F, self.OH, self.OW = tr.out_shape
        self.labelled = max(self.kh, self.kw) <= MAX_LABELLED

        self.in_scale = auto_scale(tr.input[n])
        if self.conv:
            self.out_scale = diverging_scale(np.abs(tr.value).max())
            self.w_scale = diverging_scale(np.abs(tr.weight).max())
        else:
            # pooled values are input values (max) or means of them: the input's scale fits
            self.out_scale = self.in_scale

        # panel 1: the padded input, one block per channel
        self.chan_label_h = 16 if self.C > 1 else 0
        in_w = self.Wp * s + 2 * BOX_MARGIN
        blk_h = self.chan_label_h + self.Hp * s + 2 * BOX_MARGIN
        in_h = self.C * blk_h + (self.C - 1) * 6

        # panel 3: the output maps, one block per output channel
        o = min((self.Hp * s) // self.OH, (self.Wp * s) // self.OW, 64)
        self.o = max(o, 2)
        self.ogap = 1 if self.o >= 8 else 0          # as FillGrid draws it
        self.out_label_h = 16 if self.F > 1 else 0
        out_w = self.OW * self.o + self.ogap
        oblk_h = self.out_label_h + self.OH * self.o + self.ogap
        out_h = self.F * oblk_h + (self.F - 1) * 6

        # panel 2: the receptive field
        target = max(in_h, out_h, 160)
        rf_w, rf_h = self._rf_size(target)

        labels = [f"input {self.C}×{tr.input.shape[2]}×{tr.input.shape[3]}" +
                  (" (padding hatched)" if (self.ph or self.pw) else ""),
                  f"receptive field {self.kh}×{self.kw}" + (f" × {self.C} channels" if self.conv
                                                            and self.C > 1 else ""),
                  f"output {self.F}×{self.OH}×{self.OW}"]
        self.lay = lay = ThreePanels([(in_w, in_h), (rf_w, rf_h), (out_w, out_h)], labels,
                                     title_of(tr), formula_of(tr), subtitle)
        base = lay.base

        # panel 1 content (static): image, hatched padding
        x0, y0 = lay.origin(0)
        self.in_xy = []
        for c in range(self.C):
            by = y0 + c * (blk_h + 6)
            if self.C > 1:
                base.text(x0, by, f"channel {c}", size=12, color=DIM)
            ix, iy = x0 + BOX_MARGIN, by + self.chan_label_h + BOX_MARGIN
            self.in_xy.append((ix, iy))
            img = self.in_scale.index(self.xp[c])
            base.blit(ix, iy, upscale(img, s))
            if self.ph or self.pw:
                H, W = self.Hp - 2 * self.ph, self.Wp - 2 * self.pw
                X1, Y1 = ix + self.Wp * s, iy + self.Hp * s
                base.hatch(ix, iy, X1, iy + self.ph * s)
                base.hatch(ix, iy + (self.ph + H) * s, X1, Y1)
                base.hatch(ix, iy, ix + self.pw * s, Y1)
                base.hatch(ix + (self.pw + W) * s, iy, X1, Y1)

        # panel 3: one grid per output channel, filling in
        ox, oy = lay.origin(2)
        grid_vals = np.full((self.F, self.OH, self.OW), np.nan)
        grid_step = np.zeros((self.F, self.OH, self.OW), dtype=np.int64)
        _, f_, i_, j_ = tr.out_index.T
        grid_vals[f_, i_, j_] = tr.value
        grid_step[f_, i_, j_] = np.arange(len(tr))
        self.grids, self.grid_xy, self.out_xy = [], [], []
        for f in range(self.F):
            by = oy + f * (oblk_h + 6)
            if self.F > 1:
                base.text(ox, by, f"filter {f}" if self.conv else f"channel {f}", size=12,
                          color=DIM)
            g = FillGrid(grid_vals[f], grid_step[f], self.out_scale, self.o)
            self.grids.append(g)
            self.grid_xy.append((ox, by + self.out_label_h))
            self.out_xy.append(g.cell_origin(ox, by + self.out_label_h))

    # -- panel 2 ---------------------------------------------------------------------------
    def _rf_size(self, target):
        kh, kw = self.kh, self.kw
        if not self.conv:
            self.cz = int(np.clip(min(180 // kw, (target - 76) // kh), 8, 48))
            grid_w = kw * self.cz + 1
            return max(grid_w, 200), max(kh * self.cz + 1 + 76, target)
        C = self.C
        self.cz = int(np.clip(min(260 // (2 * kw), (target - 90 - 8 * (C - 1)) // (C * kh)), 6, 40))
        grid_w = kw * self.cz + 1
        self.contrib_w = text_size(MINUS + "88.88", 13, "mono")[0] + 4
        row_w = 2 * grid_w + 2 * SYM_W + self.contrib_w
        sum_w = text_size(" + ".join([MINUS + "8.88"] * (C + 1)) + " = " + MINUS + "8.88", 13,
                          "mono")[0]
        h = 18 + C * (kh * self.cz + 1) + 8 * (C - 1) + 70
        return max(row_w, sum_w, 200), max(h, target)

    def _labels(self, values, integers):
        if not self.labelled:
            return None
        return np.array([[fmt(v, integers) for v in row] for row in values])

    def _draw_rf(self, cv, k):
        tr, cz = self.tr, self.cz
        x0, y0, x1, y1 = self.lay.content_box(1)
        field, pad = tr.field[k], tr.is_pad[k]
        f, i, j = (int(v) for v in tr.out_index[k, 1:])
        r0, c0 = (int(v) for v in tr.origin[k])
        where = f"out[{f}, {i}, {j}]" if self.F > 1 else f"out[{i}, {j}]"
        cv.text((x0 + x1) // 2, y1, f"window at ({r0}, {c0}) → {where}", size=12, color=DIM,
                anchor="md")
        ints_in = all_integers(tr.input[self.n])
        if not self.conv:
            gw = self.kw * cz + 1
            gx = x0 + (x1 - x0 - gw) // 2
            idx = self.in_scale.index(field[0])
            cell_grid(cv, gx, y0, idx, cz, 1, labels=self._labels(field[0], ints_in), pad=pad)
            ty = y0 + self.kh * cz + 1 + 22
            if tr.op == "max_pool2d":
                r, c = (int(v) for v in tr.argmax[k])
                cv.outline(gx + c * cz, y0 + r * cz, gx + (c + 1) * cz + 1, y0 + (r + 1) * cz + 1,
                           ACCENT, 3 if cz >= 16 else 1)
                cv.text((x0 + x1) // 2, ty, f"max = {fmt(tr.value[k])}", size=15, color=ACCENT,
                        face="monobold", anchor="mm")
            else:
                cv.text((x0 + x1) // 2, ty, f"mean = {fmt(tr.value[k])}", size=15,
                        color=ACCENT, face="monobold", anchor="mm")
                note = f"of all {self.kh * self.kw} cells"
                if self.ph or self.pw:
                    note += " (padding counts as 0)"
                cv.text((x0 + x1) // 2, ty + 20, note, size=12, color=DIM, anchor="mm")
            return
        # conv: one row per input channel: field × weight = contribution
        w = tr.weight[f]
        gw, gh = self.kw * cz + 1, self.kh * cz + 1
        ints_w = all_integers(tr.weight)
        hx = [x0, x0 + gw + SYM_W, x0 + 2 * (gw + SYM_W)]
        for x, t in zip(hx, ["x (window)", f"w[{f}]", "Σ x·w"]):
            cv.text(x, y0, t, size=12, color=DIM)
        y = y0 + 18
        for c in range(self.C):
            cell_grid(cv, hx[0], y, self.in_scale.index(field[c]), cz, 1,
                      labels=self._labels(field[c], ints_in), pad=pad)
            cv.text(hx[0] + gw + SYM_W // 2, y + gh // 2, "×", size=15, color=TEXT, anchor="mm")
            cell_grid(cv, hx[1], y, self.w_scale.index(w[c]), cz, 1,
                      labels=self._labels(w[c], ints_w))
            cv.text(hx[1] + gw + SYM_W // 2, y + gh // 2, "=", size=15, color=TEXT, anchor="mm")
            cv.text(hx[2], y + gh // 2, fmt(tr.contrib[k, c]), size=13, color=TEXT, face="mono",
                    anchor="lm")
            if self.C > 1:
                cv.text(hx[2], y + gh // 2 + 16, f"ch {c}", size=11, color=DIM, anchor="lm")
            y += gh + 8
        bias = None if tr.bias is None else float(tr.bias[f])
        head = ("Σ channels" if self.C > 1 else "Σ x·w") + (" + bias" if bias is not None else "")
        cv.text(x0, y + 6, head + " = out", size=12, color=DIM)
        cv.text(x0, y + 24, _expr(tr.contrib[k], bias, tr.value[k]), size=13, color=ACCENT,
                face="monobold")

    # -- one frame -------------------------------------------------------------------------
    def frame(self, k, total_frames_label):
        tr, s = self.tr, self.s
        cv = self.lay.new_frame()
        # panel 1: the window box, on the channel the step reads (all channels for conv)
        r0, c0 = (int(v) for v in tr.origin[k])
        ext_h, ext_w = self.dh * (self.kh - 1) + 1, self.dw * (self.kw - 1) + 1
        chans = range(self.C) if self.conv else [int(tr.out_index[k, 1])]
        for c in chans:
            ix, iy = self.in_xy[c]
            X0, Y0 = ix + c0 * s, iy + r0 * s
            cv.window_box(X0, Y0, X0 + ext_w * s, Y0 + ext_h * s)
            if (self.dh > 1 or self.dw > 1) and s >= 3:
                m = max(2, s // 3)
                for r in range(self.kh):
                    for q in range(self.kw):
                        cx = X0 + q * self.dw * s + s // 2
                        cy = Y0 + r * self.dh * s + s // 2
                        cv.rect(cx - m // 2 - 1, cy - m // 2 - 1, cx - m // 2 + m + 1,
                                cy - m // 2 + m + 1, BLACK)
                        cv.rect(cx - m // 2, cy - m // 2, cx - m // 2 + m, cy - m // 2 + m, ACCENT2)
            if tr.op == "max_pool2d" and s >= 4:
                r, q = (int(v) for v in tr.argmax[k])
                ax, ay = X0 + q * self.dw * s, Y0 + r * self.dh * s
                cv.outline(ax, ay, ax + s, ay + s, ACCENT, 1 if s < 10 else 2)
        # panel 2
        self._draw_rf(cv, k)
        # panel 3: every cell written by steps <= k, the current one ringed
        f, i, j = (int(v) for v in tr.out_index[k, 1:])
        for g, (gx, gy), ff in zip(self.grids, self.grid_xy, range(self.F)):
            g.draw(cv, gx, gy, k, (i, j) if ff == f else None)
        self.lay.counter(cv, f"step {k + 1} / {len(tr)}{total_frames_label}")
        return cv.px

    def layout(self):
        return {"input_xy": self.in_xy, "scale": self.s, "output_xy": self.out_xy,
                "cell": self.o, "gap": self.ogap, "in_scale": self.in_scale,
                "out_scale": self.out_scale, "panels": self.lay.boxes,
                "size": (self.lay.width, self.lay.height)}


def auto_scale_factor(height, width, channels=1):
    """Default ``scale``: about 240 px for the (padded) input, 8 at most, smaller when
    several channels are stacked."""
    s = min(8, 240 // max(height, width), 360 // (channels * height) if channels > 1 else 8)
    return max(1, s)


def render_window(trace, scale=None, max_frames=200, subtitle=""):
    """Render a ``WindowTrace`` (one sample) to frames.

    Parameters
    ----------
    trace : ops.WindowTrace
        From ``cache.trace(sample=n)`` of conv2d, max_pool2d or avg_pool2d.
    scale : int, optional
        Screen pixels per input pixel in panel 1 (integer: crisp upscaling); default
        :func:`auto_scale_factor` of the padded input.
    max_frames : int
        Most frames; longer traces fast-forward after the first output row
        (:func:`viz.frames.plan_steps`).
    subtitle : str
        Footer text (what the input and the kernel are).

    Returns
    -------
    Animation : frames (H, W) uint8 palette indices, ``steps`` the trace step of each frame,
    ``layout`` with ``input_xy`` (top-left of each channel's padded image), ``scale``,
    ``output_xy`` (top-left of each output map's first cell), ``cell``, ``gap``, and the
    colour scales ``in_scale`` / ``out_scale``.
    """
    if scale is None:
        _, c, hp, wp = trace.padded.shape
        scale = auto_scale_factor(hp, wp, c)
    if int(scale) < 1:
        raise ValueError(f"render_window: scale={scale}, expected an integer >= 1")
    wf = _WindowFrames(trace, scale, subtitle)
    steps = plan_steps(len(trace), max_frames, wf.OW)
    frames = []
    for n, k in enumerate(steps):
        jump = n > 0 and k - steps[n - 1] > 1
        frames.append(wf.frame(int(k), "  (fast-forward)" if jump else ""))
    return Animation(frames, steps, wf.layout())
