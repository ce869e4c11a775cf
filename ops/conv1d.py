"""1-D convolution and pooling on (N, C, L), as torch's conv1d / max_pool1d / avg_pool1d.

Thin wrappers: a signal is an image one row high, so each op runs its 2-D fast path on
(N, C, 1, L) with a 1 × k window. Their traces are 1-D (:class:`WindowTrace1d`): the 2-D
trace with the height axis dropped. The naive loop references are ``conv1d`` and ``pool1d``
in tests/reference.py.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._check import as_float, check_ndim, pair
from .conv import conv2d, conv2d_backward
from .pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward


def _single(v, name, op, minimum):
    """An int or a 1-tuple, as torch's ``_single``; returns the int."""
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(vals) != 1:
        raise TypeError(f"{op}: {name}={v!r} is invalid, expected an int or a 1-tuple")
    return pair(vals[0], name, op, minimum)[0]


def _signal(x, name, op, layout="(N, C, L)"):
    x = as_float(x, name, op)
    check_ndim(x, 3, name, op, layout)
    return x


@dataclass
class Cache1d:
    """The 2-D op's cache behind a 1-D op."""
    op: str
    inner: object

    def trace(self, sample=None):
        return WindowTrace1d.from_2d(self.op, self.inner.trace(sample))


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution, as ``torch.nn.functional.conv1d``.

    The naive loop reference is ``conv1d`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, C, L)
    weight : ndarray (F, C/groups, k)
    bias : ndarray (F,) or None
    stride, dilation : int or 1-tuple
    padding : int, 1-tuple, "valid" or "same" (stride 1 only; the odd cell goes right)
    groups : int, as conv2d's

    Returns
    -------
    out : ndarray (N, F, OL), OL = floor((L + 2·padding − dilation·(k − 1) − 1)/stride) + 1
    cache : Cache1d
    """
    op = "conv1d"
    x = _signal(x, "x", op)
    weight = _signal(weight, "weight", op, "(F, C, k)")
    s, d = _single(stride, "stride", op, 1), _single(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: padding={padding!r} is invalid, expected an int, 'valid' or "
                             "'same'")
        if padding == "same" and s != 1:
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride!r}), as in torch")
        p, p2 = 0, padding                   # conv2d pads 'same' (the 1-row axis needs none)
    else:
        p = _single(padding, "padding", op, 0)
        p2 = (0, p)
    if weight.shape[1] * groups != x.shape[1]:
        raise ValueError(f"{op}: weight has {weight.shape[1]} input channels (shape {weight.shape}) "
                         f"but x has {x.shape[1]} (shape {x.shape}), expected weight.shape[1] == "
                         f"x.shape[1]" + (f" / groups ({groups})" if groups != 1 else ""))
    span = d * (weight.shape[2] - 1) + 1
    if weight.shape[2] < 1 or (padding != "same" and span > x.shape[2] + 2 * p):
        raise ValueError(f"{op}: kernel size {weight.shape[2]} (dilated extent {span}) does not fit "
                         f"the padded signal of length {x.shape[2] + 2 * p}")
    out, inner = conv2d(x[:, :, None, :], weight[:, :, None, :], bias, stride=(1, s),
                        padding=p2, dilation=(1, d), groups=groups)
    return out[:, :, 0, :], Cache1d(op, inner)


def conv1d_backward(dout, cache):
    """Gradients of conv1d: dout (N, F, OL) -> dx (N, C, L), dweight (F, C, k), dbias (F,) or None."""
    dx, dw, db = conv2d_backward(np.asarray(dout)[:, :, None, :], cache.inner)
    return dx[:, :, 0, :], dw[:, :, 0, :], db


def _pool1d(op, pool2d, x, kernel_size, stride, padding, dilation=None):
    x = _signal(x, "x", op)
    k = _single(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else _single(stride, "stride", op, 1)
    p = _single(padding, "padding", op, 0)
    kw = {} if dilation is None else {"dilation": (1, _single(dilation, "dilation", op, 1))}
    span = (kw["dilation"][1] if kw else 1) * (k - 1) + 1
    if p > span // 2:
        raise ValueError(f"{op}: padding={padding!r} is invalid, expected at most half the "
                         f"kernel size (<= {span // 2}) for kernel_size={kernel_size!r}")
    if span > x.shape[2] + 2 * p:
        raise ValueError(f"{op}: kernel_size={kernel_size!r} (dilated extent {span}) is larger "
                         f"than the padded signal of length {x.shape[2] + 2 * p}")
    out, inner = pool2d(x[:, :, None, :], (1, k), (1, s), (0, p), **kw)
    return out[:, :, 0, :], Cache1d(op, inner)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max pooling over (N, C, L), as ``torch.nn.functional.max_pool1d``; stride defaults to
    kernel_size, padding is −inf. Returns (out (N, C, OL), cache).

    The naive loop reference is ``pool1d`` in tests/reference.py.
    """
    return _pool1d("max_pool1d", max_pool2d, x, kernel_size, stride, padding, dilation)


def avg_pool1d(x, kernel_size, stride=None, padding=0):
    """Average pooling over (N, C, L), as ``torch.nn.functional.avg_pool1d``; zero padding counts
    in the divisor. Returns (out (N, C, OL), cache).

    The naive loop reference is ``pool1d`` in tests/reference.py.
    """
    return _pool1d("avg_pool1d", avg_pool2d, x, kernel_size, stride, padding)


def max_pool1d_backward(dout, cache):
    return max_pool2d_backward(np.asarray(dout)[:, :, None, :], cache.inner)[:, :, 0, :]


def avg_pool1d_backward(dout, cache):
    return avg_pool2d_backward(np.asarray(dout)[:, :, None, :], cache.inner)[:, :, 0, :]


@dataclass(frozen=True)
class WindowTrace1d:
    """Steps of conv1d / max_pool1d / avg_pool1d: the 2-D WindowTrace without its height axis.

    ``input`` (N, C, L), ``padded`` (N, C, L + 2p), ``out_index`` (S, 3) n, c, i,
    ``origin`` (S,) window start in padded coordinates, ``field`` (S, Cf, k),
    ``is_pad`` (S, k), ``value`` (S,), ``argmax`` (S,) offset of the max or None,
    ``weight`` (F, C, k) or None, ``bias``, ``contrib`` (S, C) or None.
    """
    op: str
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    input: np.ndarray
    padded: np.ndarray
    out_shape: tuple
    out_index: np.ndarray
    origin: np.ndarray
    field: np.ndarray
    is_pad: np.ndarray
    value: np.ndarray
    argmax: Optional[np.ndarray] = None
    weight: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None
    contrib: Optional[np.ndarray] = None

    @classmethod
    def from_2d(cls, op, t):
        return cls(op, t.kernel_size[1], t.stride[1], t.padding[1], t.dilation[1],
                   t.input[:, :, 0], t.padded[:, :, 0], t.out_shape[:2] + t.out_shape[3:],
                   t.out_index[:, [0, 1, 3]], t.origin[:, 1], t.field[:, :, 0], t.is_pad[:, 0],
                   t.value, None if t.argmax is None else t.argmax[:, 1],
                   None if t.weight is None else t.weight[:, :, 0], t.bias, t.contrib)

    def __len__(self):
        return len(self.value)

    def cells(self, k):
        """(k,) padded coordinates of step k's window cells."""
        return self.origin[k] + self.dilation * np.arange(self.kernel_size)

    def output(self):
        out = np.full(self.out_shape, np.nan, dtype=self.value.dtype)
        out[tuple(self.out_index.T)] = self.value
        return out
