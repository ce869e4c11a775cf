"""Trainable subsampling (the S2 and S4 layers of LeCun et al. 1998), NCHW.

Each map's k x k blocks are summed, multiplied by one trainable coefficient per map and
shifted by one trainable bias per map; the squashing that follows is a separate op.
The naive loop reference is ``tests/reference.py: subsample2d``.
"""
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, check_ndim
from ._window import Geometry, geometry, pad, unpad, windows
from .trace import WindowTrace, window_steps

OP = "subsample2d"


@dataclass
class SubsampleCache:
    """What subsample2d's backward needs; ``trace()`` turns it into a WindowTrace."""
    x: np.ndarray        # (N, C, H, W)
    xp: np.ndarray       # x in batch-last memory (no padding)
    weight: np.ndarray   # (C,) coefficient per map
    bias: np.ndarray     # (C,)
    geom: Geometry
    block: np.ndarray    # (N, C, OH, OW): the block sums

    def trace(self, sample=None):
        return subsample_trace(self, sample)


def _check(x, weight, bias):
    x = as_float(x, "x", OP)
    check_ndim(x, 4, "x", OP, "(N, C, H, W)")
    c = x.shape[1]
    out = []
    for name, a in (("weight", weight), ("bias", bias)):
        a = as_float(a, name, OP)
        if a.shape != (c,):
            raise ValueError(f"{OP}: {name} has shape {a.shape}, expected ({c},): one value per "
                             f"map of x (shape {x.shape})")
        out.append(a)
    dtype = np.result_type(x, *out)
    return (x.astype(dtype, copy=False),) + tuple(a.astype(dtype, copy=False) for a in out)


def subsample2d(x, weight, bias, kernel_size=2, stride=None):
    """``weight[c] * (sum of each k x k block of map c) + bias[c]``.

    The naive loop reference is ``subsample2d`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, C, H, W)
    weight, bias : ndarray (C,), one trainable coefficient and one bias per map
    kernel_size, stride : int or (int, int); stride defaults to kernel_size

    Returns
    -------
    out : ndarray (N, C, OH, OW)
    cache : SubsampleCache
    """
    x, weight, bias = _check(x, weight, bias)
    g = geometry(OP, x.shape, kernel_size, stride, 0, 1)
    xp = pad(x, g)
    block = None
    for a, b in g.offsets():       # one strided read per cell of the block, as avg_pool2d
        tap = xp[(slice(None), slice(None)) + g.tap(a, b)]
        block = tap.copy(order="K") if block is None else np.add(block, tap, out=block)
    out = block * weight[:, None, None] + bias[:, None, None]
    return out, SubsampleCache(x, xp, weight, bias, g, block)


def _spread(d, cache):
    """Scatter a per-block value (N, C, OH, OW) onto every cell of its block: (N, C, H, W)."""
    g = cache.geom
    dxp = np.zeros_like(cache.xp)
    for a, b in g.offsets():
        rows, cols = g.tap(a, b)
        dxp[:, :, rows, cols] += d
    return unpad(dxp, g)


def subsample2d_backward(dout, cache):
    """dout (N, C, OH, OW) -> dx (N, C, H, W), dweight (C,), dbias (C,)."""
    dout = as_dout(dout, cache.block.shape, OP, cache.x.dtype)
    dx = _spread(dout * cache.weight[:, None, None], cache)
    return dx, np.einsum("nchw,nchw->c", dout, cache.block), dout.sum(axis=(0, 2, 3))


def subsample2d_gauss_newton(d2out, cache):
    """Diagonal Gauss-Newton backward: d2E/da2 (N, C, OH, OW) -> the same for x, weight, bias.

    Each input cell enters one block with slope ``weight[c]`` and the coefficient sees the
    block sum, so the squared slopes are ``weight**2`` and ``block**2`` (LeCun et al. 1998,
    Appendix C: second derivatives backpropagate through squared weights).
    """
    d2out = as_dout(d2out, cache.block.shape, OP, cache.x.dtype)
    d2x = _spread(d2out * (cache.weight ** 2)[:, None, None], cache)
    return (d2x, np.einsum("nchw,nchw->c", d2out, cache.block ** 2),
            d2out.sum(axis=(0, 2, 3)))


def subsample_trace(cache, sample=None):
    """WindowTrace of subsample2d: one step per (n, c, i, j); ``weight[c]`` is shown as a
    (1, kh, kw) kernel of equal coefficients, ``contrib`` is ``weight[c] * block sum``."""
    g = cache.geom
    c_all = cache.x.shape[1]
    idx, origin, is_pad = window_steps(g, cache.block.shape, sample)   # no padding
    n, c, i, j = idx.T
    field = windows(cache.xp, g)[n, c, i, j][:, None]                 # (S, 1, kh, kw)
    kernel = np.broadcast_to(cache.weight[:, None, None, None],
                             (c_all, 1) + g.kernel_size).copy()
    contrib = (cache.weight[c] * cache.block[n, c, i, j])[:, None]
    value = contrib[:, 0] + cache.bias[c]
    return WindowTrace(OP, g.kernel_size, g.stride, g.padding, g.dilation, cache.x, cache.xp,
                       cache.block.shape, idx, origin, field, is_pad,
                       value.astype(cache.x.dtype, copy=False), weight=kernel, bias=cache.bias,
                       contrib=contrib)
