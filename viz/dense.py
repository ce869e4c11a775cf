"""What the step-by-step GIFs of linear, flatten and the activations share: the tour plan
(a few informative steps shown slowly, then a fast sweep), output cells revealed as a set,
colour legends as layout nodes, and labels that line up with grid rows.
"""
from decimal import Decimal

import numpy as np

from .draw import MINUS, all_integers, fmt
from .layout import Box, Col, Space, Spread, Text
from .palette import ACCENT, BLACK, DIM, GRID

TOUR_MS = 1500          # each tour step stays this long: time to read its whole working
TOUR_STEPS = 4          # tour length chosen automatically (at most)
LEGEND_W = 120
TICK_SIZE = 11


def pick_tour(candidates, n_steps, k=TOUR_STEPS):
    """The first ``k`` distinct valid steps of ``candidates`` (best first), in step order.

    ``candidates`` may hold None (no such step) and repeats; the result is sorted so the
    output keeps filling in reading order."""
    out = []
    for c in candidates:
        if c is not None and 0 <= int(c) < n_steps and int(c) not in out:
            out.append(int(c))
        if len(out) == k:
            break
    return sorted(out)


def tour_steps(tour, auto, to_step, who):
    """Resolve a renderer's ``tour`` argument to step indices.

    Parameters
    ----------
    tour : None, "none" or list
        None: ``auto()``; "none" or []: no tour; else output positions (ints or tuples)
        that ``to_step`` maps to a step index (raising ValueError naming ``who``).
    """
    if tour is None:
        return auto()
    if isinstance(tour, str):
        if tour != "none":
            raise ValueError(f"{who}: tour={tour!r}, expected None, 'none' or a list of cells")
        return []
    return list(dict.fromkeys(int(to_step(t)) for t in tour))


def plan(n_steps, tour, max_frames):
    """Frames: the tour steps, an even sweep over all steps, a hold on the last step.

    Mirrors ``viz.frames.plan_tour`` (branch viz-grammar) until it lands here.
    Returns ``(steps, phases)``: steps (F,) int; phases "tour" / "sweep" / "hold"."""
    tour = [int(k) for k in tour]
    if max_frames < len(tour) + 2:
        raise ValueError(f"plan: max_frames={max_frames}, expected at least {len(tour) + 2} "
                         "(the tour, one sweep frame and the hold)")
    m = min(n_steps, max_frames - len(tour) - 1)
    sweep = np.unique(np.rint(np.linspace(0, n_steps - 1, m)).astype(int))
    steps = np.concatenate([np.array(tour, dtype=int), sweep, [n_steps - 1]])
    return steps, ["tour"] * len(tour) + ["sweep"] * len(sweep) + ["hold"]


def durations(phases, frame_ms, hold_ms, tour_ms=TOUR_MS):
    """Delay of each frame in ms by phase (mirrors ``Animation.durations`` of viz-grammar)."""
    d = {"tour": int(tour_ms), "sweep": int(frame_ms), "hold": int(hold_ms)}
    return [d[p] for p in phases]


def on_screen(steps, phases, i):
    """``(k, extra)`` for :func:`draw_revealed` at frame ``i``: during the tour only the
    toured steps so far; later every step up to the current one, plus the tour."""
    n_tour = phases.count("tour")
    if i < n_tour:
        return -1, steps[:i + 1]
    return int(steps[i]), steps[:n_tour]


def draw_revealed(cv, grid, x, y, k, extra=(), current=None):
    """Paint a :class:`viz.fill.FillGrid` with the cells of steps ``<= k`` and of ``extra``
    filled (``k = -1``: only ``extra``); ring cell ``current``."""
    sm = grid.step_map
    on = sm <= k
    if len(extra):
        on |= np.isin(sm, np.fromiter(extra, dtype=np.int64))
    cv.px[y:y + grid.height, x:x + grid.width] = np.where(on, grid.full, grid.blank)
    if current is None:
        return
    r, c = current
    x0, y0 = x + grid.gap + c * grid.cw, y + grid.gap + r * grid.ch
    x1, y1 = x0 + grid.cw - grid.gap, y0 + grid.ch - grid.gap
    cv.outline(x0 - 1, y0 - 1, x1 + 1, y1 + 1, BLACK, 1)       # dark edge: visible on any cell
    cv.outline(x0, y0, x1, y1, ACCENT, 2)


