"""Geometry grids and hypothesis strategies shared by the ops tests.

Each grid entry is a ``pytest.param`` with a readable id; the same grids drive the
forward, gradient and trace tests so every geometry is checked three ways.
"""
import numpy as np
import pytest
from hypothesis import settings, strategies as st

# Few examples and no deadline: the naive references are slow Python loops.
FAST = settings(max_examples=25, deadline=None)


def _conv(id_, x_shape, w_shape, stride=1, padding=0, dilation=1):
    return pytest.param(
        dict(x_shape=x_shape, w_shape=w_shape, stride=stride, padding=padding,
             dilation=dilation), id=id_)


CONV_CASES = [
    _conv("k3", (2, 2, 5, 5), (3, 2, 3, 3)),
    _conv("k3_s2_stride_lt_kernel", (2, 2, 7, 7), (2, 2, 3, 3), stride=2),
    _conv("k2_s3_stride_gt_kernel", (2, 2, 7, 7), (2, 2, 2, 2), stride=3),
    _conv("k3_p1", (2, 2, 5, 5), (2, 2, 3, 3), padding=1),
    _conv("k3_p2_s2", (2, 1, 5, 6), (2, 1, 3, 3), stride=2, padding=2),
    _conv("k3_d2", (2, 2, 7, 7), (2, 2, 3, 3), dilation=2),
    _conv("k3_d2_p2", (2, 2, 6, 6), (2, 2, 3, 3), padding=2, dilation=2),
    _conv("nonsquare_x", (2, 2, 4, 7), (3, 2, 3, 3), padding=1),
    _conv("nonsquare_k", (2, 2, 6, 6), (2, 2, 2, 3)),
    _conv("pair_geometry", (2, 2, 7, 6), (2, 2, 3, 2), stride=(2, 1), padding=(1, 0),
          dilation=(1, 2)),
    _conv("k1", (2, 3, 4, 5), (2, 3, 1, 1)),
    _conv("k_eq_input", (2, 2, 3, 3), (2, 2, 3, 3)),
    _conv("n1_c1_p1", (1, 1, 5, 5), (1, 1, 3, 3), padding=1),
    # over 256 weights: conv2d_backward takes its one-matmul weight-gradient branch
    _conv("many_filters_p1", (2, 4, 5, 4), (12, 4, 3, 3), padding=1),
]


def _pool(id_, x_shape, kernel_size, stride=None, padding=0, dilation=1):
    return pytest.param(
        dict(x_shape=x_shape, kernel_size=kernel_size, stride=stride, padding=padding,
             dilation=dilation), id=id_)


# max pool: padding <= ((k - 1) * d + 1) // 2 per axis
MAX_POOL_CASES = [
    _pool("k2_default_stride", (2, 2, 6, 6), 2),
    _pool("k3_s1_overlap", (2, 2, 5, 5), 3, stride=1),
    _pool("k2_s3_stride_gt_kernel", (2, 2, 7, 7), 2, stride=3),
    _pool("k3_s2_p1", (2, 2, 5, 5), 3, stride=2, padding=1),
    _pool("k2_d2_p1", (2, 2, 6, 6), 2, stride=1, padding=1, dilation=2),
    _pool("k3_d2_p2", (2, 2, 7, 7), 3, stride=2, padding=2, dilation=2),
    _pool("nonsquare_x", (2, 2, 4, 7), 2),
    _pool("nonsquare_k", (2, 2, 6, 6), (2, 3), stride=(1, 2), padding=(1, 1)),
    _pool("pair_geometry", (2, 2, 7, 6), (3, 2), stride=(2, 1), padding=(1, 0),
          dilation=(1, 2)),
    _pool("k_eq_input", (2, 2, 3, 3), 3),
    _pool("k1", (2, 2, 3, 4), 1),
]

# avg pool has no dilation; padding <= k // 2 per axis
AVG_POOL_CASES = [
    _pool("k2_default_stride", (2, 2, 6, 6), 2),
    _pool("k3_s1_overlap", (2, 2, 5, 5), 3, stride=1),
    _pool("k2_s3_stride_gt_kernel", (2, 2, 7, 7), 2, stride=3),
    _pool("k3_s2_p1", (2, 2, 5, 5), 3, stride=2, padding=1),
    _pool("k2_s1_p1", (2, 2, 5, 5), 2, stride=1, padding=1),
    _pool("nonsquare_x", (2, 2, 4, 7), 2),
    _pool("nonsquare_k", (2, 2, 6, 6), (2, 3), stride=(1, 2), padding=(1, 1)),
    _pool("pair_geometry", (2, 2, 7, 6), (3, 2), stride=(2, 1), padding=(1, 0)),
    _pool("k_eq_input", (2, 2, 3, 3), 3),
]


def pool_kwargs(case, with_dilation=True):
    """The keyword arguments of a pool case (avg pool takes no dilation)."""
    kw = dict(stride=case["stride"], padding=case["padding"])
    if with_dilation:
        kw["dilation"] = case["dilation"]
    return kw


def distinct_values(rng, shape):
    """Random float64 values at least 0.09 apart, so max-pool has no ties."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.1 + rng.uniform(0, 0.01, size)).reshape(shape) - size * 0.05


def _geom(draw, h, w):
    """An (h, w) pair, sometimes written as a single int when both are equal."""
    if h == w and draw(st.booleans()):
        return h
    return (h, w)


@st.composite
def conv_geometries(draw):
    """Random conv2d problems: shapes, geometry, bias flag and a data seed."""
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = [draw(st.integers(1, 3)) for _ in range(2)]
    s = [draw(st.integers(1, 3)) for _ in range(2)]
    d = [draw(st.integers(1, 2)) for _ in range(2)]
    p = [draw(st.integers(0, 2)) for _ in range(2)]
    hw = []
    for a in range(2):
        low = max(1, d[a] * (k[a] - 1) + 1 - 2 * p[a])
        hw.append(draw(st.integers(low, low + 4)))
    return dict(
        x_shape=(n, c, hw[0], hw[1]), w_shape=(f, c, k[0], k[1]),
        stride=_geom(draw, *s), padding=_geom(draw, *p), dilation=_geom(draw, *d),
        bias=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)))


@st.composite
def pool_geometries(draw, max_pool=True):
    """Random pooling problems that obey PyTorch's padding rule."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    k = [draw(st.integers(1, 3)) for _ in range(2)]
    d = [draw(st.integers(1, 2)) if max_pool else 1 for _ in range(2)]
    eff = [d[a] * (k[a] - 1) + 1 for a in range(2)]
    p = [draw(st.integers(0, eff[a] // 2)) for a in range(2)]
    stride = None if draw(st.booleans()) else _geom(
        draw, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    hw = []
    for a in range(2):
        low = max(1, eff[a] - 2 * p[a])
        hw.append(draw(st.integers(low, low + 4)))
    case = dict(x_shape=(n, c, hw[0], hw[1]), kernel_size=_geom(draw, *k), stride=stride,
                padding=_geom(draw, *p), dilation=_geom(draw, *d),
                seed=draw(st.integers(0, 2**32 - 1)))
    return case


def get_case(cases, id_):
    """The keyword dict of the grid entry called ``id_``."""
    for param in cases:
        if param.id == id_:
            return param.values[0]
    raise KeyError(id_)
