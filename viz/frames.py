"""Which trace steps become frames (``--max-frames``), and the rendered animation."""
import base64
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .encode import frame_durations, gif_bytes, write_gif


def plan_steps(n_steps, max_frames, row_len):
    """Step indices to draw, one per frame.

    All steps when there are at most ``max_frames``. Otherwise the first output row
    (``row_len`` steps, at most half the frames) step by step, then the remaining frames
    spread evenly over the remaining steps, so the output keeps filling in bigger strides.
    The last step (the complete output) is always the last frame.

    Parameters
    ----------
    n_steps : int
        Steps in the trace (>= 1).
    max_frames : int
        Most frames wanted (>= 2).
    row_len : int
        Steps in one output row.

    Returns
    -------
    ndarray (F,) int, strictly increasing, ``F = min(n_steps, max_frames)``, ending at
    ``n_steps - 1``.
    """
    if n_steps < 1:
        raise ValueError(f"plan_steps: n_steps={n_steps}, expected at least 1")
    if max_frames < 2:
        raise ValueError(f"plan_steps: max_frames={max_frames}, expected at least 2")
    if n_steps <= max_frames:
        return np.arange(n_steps)
    head = max(1, min(int(row_len), max_frames // 2))
    rest = max_frames - head
    # rest points after head-1 up to n-1: spacing (n - head) / rest > 1, so rounding keeps them distinct
    tail = np.rint(np.linspace(head - 1, n_steps - 1, rest + 1)[1:]).astype(int)
    return np.concatenate([np.arange(head), tail])


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
    durations : list of int or None
        Per-frame delays in ms, for a renderer that paces frames one by one; they replace
        ``frame_ms`` and ``hold_ms``.
    """
    frames: list
    steps: np.ndarray
    layout: dict = field(default_factory=dict)
    frame_ms: int = 60
    hold_ms: int = 2000
    durations: Optional[list] = None

    def __len__(self):
        return len(self.frames)

    def delays(self):
        """The delay of every frame in ms, as it plays by default."""
        if self.durations is not None:
            return [int(d) for d in self.durations]
        return frame_durations(len(self), self.frame_ms, self.hold_ms)

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
