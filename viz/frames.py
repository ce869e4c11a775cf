"""Which trace steps become frames (the tour, ``--max-frames``), and the rendered animation.

Window GIFs play in three phases: a slow **tour** of a few informative steps (each on
screen ``TOUR_MS``), a fast **sweep** that fills in the rest, and a **hold** on the complete
output. :func:`plan_tour` lays the frames out; :meth:`Animation.durations` times them.
"""
import base64
from dataclasses import dataclass, field

import numpy as np

from .encode import frame_durations, gif_bytes, write_gif


TOUR_MS = 1500          # each tour step: long enough to read its whole working
MAX_PLAY_S = 20.0       # a whole window GIF plays at most this long


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


def sweep_pace(phases, lo=60, hi=500):
    """A frame delay in ms (multiple of 10, ``lo`` to ``hi``) that makes the sweep frames of
    ``phases`` last about ``SWEEP_S``: slow enough to follow a handful of steps."""
    n = max(1, sum(ph == "sweep" for ph in phases))
    return int(min(hi, max(lo, SWEEP_S * 1000 / n)) // 10 * 10)


@dataclass
class Animation:
    """Frames ready for :func:`viz.encode.write_gif`; shows itself in a notebook.

    In Jupyter, an ``Animation`` as the last expression of a cell plays there as an
    embedded GIF (``_repr_html_``), e.g. ``render_window(cache.trace(sample=0))``.
    ``anim.save(path)`` writes the same GIF to a file.

    Attributes
    ----------
    frames : list of ndarray (H, W) uint8
        Palette indices (:mod:`viz.palette`), all the same size.
    steps : ndarray (F,) int
        The trace step each frame shows (for phase animations such as softmax: the phase).
    layout : dict
        Where the panels are (pixel boxes, scales), for tests and documentation.
    frame_ms, hold_ms : int
        The renderer's pace: each frame's delay, and the last frame's, in ms.
    phases : list of str or None
        "tour" / "sweep" / "hold" per frame; tour frames last ``TOUR_MS``.
    texts : list or None
        Per frame, the numbers and equations it shows (for tests that read them back).
    """
    frames: list
    steps: np.ndarray
    layout: dict = field(default_factory=dict)
    frame_ms: int = 60
    hold_ms: int = 2000
    phases: list = None      # "tour" / "sweep" / "hold" per frame (None: one speed)
    texts: list = None       # per frame: the numbers and equations the frame shows

    def __len__(self):
        return len(self.frames)

    def durations(self, frame_ms=None, hold_ms=None, tour_ms=TOUR_MS):
        """Delay of each frame in ms: ``tour_ms`` for tour frames, ``hold_ms`` for the last
        frame, ``frame_ms`` for the rest (see :func:`viz.encode.frame_durations`); None
        means the renderer's pace (``self.frame_ms``, ``self.hold_ms``)."""
        d = frame_durations(len(self), self.frame_ms if frame_ms is None else frame_ms,
                            self.hold_ms if hold_ms is None else hold_ms)
        for i, ph in enumerate(self.phases or []):
            if ph == "tour":
                d[i] = int(tour_ms)
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

    def save(self, path, use_gifsicle=True):
        """Write the GIF to ``path`` (atomically; see :func:`viz.encode.write_gif`)."""
        return write_gif(path, self.frames, self.delays(), use_gifsicle=use_gifsicle)

    def _repr_html_(self):
        """Jupyter's rich display: the GIF embedded as a data URI, at its pixel size."""
        h, w = self.frames[0].shape
        data = base64.b64encode(self.gif()).decode("ascii")
        return (f'<img src="data:image/gif;base64,{data}" width="{w}" height="{h}" '
                f'alt="animation, {len(self)} frames">')


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
