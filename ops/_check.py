"""Argument validation shared by the ops: every message names the op, the argument,
its value and what was expected."""
import numbers

import numpy as np


def as_float(x, name, op):
    """Return ``x`` as a float array: floats keep their dtype, ints and bools become float32."""
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "iub":
        return a.astype(np.float32)
    raise TypeError(f"{op}: {name} has dtype {a.dtype}, expected a real numeric array "
                    "(float, int or bool)")


def check_ndim(a, ndim, name, op, layout):
    if a.ndim != ndim:
        raise ValueError(f"{op}: {name} has shape {a.shape} ({a.ndim}-D), expected a "
                         f"{ndim}-D array {layout}")


def pair(v, name, op, minimum):
    """Turn an int or a pair of ints into a pair; each must be >= minimum."""
    # Fast path for plain ints (not bool, whose type is bool): the general checks below
    # go through numbers.Integral's ABC machinery, ~40% of a batch-1 step's Python time
    # in geometry checks (cProfile, lenet5-1998).
    if type(v) is int and v >= minimum:
        return (v, v)
    if type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int \
            and v[0] >= minimum and v[1] >= minimum:
        return v
    vals = (v, v) if isinstance(v, numbers.Integral) else v
    try:
        ok = len(vals) == 2 and all(isinstance(e, numbers.Integral) and not isinstance(e, bool)
                                    for e in vals)
    except TypeError:
        ok = False
    if not ok or isinstance(v, bool):
        raise TypeError(f"{op}: {name}={v!r} is invalid, expected an int or a pair of ints")
    vals = (int(vals[0]), int(vals[1]))
    if min(vals) < minimum:
        what = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{op}: {name}={v!r} is invalid, expected {what} values")
    return vals


def as_dout(dout, shape, op, dtype):
    """The upstream gradient as an array of the op's output shape and dtype."""
    d = np.asarray(dout)
    if d.shape != tuple(shape):
        raise ValueError(f"{op}_backward: dout has shape {d.shape}, expected the output's shape "
                         f"{tuple(shape)}")
    return as_float(d, "dout", f"{op}_backward").astype(dtype, copy=False)


def check_spatial(x, op):
    """Only the batch of an (N, C, H, W) input may be empty, as in torch."""
    for axis, n in zip("CHW", x.shape[1:]):
        if n == 0:
            raise ValueError(f"{op}: x has shape {x.shape} with {axis}=0, expected C, H and W "
                             ">= 1 (only the batch N may be 0)")


def cast_common(op, x, weight, bias, n_out, hint=""):
    """``x``, ``weight`` and ``bias`` ((n_out,) or None) cast to their common float dtype.

    ``hint`` ends the bias-shape message, e.g. "to match weight's 6 filters".
    """
    dtype = np.result_type(x, weight)
    if bias is not None:
        bias = as_float(bias, "bias", op)
        if bias.shape != (n_out,):
            raise ValueError(f"{op}: bias has shape {bias.shape}, expected ({n_out},)"
                             + (f" {hint}" if hint else ""))
        dtype = np.result_type(dtype, bias)
        bias = bias.astype(dtype, copy=False)
    return x.astype(dtype, copy=False), weight.astype(dtype, copy=False), bias
