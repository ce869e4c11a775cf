"""Convolution as one matrix product, from the op's own geometry.

conv2d multiplies its weight rows ``W (F, C·kh·kw)`` by the patch matrix ``P (C·kh·kw, OH·OW)``
whose column p is the window of output cell p, unfolded (im2col): :func:`conv_patches` hands
out the very columns the op multiplied (``ConvCache.cols``). :func:`conv_matrix` is the
other way to write the same map, Dumoulin & Visin's ``C``: one row per output cell, the
kernel placed where that cell's window reads the flattened input, so ``vec(y) = C·vec(x)``;
and conv_transpose2d is ``Cᵀ`` applied to its flattened input (``ConvTransposeCache.matrix``).
"""
from dataclasses import dataclass

import numpy as np

from ._window import windows
from .conv import dense_weight


@dataclass(frozen=True)
class PatchProduct:
    """One sample of conv2d as ``out = weight @ patches (+ bias)``.

    weight – (F, C·kh·kw): filter f's kernel flattened (c, a, b) row-major; with groups, 0
        where filter f reads no channel.
    patches – (C·kh·kw, OH·OW): column p is the window of output cell p = i·OW + j.
    bias – (F,) or None.
    out – (F, OH·OW): the op's own output of the sample.
    taps – (C·kh·kw, 3) int: the (c, a, b) of each row.
    where – (C·kh·kw, OH·OW, 2) int: the padded-input cell (row, col) each entry was read from.
    is_pad – (C·kh·kw, OH·OW) bool: entries read from the padding.
    out_size, padded – (OH, OW) and the padded input (C, Hp, Wp) of the sample.
    """
    weight: np.ndarray
    patches: np.ndarray
    bias: object
    out: np.ndarray
    taps: np.ndarray
    where: np.ndarray
    is_pad: np.ndarray
    out_size: tuple
    padded: np.ndarray


def _taps(channels, kernel_size):
    c, a, b = np.meshgrid(np.arange(channels), np.arange(kernel_size[0]),
                          np.arange(kernel_size[1]), indexing="ij")
    return np.stack([c.ravel(), a.ravel(), b.ravel()], axis=1)


def conv_patches(cache, sample=0):
    """The :class:`PatchProduct` of sample ``sample`` of a conv2d ``cache``: the patch
    matrix is the op's own ``cols`` (the columns it multiplied, bit for bit)."""
    g, n = cache.geom, cache.x.shape[0]
    if not 0 <= sample < n:
        raise ValueError(f"conv_patches: sample={sample}, expected 0 <= sample < {n}")
    ch = cache.x.shape[1]
    cols = getattr(cache, "cols", None)
    if cols is not None:      # batch-last: column p·N + n is output cell p of sample n
        patches = cols[:, sample::n]
    else:                     # the same windows, read from the op's padded input
        patches = windows(cache.xp, g)[sample].transpose(0, 3, 4, 1, 2).reshape(
            ch * g.kernel_size[0] * g.kernel_size[1], -1)
    taps = _taps(ch, g.kernel_size)
    oi, oj = np.meshgrid(np.arange(g.out[0]), np.arange(g.out[1]), indexing="ij")
    rows = oi.ravel()[None, :] * g.stride[0] + taps[:, 1:2] * g.dilation[0]
    cols_ = oj.ravel()[None, :] * g.stride[1] + taps[:, 2:3] * g.dilation[1]
    ph, pw = g.padding
    is_pad = ((rows < ph) | (rows >= ph + g.in_size[0]) | (cols_ < pw) |
              (cols_ >= pw + g.in_size[1]))
    w = dense_weight(cache.weight, cache.groups)
    out = np.asarray(cache.out[sample]).reshape(w.shape[0], -1)
    return PatchProduct(w.reshape(w.shape[0], -1), patches, cache.bias, out, taps,
                        np.stack([rows, cols_], axis=-1), is_pad, g.out,
                        np.asarray(cache.xp[sample]))


def conv_matrix(weight, geom):
    """Dumoulin & Visin's ``C`` of a convolution: ``vec(y) = C · vec(x)`` for one sample.

    weight – (F, C, kh, kw) (dense over channels); geom – its :class:`~ops._window.Geometry`.
    Returns C of shape (F·OH·OW, C·H·W): row (f, i, j) holds w[f] where output cell (i, j)'s
    window lies on the flattened (unpadded) input; taps on the padding are dropped.
    """
    f, c, kh, kw = weight.shape
    (oh, ow), (h, w_) = geom.out, geom.in_size
    ff, cc, a, b, i, j = np.meshgrid(np.arange(f), np.arange(c), np.arange(kh), np.arange(kw),
                                     np.arange(oh), np.arange(ow), indexing="ij")
    r = i * geom.stride[0] + a * geom.dilation[0] - geom.padding[0]
    q = j * geom.stride[1] + b * geom.dilation[1] - geom.padding[1]
    ok = (r >= 0) & (r < h) & (q >= 0) & (q < w_)
    out = np.zeros((f * oh * ow, c * h * w_), dtype=weight.dtype)
    # distinct taps of one window read distinct cells, so plain assignment never collides
    out[((ff * oh + i) * ow + j)[ok], ((cc * h + r) * w_ + q)[ok]] = weight[ff, cc, a, b][ok]
    return out


def transpose_matrix(cache):
    """``C`` of the convolution that a conv_transpose2d ``cache`` transposes: the op's
    output of sample n is ``(Cᵀ · vec(x[n])).reshape(C_out, OH, OW)`` (+ bias). C has shape
    (C_in·H·W, C_out·OH·OW): conv_transpose2d's weight (C_in, C_out/groups, kh, kw) is a
    conv2d weight mapping the C_out channels of its output to the C_in channels of x."""
    return conv_matrix(dense_weight(cache.weight, cache.groups), cache.geom)
