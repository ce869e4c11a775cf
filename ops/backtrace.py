"""Backward traces: the backward pass run instrumented, one step per upstream cell.

``cache.backward_trace(dout, wrt="x", view="scatter")`` (also
``backward_trace(cache, dout, wrt, view)`` here) returns:

- :class:`ScatterTrace` for max_pool2d, avg_pool2d and conv2d's input gradient
  (``view="scatter"``): each upstream cell stamps an array into its window of the
  padded input gradient, and the stamps add up;
- :class:`GatherTrace` for conv2d's input gradient with ``view="gather"``: the same dx as a
  full correlation of the zero-inserted, padded dout with the 180°-rotated kernel;
- :class:`WeightGradTrace` for conv2d's ``wrt="weight"``: each weight cell is Σ x·dout over
  the positions where that tap was used;
- :class:`RowTrace` for linear (``wrt="x"`` or ``"weight"``): one (n, o) neuron at a time;
- :class:`ElementwiseBackwardTrace` for relu / sigmoid / tanh and :class:`CrossEntropyBackwardTrace`.

Each cache builds its own trace, beside the op's forward and backward (``PoolCache`` in
ops/pool.py, ``ConvCache`` in ops/conv.py, ...). This module holds only what they share:
the record types and the argument check (the steps over an output come from ops/trace.py).
It imports no op module, so that every op module may import it.

Stamps and values come from the same geometry and arithmetic as the op's backward (the
pool routing from the forward's ``argmax``, conv's stamps from the same ``wᵀ·dout``
product); only the order in which overlapping stamps are added differs, so ``output()``
equals the backward's gradient bit for bit where windows do not overlap and to ~1e-15
relative where they do (tests/test_ops_backtrace.py).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._window import group_channels


def check_args(cache, wrt, view, wrts=("x",)):
    """Raise a ValueError naming ``wrt`` or ``view`` unless the cache's op supports them."""
    if wrt not in wrts:
        raise ValueError(f"backward_trace: wrt={wrt!r} is invalid for {type(cache).__name__}, "
                         f"expected one of {wrts}")
    if view not in ("scatter", "gather"):
        raise ValueError(f"backward_trace: view={view!r} is invalid, expected 'scatter' or 'gather'")


def backward_trace(cache, dout, wrt="x", view="scatter"):
    """The backward pass of the op behind ``cache``, run instrumented (see the module doc):
    ``cache.backward_trace(dout, wrt, view)``.

    Parameters
    ----------
    cache : the op's cache
    dout : ndarray, the upstream gradient (the op's output shape; a scalar for cross-entropy)
    wrt : {"x", "weight"}
        "weight" for conv2d and linear only.
    view : {"scatter", "gather"}
        conv2d's input gradient only.
    """
    build = getattr(cache, "backward_trace", None)
    if build is None:
        check_args(cache, wrt, view)     # a bad argument is named first, as for every op
        raise TypeError(f"backward_trace: no backward trace for {type(cache).__name__}")
    return build(dout, wrt, view)


@dataclass(frozen=True)
class ScatterTrace:
    """Steps of a scatter-add backward: step k takes upstream cell ``out_index[k]`` (n, f, i, j)
    and adds ``stamp[k]`` (Cs, kh, kw) into the padded gradient at channels ``channels[k]``
    and the window cells starting at ``origin[k]`` (padded coordinates, spaced by dilation).
    Stamps that land on padding (``is_pad``) are cropped away: that gradient goes nowhere."""
    op: str
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    upstream: np.ndarray    # (N, F, OH, OW): dout
    grad_shape: tuple       # (N, C, H, W)
    out_index: np.ndarray   # (S, 4)
    origin: np.ndarray      # (S, 2)
    channels: np.ndarray    # (S, Cs)
    stamp: np.ndarray       # (S, Cs, kh, kw)
    is_pad: np.ndarray      # (S, kh, kw)
    pad_extra: tuple = (0, 0)   # bottom/right-only padding (conv2d padding="same")

    def __len__(self):
        return len(self.out_index)

    def padded_size(self):
        return tuple(n + 2 * p + e for n, p, e in zip(self.grad_shape[2:], self.padding,
                                                       self.pad_extra))

    def cells(self, k):
        """(kh, kw, 2) padded coordinates of step k's window."""
        r = self.origin[k, 0] + self.dilation[0] * np.arange(self.kernel_size[0])
        c = self.origin[k, 1] + self.dilation[1] * np.arange(self.kernel_size[1])
        return np.stack(np.meshgrid(r, c, indexing="ij"), axis=-1)

    def padded_output(self, upto=None):
        """The padded gradient after steps ``0..upto`` (all when None): (N, C, Hp, Wp)."""
        n, c = self.grad_shape[:2]
        dh, dw = self.dilation
        s = len(self) if upto is None else upto + 1
        out = np.zeros((n, c) + self.padded_size(), dtype=self.stamp.dtype)
        kh, kw = self.kernel_size
        nn = self.out_index[:s, 0][:, None, None, None]
        ch = self.channels[:s][:, :, None, None]
        rows = (self.origin[:s, 0][:, None] + dh * np.arange(kh))[:, None, :, None]
        cols = (self.origin[:s, 1][:, None] + dw * np.arange(kw))[:, None, None, :]
        np.add.at(out, (nn, ch, rows, cols), self.stamp[:s])   # in step order
        return out

    def output(self, upto=None):
        """The gradient (N, C, H, W) after steps ``0..upto``; padding cropped."""
        (ph, pw), (_, _, h, w) = self.padding, self.grad_shape
        return self.padded_output(upto)[:, :, ph:ph + h, pw:pw + w]

    def lost(self, upto=None):
        """Gradient that landed on padding (cropped): (N, C) sums."""
        out = self.padded_output(upto)
        return out.sum(axis=(2, 3)) - self.output(upto).sum(axis=(2, 3))

    def overlap_counts(self):
        """(Hp, Wp): how many windows touch each padded cell (0: no window reads it)."""
        counts = np.zeros(self.padded_size(), dtype=int)
        first = self.out_index[:, 0] == self.out_index[0, 0]
        first &= self.out_index[:, 1] == self.out_index[0, 1]
        for k in np.flatnonzero(first):
            cells = self.cells(k).reshape(-1, 2)
            np.add.at(counts, (cells[:, 0], cells[:, 1]), 1)
        return counts


