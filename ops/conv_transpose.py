"""2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``, NCHW.

conv_transpose2d is the adjoint of conv2d: each input cell stamps ``x × w`` into the
output, and the stamps add up. So its forward is conv2d's input-gradient product and its
input gradient is a conv2d forward product, both over the same :class:`Geometry`
(the one of a conv2d that maps the transposed output back onto the input).
The naive loop reference is ``conv_transpose2d`` in tests/reference.py.
"""
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, cast_common, check_ndim, pair
from ._window import Geometry, batch_last, pad, unpad, windows
from .conv import conv_dx_gather_trace, conv_dx_scatter_trace

OP = "conv_transpose2d"


@dataclass
class ConvTransposeCache:
    """What conv_transpose2d's backward needs."""
    x: np.ndarray        # (N, C_in, H, W)
    weight: np.ndarray   # (C_in, C_out/groups, kh, kw)
    bias: object         # (C_out,) or None
    groups: int
    geom: Geometry       # the conv2d that maps the output (in_size) back onto x (out)
    out: np.ndarray      # the op's own output

    def trace(self, view="scatter"):
        """The op's steps in one of two views of the same numbers.

        ``"scatter"``: each input cell (n, c, i, j) stamps ``x × w[c]`` into the output window
        it maps to (a :class:`~ops.backtrace.ScatterTrace`; stamps on the cropped padding
        are lost). ``"direct"``: each output cell is a convolution of the zero-inserted,
        padded input with the 180°-rotated kernel (a :class:`~ops.backtrace.GatherTrace`).
        Both leave out the bias; :class:`ConvTransposeTrace` adds it and keeps the op's
        own output as ``value``.
        """
        if view not in ("scatter", "direct"):
            raise ValueError(f"{OP}: view={view!r} is invalid, expected 'scatter' or 'direct'")
        # conv_transpose2d(x, w) is the input gradient of the conv2d (weight w, this
        # geometry) whose output has x's shape: the same traces, with x as the upstream.
        shape = (self.x.shape[0], self.out.shape[1]) + self.geom.in_size
        adjoint = _AdjointConv(np.broadcast_to(np.zeros((), self.out.dtype), shape),
                               self.weight, self.geom, self.groups)
        build = conv_dx_scatter_trace if view == "scatter" else conv_dx_gather_trace
        return ConvTransposeTrace(view, build(adjoint, self.x), self.bias, self.out)


@dataclass
class _AdjointConv:
    x: np.ndarray        # only its shape is read: (N, C_out, OH, OW)
    weight: np.ndarray
    geom: Geometry
    groups: int


@dataclass(frozen=True)
class ConvTransposeTrace:
    """``steps`` is the scatter or direct view (ops.backtrace); ``value`` the op's output."""
    view: str
    steps: object
    bias: object
    value: np.ndarray

    def output(self):
        """The view's sum plus the bias: equals ``value`` to rounding."""
        out = self.steps.output()
        return out if self.bias is None else out + self.bias[None, :, None, None]


