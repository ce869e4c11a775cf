"""Fully connected layer and flatten."""
import math
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, cast_common, check_ndim
from .backtrace import RowTrace, check_args
from .trace import FlattenTrace, LinearTrace, check_sample, grid


@dataclass
class LinearCache:
    x: np.ndarray        # (N, in)
    weight: np.ndarray   # (out, in)
    bias: object         # (out,) or None
    out: np.ndarray      # (N, out): the returned output itself (no copy), read by trace()

    def trace(self, sample=None):
        return linear_trace(self, sample)

    def backward_trace(self, dout, wrt="x", view="scatter"):
        """The backward pass run instrumented, one neuron (n, o) at a time: a RowTrace
        (see ops.backtrace) of dx (``wrt="x"``) or dweight (``wrt="weight"``)."""
        check_args(self, wrt, view, ("x", "weight"))
        x, w = self.x, self.weight
        dout = as_dout(dout, (x.shape[0], w.shape[0]), "linear", w.dtype)
        idx = grid(dout.shape)
        n, o = idx.T
        if wrt == "x":
            return RowTrace("x", x.shape, idx, n, dout[n, o], w, o)
        return RowTrace("weight", w.shape, idx, o, dout[n, o], x, n)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``, as ``torch.nn.functional.linear``.

    The naive loop reference is ``linear`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, in)
    weight : ndarray (out, in)
    bias : ndarray (out,) or None

    Returns
    -------
    out : ndarray (N, out)
    cache : LinearCache
    """
    x = as_float(x, "x", "linear")
    weight = as_float(weight, "weight", "linear")
    check_ndim(x, 2, "x", "linear", "(N, in_features)")
    check_ndim(weight, 2, "weight", "linear", "(out_features, in_features)")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"linear: weight has shape {weight.shape} but x has {x.shape[1]} features "
                         f"(shape {x.shape}), expected weight.shape[1] == x.shape[1]")
    x, weight, bias = cast_common("linear", x, weight, bias, weight.shape[0])
    out = x @ weight.T
    if bias is not None:
        out += bias
    return out, LinearCache(x, weight, bias, out)


def linear_backward(dout, cache):
    """Gradients of linear: dout (N, out) -> dx (N, in), dweight (out, in), dbias (out,) or None."""
    dout = as_dout(dout, (cache.x.shape[0], cache.weight.shape[0]), "linear", cache.weight.dtype)
    dbias = dout.sum(axis=0) if cache.bias is not None else None
    return dout @ cache.weight, dout.T @ cache.x, dbias


def linear_gauss_newton(d2out, cache):
    """Diagonal Gauss-Newton backward of linear: d2E/d(out)^2 (N, out) -> the same for x,
    weight and bias, through squared slopes (``weight**2`` for x, ``x**2`` for the weight):
    :func:`linear_backward` on a cache of squares, with no forward product (its output is
    never read)."""
    sq = LinearCache(cache.x ** 2, cache.weight ** 2, cache.bias, None)
    return linear_backward(d2out, sq)


def linear_trace(cache, sample=None):
    """LinearTrace of linear from its LinearCache; one step per neuron (n, o)."""
    check_sample(sample, cache.x.shape[0])
    idx = grid((cache.x.shape[0], cache.weight.shape[0]), sample)
    return LinearTrace(cache.x, cache.weight, cache.bias, idx, cache.out[tuple(idx.T)])


@dataclass
class FlattenCache:
    x: np.ndarray
    out: np.ndarray

    def trace(self, sample=None):
        return flatten_trace(self, sample)


def flatten(x):
    """Flatten every axis but the first: (N, ...) -> (N, prod(...)), like ``torch.nn.Flatten()``.

    The naive loop reference is ``flatten`` in tests/reference.py.
    """
    x = as_float(x, "x", "flatten")
    if x.ndim < 1:
        raise ValueError(f"flatten: x has shape {x.shape}, expected at least 1 axis (N, ...)")
    out = x.reshape(x.shape[0], math.prod(x.shape[1:]))   # not -1: N may be 0
    return out, FlattenCache(x, out)


def flatten_backward(dout, cache):
    """dout (N, prod) -> dx with the input's shape and memory order (e.g. batch-last)."""
    dout = as_dout(dout, cache.out.shape, "flatten", cache.x.dtype)
    dx = np.empty_like(cache.x)
    dx[...] = dout.reshape(cache.x.shape)
    return dx


def flatten_trace(cache, sample=None):
    """FlattenTrace of flatten from its FlattenCache; one step per element."""
    x = cache.x
    check_sample(sample, x.shape[0])
    src = grid(x.shape, sample)
    dst = np.stack([src[:, 0], np.ravel_multi_index(tuple(src[:, 1:].T), x.shape[1:])], axis=1) \
        if x.ndim > 1 else np.stack([src[:, 0], np.zeros(len(src), dtype=int)], axis=1)
    return FlattenTrace(x.shape, src, dst, cache.out[tuple(dst.T)])