@dataclass(frozen=True)
class GatherTrace:
    """conv2d's dx as a full correlation: ``inserted`` is dout with stride − 1 zeros between
    cells and a border of dilation·(k − 1) zeros (plus the rows no window reached);
    dx_padded[n, c, y, x] = Σ_f Σ_ab inserted[n, f, y + d·a, x + d·b] · kernel[f, c, a, b] with
    ``kernel`` the weight rotated by 180°. Steps run over the padded input gradient;
    ``cropped[k]`` marks the cells on the forward's padding, which the gradient drops."""
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    inserted: np.ndarray     # (N, F, Zh, Zw)
    is_inserted: np.ndarray  # (Zh, Zw): zeros put between dout cells (stride)
    is_border: np.ndarray    # (Zh, Zw): the full-correlation border
    kernel: np.ndarray       # (F, C, kh, kw) rotated by 180°
    grad_shape: tuple        # (N, C, H, W)
    out_index: np.ndarray    # (S, 4) n, c, y, x in padded coordinates
    cropped: np.ndarray      # (S,)
    field: np.ndarray        # (S, F, kh, kw)
    value: np.ndarray        # (S,)
    pad_extra: tuple = (0, 0)

    def __len__(self):
        return len(self.value)

    def output(self):
        (ph, pw), (n, c, h, w) = self.padding, self.grad_shape
        size = (h + 2 * ph + self.pad_extra[0], w + 2 * pw + self.pad_extra[1])
        out = np.zeros((n, c) + size, dtype=self.value.dtype)
        out[tuple(self.out_index.T)] = self.value
        return out[:, :, ph:ph + h, pw:pw + w]


@dataclass(frozen=True)
class WeightGradTrace:
    """conv2d's weight gradient, one step per weight cell (f, c, a, b): ``value[k]`` =
    Σ over samples and output positions of x (the input that tap read) × dout.
    ``tap(k)`` and ``upstream(k)`` give the two (N, OH, OW) arrays that are multiplied;
    ``bias`` is Σ dout per filter (None without a bias)."""
    weight_shape: tuple
    out_shape: tuple          # (N, F, OH, OW)
    cols: np.ndarray          # the forward's windows (C*kh*kw, OH*OW*N)
    upstream_last: np.ndarray  # dout as (F, OH*OW*N)
    out_index: np.ndarray     # (S, 4) f, c, a, b
    value: np.ndarray         # (S,)
    bias: Optional[np.ndarray]
    groups: int = 1

    def __len__(self):
        return len(self.value)

    def _per_sample(self, row):
        n, _, oh, ow = self.out_shape
        return row.reshape(oh, ow, n).transpose(2, 0, 1)

    def tap(self, k):
        f, c, a, b = self.out_index[k]
        nf, cg, kh, kw = self.weight_shape
        c = group_channels(f, nf, self.groups, cg)[c]     # the input channel this tap reads
        return self._per_sample(self.cols[(c * kh + a) * kw + b])

    def upstream(self, k):
        return self._per_sample(self.upstream_last[self.out_index[k, 0]])

    def output(self):
        out = np.zeros(self.weight_shape, dtype=self.value.dtype)
        out[tuple(self.out_index.T)] = self.value
        return out


@dataclass(frozen=True)
class RowTrace:
    """linear's backward, one neuron (n, o) at a time: step k adds ``scale[k]`` × ``row[k]``
    into row ``target[k]`` of the gradient. wrt x: dx[n] += dout[n, o]·W[o];
    wrt weight: dW[o] += dout[n, o]·x[n]."""
    wrt: str
    grad_shape: tuple
    out_index: np.ndarray   # (S, 2) n, o
    target: np.ndarray      # (S,)
    scale: np.ndarray       # (S,) dout[n, o]
    rows: np.ndarray        # (R, in): W (wrt x) or x (wrt weight)
    row_index: np.ndarray   # (S,)

    def __len__(self):
        return len(self.scale)

    def output(self, upto=None):
        s = len(self) if upto is None else upto + 1
        out = np.zeros(self.grad_shape, dtype=self.rows.dtype)
        np.add.at(out, self.target[:s], self.scale[:s, None] * self.rows[self.row_index[:s]])
        return out


@dataclass(frozen=True)
class ElementwiseBackwardTrace:
    """relu / sigmoid / tanh backward: ``local`` is the derivative at each element (the
    backward applied to ones), ``value`` the backward's own dx = local × dout."""
    op: str
    input: np.ndarray
    output_array: np.ndarray
    upstream: np.ndarray
    local: np.ndarray
    value: np.ndarray

    def output(self):
        return self.value


@dataclass(frozen=True)
class CrossEntropyBackwardTrace:
    """dlogits = (softmax − onehot) · dout / N, per sample row."""
    probs: np.ndarray
    onehot: np.ndarray
    n: int
    upstream: float
    value: np.ndarray

    def output(self):
        return self.value
