"""Backward traces: the backward pass run instrumented, one step per upstream cell.

``backward_trace(cache, dout, wrt)`` (also ``cache.backward_trace(dout, wrt)``) returns:

- :class:`ScatterTrace` for max_pool2d, avg_pool2d and conv2d's input gradient
  (``view="scatter"``): each upstream cell stamps an array into its window of the
  padded input gradient, and the stamps add up;
- :class:`GatherTrace` for conv2d's input gradient with ``view="gather"``: the same dx as a
  full correlation of the zero-inserted, padded dout with the 180°-rotated kernel;
- :class:`WeightGradTrace` for conv2d's ``wrt="weight"``: each weight cell is Σ x·dout over
  the positions where that tap was used;
- :class:`RowTrace` for linear (``wrt="x"`` or ``"weight"``): one (n, o) neuron at a time;
- :class:`ElementwiseBackwardTrace` for relu / sigmoid / tanh and :class:`CrossEntropyBackwardTrace`.

Stamps and values come from the same geometry and arithmetic as the op's backward (the
pool routing from the forward's ``argmax``, conv's stamps from the same ``wᵀ·dout``
product); only the order in which overlapping stamps are added differs, so ``output()``
equals the backward's gradient bit for bit where windows do not overlap and to ~1e-15
relative where they do (tests/test_ops_backtrace.py).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._check import as_dout
from .conv import group_channels
from ._window import batch_last, pad_mask, windows


def _grid(shape):
    return np.indices(shape).reshape(len(shape), -1).T


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


def _scatter_parts(cache, dout_shape):
    g = cache.geom
    idx = _grid(dout_shape)
    origin = idx[:, 2:] * np.array(g.stride)
    mask = windows(pad_mask(g)[None, None], g)[0, 0]
    return g, idx, origin, mask[idx[:, 2], idx[:, 3]]


def pool_backward_trace(cache, dout):
    """ScatterTrace of max_pool2d / avg_pool2d's backward."""
    g = cache.geom
    dout = as_dout(dout, cache.x.shape[:2] + g.out, cache.op, cache.x.dtype)
    g, idx, origin, is_pad = _scatter_parts(cache, dout.shape)
    n, c, i, j = idx.T
    kh, kw = g.kernel_size
    if cache.argmax is not None:
        # The backward's own routing: dout × (argmax == offset), offset by offset.
        offsets = np.arange(kh * kw).reshape(kh, kw)
        hit = cache.argmax[n, c, i, j][:, None, None] == offsets
        stamp = dout[n, c, i, j][:, None, None] * hit
    else:
        share = dout / (kh * kw)                          # the backward's arithmetic
        stamp = np.broadcast_to(share[n, c, i, j][:, None, None], (len(idx), kh, kw)).copy()
    return ScatterTrace(cache.op, g.kernel_size, g.stride, g.padding, g.dilation, dout,
                        cache.x.shape, idx, origin, c[:, None], stamp[:, None], is_pad,
                        g.pad_extra)


def conv_dx_scatter_trace(cache, dout):
    """ScatterTrace of conv2d's input gradient: upstream cell (n, f, i, j) stamps dout × w[f]."""
    w, g = cache.weight, cache.geom
    nf, ch = w.shape[:2]
    n = cache.x.shape[0]
    dout = as_dout(dout, (n, nf) + g.out, "conv2d", w.dtype)
    g, idx, origin, is_pad = _scatter_parts(cache, dout.shape)
    nn, f, i, j = idx.T
    stamp = dout[nn, f, i, j][:, None, None, None] * w[f]           # (S, C/groups, kh, kw)
    channels = group_channels(f, nf, cache.groups, ch)
    return ScatterTrace("conv2d", g.kernel_size, g.stride, g.padding, g.dilation, dout,
                        cache.x.shape, idx, origin, channels, stamp, is_pad, g.pad_extra)


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


def conv_dx_gather_trace(cache, dout):
    from .conv import dense_weight
    g = cache.geom
    w = dense_weight(cache.weight, cache.groups)       # zero where a filter reads no channel
    nf, ch, kh, kw = w.shape
    n = cache.x.shape[0]
    dout = as_dout(dout, (n, nf) + g.out, "conv2d", w.dtype)
    hp, wp = g.padded_size()
    border = [g.dilation[a] * (g.kernel_size[a] - 1) for a in range(2)]
    zh, zw = hp + border[0], wp + border[1]
    inserted = np.zeros((n, nf, zh, zw), dtype=w.dtype)
    rows = slice(border[0], border[0] + g.stride[0] * (g.out[0] - 1) + 1, g.stride[0])
    cols = slice(border[1], border[1] + g.stride[1] * (g.out[1] - 1) + 1, g.stride[1])
    inserted[:, :, rows, cols] = dout
    core = np.zeros((zh, zw), dtype=bool)                 # where dout's cells spread out
    core[border[0]:rows.stop, border[1]:cols.stop] = True
    is_inserted = core.copy()
    is_inserted[rows, cols] = False
    is_border = ~core
    kernel = w[:, :, ::-1, ::-1]
    idx = _grid((n, ch, hp, wp))
    nn, c, y, x = idx.T
    a = g.dilation[0] * np.arange(kh)
    b = g.dilation[1] * np.arange(kw)
    field = inserted[nn[:, None, None, None], np.arange(nf)[None, :, None, None],
                     (y[:, None] + a)[:, None, :, None], (x[:, None] + b)[:, None, None, :]]
    value = np.einsum("sfab,sfab->s", field, kernel[:, c].transpose(1, 0, 2, 3))
    ph, pw = g.padding
    cropped = (y < ph) | (y >= ph + g.in_size[0]) | (x < pw) | (x >= pw + g.in_size[1])
    return GatherTrace(g.kernel_size, g.stride, g.padding, g.dilation, inserted, is_inserted,
                       is_border, kernel, cache.x.shape, idx, cropped, field,
                       value.astype(w.dtype, copy=False), g.pad_extra)


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


