"""What the step-by-step GIFs of linear, flatten and the activations share: resolving
their tour, output cells revealed as a set, labels that line up with grid rows,
and the precision at which a sum adds up on screen.

The frame plan and its timing are :func:`viz.frames.plan_tour` and
:meth:`viz.frames.Animation.durations`, as for the window GIFs.
"""
import numpy as np

from .arith import adds_up, show
from .layout import Col, Space, Text
from .palette import ACCENT, BLACK, DIM
from .tour import TOUR_COUNT, by_hand, room

TICK_SIZE = 11
MIN_DECIMALS, MAX_DECIMALS = 2, 4


def tour_steps(tour, auto, to_step, who, max_frames):
    """Resolve a renderer's ``tour`` argument to :class:`viz.tour.Stop` s.

    Parameters
    ----------
    tour : None, "none" or list
        None: ``auto(count)``, the count shortened by a short ``max_frames`` (the sweep and
        the hold need a frame each); "none" or []: no tour; else output positions (ints or
        tuples) that ``to_step`` maps to a step index (raising ValueError naming ``who``).
    """
    if tour is None:
        return auto(room(TOUR_COUNT, max_frames))
    if isinstance(tour, str):
        if tour != "none":
            raise ValueError(f"{who}: tour={tour!r}, expected None, 'none' or a list of cells")
        return []
    return by_hand(dict.fromkeys(int(to_step(t)) for t in tour))


def ring_inside(cv, grid, x, y, cell):
    """Ring cell ``(row, col)`` of a :class:`viz.fill.FillGrid` drawn at ``(x, y)`` inside
    its own bounds: a dark line, then 2 px of accent. A column of numbers has no room for a
    ring outside a cell, which would cover the neighbours' numbers."""
    r, c = cell
    x0, y0 = x + grid.gap + c * grid.cw, y + grid.gap + r * grid.ch
    x1, y1 = x0 + grid.cw - grid.gap, y0 + grid.ch - grid.gap
    cv.outline(x0, y0, x1, y1, BLACK, 1)
    cv.outline(x0 + 1, y0 + 1, x1 - 1, y1 - 1, ACCENT, 2)


def draw_columns(cv, grids, xy, k, done, current, rows):
    """Draw an output vector laid out in columns of ``rows`` cells (one FillGrid each, at
    ``xy``) at step ``k`` with the ``done`` cells filled, and ring element ``current``
    (None: no ring)."""
    for j, (g, (x, y)) in enumerate(zip(grids, xy)):
        g.draw(cv, x, y, k, None, done)
        if current is not None and current // rows == j:
            ring_inside(cv, g, x, y, (current % rows, 0))


def row_labels(labels, pitch, size=TICK_SIZE, align="r", name="row", colors=None):
    """A column of labels, one per grid row of ``pitch`` px, each centred on its row; rows
    too thin for a label get every m-th label only (``m`` the least that fits). ``colors``:
    one per label (default all dim)."""
    h = Text("0", size).size()[1]
    m = max(1, -(-h // pitch))
    kids = [Space(0, (pitch - h) // 2 if m == 1 else 0)]
    for i, s in enumerate(labels):
        if i % m:
            continue
        color = DIM if colors is None else colors[i]
        kids += [Text(s, size, color=color, align=align, name=f"{name} {s}"),
                 Space(0, pitch * m - h)]
    return Col(*kids[:-1], gap=0, align=align)


def decimals_that_add(sums, lo=MIN_DECIMALS, hi=MAX_DECIMALS):
    """The fewest decimals in ``lo..hi`` at which every ``(parts, total)`` of ``sums`` (floats)
    adds up on screen (a rounded sum can miss its rounded terms by a unit in the last
    place), or None when none does: then the total is marked ≈ with the reason."""
    for d in range(lo, hi + 1):
        if all(adds_up([show(p, d) for p in np.ravel(parts)], show(t, d)) for parts, t in sums):
            return d
    return None


def parse_indices(words, what):
    """``--tour`` of a vector output: ``"3 7"`` (or ``"3,7"``) -> [3, 7]; ``"none"`` -> [].

    Raises ValueError naming the word that is not an index of ``what``."""
    text = " ".join([words] if isinstance(words, str) else words).strip()
    if text.lower() == "none":
        return []
    out = []
    for tok in text.replace(",", " ").split():
        try:
            out.append(int(tok))
        except ValueError:
            raise ValueError(f"--tour {text!r}: {tok!r} is not {what} index (an integer), "
                             "or 'none'") from None
    return out
