"""The frame grammar every op GIF shares, in one place.

Every op GIF is one frame::

    title (the op call)
    formula line
    [tour caption]                               (the step-by-step GIFs of dense ops)
    [label 1]            [label 2]            [label 3]
    [panel 1]            [panel 2]            [panel 3]
    subtitle (input, kernel)                        step counter

and plays tour, sweep, hold (:func:`viz.frames.plan_tour`). A renderer declares its panels
(:class:`Frame`) and what each phase shows; this module owns the skeleton around them, the
working area's caption, where line and note, the notes under a map, the footer, the tour's
captions and counters written from its stops (:class:`Tour`; the stops come from
:func:`viz.tour.choose`), which outputs are on screen (the done mask), each GIF's pace
(:data:`PACE`) and the unit a quantity is shown in (:func:`unit_of`).
"""
import numpy as np

from .draw import all_integers
from .frames import NEW_MAX, plan_tour
from .layout import (FOOT_SIZE, FORMULA_SIZE, GAP, MARGIN, MAX_WIDTH, TITLE_SIZE, Col,
                     Layout, Panel, Row, Space, Spread, Stage, Text, measure, wrapped)
from .palette import ACCENT, DIM, PANEL
from .tour import distinct

CAPTION_SIZE = 13       # the tour caption
WHERE_SIZE = 12         # where the step is, under the caption
NOTE_SIZE = 11          # notes under a map, the ≈ note
OUTPUT = "the complete output"          # the hold's caption, unless a GIF says otherwise
SUPER = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

# Every GIF's pace follows one rule (viz.frames.Animation.durations): a tour frame stays
# 250 ms per number it newly shows, the sweep takes at most 40 % of the play time, the hold
# shows the finished result for 2.5 s, and the whole plays at most 30 s.


# -- the unit of a quantity ----------------------------------------------------------------
def unit_of(*arrays):
    """The power of ten ``e`` a quantity is shown in (values / 10^e, 2 decimals): 0 when
    every value is whole or the largest |value| is in [0.1, 1000). Gradients of a
    well-classified digit are ~1e-6."""
    v = np.concatenate([np.abs(np.asarray(a, float)).ravel() for a in arrays])
    v = v[np.isfinite(v)]
    if v.size == 0 or all_integers(v) or v.max() == 0 or 0.1 <= v.max() < 1000:
        return 0
    return int(np.floor(np.log10(v.max())))


def unit_text(e):
    """The unit named after a quantity in labels and legends: ``" (×10⁻⁶)"`` for e = −6, ""
    for 0."""
    return "" if e == 0 else f" (×10{str(e).translate(SUPER)})"


# -- the skeleton --------------------------------------------------------------------------
def counter_slot(widest):
    """The step counter's slot, right of the footer, sized for every text in ``widest``."""
    return Text(None, FOOT_SIZE, align="r", name="counter", widest=widest)