def conv_dweight_trace(cache, dout):
    from .conv import _dweight   # the backward's own product
    w, g = cache.weight, cache.geom
    nf = w.shape[0]
    n = cache.x.shape[0]
    dout = as_dout(dout, (n, nf) + g.out, "conv2d", w.dtype)
    dlast = batch_last(dout).reshape(nf, -1)
    dw = _dweight(cache.cols, dlast, w, cache.groups, g.out[0] * g.out[1], n)
    idx = _grid(w.shape)
    bias = dlast.sum(axis=1) if cache.bias is not None else None
    return WeightGradTrace(w.shape, (n, nf) + g.out, cache.cols, dlast, idx,
                           dw[tuple(idx.T)], bias, cache.groups)


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


def linear_backward_trace(cache, dout, wrt):
    x, w = cache.x, cache.weight
    dout = as_dout(dout, (x.shape[0], w.shape[0]), "linear", w.dtype)
    idx = _grid(dout.shape)
    n, o = idx.T
    if wrt == "x":
        return RowTrace("x", x.shape, idx, n, dout[n, o], w, o)
    return RowTrace("weight", w.shape, idx, o, dout[n, o], x, n)


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


def elementwise_backward_trace(cache, dout, backward):
    value = backward(dout, cache)
    local = backward(np.ones_like(cache.out), cache)
    return ElementwiseBackwardTrace(cache.op, cache.x, cache.out,
                                    np.asarray(dout, dtype=cache.out.dtype), local, value)


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


def cross_entropy_backward_trace(cache, dout=1.0):
    from .loss import cross_entropy_backward
    onehot = np.zeros_like(cache.probs)
    onehot[np.arange(len(cache.labels)), cache.labels] = 1
    return CrossEntropyBackwardTrace(cache.probs, onehot, len(cache.labels), float(dout),
                                     cross_entropy_backward(dout, cache))


def backward_trace(cache, dout, wrt="x", view="scatter"):
    """The backward pass of the op behind ``cache``, run instrumented (see the module doc).

    Parameters
    ----------
    cache : the op's cache
    dout : ndarray, the upstream gradient (the op's output shape; a scalar for cross-entropy)
    wrt : {"x", "weight"}
        "weight" for conv2d and linear only.
    view : {"scatter", "gather"}
        conv2d's input gradient only.
    """
    from . import activations, conv, dense, loss, pool
    ok = ("x", "weight") if isinstance(cache, (conv.ConvCache, dense.LinearCache)) else ("x",)
    if wrt not in ok:
        raise ValueError(f"backward_trace: wrt={wrt!r} is invalid for {type(cache).__name__}, "
                         f"expected one of {ok}")
    if view not in ("scatter", "gather"):
        raise ValueError(f"backward_trace: view={view!r} is invalid, expected 'scatter' or 'gather'")
    if isinstance(cache, pool.PoolCache):
        return pool_backward_trace(cache, dout)
    if isinstance(cache, conv.ConvCache):
        if wrt == "weight":
            return conv_dweight_trace(cache, dout)
        return (conv_dx_gather_trace if view == "gather" else conv_dx_scatter_trace)(cache, dout)
    if isinstance(cache, dense.LinearCache):
        return linear_backward_trace(cache, dout, wrt)
    if isinstance(cache, activations.ElementwiseCache):
        from .scaled_tanh import scaled_tanh_backward   # ops.scaled_tanh is the function
        backward = {"relu": activations.relu_backward, "sigmoid": activations.sigmoid_backward,
                    "tanh": activations.tanh_backward,
                    "scaled_tanh": scaled_tanh_backward}[cache.op]
        return elementwise_backward_trace(cache, dout, backward)
    if isinstance(cache, loss.CrossEntropyCache):
        return cross_entropy_backward_trace(cache, dout)
    raise TypeError(f"backward_trace: no backward trace for {type(cache).__name__}")