class Legend(Col):
    """A colour bar with its minimum, 0 (when the scale has it in the middle) and maximum."""

    def __init__(self, scale, caption=None, width=LEGEND_W, name="legend"):
        self.scale = scale
        lo, hi = _tick(scale.vmin, scale), _tick(scale.vmax, scale)
        if scale.vmin == scale.vmax:
            ticks = [f"every value = {lo}"]
        elif scale.vmin < 0 < scale.vmax and scale.vmin == -scale.vmax:
            ticks = [lo, "0", hi]
        else:
            ticks = [lo, hi]
        spread = Spread(*[Text(t, TICK_SIZE, color=DIM, name=f"{name} {t}") for t in ticks], gap=6)
        self.bar = Box(max(width, spread.size()[0]), 8, f"{name} bar")
        cap = Text(caption, TICK_SIZE, color=DIM, name=f"{name} caption") if caption else None
        super().__init__(cap, self.bar, spread, gap=2, name=name)

    def paint(self, cv):
        x0, y0, x1, y1 = self.bar.box
        n = max(x1 - x0 - 2, 1)
        levels = self.scale.index(np.linspace(self.scale.vmin, self.scale.vmax, n))
        cv.rect(x0, y0, x1, y1, GRID)
        cv.blit(x0 + 1, y0 + 1, np.repeat(levels[None], y1 - y0 - 2, 0))


def _tick(v, scale):
    """A legend end: as the panels write numbers, with 2 significant digits when that would
    round a non-zero end to 0."""
    if v != 0 and abs(v) < 0.005:
        return f"{v:.1e}".replace("-", MINUS)
    return fmt(v, all_integers([scale.vmin, scale.vmax]))


def row_labels(labels, pitch, size=TICK_SIZE, align="r", name="row"):
    """A column of labels, one per grid row of ``pitch`` px, each centred on its row; rows
    too thin for a label get every m-th label only (``m`` the least that fits)."""
    h = Text("0", size).size()[1]
    m = max(1, -(-h // pitch))
    kids = [Space(0, (pitch - h) // 2 if m == 1 else 0)]
    for i, s in enumerate(labels):
        if i % m:
            continue
        t = Text(s, size, color=DIM, align=align, name=f"{name} {s}")
        kids += [t, Space(0, pitch * m - h)]
    return Col(*kids[:-1], gap=0, align=align)


# -- numbers that add up at the precision shown ---------------------------------------
MIN_DECIMALS, MAX_DECIMALS = 2, 4


def fixed(v, decimals):
    """``v`` with exactly ``decimals`` decimals and a typographic minus ("−0.00" → "0.00")."""
    s = f"{float(v):.{int(decimals)}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s.replace("-", MINUS)


def number(s):
    """The exact decimal value of a displayed number."""
    return Decimal(s.replace(MINUS, "-"))


def adds_up(parts, total):
    """Whether the displayed ``parts`` (strings) sum exactly to the displayed ``total``."""
    return sum((number(p) for p in parts), Decimal(0)) == number(total)


def decimals_that_add(sums, lo=MIN_DECIMALS, hi=MAX_DECIMALS):
    """The fewest decimals in ``lo..hi`` at which every ``(parts, total)`` of ``sums`` (floats)
    adds up on screen (a rounded sum can miss its rounded terms by a unit in the last
    place), or None when none does: then the total is marked ≈ with the reason."""
    for d in range(lo, hi + 1):
        if all(adds_up([fixed(p, d) for p in np.ravel(parts)], fixed(t, d)) for parts, t in sums):
            return d
    return None
