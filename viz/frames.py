"""Which trace steps become frames (the tour, ``--max-frames``), and the rendered animation.

Window GIFs play in three phases: a slow **tour** of a few informative steps (each on
screen ``TOUR_MS``), a fast **sweep** that fills in the rest, and a **hold** on the complete
output. :func:`plan_tour` lays the frames out; :meth:`Animation.durations` times them.
"""
import re
from dataclasses import dataclass, field

import numpy as np

from .encode import frame_durations, gif_bytes


TOUR_MS = 1500          # a tour frame whose numbers are not declared (no ``texts``)
MAX_PLAY_S = 30.0       # a whole GIF plays at most this long
# The reading rule: a frame stays as long as its new numbers take to read.
READ_MS = 250           # a reader needs about a quarter of a second per new number
TOUR_MIN_MS = 800       # a tour frame with one to three new numbers still gets 0.8 s
NEW_MAX = 8             # a tour frame shows at most this many new numbers (built up in parts)
SWEEP_SHARE = 0.4       # the fast sweep takes at most this share of the play time
HOLD_MS = 2500          # the finished result


def plan_tour(n_steps, tour, max_frames):
    """Frames of a toured animation: the tour steps, an even sweep over all steps, a hold.

    Parameters
    ----------
    n_steps : int
        Steps in the trace (>= 1).
    tour : sequence of int
        Steps shown slowly first (may be empty).
    max_frames : int
        Most frames in all (>= len(tour) + 2).

    Returns
    -------
    steps : ndarray (F,) int
        The step each frame shows (the hold repeats the last step).
    phases : list of str
        "tour", "sweep" or "hold" per frame.
    """
    if n_steps < 1:
        raise ValueError(f"plan_tour: n_steps={n_steps}, expected at least 1")
    tour = [int(k) for k in tour]
    if max_frames < len(tour) + 2:
        raise ValueError(f"plan_tour: max_frames={max_frames}, expected at least "
                         f"{len(tour) + 2} (the tour, one sweep frame and the hold)")
    m = min(n_steps, max_frames - len(tour) - 1)
    sweep = np.unique(np.rint(np.linspace(0, n_steps - 1, m)).astype(int))
    steps = np.concatenate([np.array(tour, dtype=int), sweep, [n_steps - 1]])
    return steps, ["tour"] * len(tour) + ["sweep"] * len(sweep) + ["hold"]


SWEEP_S = 6.0           # small traces: the sweep lasts about this long, so each step is seen


