"""Frames of softmax and cross-entropy from a ``SoftmaxTrace``, stage by stage.

Panel 1: the logits z and z − max z; panel 2: exp(z − max z), revealed class by class,
then their sum; panel 3: the probabilities, class by class, and finally the loss of the
label. All numbers are the trace's fields. The frame is declared on :mod:`viz.layout`:
every label and number column is measured, so long numbers widen their column instead of
running into the next.
"""
import numpy as np

from .arith import APPROX, adds_up, decimals_of, number, quotient, show
from .dense import row_labels
from .draw import MINUS, fmt_short
from . import grammar
from .frames import NEW_MAX, Animation
from .layout import PAD, Box, Col, Panel, Row, Space, Text, measure
from .legend import Legend
from .palette import (ACCENT, ACCENT2, BAD, DIM, GOOD, GRAY0, GRAY_LEVELS, GRID, TEXT,
                      diverging_scale)

P_BAR = GRAY0 + GRAY_LEVELS - 1     # a probability is data: the lightest gray

ROW = 24          # pixels per class
BAR = 130         # bar length for the largest value
NUM = 11          # font size of the numbers beside the bars
SLOW_CLASSES = 10  # up to this many classes, every division stays long enough to read


CAPTIONS = {"logits": "the logits", "shifted": "subtract the max (stability)",
            "exp": "exponentiate", "total": "sum", "prob": "normalise",
            "loss": "cross-entropy of the label"}


def phases(k, has_label, logits=None, shifted=None):
    """The stages shown, in order: ``("logits",)``, ``("shifted",)``, ``("exp", i)`` for
    every class, ``("total",)``, ``("prob", i)`` for every class, and ``("loss",)`` with a
    label. ``logits``, ``shifted``: the classes each frame of that stage adds (tuples, from
    :func:`viz.grammar.build_up`), when it is built up in several: ``("logits", classes)``."""
    def built(name, parts):
        return [(name,)] if parts is None or len(parts) < 2 else [(name, p) for p in parts]
    out = built("logits", logits) + built("shifted", shifted) + \
        [("exp", i) for i in range(k)] + [("total",)]
    out += [("prob", i) for i in range(k)]
    return out + ([("loss",)] if has_label else [])


def _width(strings, size=NUM, face="mono"):
    return max(measure(s, size, face)[0] for s in strings)


