"""viz: three-panel animated GIFs rendered from op traces (see docs/gifs.md).

Renderers take a trace from ``ops`` and return a :class:`viz.frames.Animation` (frames as
palette indices); :func:`viz.encode.write_gif` writes it. Nothing here computes an op:
every number drawn is a field of the trace.
"""
from .elementwise_gif import render_elementwise
from .encode import frame_durations, write_gif
from .flatten_gif import render_flatten
from .frames import Animation, plan_tour
from .linear_gif import render_linear
from .softmax_gif import render_softmax
from .window_gif import render_window

__all__ = ["render_window", "render_elementwise", "render_linear", "render_flatten",
           "render_softmax", "write_gif", "frame_durations", "plan_tour", "Animation"]
