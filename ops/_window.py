"""Sliding-window geometry, shared by the fast paths, the backward passes and the traces."""
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._check import pair


@dataclass(frozen=True)
class Geometry:
    """Window geometry of one windowed op on an (H, W) input.

    All attributes are (h, w) pairs; ``out`` is the output size
    ``floor((in + 2*padding + pad_extra - dilation*(kernel-1) - 1) / stride) + 1``.
    ``pad_extra`` is padding on the bottom/right only: conv2d's ``padding="same"`` with an
    even span needs one more cell there than on the top/left, as torch pads it.
    """
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    in_size: tuple
    out: tuple
    pad_extra: tuple = (0, 0)

    def offsets(self):
        """Kernel offsets (a, b) in row-major order."""
        return [(a, b) for a in range(self.kernel_size[0]) for b in range(self.kernel_size[1])]

    def tap(self, a, b):
        """Slices of the padded input read by kernel offset (a, b) over all output cells."""
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out
        return (slice(a * dh, a * dh + sh * (oh - 1) + 1, sh),
                slice(b * dw, b * dw + sw * (ow - 1) + 1, sw))

    def padded_size(self):
        return tuple(n + 2 * p + e for n, p, e in zip(self.in_size, self.padding, self.pad_extra))


def geometry(op, x_shape, kernel_size, stride, padding, dilation, max_pad=None,
             kernel_name="kernel_size", pad_extra=(0, 0)):
    """Validate geometry arguments against an (N, C, H, W) shape and return a Geometry.

    ``max_pad`` is PyTorch's pooling rule: padding at most half the effective kernel.
    ``kernel_name`` is what error messages call the kernel (conv2d: the weight's shape).
    """
    k = pair(kernel_size, kernel_name, op, 1)
    s = pair(k if stride is None else stride, "stride", op, 1)
    p = pair(padding, "padding", op, 0)
    d = pair(dilation, "dilation", op, 1)
    if max_pad:
        half = tuple(((kk - 1) * dd + 1) // 2 for kk, dd in zip(k, d))
        if p[0] > half[0] or p[1] > half[1]:
            raise ValueError(f"{op}: padding={padding!r} is invalid, expected at most half the "
                             f"kernel size per axis (<= {half}) for kernel_size={kernel_size!r}")
    hw = tuple(x_shape[2:])
    span = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    padded = tuple(n + 2 * pp + e for n, pp, e in zip(hw, p, pad_extra))
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(f"{op}: {kernel_name}={kernel_size!r} (dilated extent {span}) is larger than "
                         f"the padded input {padded}, expected a window that fits")
    out = tuple((n - e) // ss + 1 for n, e, ss in zip(padded, span, s))
    return Geometry(k, s, p, d, hw, out, tuple(pad_extra))


def pad(x, g, value=0.0):
    """Pad (N, C, H, W) ``x`` by ``g.padding`` with ``value``, into batch-last memory.

    The result has the logical shape (N, C, Hp, Wp) but lives in a (C, Hp, Wp, N) buffer
    (a transposed view; see :func:`batch_last`). Windowed ops then read each kernel
    offset as long contiguous runs of N values instead of short image rows. When ``x``
    is already batch-last and needs no padding, it is returned as it is.
    """
    ph, pw = g.padding
    hp, wp = g.padded_size()
    n, c, h, w = x.shape
    if (hp, wp) == (h, w) and is_batch_last(x):
        return x
    buf = np.empty((c, hp, wp, n), dtype=x.dtype)
    if (hp, wp) != (h, w):
        buf.fill(value)
    buf[:, ph:ph + h, pw:pw + w, :] = x.transpose(1, 2, 3, 0)
    return buf.transpose(3, 0, 1, 2)


def is_batch_last(x):
    """True when the (N, C, H, W) array ``x`` is a view of a C-contiguous (C, H, W, N) buffer."""
    return x.transpose(1, 2, 3, 0).flags.c_contiguous


def batch_last(x):
    """The (C, H, W, N) C-contiguous form of an (N, C, H, W) array (a free view when it already is)."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def windows(xp, g):
    """Read-only strided view (N, C, OH, OW, kh, kw) of every window of the padded input."""
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    (sh, sw), (dh, dw) = g.stride, g.dilation
    return as_strided(xp, shape=(n, c) + g.out + g.kernel_size,
                      strides=(s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw), writeable=False)


def group_channels(f, n_filters, groups, c_per_group):
    """The input channels that filter(s) ``f`` of a grouped convolution read: an array
    (..., C/groups). Filters and channels split into ``groups`` equal groups, in order."""
    group = np.asarray(f) // (n_filters // groups)
    return group[..., None] * c_per_group + np.arange(c_per_group)


def pad_mask(g):
    """Boolean (Hp, Wp) map of the padded input: True on padding cells."""
    ph, pw = g.padding
    m = np.ones(g.padded_size(), dtype=bool)
    m[ph:ph + g.in_size[0], pw:pw + g.in_size[1]] = False
    return m


def unpad(xp, g):
    ph, pw = g.padding
    return xp[..., ph:ph + g.in_size[0], pw:pw + g.in_size[1]]