def footer(subtitle, counter, width=MAX_WIDTH - 2 * MARGIN):
    """The subtitle (what the input is) left, the step counter right; a subtitle wider than
    the frame's ``width`` breaks at its " · " into lines, so it does not widen the frame."""
    width = min(width, MAX_WIDTH - 2 * MARGIN)
    room = max(width - counter.size()[0] - GAP, width // 2)
    return Spread(wrapped(subtitle, FOOT_SIZE, room, color=DIM) if subtitle else Space(),
                  counter, max_w=width)


class Frame:
    """The frame around the panels a renderer declares.

    ``panels`` are ``(content, label)`` pairs, or nodes (a :class:`viz.layout.Panel` with its
    own sizes, a column holding one); ``counters`` every text the step counter will show.
    ``lay`` is the :class:`viz.layout.Layout`, ``panels`` the panel nodes, ``counter`` the
    counter's slot.
    """

    def __init__(self, title, formula, panels, subtitle, counters, lead=2, caption=None):
        self.panels = [Panel(*p) if isinstance(p, tuple) else p for p in panels]
        self.counter = counter_slot(counters)
        self.lay = _skeleton(title, formula, self.panels, subtitle, self.counter, lead, caption)


    def play(self, plan, draw, caption=None, clear=None):
        """Every frame of ``plan`` (a :class:`Tour`): the base frame with its ``caption`` slot
        (if any) and the counter written, and what ``draw(i, step, canvas)`` adds, which
        returns the frame's texts beyond its caption. ``clear``: ``(panel, below)``, the
        working panel blanked under slot ``below`` outside the tour (:func:`clear_working`).
        Returns ``(frames, texts)``."""
        frames, texts = [], []
        for i in range(len(plan)):
            cv = self.lay.new_frame()
            if caption is not None:
                self.lay.write(cv, caption, plan.caption(i))
            texts.append({"caption": plan.caption(i), **draw(i, int(plan.steps[i]), cv)})
            if clear is not None and plan.phases[i] != "tour":
                clear_working(self.lay, cv, *clear)
            self.lay.write(cv, self.counter, plan.counter(i))
            frames.append(cv.px)
        return frames, texts


def _skeleton(title, formula, panels, subtitle, counter, lead=2, caption=None):
    """Lay out the frame around ``panels`` (:class:`viz.layout.Panel` nodes, side by side).

    ``formula`` None leaves the formula line out ("" keeps an empty line); ``lead`` is the
    room above the panels, ``caption`` a tour caption slot above them (or None).
    Returns the :class:`viz.layout.Layout`, its base frame drawn.
    """
    stage = Stage(*panels)
    room = max(stage.size()[0], measure(title, TITLE_SIZE, "bold")[0])
    if formula and measure(formula, FORMULA_SIZE)[0] > room:    # no wider than the panels
        formula = wrapped(formula, FORMULA_SIZE, room, sep="  " if "  " in formula else " = ")
    elif formula is not None:
        formula = Text(formula, FORMULA_SIZE)
    head = [Text(title, TITLE_SIZE, "bold"), formula, caption, stage]
    width = max(n.size()[0] for n in head if n)
    return Layout(Col(*head[:2], Space(0, lead), *head[2:],
                      footer(subtitle, counter, width), gap=6))


def record(lay, panels=None):
    """What ``Animation.layout`` tells of every frame, for tests and documentation: the
    ``Layout`` itself, every ``placed`` box, the ``size``, and the ``panels``' boxes."""
    out = {"layout": lay, "placed": lay.placed, "size": (lay.width, lay.height)}
    if panels is not None:
        out["panels"] = [p.panel_box for p in panels]
    return out


def where_slot(widest, name="where"):
    """The working area's line under the caption saying where the step is ("input rows 3…5,
    cols 0…2 → out[1, 0]"), sized for every text in ``widest``."""
    return Text(None, WHERE_SIZE, color=DIM, name=name, widest=widest)


def clear_working(lay, cv, panel, below, keep=()):
    """Blank the working panel ``panel`` under the slot ``below`` (its caption or where line)
    on a frame that shows no working (the sweep, the hold): no "×", "=", grid heads or empty
    grids around nothing. Slots in ``keep`` are drawn again on top."""
    x0, _, x1, y1 = panel.content_box
    cv.rect(x0, below.box[3] + 2, x1, y1, PANEL)
    for node in keep:
        if node is not None and node.s:
            lay.write(cv, node, node.s)


def notes(texts):
    """Dim lines under a map saying how to read it ("hatched: padding (0)")."""
    return [Text(t, NOTE_SIZE, color=DIM) for t in texts]


def note_slot(widest):
    """The working area's note line (why an equation says ≈), sized for ``widest``."""
    return Text(None, NOTE_SIZE, color=DIM, name="note", widest=widest)


# -- what a frame says ---------------------------------------------------------------------
def tour_line(j, n, why):
    """``"tour 2 / 4: why this step"`` (j counts from 1)."""
    return f"tour {j} / {n}: {why}"


def caption(phases, reasons, i, sweep, hold=OUTPUT, steps=None):
    """The caption of frame ``i``: the tour's :func:`tour_line`, ``sweep`` or ``hold``."""
    ph = phases[i]
    if ph == "tour":
        if steps is None:
            return tour_line(phases[:i + 1].count("tour"), phases.count("tour"), reasons[i])
        return tour_line(_stop_no(phases, steps, i), _stop_count(phases, steps), reasons[i])
    return hold if ph == "hold" else sweep


def sweep_other(what):
    """The sweep caption of a GIF whose tour shows the working: "the other windows"."""
    return f"sweep: the other {what}, fast (the tour shows their working)"


def counter(phases, steps, i, total, what="step"):
    """The counter of frame ``i``, one wording for every GIF: "tour 2 / 3" on the tour,
    "step 7 / 25" in the sweep, "all 25 steps" on the hold."""
    if phases[i] == "hold":
        return f"all {total} {what}s"
    if phases[i] == "tour":
        return f"tour {_stop_no(phases, steps, i)} / {_stop_count(phases, steps)}"
    return f"{what} {int(steps[i]) + 1} / {total}"


def _stop_no(phases, steps, i):
    """Which stop (from 1) tour frame ``i`` belongs to: consecutive frames of one step are one
    stop built up in parts."""
    return sum(1 for j in range(i + 1) if phases[j] == "tour" and
               (j == 0 or phases[j - 1] != "tour" or steps[j - 1] != steps[j]))


def _stop_count(phases, steps):
    n = phases.count("tour")
    return _stop_no(phases, steps, n - 1) if n else 0


# -- the tour, frame by frame --------------------------------------------------------------
def done_mask(steps, phases, i, n_steps, last_part=True):
    """Which steps' outputs are on screen at frame ``i``: during the tour only the toured
    steps so far (the current one once its working is complete, ``last_part``); later every
    step up to the current one, plus the tour."""
    n_tour = phases.count("tour")
    done = np.zeros(n_steps, dtype=bool)
    if i < n_tour:
        done[[int(k) for k in steps[:i] if k != steps[i]]] = True
        done[int(steps[i])] = bool(last_part)
    else:
        done[:int(steps[i]) + 1] = True
        done[steps[:n_tour]] = True
    return done


def build_up(groups, shown, prev=frozenset(), base=frozenset(), merge=False):
    """How one tour stop's working is built up, a chunk a frame (:class:`Tour`'s ``parts``),
    so that no frame shows more than ``NEW_MAX`` numbers the frame before did not.

    ``groups``: lists of units (e.g. a row's window, weights and products), in the order
    shown; a group's units go in one frame while they fit, else one after the other.
    ``shown(units)``: the strings a frame with those units shows; ``prev``: what the frame
    before showed; ``base``: units already on screen. ``merge``: whole groups share a frame
    while they fit (a small working stays one frame), else each group starts a frame.
    Returns ``(chunks, shown)``: tuples of units, and what the last frame shows."""
    chunks, rev, cur, prev = [], set(base), [], set(prev)

    def new(extra):
        return len(set(shown(rev | set(cur) | set(extra))) - prev)

    def close():
        nonlocal cur, prev
        rev.update(cur)
        chunks.append(tuple(cur))
        prev, cur = set(shown(rev)), []

    for g in groups:
        if cur and (not merge or new(g) > NEW_MAX):
            close()
        for u in g:
            if cur and new([u]) > NEW_MAX:
                close()
            cur.append(u)
    if cur:
        close()
    return chunks, prev


class Tour:
    """The frames of a toured GIF (:func:`viz.frames.plan_tour`) and what each one says.

    Parameters
    ----------
    n_steps : int
        Steps in the trace.
    stops : list of :class:`viz.tour.Stop`
        The tour, in the order shown.
    max_frames : int
    sweep, hold : str
        The caption of the sweep's frames and of the hold ("" for none).
    what : str
        What a step is, for the counter: "step", "element", "neuron", ...
    parts : int or callable, optional
        Frames that build one stop's working up (``parts(step)``), so that no frame shows
        more than about ``viz.frames.NEW_MAX`` new numbers; they count within ``max_frames``
        (the sweep gives way), and collapse to one when it has no room.

    Attributes
    ----------
    steps, phases : the plan; ``reasons`` holds each frame's why ("" after the tour);
    ``part[i]``, ``nparts[i]``: which part of its stop's working frame ``i`` shows, of how many.
    """

    def __init__(self, n_steps, stops, max_frames, sweep="", hold=OUTPUT, what="step",
                 parts=1):
        self.n_steps = int(n_steps)
        self.stops = distinct(stops)        # a repeated reason says which one it is
        count = [int(parts(s.step) if callable(parts) else parts) for s in self.stops]
        extra = sum(count) - len(count)
        if max_frames - extra < len(self.stops) + 2:
            count, extra = [1] * len(self.stops), 0
        steps, self.phases = plan_tour(self.n_steps, [s.step for s in self.stops],
                                       max_frames - extra)
        n = len(self.stops)
        self.steps = np.concatenate([np.repeat(steps[:n], count), steps[n:]]).astype(int)
        self.phases = ["tour"] * sum(count) + self.phases[n:]
        self.part = [p for c in count for p in range(c)] + [0] * (len(self.steps) - sum(count))
        self.nparts = [c for c in count for _ in range(c)] + [1] * (len(self.steps) - sum(count))
        self.reasons = [s.why for s, c in zip(self.stops, count) for _ in range(c)] + \
            [""] * (len(self.steps) - sum(count))
        self.sweep, self.hold, self.what = sweep, hold, what

    def __len__(self):
        return len(self.steps)

    def caption(self, i):
        return caption(self.phases, self.reasons, i, self.sweep, self.hold, self.steps)

    def last_part(self, i):
        """Whether frame ``i`` completes its step's working (always, outside the tour)."""
        return self.part[i] == self.nparts[i] - 1

    def counter(self, i):
        return counter(self.phases, self.steps, i, self.n_steps, self.what)

    def placed_counter(self, i, where, sweep_where=False):
        """The counter of a GIF that names each step's place (``where``: "x[2, 3]", "neuron 4"):
        "tour 2 / 4 · x[2, 3]", "step 9 / 16" ("neuron 4, step 9 / 16" with ``sweep_where``),
        "all 16 elements"."""
        ph = self.phases[i]
        if ph == "tour":
            return f"{self.counter(i)} · {where}"
        if ph == "hold":
            return f"all {self.n_steps} {self.what}s"
        return (f"{where}, " if sweep_where else "") + \
            f"step {int(self.steps[i]) + 1} / {self.n_steps}"

    def caption_slot(self, name="caption"):
        """The caption's text slot, sized for every caption of this tour."""
        return Text(None, CAPTION_SIZE, "bold", ACCENT, name=name,
                    widest=[self.caption(i) for i in range(len(self))])

    def counters(self):
        """Every counter of this tour (to size the footer's slot)."""
        return [self.counter(i) for i in range(len(self))]

    def done(self, i):
        return done_mask(self.steps, self.phases, i, self.n_steps, self.last_part(i))

    def texts(self, i, work):
        """A frame's declared texts: its caption, and on a tour frame the working of its step
        (``work`` maps each toured step to its texts)."""
        return {"caption": self.caption(i),
                **(work[int(self.steps[i])] if self.phases[i] == "tour" else {})}
