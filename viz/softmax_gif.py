"""Frames of softmax and cross-entropy from a ``SoftmaxTrace``, stage by stage.

Panel 1: the logits z and z − max z; panel 2: exp(z − max z), revealed class by class,
then their sum; panel 3: the probabilities, class by class, and finally the loss of the
label. All numbers are the trace's fields.
"""
import numpy as np

from .draw import MINUS, fmt
from .frames import Animation
from .layout import ThreePanels
from .palette import ACCENT, ACCENT2, BAD, DIM, GOOD, GRID, TEXT, diverging_scale

ROW = 24          # pixels per class
BAR = 130         # bar length for the largest value
LAB = 22          # class label column


def _num(v):
    """A label for v: :func:`viz.draw.fmt`, but in scientific notation ("1.0e30", "3.2e−5")
    where fixed decimals would run 31 digits long or round a nonzero value to 0.00."""
    a = abs(float(v))
    if np.isfinite(a) and (a >= 1e4 or 0 < a < 0.005):
        mantissa, exponent = f"{float(v):.1e}".split("e")
        return f"{mantissa}e{int(exponent)}".replace("-", MINUS)
    return fmt(v)


CAPTIONS = {"logits": "the logits", "shifted": "subtract the max (stability)",
            "exp": "exponentiate", "total": "sum", "prob": "normalise",
            "loss": "cross-entropy of the label"}


def phases(k, has_label):
    """The stages shown, in order: ``("logits",)``, ``("shifted",)``, ``("exp", i)`` for
    every class, ``("total",)``, ``("prob", i)`` for every class, and ``("loss",)`` with a
    label."""
    out = [("logits",), ("shifted",)] + [("exp", i) for i in range(k)] + [("total",)]
    out += [("prob", i) for i in range(k)]
    return out + ([("loss",)] if has_label else [])


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
    Animation : ``steps`` is the index of each stage in :func:`phases`.
    """
    z = np.asarray(trace.logits, dtype=float)
    K = z.size
    if z.ndim != 1 or K < 2 or K > 20:
        raise ValueError(f"render_softmax: logits of shape {z.shape}, expected (K,) with "
                         f"2 <= K <= 20")
    has_label = trace.label is not None
    stages = phases(K, has_label)
    zscale = diverging_scale(np.abs(z).max())
    h = K * ROW + 24
    w1 = LAB + 2 * BAR + 2 + 70
    w2 = LAB + BAR + 70
    counters = [f"{c} · stage {len(stages)} / {len(stages)}" for c in CAPTIONS.values()]
    lay = ThreePanels([(w1, h + 40), (w2, h + 40), (w2, h + 40)],
                      ["logits z", "e = exp(z − max z)", "p = e / Σ e"],
                      "softmax(z) and cross_entropy(z, label)" if has_label else "softmax(z)",
                      "p_i = exp(z_i − max z) / Σ_j exp(z_j − max z)" +
                      ("      loss = −log p[label]" if has_label else ""), subtitle,
                      counter_widest=counters)
    base = lay.base
    (x1, y1), (x2, y2), (x3, y3) = lay.origin(0), lay.origin(1), lay.origin(2)
    zmax = float(np.abs(z).max()) or 1.0
    mid = x1 + LAB + BAR
    base.text(mid, y1, "z", size=12, color=DIM, anchor="ma")
    base.text(x1 + LAB + 2 * BAR + 8, y1, "z − max", size=12, color=DIM)
    for x, y in ((x1, y1), (x2, y2), (x3, y3)):
        for i in range(K):
            color = GOOD if has_label and i == trace.label else DIM
            base.text(x + LAB - 6, y + 24 + i * ROW + ROW // 2, str(i), size=12, color=color,
                      anchor="rm")
    base.rect(mid, y1 + 20, mid + 1, y1 + 24 + K * ROW, GRID)
    for i, v in enumerate(z):            # the logits never change: draw them once
        yy = y1 + 24 + i * ROW
        L = int(round(abs(v) / zmax * BAR))
        x0 = mid - L if v < 0 else mid + 1
        base.rect(x0, yy + 4, x0 + L, yy + ROW - 4, zscale.index(v))
        base.text(mid + 4 if v < 0 else mid - 4, yy + ROW // 2, _num(v), size=11, color=TEXT,
                  face="mono", anchor="lm" if v < 0 else "rm")
    base.rect(x2 + LAB, y2 + 20, x2 + LAB + 1, y2 + 24 + K * ROW, GRID)
    base.rect(x3 + LAB, y3 + 20, x3 + LAB + 1, y3 + 24 + K * ROW, GRID)

    def bars(cv, x, y, values, upto, color, vmax):
        for i in range(upto):
            yy = y + 24 + i * ROW
            L = max(1, int(round(values[i] / vmax * BAR)))
            cv.rect(x + LAB + 1, yy + 4, x + LAB + 1 + L, yy + ROW - 4, color)
            cv.text(x + LAB + L + 6, yy + ROW // 2, _num(values[i]), size=11, color=TEXT,
                    face="mono", anchor="lm")

    argmax_shift = int(np.flatnonzero(trace.shifted == 0)[0]) if np.any(trace.shifted == 0) else -1
    frames, names = [], []
    for n, st in enumerate(stages):
        cv = lay.new_frame()
        name = st[0]
        if n >= 1:                                           # z − max z, with the max marked
            for i, v in enumerate(trace.shifted):
                cv.text(x1 + LAB + 2 * BAR + 8, y1 + 24 + i * ROW + ROW // 2, _num(v), size=11,
                        color=ACCENT if i == argmax_shift else TEXT, face="mono", anchor="lm")
        n_exp = K if n >= 2 + K else (st[1] + 1 if name == "exp" else 0)
        bars(cv, x2, y2, trace.exp, n_exp, ACCENT2, 1.0)
        if name == "exp":
            cv.outline(x2, y2 + 24 + st[1] * ROW, x2 + w2, y2 + 24 + (st[1] + 1) * ROW, ACCENT, 1)
        if n >= 2 + K:
            cv.text(x2 + LAB, y2 + 24 + K * ROW + 10, f"Σ e = {_num(trace.total)}", size=14,
                    color=ACCENT if name == "total" else TEXT, face="monobold")
        n_prob = K if name == "loss" else (st[1] + 1 if name == "prob" else 0)
        bars(cv, x3, y3, trace.probs, n_prob, GOOD, 1.0)
        if name == "prob":
            i = st[1]
            cv.outline(x3, y3 + 24 + i * ROW, x3 + w2, y3 + 24 + (i + 1) * ROW, ACCENT, 1)
            cv.text(x3 + LAB, y3 + 24 + K * ROW + 10,
                    f"p[{i}] = {_num(trace.exp[i])} / {_num(trace.total)}", size=13, color=ACCENT,
                    face="mono")
        if name == "loss":
            lab = trace.label
            cv.outline(x3, y3 + 24 + lab * ROW, x3 + w2, y3 + 24 + (lab + 1) * ROW, BAD, 2)
            cv.text(x3 + LAB, y3 + 24 + K * ROW + 10,
                    f"loss = {MINUS}log p[{lab}] = {_num(trace.loss)}", size=14, color=BAD,
                    face="monobold")
        caption = CAPTIONS[name]
        lay.counter(cv, f"{caption} · stage {n + 1} / {len(stages)}")
        frames.append(cv.px)
        names.append(st)
    return Animation(frames, np.arange(len(frames)),
                     {"stages": names, "panels": lay.boxes, "size": (lay.width, lay.height)},
                     frame_ms=500, hold_ms=3000)
