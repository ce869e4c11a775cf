"""2-D convolution (cross-correlation, as in PyTorch), NCHW."""
from dataclasses import dataclass

import numpy as np

from . import trace as _trace
from ._check import as_dout, as_float, check_ndim, check_spatial
from ._window import Geometry, batch_last, geometry, pad, unpad, windows

OP = "conv2d"


@dataclass
class ConvCache:
    """What conv2d's backward needs; ``trace()`` turns it into a WindowTrace."""
    x: np.ndarray        # (N, C, H, W)
    xp: np.ndarray       # (N, C, H+2ph, W+2pw), batch-last memory (see _window.pad)
    weight: np.ndarray   # (F, C, kh, kw)
    bias: object         # (F,) or None
    geom: Geometry
    cols: np.ndarray     # (C*kh*kw, OH*OW*N): the windows, one column per output cell
    out: np.ndarray      # (N, F, OH, OW): the returned output itself (no copy), read by trace()

    def trace(self, sample=None):
        return _trace.conv_trace(self, sample)

    def backward_trace(self, dout, wrt="x", view="scatter"):
        """The backward pass run instrumented (ops.backtrace)."""
        from .backtrace import backward_trace
        return backward_trace(self, dout, wrt, view)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Convolve ``x`` with ``weight``, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : ndarray (N, C, H, W); N may be 0 (an empty output), C, H and W may not
    weight : ndarray (F, C, kh, kw), F >= 1
    bias : ndarray (F,) or None
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    out : ndarray (N, F, OH, OW), with OH = floor((H + 2*ph - dh*(kh-1) - 1)/sh) + 1,
        in batch-last memory: a view of a C-contiguous (F, OH, OW, N) buffer
    cache : ConvCache
    """
    x = as_float(x, "x", OP)
    weight = as_float(weight, "weight", OP)
    check_ndim(x, 4, "x", OP, "(N, C, H, W)")
    check_ndim(weight, 4, "weight", OP, "(F, C, kh, kw)")
    check_spatial(x, OP)
    if weight.shape[0] == 0:
        raise ValueError(f"{OP}: weight has shape {weight.shape} with 0 filters, expected at "
                         "least 1 (as torch)")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"{OP}: weight has {weight.shape[1]} input channels (shape {weight.shape}) "
                         f"but x has {x.shape[1]} (shape {x.shape}), expected weight.shape[1] == x.shape[1]")
    dtype = np.result_type(x, weight)
    nf = weight.shape[0]
    if bias is not None:
        bias = as_float(bias, "bias", OP)
        if bias.shape != (nf,):
            raise ValueError(f"{OP}: bias has shape {bias.shape}, expected ({nf},) to match weight's "
                             f"{nf} filters")
        dtype = np.result_type(dtype, bias)
        bias = bias.astype(dtype, copy=False)
    x, weight = x.astype(dtype, copy=False), weight.astype(dtype, copy=False)
    g = geometry(OP, x.shape, weight.shape[2:], stride, padding, dilation,
                 kernel_name="weight kernel (kh, kw)")
    xp = pad(x, g)
    n, positions = x.shape[0], g.out[0] * g.out[1]
    # Batch-last columns (C*kh*kw, OH*OW*N): the copy moves runs of OW*N contiguous values,
    # and W @ cols is already the (F, OH, OW, N) output. (Sizes are spelled out, not -1,
    # so that an empty batch reshapes too.)
    cols = windows(xp, g).transpose(1, 4, 5, 2, 3, 0).reshape(weight[0].size, positions * n)
    out = _apply_weight(weight.reshape(nf, -1), cols, positions, n)
    if bias is not None:
        out += bias[:, None]
    out = out.reshape((nf,) + g.out + (n,)).transpose(3, 0, 1, 2)
    return out, ConvCache(x, xp, weight, bias, g, cols, out)


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d.

    Parameters
    ----------
    dout : ndarray (N, F, OH, OW)
    cache : ConvCache
    need_dx : bool
        False skips the input gradient (a network's first layer needs none).

    Returns
    -------
    dx : ndarray (N, C, H, W), or None when ``need_dx`` is False
    dweight : ndarray (F, C, kh, kw)
    dbias : ndarray (F,) or None
    """
    c = cache
    w, g = c.weight, c.geom
    nf = w.shape[0]
    n, ch = c.x.shape[:2]
    dout = as_dout(dout, (n, nf) + g.out, OP, w.dtype)
    positions = g.out[0] * g.out[1]
    dlast = batch_last(dout).reshape(nf, positions * n)   # free for a batch-last dout
    dweight = _weight_grad(c.cols, dlast, positions, n).reshape(w.shape)
    dbias = dlast.sum(axis=1) if c.bias is not None else None
    if not need_dx:
        return None, dweight, dbias
    dcols = (w.reshape(nf, -1).T @ dlast).reshape(ch, *g.kernel_size, *g.out, n)
    dxp = np.zeros((ch,) + c.xp.shape[2:] + (n,), dtype=w.dtype)
    for a, b in g.offsets():
        rows, cols = g.tap(a, b)
        dxp[:, rows, cols, :] += dcols[:, a, b]
    return unpad(dxp.transpose(3, 0, 1, 2), g), dweight, dbias


# OpenBLAS is slow on one big product whose weight matrix is tiny (LeNet-5's C1: 6 x 25),
# and fast on many small ones: there a product per output position (np.matmul over a
# stack, no Python loop) was measured 1.5-2.7x faster, but 2x slower for C3's 16 x 150.
TINY_WEIGHT = 256


def _apply_weight(w2, cols, positions, n):
    """out (F, P*N) = w2 (F, C*kh*kw) @ cols (C*kh*kw, P*N), with P output positions.

    Per position: 0.63 -> 0.38 ms for C1 (one 64-image shard, one thread).
    """
    if w2.size > TINY_WEIGHT:
        return w2 @ cols
    out = np.empty((w2.shape[0], positions, n), dtype=np.result_type(w2, cols))
    np.matmul(w2, _per_position(cols, positions, n), out=out.transpose(1, 0, 2))
    return out.reshape(w2.shape[0], positions * n)


def _weight_grad(cols, dlast, positions, n):
    """dW (F, C*kh*kw) = dlast (F, P*N) @ cols.T (P*N, C*kh*kw), with P output positions.

    Per position: 1.69 -> 0.63 ms for C1 (batch 128). For big weights (cols @ dlast.T).T is
    ~1.7x faster than dlast @ cols.T.
    """
    k, nf = cols.shape[0], dlast.shape[0]
    if k * nf > TINY_WEIGHT:
        return (cols @ dlast.T).T
    products = np.matmul(_per_position(cols, positions, n),
                         _per_position(dlast, positions, n).transpose(0, 2, 1))
    return products.sum(axis=0).T


def _per_position(a, positions, n):
    """(R, P*N) -> the (P, R, N) view: one R x N matrix per output position."""
    return a.reshape(a.shape[0], positions, n).transpose(1, 0, 2)
