"""The tour of a GIF: a few informative steps, each with what it is and why it is shown.

A renderer says what makes a step worth a slow look as :class:`Candidate` s, best first
(e.g. kind "largest": the largest |output|, "tie", "padding", each scoring every step);
:func:`choose` picks one step per candidate into :class:`Stop` s, which carry their kind as
data: a caption is written from the stop (its ``why``, or a view's own words for its
``kind``), never by matching another module's wording. :func:`window_candidates` are the
window ops' (conv2d, max_pool2d, avg_pool2d); other renderers declare theirs beside their
frames. A step whose numbers are all 0 is never a candidate; ``exact(k)`` lets a caller
prefer, among near-equal candidates, a step whose shown arithmetic adds up at the shown
precision.
"""
from dataclasses import dataclass

import numpy as np

TOUR_COUNT = 3          # tour stops by default, at most, in every GIF (fewer when the
                        # working is long: the whole GIF plays at most 30 s)
MIN_TOUR = 3            # fallback candidates fill the tour up to this many
NEAR = 8                # steps looked at per candidate when preferring exact arithmetic


@dataclass(frozen=True, order=True)
class Stop:
    """One toured step: ``step`` (trace index), ``why`` (the caption's words), ``kind`` (what
    it is: "largest", "tie", "padding", "by hand", ...). Stops sort by step."""
    step: int
    why: str
    kind: str = ""

    def worded(self, words):
        """This stop with ``words[kind]`` as its why, where a view words the kind itself."""
        return Stop(self.step, words.get(self.kind, self.why), self.kind)


@dataclass
class Candidate:
    """What makes a step worth touring: ``kind`` and ``why`` (as on :class:`Stop`), and
    either ``score`` (one per step, higher first; ties keep step order) with ``ok`` (the steps
    that qualify, default all), or one given ``step`` (None: no such step).

    ``near``: None takes the best free step; "equal" or a fraction f (0.9: within 10 %)
    looks, among the next ``NEAR`` free steps scoring equal to / at least f times the best,
    for the first whose arithmetic is exact. ``fallback``: only to fill the tour up to
    ``MIN_TOUR`` steps.
    """
    kind: str
    why: str
    score: object = None
    ok: object = None
    step: object = None
    near: object = None
    fallback: bool = False

    def ranking(self, n_steps=None):
        """The qualifying steps, best first, and their scores."""
        if self.score is None:
            ok = self.step is not None and (n_steps is None or 0 <= int(self.step) < n_steps)
            return ([int(self.step)] if ok else []), [0.0]
        score = np.asarray(self.score)
        idx = np.arange(len(score)) if self.ok is None else np.flatnonzero(self.ok)
        idx = idx[np.argsort(-score[idx], kind="stable")]
        return idx, score[idx]

    def pick(self, taken, exact=None, n_steps=None):
        """The step this candidate adds to a tour that holds ``taken`` already, or None."""
        order, score = self.ranking(n_steps)
        free = [n for n, k in enumerate(order) if int(k) not in taken]
        if not free:
            return None
        if self.near is not None:
            top = score[free[0]]
            near = [n for n in free[:NEAR]
                    if (score[n] == top if self.near == "equal" else score[n] >= self.near * top)]
            for n in near:
                if exact is None or exact(int(order[n])):
                    return int(order[n])
        return int(order[free[0]])


def choose(candidates, count, exact=None, n_steps=None, min_tour=MIN_TOUR):
    """The tour: up to ``count`` :class:`Stop` s, at most one per candidate, taken in the order
    given (fallbacks only while the tour is shorter than ``min_tour``), and shown in that
    order: a caption saying "another" or "of the other sign" comes after the stop it refers
    to."""
    stops, taken = [], set()
    for c in candidates:
        if len(stops) >= count or (c.fallback and len(stops) >= min_tour):
            break
        k = c.pick(taken, exact, n_steps)
        if k is not None:
            stops.append(Stop(k, c.why, c.kind))
            taken.add(k)
    return stops


_ORDINAL = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
            "ninth", "tenth"]


def distinct(stops):
    """``stops`` with a repeated "another ..." reason said as what it is: the third stop of
    "the largest gradient", "another strong gradient", "another strong gradient" reads "a
    third strong gradient" (the n-th stop shown is the n-th such step)."""
    out, seen = [], set()
    for i, s in enumerate(stops):
        why = s.why
        if why in seen and why.startswith("another ") and i < len(_ORDINAL):
            why = f"a {_ORDINAL[i]} {why[len('another '):]}"
        seen.add(s.why)
        out.append(Stop(s.step, why, s.kind))
    return out


def fit(stops, cost, budget_ms):
    """The first of ``stops`` whose reading time (``cost(i, stop)`` in ms, the i-th stop
    shown) fits ``budget_ms``; at least one."""
    out, used = [], 0
    for i, s in enumerate(stops):
        c = cost(i, s)
        if out and used + c > budget_ms:
            break
        out.append(s)
        used += c
    return out


def by_hand(steps):
    """The stops of a tour the user chose (``--tour``)."""
    return [Stop(int(k), "chosen by hand", "by hand") for k in steps]


def room(count, max_frames):
    """How many tour steps fit ``max_frames`` (the sweep and the hold need a frame each)."""
    return max(0, min(count, max_frames - 2))


