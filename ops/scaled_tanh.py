"""LeCun's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (LeCun et al. 1998,
Appendix A): f(1) = 1 and f(-1) = -1, with the largest second derivative at a = ±1."""
import numpy as np

from ._check import as_dout, as_float
from .activations import ElementwiseCache

A = 1.7159
S = 2.0 / 3.0


def scaled_tanh(x):
    """``1.7159 * tanh(2x/3)``; any shape. Returns (out, cache).

    The naive loop reference is ``scaled_tanh`` in tests/reference.py.
    """
    x = as_float(x, "x", "scaled_tanh")
    out = (A * np.tanh(S * x)).astype(x.dtype, copy=False)
    return out, ElementwiseCache("scaled_tanh", x, out, scaled_tanh_backward)


def scaled_tanh_backward(dout, cache):
    # f'(a) = A S (1 - tanh^2) = (S / A) (A^2 - f^2), from the output alone
    y = cache.out
    dout = as_dout(dout, y.shape, "scaled_tanh", y.dtype)
    return (dout * ((S / A) * (A * A - y * y))).astype(y.dtype, copy=False)
