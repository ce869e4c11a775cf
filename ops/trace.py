"""Traces: the steps of an op made visible, built from the op's own cache.

A trace is a struct of arrays with one row per step (row-major over the output);
``trace[k]`` gives step k as a small dataclass. Every ``value`` is read from the op's own
output array (kept in its cache), so it equals ``out`` bit for bit; window traces read the
same strided windows as the fast path (``_window.windows``). Display-only fields that are
recomputed, and may differ from ``value`` in the last bits, are named in their
docstrings and in docs/ops.md: ``contrib`` (conv) and ``LinearStep.products``.

Each cache builds its own trace, beside the op's forward and backward (``ConvCache.trace``
in ops/conv.py, ...). This module holds only what they share: the record types and the
steps over an output. It imports no op module, so that every op module may import it.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._window import group_channels, pad_mask, windows


def grid(shape, sample=None):
    """Row-major indices (S, len(shape)) of an output of ``shape``, optionally one sample only."""
    idx = np.indices(shape).reshape(len(shape), -1).T
    return idx if sample is None else idx[idx[:, 0] == sample]


def check_sample(sample, n):
    if sample is not None and not 0 <= sample < n:
        raise ValueError(f"trace: sample={sample} is out of range, expected 0 <= sample < {n}")


def window_steps(g, shape, sample=None):
    """One step per cell of a windowed op's (N, C, OH, OW) output ``shape`` (Geometry ``g``),
    row-major, optionally of one sample only: ``out_index`` (S, 4) n, c, i, j, the window's
    ``origin`` (S, 2) in padded coordinates and ``is_pad`` (S, kh, kw), which of its cells
    fall on padding."""
    check_sample(sample, shape[0])
    idx = grid(shape, sample)
    origin = idx[:, 2:] * np.array(g.stride)
    mask = windows(pad_mask(g)[None, None], g)[0, 0]
    return idx, origin, mask[idx[:, 2], idx[:, 3]]


@dataclass(frozen=True)
class WindowStep:
    out_index: np.ndarray   # (4,) n, c, i, j
    origin: np.ndarray      # (2,) top-left of the window, padded coordinates
    cells: np.ndarray       # (kh, kw, 2) padded coordinates of every window cell
    field: np.ndarray       # (Cf, kh, kw)
    is_pad: np.ndarray      # (kh, kw)
    value: float
    argmax: Optional[np.ndarray] = None   # (2,) kernel offset of the max (max pool)
    weight: Optional[np.ndarray] = None   # (C, kh, kw) (conv)
    bias: Optional[float] = None          # (conv with bias)
    contrib: Optional[np.ndarray] = None  # (C,) per-channel sums of products (conv; display only)


@dataclass(frozen=True)
class WindowTrace:
    """Steps of conv2d / max_pool2d / avg_pool2d; see docs/ops.md for every field.

    ``value`` and ``argmax`` are the op's own; ``contrib`` is recomputed for display.
    """
    op: str
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    input: np.ndarray       # (N, C, H, W)
    padded: np.ndarray      # (N, C, Hp, Wp)
    out_shape: tuple
    out_index: np.ndarray   # (S, 4)
    origin: np.ndarray      # (S, 2)
    field: np.ndarray       # (S, Cf, kh, kw)
    is_pad: np.ndarray      # (S, kh, kw)
    value: np.ndarray       # (S,) the op's output at out_index, bit for bit
    argmax: Optional[np.ndarray] = None   # (S, 2) the cell max pool's backward routes to
    weight: Optional[np.ndarray] = None   # (F, C, kh, kw)
    bias: Optional[np.ndarray] = None     # (F,)
    contrib: Optional[np.ndarray] = None  # (S, C) display only: may miss value in the last bits
    groups: int = 1                       # conv: filter f reads channels(k) only

    def channels(self, k):
        """The input channels step k's window reads (conv with groups: its group's only)."""
        if self.weight is None:
            return np.array([self.out_index[k, 1]])
        return group_channels(self.out_index[k, 1], self.weight.shape[0], self.groups,
                              self.weight.shape[1])

    def __len__(self):
        return len(self.value)

    def cells(self, k):
        """(kh, kw, 2) padded pixel coordinates of the cells of step k's window."""
        r = self.origin[k, 0] + self.dilation[0] * np.arange(self.kernel_size[0])
        c = self.origin[k, 1] + self.dilation[1] * np.arange(self.kernel_size[1])
        return np.stack(np.meshgrid(r, c, indexing="ij"), axis=-1)

    def __getitem__(self, k):
        f = self.out_index[k, 1]
        opt = lambda a: None if a is None else a[k]  # noqa: E731
        return WindowStep(self.out_index[k], self.origin[k], self.cells(k), self.field[k],
                          self.is_pad[k], self.value[k], opt(self.argmax),
                          None if self.weight is None else self.weight[f],
                          None if self.bias is None else self.bias[f], opt(self.contrib))

    def output(self):
        """The step values put back in place: an array of ``out_shape`` (NaN where no step wrote)."""
        return _scatter(self.out_shape, self.out_index, self.value)


