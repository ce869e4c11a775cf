"""Max and average pooling, NCHW."""
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, check_ndim, check_spatial
from ._window import Geometry, batch_last, geometry, is_batch_last, pad, pad_mask, unpad, windows
from .activations import relu, relu_backward
from .backtrace import ScatterTrace, check_args
from .trace import WindowTrace, window_steps


@dataclass
class PoolCache:
    """What a pool's backward needs; ``trace()`` turns it into a WindowTrace."""
    op: str
    x: np.ndarray        # (N, C, H, W)
    xp: np.ndarray       # (N, C, H+2ph, W+2pw), batch-last memory (see _window.pad)
    geom: Geometry
    argmax: object       # max pool: (N, C, OH, OW) flat window index of the max cell; else None
    out: np.ndarray      # (N, C, OH, OW): the returned output itself (no copy), read by trace()

    def trace(self, sample=None):
        return pool_trace(self, sample)

    def backward_trace(self, dout, wrt="x", view="scatter"):
        """The backward pass run instrumented: a ScatterTrace (see ops.backtrace) whose
        upstream cell (n, c, i, j) stamps its window as the backward routes it."""
        check_args(self, wrt, view)
        return pool_backward_trace(self, dout)


def _taps(xp, g):
    """(k, tap) per kernel offset in row-major order: tap is the (N, C, OH, OW) view of the
    padded input that offset k reads over all windows."""
    for k, (a, b) in enumerate(g.offsets()):
        yield k, xp[(slice(None), slice(None)) + g.tap(a, b)]


