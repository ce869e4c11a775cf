"""Elementwise activations: each forward beside its gradient."""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._check import as_dout, as_float
from .backtrace import ElementwiseBackwardTrace, check_args
from .trace import ElementwiseTrace, check_sample, grid


@dataclass
class ElementwiseCache:
    """The cache of every elementwise op (ops.scaled_tanh's too); ``backward`` is the op's
    own ``<op>_backward``, which the backward trace runs."""
    op: str
    x: np.ndarray
    out: np.ndarray
    backward: Callable = field(repr=False, compare=False)

    def trace(self, sample=None):
        return elementwise_trace(self, sample)

    def backward_trace(self, dout, wrt="x", view="scatter"):
        """The backward pass run instrumented: an ElementwiseBackwardTrace (see ops.backtrace)
        whose ``local`` is the backward applied to ones, ``value`` the backward's own dx."""
        check_args(self, wrt, view)
        value = self.backward(dout, self)
        local = self.backward(np.ones_like(self.out), self)
        return ElementwiseBackwardTrace(self.op, self.x, self.out,
                                        np.asarray(dout, dtype=self.out.dtype), local, value)


def relu(x):
    """max(x, 0); any shape. Returns (out, cache).

    The naive loop reference is ``relu`` in tests/reference.py.
    """
    x = as_float(x, "x", "relu")
    out = np.maximum(x, 0)
    return out, ElementwiseCache("relu", x, out, relu_backward)


def relu_backward(dout, cache):
    """dout where x is not <= 0, else 0. At NaN the gradient passes, as in torch's
    ``threshold_backward`` (``x <= 0 ? 0 : dout``). A product, not ``np.where``: on
    random signs that was measured 10x slower."""
    dout = as_dout(dout, cache.out.shape, "relu", cache.out.dtype)
    return dout * ~(cache.x <= 0)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed from exp(-|x|) so that no input overflows. Returns (out, cache).

    The naive loop reference is ``sigmoid`` in tests/reference.py.
    """
    x = as_float(x, "x", "sigmoid")
    with np.errstate(under="ignore"):  # exp(-1000) -> 0 is the right answer
        e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    return out, ElementwiseCache("sigmoid", x, out, sigmoid_backward)


def sigmoid_backward(dout, cache):
    y = cache.out
    dout = as_dout(dout, y.shape, "sigmoid", y.dtype)
    return (dout * y * (1 - y)).astype(y.dtype, copy=False)


def tanh(x):
    """Hyperbolic tangent; any shape. Returns (out, cache).

    The naive loop reference is ``tanh`` in tests/reference.py.
    """
    x = as_float(x, "x", "tanh")
    out = np.tanh(x)
    return out, ElementwiseCache("tanh", x, out, tanh_backward)


def tanh_backward(dout, cache):
    y = cache.out
    dout = as_dout(dout, y.shape, "tanh", y.dtype)
    return (dout * (1 - y * y)).astype(y.dtype, copy=False)


def elementwise_trace(cache, sample=None):
    """ElementwiseTrace from an ElementwiseCache; one step per element."""
    x = cache.x
    check_sample(sample, x.shape[0] if x.ndim else 1)
    idx = grid(x.shape, sample) if x.ndim else np.zeros((1, 0), dtype=int)
    return ElementwiseTrace(cache.op, x, cache.out, idx, cache.out[tuple(idx.T)])
