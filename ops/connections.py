"""Traces of partially connected convolutions (LeNet-5's C3): each step shows only the input
maps its filter reads.

The convolution itself is ``conv2d`` with the unconnected weight slices zero; this module
only narrows its :class:`~ops.trace.WindowTrace` to the connected maps.
"""
from dataclasses import dataclass, replace

import numpy as np

from .trace import WindowTrace


@dataclass(frozen=True)
class ConnectedTrace:
    """A conv2d WindowTrace and the (F, C) bool table of which input maps each filter reads.

    ``trace[k]`` is step k's WindowStep with ``field``, ``weight`` and ``contrib`` cut to
    the connected maps (``maps(k)`` lists them), so ``value == contrib.sum() + bias`` still.
    """
    window: WindowTrace
    connections: np.ndarray

    def __len__(self):
        return len(self.window)

    def maps(self, k) -> np.ndarray:
        """Indices of the input maps that step k's filter reads."""
        return np.flatnonzero(self.connections[self.window.out_index[k, 1]])

    def __getitem__(self, k):
        step, maps = self.window[k], self.maps(k)
        return replace(step, field=step.field[maps], weight=step.weight[maps],
                       contrib=step.contrib[maps])

    def output(self):
        return self.window.output()


@dataclass
class ConnectedConvCache:
    """conv2d's cache (``conv``, what its backward takes) plus the connection table."""
    conv: object
    connections: np.ndarray

    def trace(self, sample=None):
        return ConnectedTrace(self.conv.trace(sample), self.connections)
