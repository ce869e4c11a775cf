"""LeCun's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (LeCun et al. 1998,
Appendix A): f(1) = 1 and f(-1) = -1, with the largest second derivative at a = ±1."""
from dataclasses import dataclass

import numpy as np

from . import trace as _trace
from ._check import as_dout, as_float

A = 1.7159
S = 2.0 / 3.0


@dataclass
class ScaledTanhCache:
    op: str
    x: np.ndarray
    out: np.ndarray

    def trace(self, sample=None):
        return _trace.elementwise_trace(self, sample)


def scaled_tanh(x):
    """``1.7159 * tanh(2x/3)``; any shape. Returns (out, cache)."""
    x = as_float(x, "x", "scaled_tanh")
    out = (A * np.tanh(S * x)).astype(x.dtype, copy=False)
    return out, ScaledTanhCache("scaled_tanh", x, out)


def scaled_tanh_backward(dout, cache):
    # f'(a) = A S (1 - tanh^2) = (S / A) (A^2 - f^2), from the output alone
    y = cache.out
    dout = as_dout(dout, y.shape, "scaled_tanh", y.dtype)
    return (dout * ((S / A) * (A * A - y * y))).astype(y.dtype, copy=False)