def _scatter(shape, index, value):
    out = np.full(shape, np.nan, dtype=value.dtype)
    out[tuple(index.T)] = value
    return out


@dataclass(frozen=True)
class LinearStep:
    out_index: np.ndarray   # (2,) n, o
    inputs: np.ndarray      # (in,)
    weights: np.ndarray     # (in,)
    products: np.ndarray    # (in,) display only: their sum may miss value in the last bits
    bias: Optional[float]
    value: float


@dataclass(frozen=True)
class LinearTrace:
    """One step per output neuron (n, o)."""
    x: np.ndarray           # (N, in)
    weight: np.ndarray      # (out, in)
    bias: Optional[np.ndarray]
    out_index: np.ndarray   # (S, 2)
    value: np.ndarray       # (S,) the op's output at out_index, bit for bit

    def __len__(self):
        return len(self.value)

    def __getitem__(self, k):
        n, o = self.out_index[k]
        inputs, weights = self.x[n], self.weight[o]
        return LinearStep(self.out_index[k], inputs, weights, inputs * weights,
                          None if self.bias is None else self.bias[o], self.value[k])

    def output(self):
        return _scatter((self.x.shape[0], self.weight.shape[0]), self.out_index, self.value)


@dataclass(frozen=True)
class ElementwiseStep:
    index: np.ndarray
    input: float
    value: float


@dataclass(frozen=True)
class ElementwiseTrace:
    """One step per element of relu / sigmoid / tanh."""
    op: str
    input: np.ndarray
    output_array: np.ndarray
    index: np.ndarray       # (S, ndim)
    value: np.ndarray       # (S,)

    def __len__(self):
        return len(self.value)

    def __getitem__(self, k):
        return ElementwiseStep(self.index[k], self.input[tuple(self.index[k])], self.value[k])

    def output(self):
        return _scatter(self.input.shape, self.index, self.value)


@dataclass(frozen=True)
class FlattenTrace:
    """One step per element: input cell src_index (n, c, i, j) goes to dst_index (n, k)."""
    input_shape: tuple
    src_index: np.ndarray   # (S, x.ndim)
    dst_index: np.ndarray   # (S, 2)
    value: np.ndarray       # (S,)

    def __len__(self):
        return len(self.value)

    def output(self):
        n = self.input_shape[0]
        return _scatter((n, int(np.prod(self.input_shape[1:]))), self.dst_index, self.value)


@dataclass(frozen=True)
class SoftmaxTrace:
    """The stages of softmax (and cross-entropy) for one logits vector (K,)."""
    logits: np.ndarray
    shifted: np.ndarray     # logits - max
    exp: np.ndarray         # exp(shifted)
    total: float            # sum of exp
    probs: np.ndarray       # exp / total
    label: Optional[int] = None
    loss: Optional[float] = None   # -log probs[label]