def _prepare(op, x, kernel_size, stride, padding, dilation):
    x = as_float(x, "x", op)
    check_ndim(x, 4, "x", op, "(N, C, H, W)")
    check_spatial(x, op)
    return x, geometry(op, x.shape, kernel_size, stride, padding, dilation, max_pad=True)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max pooling, as ``torch.nn.functional.max_pool2d``; padding is -inf.

    The naive loop reference is ``max_pool2d`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, C, H, W); N may be 0 (an empty output), C, H and W may not
    kernel_size, stride, padding, dilation : int or (int, int); stride defaults to kernel_size

    Returns
    -------
    out : ndarray (N, C, OH, OW), in batch-last memory (a view of a (C, OH, OW, N) buffer)
    cache : PoolCache, whose ``argmax`` is the cell each window's gradient goes to: the first
        max in row-major order, a NaN cell where the window holds NaN (the last one, as in
        torch), and the first real cell where every real cell is -inf (never the padding).
        See docs/ops.md; the plain loop is ``max_pool2d_argmax`` in tests/reference.py.
    """
    x, g = _prepare("max_pool2d", x, kernel_size, stride, padding, dilation)
    xp = pad(x, g, -np.inf)
    # One pass per kernel offset; a strict '>' keeps the first of tied maxima (row-major).
    # The index update is arithmetic: boolean-mask assignment is several times slower.
    n_off = g.kernel_size[0] * g.kernel_size[1]
    dt = np.uint8 if n_off <= 256 else np.int32
    out = argmax = None
    for k, tap in _taps(xp, g):
        if out is None:
            out = tap.copy(order="K")   # "K" keeps the batch-last memory order
            argmax = np.zeros_like(out, dtype=dt)
            continue
        better = tap > out
        np.maximum(out, tap, out=out)
        argmax += better * (dt(k) - argmax)
    # min() is NaN if any window holds NaN, and -inf if one holds nothing but -inf: both
    # rare, so one reduction (~2% of the pass) guards the fix-up below.
    if out.size:
        low = out.min()
        if np.isnan(low) or low == -np.inf:
            _route_like_torch(out, argmax, xp, g)
    return out, PoolCache("max_pool2d", x, xp, g, argmax, out)


def _route_like_torch(out, argmax, xp, g):
    """Give NaN windows and all -inf windows torch's argmax.

    torch's CPU kernel (aten/src/ATen/native/cpu/MaxPoolKernel.cpp) scans the window's real
    cells with ``val > max || isnan(val)`` from the first real cell: a NaN always takes over
    (so the last NaN wins), and when nothing beats -inf the first real cell keeps it. The
    strict '>' loop above already agrees everywhere else.
    """
    nan_windows = np.isnan(out)
    if nan_windows.any():
        for k, tap in _taps(xp, g):
            argmax[nan_windows & np.isnan(tap)] = k
    if any(g.padding):
        minus_inf = out == -np.inf
        if minus_inf.any():
            real = ~windows(pad_mask(g)[None, None], g)[0, 0]          # (OH, OW, kh, kw)
            first_real = real.reshape(g.out + (-1,)).argmax(axis=-1).astype(argmax.dtype)
            np.copyto(argmax, np.broadcast_to(first_real, argmax.shape), where=minus_inf)


def max_pool2d_backward(dout, cache):
    """Route each upstream gradient (N, C, OH, OW) to its window's argmax cell (see
    :func:`max_pool2d`); overlapping windows accumulate. Returns dx (N, C, H, W).

    The naive loop reference is ``max_pool2d_backward`` in tests/reference.py.
    """
    g, kw = cache.geom, cache.geom.kernel_size[1]
    dout = as_dout(dout, cache.x.shape[:2] + g.out, "max_pool2d", cache.x.dtype)
    dxp = np.zeros_like(cache.xp, dtype=cache.x.dtype)   # batch-last, like xp
    for a, b in g.offsets():
        rows, cols = g.tap(a, b)
        dxp[:, :, rows, cols] += dout * (cache.argmax == a * kw + b)
    return unpad(dxp, g)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling, as ``torch.nn.functional.avg_pool2d``; zero padding counts in the divisor.

    The naive loop reference is ``avg_pool2d`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, C, H, W); N may be 0 (an empty output), C, H and W may not
    kernel_size, stride, padding : int or (int, int); stride defaults to kernel_size

    Returns
    -------
    out : ndarray (N, C, OH, OW), in batch-last memory
    cache : PoolCache
    """
    x, g = _prepare("avg_pool2d", x, kernel_size, stride, padding, 1)
    xp = pad(x, g, 0.0)
    out = None
    for _, tap in _taps(xp, g):
        out = tap.copy(order="K") if out is None else np.add(out, tap, out=out)
    out /= g.kernel_size[0] * g.kernel_size[1]
    return out, PoolCache("avg_pool2d", x, xp, g, None, out)


def avg_pool2d_backward(dout, cache):
    """Spread each upstream gradient (N, C, OH, OW) evenly over its window; returns dx (N, C, H, W)."""
    g = cache.geom
    dout = as_dout(dout, cache.x.shape[:2] + g.out, "avg_pool2d", cache.x.dtype)
    share = dout / (g.kernel_size[0] * g.kernel_size[1])
    dxp = np.zeros_like(cache.xp, dtype=cache.x.dtype)
    for a, b in g.offsets():
        rows, cols = g.tap(a, b)
        dxp[:, :, rows, cols] += share
    return unpad(dxp, g)


def pool_trace(cache, sample=None):
    """WindowTrace of max_pool2d / avg_pool2d from its PoolCache; one step per (n, c, i, j)."""
    g = cache.geom
    idx, origin, is_pad = window_steps(g, cache.out.shape, sample)
    n, c, i, j = idx.T
    field = windows(cache.xp, g)[n, c, i, j][:, None]               # (S, 1, kh, kw)
    argmax = None
    if cache.argmax is not None:
        flat = cache.argmax[n, c, i, j].astype(np.intp)
        argmax = np.stack(np.divmod(flat, g.kernel_size[1]), axis=1)
    return WindowTrace(cache.op, g.kernel_size, g.stride, g.padding, g.dilation, cache.x, cache.xp,
                       cache.out.shape, idx, origin, field, is_pad, cache.out[n, c, i, j],
                       argmax=argmax)


def pool_backward_trace(cache, dout):
    """ScatterTrace of max_pool2d / avg_pool2d's backward."""
    g = cache.geom
    dout = as_dout(dout, cache.x.shape[:2] + g.out, cache.op, cache.x.dtype)
    idx, origin, is_pad = window_steps(g, dout.shape)
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


