"""Rescale-and-pad: how LeNet-5 (1998) turns a 28x28 MNIST digit into its 32x32 input."""
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, check_ndim, pair

OP = "affine_pad2d"


@dataclass
class AffinePadCache:
    x_shape: tuple
    scale: float
    padding: tuple
    dtype: np.dtype


def affine_pad2d(x, scale, shift, padding, value=0.0):
    """``pad(scale * x + shift)`` on H and W with the constant ``value``.

    The naive loop reference is ``affine_pad2d`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, C, H, W)
    scale, shift, value : float
    padding : int or (int, int), rows and columns added on each side

    Returns
    -------
    out : ndarray (N, C, H + 2 ph, W + 2 pw)
    cache : AffinePadCache
    """
    x = as_float(x, "x", OP)
    check_ndim(x, 4, "x", OP, "(N, C, H, W)")
    ph, pw = pair(padding, "padding", OP, 0)
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x * x.dtype.type(scale) + x.dtype.type(shift)
    return out, AffinePadCache(x.shape, float(scale), (ph, pw), x.dtype)


def affine_pad2d_backward(dout, cache):
    """dout (N, C, H + 2 ph, W + 2 pw) -> dx (N, C, H, W) = scale * the unpadded part."""
    n, c, h, w = cache.x_shape
    ph, pw = cache.padding
    dout = as_dout(dout, (n, c, h + 2 * ph, w + 2 * pw), OP, cache.dtype)
    return dout[:, :, ph:ph + h, pw:pw + w] * cache.dtype.type(cache.scale)
