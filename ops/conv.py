"""2-D convolution (cross-correlation, as in PyTorch), NCHW."""
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, cast_common, check_ndim, check_spatial, pair
from ._window import Geometry, batch_last, geometry, group_channels, pad, unpad, windows
from .backtrace import GatherTrace, ScatterTrace, WeightGradTrace, check_args
from .trace import WindowTrace, grid, window_steps

OP = "conv2d"


@dataclass
class ConvCache:
    """What conv2d's backward needs; ``trace()`` turns it into a WindowTrace."""
    x: np.ndarray        # (N, C, H, W)
    xp: np.ndarray       # (N, C, H+2ph, W+2pw), batch-last memory (see _window.pad)
    weight: np.ndarray   # (F, C/groups, kh, kw)
    bias: object         # (F,) or None
    geom: Geometry
    cols: np.ndarray     # (C*kh*kw, OH*OW*N): the windows, one column per output cell
    out: np.ndarray      # (N, F, OH, OW): the returned output itself (no copy), read by trace()
    groups: int = 1

    def trace(self, sample=None):
        return conv_trace(self, sample)

    def backward_trace(self, dout, wrt="x", view="scatter"):
        """The backward pass run instrumented (see ops.backtrace): a ScatterTrace of dx,
        a GatherTrace of dx (``view="gather"``) or a WeightGradTrace (``wrt="weight"``)."""
        check_args(self, wrt, view, ("x", "weight"))
        if wrt == "weight":
            return conv_dweight_trace(self, dout)
        return (conv_dx_gather_trace if view == "gather" else conv_dx_scatter_trace)(self, dout)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolve ``x`` with ``weight``, as ``torch.nn.functional.conv2d``.

    The naive loop reference is ``conv2d`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, C, H, W); N may be 0 (an empty output), C, H and W may not
    weight : ndarray (F, C/groups, kh, kw), F >= 1
    bias : ndarray (F,) or None
    stride, dilation : int or (int, int)
    padding : int, (int, int), "valid" (no padding) or "same" (stride 1 only: the output
        has the input's size; an odd total padding puts the extra cell bottom/right, as torch)
    groups : int
        C and F are split into ``groups`` groups; filter f reads only its group's C/groups
        channels. ``groups = C`` is a depthwise convolution.

    Returns
    -------
    out : ndarray (N, F, OH, OW), with OH = floor((H + 2*ph - dh*(kh-1) - 1)/sh) + 1,
        in batch-last memory: a view of a C-contiguous (F, OH, OW, N) buffer
    cache : ConvCache
    """
    x = as_float(x, "x", OP)
    weight = as_float(weight, "weight", OP)
    check_ndim(x, 4, "x", OP, "(N, C, H, W)")
    check_ndim(weight, 4, "weight", OP, "(F, C, kh, kw)")
    check_spatial(x, OP)
    if weight.shape[0] == 0:
        raise ValueError(f"{OP}: weight has shape {weight.shape} with 0 filters, expected at "
                         "least 1 (as torch)")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{OP}: groups={groups!r} is invalid, expected a positive int")
    groups = int(groups)
    if x.shape[1] % groups or weight.shape[0] % groups:
        raise ValueError(f"{OP}: groups={groups} must divide x's {x.shape[1]} channels and "
                         f"weight's {weight.shape[0]} filters")
    if weight.shape[1] * groups != x.shape[1]:
        want = "weight.shape[1] == x.shape[1]" + (f" / groups ({groups})" if groups > 1 else "")
        raise ValueError(f"{OP}: weight has {weight.shape[1]} input channels (shape {weight.shape}) "
                         f"but x has {x.shape[1]} (shape {x.shape}), expected {want}")
    nf = weight.shape[0]
    x, weight, bias = cast_common(OP, x, weight, bias, nf, f"to match weight's {nf} filters")
    padding, extra = _padding(padding, stride, dilation, weight.shape[2:])
    g = geometry(OP, x.shape, weight.shape[2:], stride, padding, dilation,
                 kernel_name="weight kernel (kh, kw)", pad_extra=extra)
    xp = pad(x, g)
    n, positions = x.shape[0], g.out[0] * g.out[1]
    # Batch-last columns (C*kh*kw, OH*OW*N): the copy moves runs of OW*N contiguous values,
    # and W @ cols is already the (F, OH, OW, N) output. (Sizes are spelled out, not -1,
    # so that an empty batch reshapes too.)
    cols = windows(xp, g).transpose(1, 4, 5, 2, 3, 0).reshape(x.shape[1] * weight[0, 0].size,
                                                              positions * n)
    if groups == 1:
        out = _apply_weight(weight.reshape(nf, -1), cols, positions, n)
    else:   # one product per group: filters of group k read rows of channels of group k
        out = np.empty((nf, positions * n), dtype=x.dtype)
        for f, r in _group_slices(weight.shape, groups):
            out[f] = _apply_weight(weight[f].reshape(f.stop - f.start, -1), cols[r], positions, n)
    if bias is not None:
        out += bias[:, None]
    out = out.reshape((nf,) + g.out + (n,)).transpose(3, 0, 1, 2)
    return out, ConvCache(x, xp, weight, bias, g, cols, out, groups)


def _padding(padding, stride, dilation, kernel):
    """(padding, pad_extra) from an int, a pair, "valid" or "same" (torch's rules)."""
    if not isinstance(padding, str):
        return padding, (0, 0)
    if padding == "valid":
        return 0, (0, 0)
    if padding != "same":
        raise ValueError(f"{OP}: padding={padding!r} is invalid, expected an int, a pair, "
                         "'valid' or 'same'")
    if pair(stride, "stride", OP, 1) != (1, 1):
        raise ValueError(f"{OP}: padding='same' is not supported for strided convolutions "
                         f"(stride={stride!r}), as in torch")
    total = [d * (k - 1) for d, k in zip(pair(dilation, "dilation", OP, 1), kernel)]
    return tuple(t // 2 for t in total), tuple(t % 2 for t in total)


def _group_slices(w_shape, groups):
    """(filter slice, cols row slice) of each group."""
    fg, rows = w_shape[0] // groups, w_shape[1] * w_shape[2] * w_shape[3]
    return [(slice(k * fg, (k + 1) * fg), slice(k * rows, (k + 1) * rows)) for k in range(groups)]


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d.

    Parameters
    ----------
    dout : ndarray (N, F, OH, OW)
    cache : ConvCache
    need_dx : bool
        False skips the input gradient (a network's first layer needs none).

    Returns
    -------
    dx : ndarray (N, C, H, W), or None when ``need_dx`` is False
    dweight : ndarray (F, C, kh, kw)
    dbias : ndarray (F,) or None
    """
    c = cache
    w, g = c.weight, c.geom
    nf = w.shape[0]
    n, ch = c.x.shape[:2]
    dout = as_dout(dout, (n, nf) + g.out, OP, w.dtype)
    positions = g.out[0] * g.out[1]
    dlast = batch_last(dout).reshape(nf, positions * n)   # free for a batch-last dout
    dweight = _dweight(c.cols, dlast, w, c.groups, positions, n)
    dbias = dlast.sum(axis=1) if c.bias is not None else None
    if not need_dx:
        return None, dweight, dbias
    if c.groups == 1:
        dcols = w.reshape(nf, -1).T @ dlast
    else:
        dcols = np.empty(c.cols.shape, dtype=w.dtype)
        for f, r in _group_slices(w.shape, c.groups):
            dcols[r] = w[f].reshape(f.stop - f.start, -1).T @ dlast[f]
    dcols = dcols.reshape(ch, *g.kernel_size, *g.out, n)
    dxp = np.zeros((ch,) + c.xp.shape[2:] + (n,), dtype=w.dtype)
    for a, b in g.offsets():
        rows, cols = g.tap(a, b)
        dxp[:, rows, cols, :] += dcols[:, a, b]
    return unpad(dxp.transpose(3, 0, 1, 2), g), dweight, dbias


def _dweight(cols, dlast, w, groups, positions, n):
    """The weight gradient (F, C/groups, kh, kw), one product per group."""
    if groups == 1:
        return _weight_grad(cols, dlast, positions, n).reshape(w.shape)
    dweight = np.empty_like(w)
    for f, r in _group_slices(w.shape, groups):
        dweight[f] = _weight_grad(cols[r], dlast[f], positions, n).reshape(dweight[f].shape)
    return dweight


def dense_weight(w, groups):
    """The (F, C, kh, kw) weight a grouped conv acts as: zero where a filter reads no channel."""
    if groups == 1:
        return w
    f, cg = w.shape[:2]
    full = np.zeros((f, cg * groups) + w.shape[2:], dtype=w.dtype)
    for k, (fs, _) in enumerate(_group_slices(w.shape, groups)):
        full[fs, k * cg:(k + 1) * cg] = w[fs]
    return full


def conv_trace(cache, sample=None):
    """WindowTrace of conv2d from its ConvCache; one step per (n, f, i, j)."""
    w, b, g = cache.weight, cache.bias, cache.geom
    idx, origin, is_pad = window_steps(g, cache.out.shape, sample)
    n, f, i, j = idx.T
    ch = group_channels(f, w.shape[0], cache.groups, w.shape[1])    # (S, C/groups)
    field = windows(cache.xp, g)[n[:, None], ch, i[:, None], j[:, None]]   # (S, C/groups, kh, kw)
    contrib = np.einsum("sckl,sckl->sc", field, w[f])               # display only
    return WindowTrace(OP, g.kernel_size, g.stride, g.padding, g.dilation, cache.x, cache.xp,
                       cache.out.shape, idx, origin, field, is_pad, cache.out[n, f, i, j],
                       weight=w, bias=b, contrib=contrib, groups=cache.groups)


def conv_dx_scatter_trace(cache, dout):
    """ScatterTrace of conv2d's input gradient: upstream cell (n, f, i, j) stamps dout × w[f]."""
    w, g = cache.weight, cache.geom
    nf, ch = w.shape[:2]
    n = cache.x.shape[0]
    dout = as_dout(dout, (n, nf) + g.out, OP, w.dtype)
    idx, origin, is_pad = window_steps(g, dout.shape)
    nn, f, i, j = idx.T
    stamp = dout[nn, f, i, j][:, None, None, None] * w[f]           # (S, C/groups, kh, kw)
    channels = group_channels(f, nf, cache.groups, ch)
    return ScatterTrace(OP, g.kernel_size, g.stride, g.padding, g.dilation, dout,
                        cache.x.shape, idx, origin, channels, stamp, is_pad, g.pad_extra)


def conv_dx_gather_trace(cache, dout):
    """GatherTrace of conv2d's input gradient: a full correlation of the zero-inserted,
    padded dout with the 180°-rotated kernel."""
    g = cache.geom
    w = dense_weight(cache.weight, cache.groups)       # zero where a filter reads no channel
    nf, ch, kh, kw = w.shape
    n = cache.x.shape[0]
    dout = as_dout(dout, (n, nf) + g.out, OP, w.dtype)
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
    idx = grid((n, ch, hp, wp))
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


def conv_dweight_trace(cache, dout):
    """WeightGradTrace of conv2d: one step per weight cell, valued by the backward's own product."""
    w, g = cache.weight, cache.geom
    nf = w.shape[0]
    n = cache.x.shape[0]
    dout = as_dout(dout, (n, nf) + g.out, OP, w.dtype)
    dlast = batch_last(dout).reshape(nf, -1)
    dw = _dweight(cache.cols, dlast, w, cache.groups, g.out[0] * g.out[1], n)
    idx = grid(w.shape)
    bias = dlast.sum(axis=1) if cache.bias is not None else None
    return WeightGradTrace(w.shape, (n, nf) + g.out, cache.cols, dlast, idx,
                           dw[tuple(idx.T)], bias, cache.groups)


# OpenBLAS is slow on one big product whose weight matrix is tiny (LeNet-5's C1: 6 x 25),
# and fast on many small ones: there a product per output position (np.matmul over a
# stack, no Python loop) was measured 1.5-2.7x faster, but 2x slower for C3's 16 x 150.
TINY_WEIGHT = 256


def _apply_weight(w2, cols, positions, n):
    """out (F, P*N) = w2 (F, C*kh*kw) @ cols (C*kh*kw, P*N), with P output positions.

    Per position: 0.63 -> 0.38 ms for C1 (one 64-image shard, one thread).
    """
    if w2.size > TINY_WEIGHT:
        return w2 @ cols
    out = np.empty((w2.shape[0], positions, n), dtype=np.result_type(w2, cols))
    np.matmul(w2, _per_position(cols, positions, n), out=out.transpose(1, 0, 2))
    return out.reshape(w2.shape[0], positions * n)


def _weight_grad(cols, dlast, positions, n):
    """dW (F, C*kh*kw) = dlast (F, P*N) @ cols.T (P*N, C*kh*kw), with P output positions.

    Per position: 1.69 -> 0.63 ms for C1 (batch 128). For big weights (cols @ dlast.T).T is
    ~1.7x faster than dlast @ cols.T.
    """
    k, nf = cols.shape[0], dlast.shape[0]
    if k * nf > TINY_WEIGHT:
        return (cols @ dlast.T).T
    products = np.matmul(_per_position(cols, positions, n),
                         _per_position(dlast, positions, n).transpose(0, 2, 1))
    return products.sum(axis=0).T


def _per_position(a, positions, n):
    """(R, P*N) -> the (P, R, N) view: one R x N matrix per output position."""
    return a.reshape(a.shape[0], positions, n).transpose(1, 0, 2)