def window_candidates(trace):
    """The tour candidates of a one-sample ``WindowTrace``, in priority: the largest
    |output|; the window with the widest spread of values (the edge of a stroke); for
    max_pool2d, a tie for the max; for stride > window extent, a window beside skipped cells
    that hold data; a window that touches the padding; then, only to reach ``MIN_TOUR``, the
    strongest output of the other sign and the next strongest. Use with ``exact``."""
    tr = trace
    S = len(tr)
    f = np.asarray(tr.field, dtype=float).reshape(S, -1)
    fin = np.where(np.isfinite(f), f, 0.0)
    nonzero = (fin != 0).any(axis=1)
    if not nonzero.any():
        return []
    val = np.asarray(tr.value, dtype=float)
    aval = np.where(np.isfinite(val), np.abs(val), -1.0)
    spread = fin.max(1) - fin.min(1) + 1e-3 * np.array([np.unique(r).size for r in fin])

    def cand(kind, why, score, ok, near=0.9, fallback=False):
        return Candidate(kind, why, score, ok & nonzero, near=near, fallback=fallback)

    cands = [cand("largest", "largest |output|", aval, np.ones(S, bool), near="equal")]
    filt = np.asarray(tr.out_index)[:, 1]
    best = cands[0].ranking()[0]
    seen = {int(filt[best[0]])} if len(best) else set()
    for f in range(int(tr.out_shape[1])) if tr.out_shape[1] > 1 else []:
        if f in seen:           # every filter once: the largest output's is toured already
            continue
        cands.append(cand("filter", f"filter {f}: its largest |output|", aval, filt == f,
                          near="equal"))
    # a stroke's edge is a picture's (whole-number toys have none), and only where every
    # channel of the window holds some of it
    image = not np.all(np.mod(fin, 1) == 0)
    inked = (fin.reshape(S, tr.field.shape[1], -1) != 0).any(2).all(1)
    if image and (inked & (spread > 0) & nonzero).any():
        cands.append(cand("spread", "edge of a stroke: the widest spread of values", spread,
                          (spread > 0) & inked))
    else:
        cands.append(cand("spread", "the widest spread of values", spread, spread > 0))
    if tr.op == "max_pool2d":
        ties = (f == val[:, None]).sum(1)
        cands.append(cand("tie", "a tie: several cells hold the max", aval,
                          (ties >= 2) & (val != 0)))
    ext = [d * (k - 1) + 1 for d, k in zip(tr.dilation, tr.kernel_size)]
    if any(s > e for s, e in zip(tr.stride, ext)):
        skipped = _skipped_data(tr, ext)
        cands.append(cand("stride", f"stride {_pair(tr.stride)} > window {_pair(ext)}: cells "
                          "between windows are never read", skipped, skipped > 0))
    pad = np.asarray(tr.is_pad).reshape(S, 1, -1)
    real = np.where(pad, 0.0, fin.reshape(S, -1, pad.shape[2])).reshape(S, -1)
    cands.append(cand("padding", "the window reaches into the padding",
                      aval + np.abs(real).sum(1), pad.any((1, 2)) & (real != 0).any(1)))
    top = cands[0].ranking()[0]
    sign = np.sign(val[int(top[0])]) if len(top) else 0
    cands += [cand("other sign", "the strongest output of the other sign", aval,
                   np.isfinite(val) & (np.sign(val) == -sign) & (val != 0), "equal", True),
              cand("another", "another strong output", aval, np.ones(S, bool), "equal", True)]
    return cands


def ranked(kinds):
    """Candidates from ``(kind, why, score)``: the best step by score, among steps scoring
    above 0 (so a kind whose every score is 0, e.g. an all-zero window, is skipped)."""
    out = []
    for kind, why, score in kinds:
        score = np.asarray(score, float)
        out.append(Candidate(kind, why, score, score > 0))
    return out


def _pair(p):
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def _skipped_data(tr, ext):
    """Per step: how much input lies in the cells skipped right of and below the window."""
    xp = np.abs(np.nan_to_num(np.asarray(tr.padded[int(tr.out_index[0, 0])], float),
                              posinf=0, neginf=0)).sum(0)
    Hp, Wp = xp.shape
    out = np.zeros(len(tr))
    for k, (r0, c0) in enumerate(np.asarray(tr.origin)):
        r1, c1 = r0 + ext[0], c0 + ext[1]
        right = xp[r0:r1, c1:min(c0 + tr.stride[1], Wp)].sum()
        below = xp[r1:min(r0 + tr.stride[0], Hp), c0:c1].sum()
        out[k] = right + below
    return out


def parse_tour(text):
    """``"4,9 7,7"`` or ``"1,4,9"`` (filter, row, col) -> list of tuples; ``"none"`` -> [].
    A list of such strings (one per command-line word) is joined first."""
    if not isinstance(text, str):
        text = " ".join(text)
    text = text.strip()
    if text.lower() == "none":
        return []
    cells = []
    for tok in text.replace(";", " ").split():
        try:
            v = tuple(int(t) for t in tok.split(","))
        except ValueError:
            raise ValueError(f"--tour {text!r}: {tok!r} is not R,C or F,R,C with integers, "
                             "or 'none'") from None
        if len(v) not in (2, 3):
            raise ValueError(f"--tour {text!r}: {tok!r} is not R,C or F,R,C")
        cells.append(v)
    return cells


def steps_of(trace, cells):
    """Trace steps of output cells ``(r, c)`` (channel 0) or ``(f, r, c)``.

    Raises ValueError naming the cell when it is outside the output."""
    _, F, OH, OW = trace.out_shape
    idx = {tuple(int(v) for v in row[1:]): k for k, row in enumerate(trace.out_index)}
    out = []
    for cell in cells:
        full = (0,) + tuple(cell) if len(cell) == 2 else tuple(cell)
        if full not in idx:
            raise ValueError(f"--tour {','.join(map(str, cell))}: outside the output "
                             f"{F}×{OH}×{OW} (expected 0 <= R < {OH}, 0 <= C < {OW}"
                             + (f", 0 <= F < {F}" if F > 1 else "") + ")")
        out.append(idx[full])
    return out