def render_softmax(trace, subtitle=""):
    """Render a ``SoftmaxTrace`` to frames, one per stage of :func:`phases`.

    Parameters
    ----------
    trace : ops.SoftmaxTrace
        From ``ops.trace_softmax(logits, label)``.
    subtitle : str
        Footer text.

    Returns
    -------
    Animation : ``steps`` is the index of each stage in :func:`phases`; ``phases`` marks
    the summary stages (the logits, the shift, the sum) "tour" (they stay longer) and the
    last stage "hold"; ``texts`` holds per frame the sum and division shown, and whether
    they are marked ≈. ``layout`` has ``stages`` and ``layout`` (the Layout).
    """
    z = np.asarray(trace.logits, dtype=float)
    K = z.size
    if z.ndim != 1 or K < 2 or K > 20:
        raise ValueError(f"render_softmax: logits of shape {z.shape}, expected (K,) with "
                         f"2 <= K <= 20")
    has_label = trace.label is not None
    zscale = diverging_scale(np.abs(z).max())
    z_s, sh_s = [fmt_short(v) for v in z], [fmt_short(v) for v in trace.shifted]
    # the logits and their shift, in halves when more than NEW_MAX (ten classes: 5 + 5)
    halves = [list(g) for g in np.array_split(np.arange(K), -(-K // NEW_MAX))]
    z_parts, seen = grammar.build_up([[int(i) for i in g] for g in halves],
                                     lambda rev: [z_s[i] for i in rev], merge=True)
    sh_parts, _ = grammar.build_up([[int(i) for i in g] for g in halves],
                                   lambda rev: list(seen) + [sh_s[i] for i in rev], seen,
                                   merge=True)
    stages = phases(K, has_label, z_parts, sh_parts)
    e_s, p_s = [fmt_short(v) for v in trace.exp], [fmt_short(v) for v in trace.probs]
    total_s = fmt_short(trace.total)
    exact_total = adds_up(e_s, total_s)
    sum_line = f"Σ e {'=' if exact_total else APPROX} {total_s}"
    sum_note = None if exact_total else "≈: the e shown are rounded"

    def p_line(i):
        """The division of class i, with e and Σ e written to as many decimals (2 to 4) as
        make the shown quotient the shown p; else ≈, and the note says why."""
        p_dec = decimals_of(p_s[i]) if "e" not in p_s[i] else None
        for d in range(2, 5) if p_dec is not None else ():
            e_d, t_d = show(trace.exp[i], d), show(trace.total, d)
            if quotient(e_d, t_d, p_dec) == p_s[i]:
                return f"p[{i}] = {e_d} / {t_d} = {p_s[i]}", True
        return f"p[{i}] = {e_s[i]} / {total_s} {APPROX} {p_s[i]}", False

    loss_line = f"loss = {MINUS}log p[{trace.label}] = {fmt_short(trace.loss)}" if has_label else ""

    # -- declare the frame: per panel, class labels | bars with their numbers
    def labels():
        return row_labels([str(i) for i in range(K)], ROW, size=12, name="class",
                          colors=[GOOD if has_label and i == trace.label else DIM
                                  for i in range(K)])

    half = max(BAR, _width(z_s) + 8)
    z_box = Box(2 * half + 1, K * ROW, "z bars")
    sh_slots = [Text(None, NUM, "mono", widest=sh_s, name=f"z − max {i}") for i in range(K)]
    sh_col = Col(*[c for s in sh_slots for c in (s, Space(0, ROW - s.size()[1]))][:-1], gap=0)
    head = Text("z", 12, color=DIM)
    hh = head.size()[1] + 4
    legend_z = Legend(zscale, "z", name="legend z")
    p1 = Col(Row(Col(Space(0, hh), labels(), gap=0), Col(head, z_box, align="c"),
                 Col(Text("z − max", 12, color=DIM), Space(0, 4),
                     Space(0, (ROW - sh_slots[0].size()[1]) // 2), sh_col, gap=0), gap=8),
             Space(0, 6), legend_z, gap=4)
    e_box = Box(BAR + 8 + _width(e_s), K * ROW, "e bars")
    total_t = Text(None, 14, "monobold", widest=[sum_line], name="sum")
    note_t = Text(sum_note, 11, color=DIM, name="note") if sum_note else None
    p2 = Col(Row(labels(), e_box, gap=6), Space(0, 6), total_t, note_t, gap=4)
    p_box = Box(BAR + 8 + _width(p_s), K * ROW, "p bars")
    p_lines = [p_line(i) for i in range(K)]
    result_t = Text(None, 13, "monobold", name="p or loss",
                    widest=[s for s, _ in p_lines] + ([loss_line] if has_label else []))
    div_note = "≈: e and Σ e are shown rounded; p is the op's own"
    div_t = Text(None, 11, color=DIM, name="division note", widest=[div_note]) \
        if not all(ok for _, ok in p_lines) else None
    p3 = Col(Row(labels(), p_box, gap=6), Space(0, 6), result_t, div_t, gap=4)
    contents = [p1, p2, p3]
    h = max(c.size()[1] for c in contents) + 2 * PAD
    panels = [Panel(c, lb, min_h=h, name=lb) for c, lb in
              zip(contents, ["logits z", "e = exp(z − max z)", "p = e / Σ e"])]
    title = "softmax(z) and cross_entropy(z, label)" if has_label else "softmax(z)"
    formula = "p_i = exp(z_i − max z) / Σ_j exp(z_j − max z)" + \
        ("      loss = −log p[label]" if has_label else "")
    fr = grammar.Frame(title, formula, panels, subtitle,
                       [f"{c} · stage {len(stages)} / {len(stages)}" for c in CAPTIONS.values()],
                       lead=4)
    lay, counter = fr.lay, fr.counter
    base = lay.base
    legend_z.paint(base)

    # the logits, around the zero line: once shown, they stay
    zx, zy = z_box.box[:2]
    mid = zx + half
    zmax = float(np.abs(z).max()) or 1.0
    base.rect(mid, zy, mid + 1, zy + K * ROW, GRID)

    def logits(cv, classes):
        for i in classes:
            v, yy = z[i], zy + i * ROW
            L = int(round(abs(v) / zmax * BAR))
            x0 = mid - L if v < 0 else mid + 1
            cv.rect(x0, yy + 4, x0 + L, yy + ROW - 4, zscale.index(v))
            cv.text(mid + 4 if v < 0 else mid - 4, yy + ROW // 2, z_s[i], size=NUM,
                    color=TEXT, face="mono", anchor="lm" if v < 0 else "rm")
    for b in (e_box, p_box):
        base.rect(b.box[0], b.box[1], b.box[0] + 1, b.box[3], GRID)

    def bars(cv, box, values, texts, upto, color):
        x, y = box.box[:2]
        for i in range(upto):
            yy = y + i * ROW
            L = max(1, int(round(values[i] * BAR)))
            cv.rect(x + 1, yy + 4, x + 1 + L, yy + ROW - 4, color)
            cv.text(x + L + 6, yy + ROW // 2, texts[i], size=NUM, color=TEXT, face="mono",
                    anchor="lm")

    def mark(cv, panel, box, i, color, width):
        x0, _, x1, _ = panel.content_box
        y = box.box[1] + i * ROW
        cv.outline(x0 - 4, y, x1 + 4, y + ROW, color, width)

    argmax_shift = int(np.flatnonzero(trace.shifted == 0)[0]) if np.any(trace.shifted == 0) else -1
    frames, names, texts, kinds = [], [], [], []
    z_upto, sh_upto = [], []            # the classes whose z, z − max z are on screen
    n_exp0 = len([st for st in stages if st[0] in ("logits", "shifted")])
    for n, st in enumerate(stages):
        cv = lay.new_frame()
        name = st[0]
        shown = {}
        if name in ("logits", "shifted"):
            (z_upto if name == "logits" else sh_upto).extend(st[1] if len(st) > 1 else
                                                              range(K))
        logits(cv, z_upto)
        for i in sh_upto:                                    # z − max z, with the max marked
            lay.write(cv, sh_slots[i], sh_s[i], color=ACCENT if i == argmax_shift else TEXT)
        n = n - n_exp0 + 2               # the stages after the shift, counted as before
        n_exp = K if n >= 2 + K else (st[1] + 1 if name == "exp" else 0)
        bars(cv, e_box, trace.exp, e_s, n_exp, ACCENT2)
        if name == "exp":
            mark(cv, panels[1], e_box, st[1], ACCENT, 1)
        if n >= 2 + K:
            lay.write(cv, total_t, sum_line, color=ACCENT if name == "total" else TEXT)
            shown["sum"] = {"terms": e_s, "total": total_s, "approx": not exact_total}
        n_prob = K if name == "loss" else (st[1] + 1 if name == "prob" else 0)
        bars(cv, p_box, trace.probs, p_s, n_prob, P_BAR)     # data in [0, 1]: gray
        if name == "prob":
            i = st[1]
            mark(cv, panels[2], p_box, i, ACCENT, 1)
            line, ok = p_lines[i]
            lay.write(cv, result_t, line, color=ACCENT, face="mono")
            if not ok:
                lay.write(cv, div_t, div_note)
            e_d, t_d = line.split(" = ")[1].split(" ")[0::2][:2]
            shown["divide"] = {"e": e_d, "total": t_d, "p": p_s[i], "approx": not ok,
                               "line": line}
        if name == "loss":
            mark(cv, panels[2], p_box, trace.label, GOOD, 2)    # the true class
            lay.write(cv, result_t, loss_line, color=BAD)
        lay.write(cv, counter, f"{CAPTIONS[name]} · stage {len(frames) + 1} / {len(stages)}")
        frames.append(cv.px)
        names.append(st)
        # what the frame shows, for the reading rule: each division stays as long as its
        # numbers take to read, not a sweep's 300 ms
        shown["shown"] = [z_s[i] for i in z_upto] + [sh_s[i] for i in sh_upto] + e_s[:n_exp] + \
            ([total_s] if n >= 2 + K else []) + p_s[:n_prob] + \
            (line.split(" = ", 1)[1].split() if name == "prob" else []) + \
            ([fmt_short(trace.loss)] if name == "loss" else [])
        texts.append(shown)
        # each exp is one number: fast; each division is read, unless there are so many
        # classes that reading them all would pass the 30 s
        read = name != "exp" and (name != "prob" or K <= SLOW_CLASSES)
        kinds.append("hold" if len(frames) == len(stages) else "tour" if read else "sweep")
    return Animation(frames, np.arange(len(frames)),
                     {"stages": names, **grammar.record(lay)},
                     phases=kinds, texts=texts)