def output_size(size, kernel, stride, padding, output_padding, dilation):
    """``(in − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1``, one axis."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _geometry(x_shape, w_shape, stride, padding, output_padding, groups, dilation):
    k = tuple(w_shape[2:])
    s = pair(stride, "stride", OP, 1)
    p = pair(padding, "padding", OP, 0)
    op = pair(output_padding, "output_padding", OP, 0)
    d = pair(dilation, "dilation", OP, 1)
    for ax in range(2):
        if op[ax] >= max(s[ax], d[ax]):
            raise ValueError(f"{OP}: output_padding={output_padding!r} is invalid, expected "
                             f"smaller than stride or dilation per axis (stride={s}, dilation={d})")
    hw = tuple(x_shape[2:])
    size = tuple(output_size(hw[a], k[a], s[a], p[a], op[a], d[a]) for a in range(2))
    if min(size) < 1:
        raise ValueError(f"{OP}: the output would be {size[0]}×{size[1]} for input {hw}, "
                         f"kernel {k}, stride {s}, padding {p}, dilation {d}; expected at least 1×1 "
                         "(use less padding)")
    return Geometry(k, s, p, d, size, hw)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution of ``x`` with ``weight``, as ``torch.nn.functional.conv_transpose2d``.

    The naive loop reference is ``conv_transpose2d`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, C_in, H, W)
    weight : ndarray (C_in, C_out/groups, kh, kw)
    bias : ndarray (C_out,) or None
    stride, padding, output_padding, dilation : int or (int, int)
        ``output_padding`` adds cells on the bottom/right of the output; it must be smaller
        than stride or dilation.
    groups : int
        C_in and C_out are split into ``groups`` independent groups.

    Returns
    -------
    out : ndarray (N, C_out, OH, OW) with
        OH = (H − 1)·sh − 2·ph + dh·(kh − 1) + output_padding_h + 1
    cache : ConvTransposeCache
    """
    x = as_float(x, "x", OP)
    weight = as_float(weight, "weight", OP)
    check_ndim(x, 4, "x", OP, "(N, C_in, H, W)")
    check_ndim(weight, 4, "weight", OP, "(C_in, C_out/groups, kh, kw)")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{OP}: groups={groups!r} is invalid, expected a positive int")
    c_in = x.shape[1]
    if weight.shape[0] != c_in:
        raise ValueError(f"{OP}: weight has {weight.shape[0]} input channels (shape {weight.shape}) "
                         f"but x has {c_in} (shape {x.shape}), expected weight.shape[0] == x.shape[1]")
    if c_in % groups:
        raise ValueError(f"{OP}: groups={groups} does not divide x's {c_in} channels")
    if min(weight.shape[2:]) < 1:
        raise ValueError(f"{OP}: weight has shape {weight.shape}, expected a kernel of at least 1×1")
    c_out = weight.shape[1] * groups
    x, weight, bias = cast_common(OP, x, weight, bias, c_out,
                                  "(C_out = weight.shape[1] × groups)")
    g = _geometry(x.shape, weight.shape, stride, padding, output_padding, groups, dilation)
    n = x.shape[0]
    xl = batch_last(x).reshape(c_in, -1)                       # (C_in, H*W*N)
    outp = np.zeros((c_out,) + g.padded_size() + (n,), dtype=x.dtype)
    for gi, (ci, co) in enumerate(_group_slices(c_in, c_out, groups)):
        w2 = weight[ci].reshape(ci.stop - ci.start, -1)        # (C_in/g, C_out/g*kh*kw)
        # Every input cell's stamp x·w, one column per input cell: (C_out/g, kh, kw, H, W, N).
        stamps = (w2.T @ xl[ci]).reshape((co.stop - co.start,) + g.kernel_size + g.out + (n,))
        for a, b in g.offsets():                                # the stamps add up
            rows, cols = g.tap(a, b)
            outp[co, rows, cols, :] += stamps[:, a, b]
    out = unpad(outp.transpose(3, 0, 1, 2), g)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out, ConvTransposeCache(x, weight, bias, groups, g, out)


def conv_transpose2d_backward(dout, cache):
    """Gradients of conv_transpose2d.

    Returns
    -------
    dx : ndarray (N, C_in, H, W)
    dweight : ndarray (C_in, C_out/groups, kh, kw)
    dbias : ndarray (C_out,) or None
    """
    c = cache
    w, g, x = c.weight, c.geom, c.x
    n, c_in = x.shape[:2]
    c_out = w.shape[1] * c.groups
    dout = as_dout(dout, (n, c_out) + g.in_size, OP, w.dtype)
    # The stamps' gradient is dout read through every window of the padded output: the
    # same windows a conv2d over the output would read, (C_out, kh, kw, H, W, N).
    dcols = windows(pad(dout, g), g).transpose(1, 4, 5, 2, 3, 0)
    xl = batch_last(x).reshape(c_in, -1)
    dx = np.empty((c_in, g.out[0] * g.out[1] * n), dtype=w.dtype)
    dweight = np.empty_like(w)
    for ci, co in _group_slices(c_in, c_out, c.groups):
        d2 = dcols[co].reshape(-1, dx.shape[1])                # (C_out/g*kh*kw, H*W*N)
        w2 = w[ci].reshape(ci.stop - ci.start, -1)
        dx[ci] = w2 @ d2
        dweight[ci] = (xl[ci] @ d2.T).reshape(dweight[ci].shape)
    dx = dx.reshape((c_in,) + g.out + (n,)).transpose(3, 0, 1, 2)
    dbias = dout.sum(axis=(0, 2, 3)) if c.bias is not None else None
    return dx, dweight, dbias


def _group_slices(c_in, c_out, groups):
    """(input channels, output channels) of each group."""
    a, b = c_in // groups, c_out // groups
    return [(slice(i * a, (i + 1) * a), slice(i * b, (i + 1) * b)) for i in range(groups)]
