"""The tour of a window GIF: a few informative steps chosen from the trace's own values.

Each pick comes with the reason shown on screen. A window whose numbers are all 0 is never
picked; ``exact(k)`` lets the caller prefer, among near-equal candidates, a step whose
shown arithmetic adds up at the shown precision.
"""
import numpy as np

TOUR_COUNT = 4          # tour steps by default, at most
MIN_TOUR = 3            # fallback reasons fill the tour up to this many
NEAR = 8                # candidates looked at per reason when preferring exact arithmetic


def _pick(ranking, taken, exact, strict):
    """The best free step; among those scoring as well as it (``strict``) or within 10 %
    of it, the first whose shown arithmetic adds up."""
    order, score = ranking
    free = [n for n, k in enumerate(order) if int(k) not in taken]
    if not free:
        return None
    top = score[free[0]]
    near = [n for n in free[:NEAR] if (score[n] == top if strict else score[n] >= 0.9 * top)]
    for n in near:
        if exact is None or exact(int(order[n])):
            return int(order[n])
    return int(order[free[0]])


def pick_tour(trace, count=TOUR_COUNT, exact=None):
    """Up to ``count`` steps of a one-sample ``WindowTrace``, in step order, with reasons.

    Reasons, in priority: the largest |output|; the window with the widest spread of values
    (the edge of a stroke); for max_pool2d, a tie for the max; for stride > window extent, a
    window beside skipped cells that hold data; a window that touches the padding.

    Returns
    -------
    list of (step, reason)
    """
    tr = trace
    S = len(tr)
    f = np.asarray(tr.field, dtype=float).reshape(S, -1)
    fin = np.where(np.isfinite(f), f, 0.0)
    nonzero = (fin != 0).any(axis=1)
    if not nonzero.any() or count < 1:
        return []
    val = np.asarray(tr.value, dtype=float)
    aval = np.where(np.isfinite(val), np.abs(val), -1.0)
    spread = fin.max(1) - fin.min(1) + 1e-3 * np.array([np.unique(r).size for r in fin])
    cand = []

    def ranked(score, ok):
        """Steps that qualify, best first, with their scores."""
        idx = np.flatnonzero(ok & nonzero)
        idx = idx[np.argsort(-score[idx], kind="stable")]
        return idx, score[idx]

    cand.append(("largest |output|", ranked(aval, np.ones(S, bool))))
    cand.append(("edge of a stroke: the widest spread of values", ranked(spread, spread > 0)))
    if tr.op == "max_pool2d":
        ties = (f == val[:, None]).sum(1)
        cand.append(("a tie: several cells hold the max", ranked(aval, (ties >= 2) & (val != 0))))
    ext = [d * (k - 1) + 1 for d, k in zip(tr.dilation, tr.kernel_size)]
    if any(s > e for s, e in zip(tr.stride, ext)):
        skipped = _skipped_data(tr, ext)
        cand.append((f"stride {_pair(tr.stride)} > window {_pair(ext)}: cells between "
                     "windows are never read", ranked(skipped, skipped > 0)))
    pad = np.asarray(tr.is_pad).reshape(S, 1, -1)
    real = np.where(pad, 0.0, fin.reshape(S, -1, pad.shape[2])).reshape(S, -1)
    cand.append(("the window reaches into the padding",
                 ranked(aval + np.abs(real).sum(1), pad.any((1, 2)) & (real != 0).any(1))))
    # fallbacks, only to reach MIN_TOUR steps: the other sign, then the next strongest
    sign = np.sign(val[int(cand[0][1][0][0])]) if len(cand[0][1][0]) else 0
    extra = [("the strongest output of the other sign",
              ranked(aval, np.isfinite(val) & (np.sign(val) == -sign) & (val != 0))),
             ("another strong output", ranked(aval, np.ones(S, bool)))]
    picks, taken = [], set()
    for n, (reason, order) in enumerate(cand + extra):
        if len(picks) >= count or (n >= len(cand) and len(picks) >= MIN_TOUR):
            break
        k = _pick(order, taken, exact, strict=n == 0 or n >= len(cand))
        if k is not None:
            picks.append((k, reason))
            taken.add(k)
    return sorted(picks)


def pick_ranked(reasons, count):
    """Up to ``count`` ``(step, reason)``, at most one per reason, in the order given: the best
    step of each score array not taken yet, among steps scoring above 0 (so a reason whose
    every score is 0, e.g. an all-zero window, is skipped). Returned in step order."""
    picks, taken = [], set()
    for reason, score in reasons:
        if len(picks) >= count:
            break
        score = np.asarray(score, float)
        free = [int(k) for k in np.argsort(-score, kind="stable")
                if score[k] > 0 and int(k) not in taken]
        if free:
            picks.append((free[0], reason))
            taken.add(free[0])
    return sorted(picks)


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
