"""2-D convolution (cross-correlation, as in PyTorch), NCHW."""
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

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
    out: np.ndarray      # (N, F, OH, OW): the returned output itself (no copy), read by trace()
    groups: int = 1
    whole_cols: object = None   # the im2col matrix when the forward built it in one chunk

    @property
    def cols(self):
        """(C*kh*kw, OH*OW*N): every window, one column per output cell (the im2col matrix,
        built on demand for the traces; the forward and backward build it a few rows at a
        time, and keep it only when it fits in one chunk)."""
        if self.whole_cols is not None:
            return self.whole_cols
        return _cols(_windows_last(self.xp, self.geom), slice(None))

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
    n, (oh, ow) = x.shape[0], g.out
    out = np.empty((nf, oh, ow * n), dtype=x.dtype)      # batch-last (F, OH, OW, N)
    win = _windows_last(xp, g)
    chunks = _row_chunks(win)
    for rows in chunks:
        o, cols = _flat(out[:, rows]), _cols(win, rows)
        if groups == 1:
            _apply_weight(weight.reshape(nf, -1), cols, o, n)
        else:   # one product per group: filters of group k read rows of channels of group k
            for f, r in _group_slices(weight.shape, groups):
                _apply_weight(weight[f].reshape(f.stop - f.start, -1), cols[r], o[f], n)
        if bias is not None:
            o += bias[:, None]
    out = out.reshape(nf, oh, ow, n).transpose(3, 0, 1, 2)
    # one chunk (small batches): keep its matrix, the backward's weight gradient reads it
    whole = cols if len(chunks) == 1 else None
    return out, ConvCache(x, xp, weight, bias, g, out, groups, whole)


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
    dlast = batch_last(dout).reshape(nf, g.out[0], g.out[1] * n)   # free for a batch-last dout
    dweight = _dweight(c.xp, g, dlast, w, c.groups, c.whole_cols)
    dbias = dlast.reshape(nf, -1).sum(axis=1) if c.bias is not None else None
    if not need_dx:
        return None, dweight, dbias
    d2 = dlast.reshape(nf, -1)
    if c.groups == 1:
        dcols = w.reshape(nf, -1).T @ d2
    else:
        dcols = np.empty((ch * w[0, 0].size, d2.shape[1]), dtype=w.dtype)
        for f, r in _group_slices(w.shape, c.groups):
            dcols[r] = w[f].reshape(f.stop - f.start, -1).T @ d2[f]
    dcols = dcols.reshape(ch, *g.kernel_size, *g.out, n)
    dxp = np.zeros((ch,) + c.xp.shape[2:] + (n,), dtype=w.dtype)
    if _windows_disjoint(g):
        _col2im_disjoint(dcols, g, dxp)
    elif g.kernel_size[0] * g.kernel_size[1] * dxp.nbytes <= CHUNK_BYTES:
        _col2im_stacked(dcols, g, dxp)
    else:
        _col2im_taps(dcols, g, dxp)
    return unpad(dxp.transpose(3, 0, 1, 2), g), dweight, dbias


def _col2im_taps(dcols, g, dxp):
    """Add each window's column (C, kh, kw, OH, OW, N) back onto the batch-last padded
    input gradient ``dxp`` (C, Hp, Wp, N), one kernel offset at a time (overlapping
    windows add up)."""
    for a, b in g.offsets():
        rows, cols = g.tap(a, b)
        dxp[:, rows, cols, :] += dcols[:, a, b]


def _col2im_stacked(dcols, g, dxp):
    """:func:`_col2im_taps` for a small batch: every kernel offset's windows are written
    into a slice of their own of a (kh, kw, C, Hp, Wp, N) stack through one window view,
    and the stack is summed over the offsets, in their order, from zero: each cell adds
    the same values in the same order as the loop (bit for bit, -0.0 included: tested).
    Why: with one image the loop's 25 small additions were the largest item of C3's
    backward (~4x faster at batch 1); the stack is kh*kw times dx, so large batches keep
    the loop (memory)."""
    kh, kw = g.kernel_size
    c, hp, wp, n = dxp.shape
    stack = np.zeros((kh, kw, c, hp, wp, n), dtype=dxp.dtype)
    t0, t1, t2, t3, t4, t5 = stack.strides
    (sh, sw), (dh, dw) = g.stride, g.dilation
    view = as_strided(stack, shape=(c, kh, kw) + g.out + (n,),
                      strides=(t2, t0 + dh * t3, t1 + dw * t4, sh * t3, sw * t4, t5))
    view[...] = dcols
    # along the leading axis a reduction adds row after row (no pairwise reordering)
    np.add.reduce(stack.reshape(kh * kw, -1), axis=0, out=dxp.reshape(-1), initial=0.0)