def sweep_pace(phases, lo=20, hi=500, fixed_ms=None):
    """A sweep frame's delay in ms (multiple of 10, ``lo`` to ``hi``): the sweep of
    ``phases`` lasts about ``SWEEP_S``, but at most ``SWEEP_SHARE`` of the play time and
    within ``MAX_PLAY_S`` given ``fixed_ms``, the time of every other frame."""
    n = max(1, sum(ph == "sweep" for ph in phases))
    budget = SWEEP_S * 1000
    if fixed_ms is not None:
        budget = min(budget, fixed_ms * SWEEP_SHARE / (1 - SWEEP_SHARE),
                     MAX_PLAY_S * 1000 - fixed_ms)
    return int(min(hi, max(lo, budget / n)) // 10 * 10)


# -- the reading rule ----------------------------------------------------------------------
_NUMBER = re.compile(r"[\u2212-]?\d+(?:\.\d+)?")
# texts that are no reading (the caption, where a step is) or repeat what is drawn elsewhere
_NOT_READ = {"caption", "window", "where", "w_head", "wiring", "channels", "reason", "note",
             "equations", "sum_exact", "approx", "decimals", "neuron", "ties", "argmax",
             "divide", "part", "parts"}


def _leaves(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for key, x in v.items():
            if key not in _NOT_READ:
                yield from _leaves(x)
    elif isinstance(v, np.ndarray):
        yield from (str(x) for x in v.ravel())
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _leaves(x)


def shown_numbers(texts):
    """The numbers a frame shows, as the set of their shown strings (a value written several
    times, such as the 0.00 of a dark window, is read once): ``texts["shown"]`` when the
    renderer lists them, else every number in the frame's declared texts."""
    if not texts:
        return set()
    if "shown" in texts:
        return {str(t) for t in texts["shown"]}
    return {m for leaf in _leaves(texts) for m in _NUMBER.findall(leaf)}


def new_numbers(texts):
    """Per frame, how many numbers it shows that the frame before did not."""
    out, prev = [], set()
    for t in texts:
        cur = shown_numbers(t)
        out.append(len(cur - prev))
        prev = cur
    return out


def reading_ms(n_new):
    """A tour frame's dwell: ``READ_MS`` per new number, at least ``TOUR_MIN_MS``."""
    return int(-(-max(TOUR_MIN_MS, READ_MS * int(n_new)) // 10) * 10)


@dataclass
class Animation:
    """Frames ready for :func:`viz.encode.write_gif`; shows itself in a notebook.

    In Jupyter or VS Code, an ``Animation`` as the last expression of a cell shows as a
    step-through player (:mod:`viz.player`; the GIF where scripts do not run), e.g.
    ``render_window(cache.trace(sample=0))``. ``anim.save(path)`` writes it in the format
    of the extension: ``.gif``, ``.html`` (the player), ``.mp4``, ``.webp``, or a folder of
    PNG frames (:func:`viz.export.save`).

    Attributes
    ----------
    frames : list of ndarray (H, W) uint8
        Palette indices (:mod:`viz.palette`), all the same size.
    steps : ndarray (F,) int
        The trace step each frame shows (for phase animations such as softmax: the phase).
    layout : dict
        Where the panels are (pixel boxes, scales), for tests and documentation.
    frame_ms, hold_ms : int
        The sweep frame's delay (None: :func:`sweep_pace`) and the last frame's, in ms.
    phases : list of str or None
        "tour" / "sweep" / "hold" per frame; a tour frame lasts :func:`reading_ms` of the
        numbers it newly shows (``TOUR_MS`` without ``texts``).
    texts : list or None
        Per frame, the numbers and equations it shows (for tests that read them back).
    captions : list of str or None
        Per frame, the caption a player shows as text; None: each frame's
        ``texts[i]["caption"]`` or one written from its phase (:func:`viz.player.frame_captions`).
    """
    frames: list
    steps: np.ndarray
    layout: dict = field(default_factory=dict)
    frame_ms: int = None
    hold_ms: int = HOLD_MS
    phases: list = None      # "tour" / "sweep" / "hold" per frame (None: one speed)
    texts: list = None       # per frame: the numbers and equations the frame shows
    captions: list = None    # per frame: the caption as text (None: from texts or phases)

    def __len__(self):
        return len(self.frames)

    def durations(self, frame_ms=None, hold_ms=None, tour_ms=None):
        """Delay of each frame in ms: a tour frame :func:`reading_ms` of its new numbers (or
        ``tour_ms``), the last frame ``hold_ms``, the sweep ``frame_ms``; None means the
        renderer's pace (``self.frame_ms``, ``self.hold_ms``), and with neither the reading
        rule's: the sweep at most ``SWEEP_SHARE`` of the play time (:func:`sweep_pace`)."""
        frame_ms = self.frame_ms if frame_ms is None else frame_ms
        hold_ms = self.hold_ms if hold_ms is None else hold_ms
        d = frame_durations(len(self), 60 if frame_ms is None else frame_ms, hold_ms)
        if not self.phases:
            return d
        new = new_numbers(self.texts) if self.texts else None
        for i, ph in enumerate(self.phases):
            if ph == "tour":
                d[i] = int(tour_ms if tour_ms is not None else
                           reading_ms(new[i]) if new is not None else TOUR_MS)
        if frame_ms is None:
            sweep = [i for i, ph in enumerate(self.phases) if ph == "sweep"]
            fixed = sum(v for i, v in enumerate(d) if self.phases[i] != "sweep")
            ms = sweep_pace(self.phases, fixed_ms=fixed)
            for i in sweep:
                d[i] = ms
            # a long trace's sweep at the fastest pace: the hold waits so it stays in its share
            over = ms * len(sweep) * (1 - SWEEP_SHARE) / SWEEP_SHARE - fixed
            if over > 0 and self.phases[-1] == "hold":
                d[-1] += int(-(-over // 10) * 10)
        return d

    def delays(self):
        """The delay of every frame in ms, as it plays by default."""
        return self.durations()

    def tour_frames(self):
        """Indices of the tour frames."""
        return [i for i, ph in enumerate(self.phases or []) if ph == "tour"]

    def gif(self):
        """The animated GIF, as bytes."""
        return gif_bytes(self.frames, self.delays())

    def save(self, path, use_gifsicle=True, format=None, **options):
        """Write the animation to ``path`` atomically, in ``format`` or the extension's
        (see :func:`viz.export.save` for ``options``). Returns the path."""
        from .export import save
        return save(self, path, format, use_gifsicle=use_gifsicle, **options)

    def _repr_html_(self):
        """Jupyter's and VS Code's rich display: the step-through player, with the GIF
        inside for renderers that run no script."""
        from .player import player_fragment
        return player_fragment(self)


def single_sample(index, who):
    """The sample n of a trace's steps (column 0 of ``index``); renderers draw one sample.

    Raises
    ------
    ValueError
        Naming ``who`` when the trace is empty or holds several samples.
    """
    if len(index) == 0:
        raise ValueError(f"{who}: the trace has no steps")
    samples = np.unique(index[:, 0])
    if samples.size != 1:
        raise ValueError(f"{who}: the trace holds {samples.size} samples, expected one "
                         "(use cache.trace(sample=0))")
    return int(samples[0])