@dataclass
class ReluMaxPoolCache:
    """What relu_max_pool2d's backward needs: the pooled maxima before the ReLU and the
    (C, OH, kh, OW, kw, N) window view of ``x``; or, off the fast path, the two ops' caches."""
    windows: object = None
    peak: object = None
    relu_cache: object = None
    pool_cache: object = None


def relu_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """``max_pool2d(relu(x))`` in one op: the training path of a ReLU followed by max pooling.

    The output is max_pool2d's bit for bit, and :func:`relu_max_pool2d_backward` gives
    ``relu_backward(max_pool2d_backward(dout))`` (zeros may differ in sign). The layers
    (``nn.ReLU``, ``nn.MaxPool2d``) and their traces keep the two ops; ``nn.Sequential``
    runs this one in training.

    The naive loop reference is ``relu_max_pool2d`` in tests/reference.py.

    Why it is fast: ReLU is the identity above 0 and maps everything else to 0, so it
    commutes with the max exactly (no two positive values become equal) and runs on the
    pooled quarter; and disjoint windows of a batch-last input are four strided views, so
    the backward routes the gradient by comparing with the maximum instead of keeping an
    argmax. Other geometries, other layouts and NaN run the two ops.

    Returns
    -------
    out : ndarray (N, C, OH, OW), in batch-last memory
    cache : ReluMaxPoolCache
    """
    x, g = _prepare("max_pool2d", x, kernel_size, stride, padding, dilation)
    if not _fast_relu_pool(x, g):
        return _relu_then_pool(x, kernel_size, stride, padding, dilation)
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = g.kernel_size, g.out
    win = x.transpose(1, 2, 3, 0).reshape(c, oh, kh, ow, kw, n)
    peak = None
    for a, b in g.offsets():
        tap = win[:, :, a, :, b]
        peak = tap.copy() if peak is None else np.maximum(peak, tap, out=peak)
    if np.isnan(peak).any():    # torch routes NaN windows to their last NaN: the two ops do
        return _relu_then_pool(x, kernel_size, stride, padding, dilation)
    out = np.maximum(peak, 0)
    return out.transpose(3, 0, 1, 2), ReluMaxPoolCache(win, peak)


def _relu_then_pool(x, kernel_size, stride, padding, dilation):
    r, relu_cache = relu(x)
    out, pool_cache = max_pool2d(r, kernel_size, stride, padding, dilation)
    return out, ReluMaxPoolCache(relu_cache=relu_cache, pool_cache=pool_cache)


def _fast_relu_pool(x, g):
    """Disjoint windows tiling a batch-last input, no padding or dilation."""
    return (g.stride == g.kernel_size and g.padding == (0, 0) and g.dilation == (1, 1)
            and all(s == o * k for s, o, k in zip(g.in_size, g.out, g.kernel_size))
            and x.size > 0 and is_batch_last(x))


def relu_max_pool2d_backward(dout, cache):
    """dx (N, C, H, W) of :func:`relu_max_pool2d`: each upstream gradient goes to the first
    maximum of its window in row-major order (as max_pool2d's), where that maximum is > 0.

    The naive loop reference is ``relu_max_pool2d_backward`` in tests/reference.py.
    """
    if cache.pool_cache is not None:
        return relu_backward(max_pool2d_backward(dout, cache.pool_cache), cache.relu_cache)
    win, peak = cache.windows, cache.peak
    c, oh, kh, ow, kw, n = win.shape
    dout = as_dout(dout, (n, c, oh, ow), "max_pool2d", peak.dtype)
    grad = batch_last(dout) * (peak > 0)
    dx = np.empty(win.shape, dtype=peak.dtype)
    free = None                      # windows whose maximum no earlier offset has taken
    for a in range(kh):
        for b in range(kw):
            hit = win[:, :, a, :, b] == peak
            if free is None:
                free = ~hit
            else:
                hit &= free
                free ^= hit
            np.multiply(grad, hit, out=dx[:, :, a, :, b])
    return dx.reshape(c, oh * kh, ow * kw, n).transpose(3, 0, 1, 2)