def _windows_disjoint(g):
    """True when no two windows share a cell: one output cell along an axis, or a stride
    at least the dilated kernel's extent (C5 of LeNet-5: a 1x1 output)."""
    return all(o == 1 or s >= d * (k - 1) + 1
               for o, s, d, k in zip(g.out, g.stride, g.dilation, g.kernel_size))


def _col2im_disjoint(dcols, g, dxp):
    """:func:`_col2im_taps` for disjoint windows in one addition through a writeable
    window view: every cell gets at most one value, added to zero as there (bit for bit
    the same). Why: with one image, C5's 25 offset additions of 16 values each were
    ~150 of ~1,100 us of a lenet5-1998 step (one core, loaded machine)."""
    c, hp, wp, n = dxp.shape
    s0, s1, s2, s3 = dxp.strides
    (sh, sw), (dh, dw) = g.stride, g.dilation
    view = as_strided(dxp, shape=(c,) + g.kernel_size + g.out + (n,),
                      strides=(s0, s1 * dh, s2 * dw, s1 * sh, s2 * sw, s3))
    view += dcols


def conv2d_gauss_newton(d2out, cache, need_dx=True):
    """Diagonal Gauss-Newton backward of conv2d: d2E/d(out)^2 -> the same for x, weight, bias.

    conv2d is linear in its input and in its weight, so the squared slopes are ``weight**2``
    (for x) and ``x**2`` (for the weight; LeCun et al. 1998, Appendix C): this is
    :func:`conv2d_backward` on the cache a forward of ``x**2`` and ``weight**2`` would keep.
    That forward's output is never read, so it is not computed (a third of the products of
    an SDLM curvature estimate).

    Returns
    -------
    d2x : ndarray (N, C, H, W), or None when ``need_dx`` is False
    d2weight : ndarray (F, C/groups, kh, kw)
    d2bias : ndarray (F,) or None
    """
    c = cache
    x2 = c.x ** 2
    sq = ConvCache(x2, pad(x2, c.geom), c.weight ** 2, c.bias, c.geom, None, c.groups)
    return conv2d_backward(d2out, sq, need_dx=need_dx)


def _dweight(xp, g, dlast, w, groups, whole_cols=None):
    """The weight gradient (F, C/groups, kh, kw) from dout as (F, OH, OW*N), one product
    per group (``whole_cols``: the im2col matrix, if the forward kept it)."""
    kk, n = g.kernel_size[0] * g.kernel_size[1], xp.shape[0]
    parts, win = [], None
    for f, r in _group_slices(w.shape, groups):
        d = dlast[f]
        if (r.stop - r.start) * d.shape[0] > TINY_WEIGHT or n < PER_POSITION_MIN:
            if whole_cols is not None:
                cols = whole_cols[r]
            else:
                win = _windows_last(xp, g) if win is None else win
                cols = _cols(win[r.start // kk:r.stop // kk], slice(None))
            parts.append(_times_transposed(cols, _flat(d)).T)
        else:
            win = _windows_last(xp, g) if win is None else win
            parts.append(_per_position_grad(win[r.start // kk:r.stop // kk], d).T)
    dweight = parts[0] if groups == 1 else np.concatenate(parts)
    return dweight.reshape(w.shape)


def _times_transposed(a, b):
    """a @ b.T, ~1.7x faster than b @ a.T for C3 (1 thread). With one column (lenet5-1998's
    C5 at batch 1: one output cell, one image) it is an outer product: 53 -> 13 us as a
    plain product, bit for bit the same: each cell is one product either way, and BLAS adds
    it to a zero, which the ``+= 0.0`` does too (it turns -0.0 into 0.0)."""
    if a.shape[1] == 1:
        out = a * b.T
        out += 0.0
        return out
    return a @ b.T


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
    dw = _dweight(cache.xp, g, dlast.reshape(nf, g.out[0], -1), w, cache.groups)
    idx = grid(w.shape)
    bias = dlast.sum(axis=1) if cache.bias is not None else None
    return WeightGradTrace(w.shape, (n, nf) + g.out, cache.cols, dlast, idx,
                           dw[tuple(idx.T)], bias, cache.groups)


# Why row chunks: the im2col matrix of a whole batch (C1 at batch 128: 25 x 100,352 floats,
# 10 MB) is written to memory and read back by the product; the matrix of a few output rows
# (~0.5 MB) is still in cache when the product reads it, and the forward keeps no im2col
# matrix for the backward. One thread, batch 128, best of 40: C1's im2col + product
# 1.04 -> 0.63 ms, C3's 1.08 -> 0.99 ms; far more on a busy machine, whose other
# processes evict a 10 MB matrix (medians 2.08 -> 0.77 ms and 1.92 -> 1.06 ms).
CHUNK_BYTES = 1 << 19

# OpenBLAS is slow on one big product whose weight matrix is tiny (LeNet-5's C1: 6 x 25),
# and fast on many small ones: a product per output position (np.matmul over a stack, no
# Python loop) was measured 1.5-2.7x faster, but 2x slower for C3's 16 x 150. Each
# position's product is the same BLAS call whatever the chunk, so chunking changes no bit.
TINY_WEIGHT = 256
# ...but only for a batch of at least PER_POSITION_MIN images: with one image each
# position's product is a matrix times a vector, and 784 of them (C1) cost far more than
# one product (cProfile of a batch-1 lenet5-1998 step: see _apply_weight).
PER_POSITION_MIN = 8


def _row_chunks(win):
    """Slices of output rows of ``_windows_last`` whose im2col matrix holds about
    CHUNK_BYTES (at least one row); none for an empty batch."""
    c, kh, kw, oh, ow, n = win.shape
    row_bytes = c * kh * kw * ow * n * win.itemsize
    if row_bytes == 0:
        return []
    step = max(1, CHUNK_BYTES // row_bytes)
    return [slice(i, min(i + step, oh)) for i in range(0, oh, step)]


def _windows_last(xp, g):
    """The (C, kh, kw, OH, OW, N) view of every window of the batch-last padded input."""
    return windows(xp, g).transpose(1, 4, 5, 2, 3, 0)


def _cols(win, rows):
    """The im2col matrix (C*kh*kw, R*OW*N) of output rows ``rows`` of ``_windows_last``,
    batch-last: the copy moves runs of OW*N contiguous values, and W @ cols is the
    (F, R, OW, N) output."""
    c, kh, kw, _, ow, n = win.shape
    chunk = win[:, :, :, rows]
    # sizes spelled out, not -1: an empty batch reshapes too
    return chunk.reshape(c * kh * kw, chunk.shape[3] * ow * n)


def _flat(a):
    """(F, R, M) rows of a C-contiguous (F, OH, M) array -> the (F, R*M) view: R rows of M
    values are contiguous, so NumPy's reshape never copies here (the forward writes into it)."""
    return a.reshape(a.shape[0], a.shape[1] * a.shape[2])


def _apply_weight(w2, cols, out, n):
    """out (F, P*N) = w2 (F, C*kh*kw) @ cols (C*kh*kw, P*N), written into ``out``, for P
    output positions of N images (see TINY_WEIGHT)."""
    if w2.size > TINY_WEIGHT:
        np.matmul(w2, cols, out=out)
    else:
        np.matmul(w2, _per_position(cols, n), out=_per_position(out, n))


def _per_position_grad(win, d):
    """dW.T (C*kh*kw, F) = cols @ d.T for a tiny weight, from the windows ``win``
    (C, kh, kw, OH, OW, N) and dout ``d`` (F, OH, OW*N): a product per output position,
    summed in position order, chunk after chunk (the running sum goes into the chunk's
    first product, so the sum is the one-chunk sum bit for bit); 0.95 -> 0.78 ms for C1 at
    batch 128, where the im2col matrix is rebuilt chunk by chunk as the forward keeps none.
    """
    c, kh, kw, oh, ow, n = win.shape
    total = np.zeros((c * kh * kw, d.shape[0]), dtype=d.dtype)
    for rows in _row_chunks(win):
        products = np.matmul(_per_position(_cols(win, rows), n),
                             _per_position(_flat(d[:, rows]), n).transpose(0, 2, 1))
        if rows.start:
            products[0] += total
        total = products.sum(axis=0)
    return total


def _per_position(a, n):
    """(R, P*N) -> the (P, R, N) view: one R x N matrix per output position."""
    r, m = a.shape
    return a.reshape(r, m // n, n).transpose(1, 0, 2)
