"""conv_transpose2d: forward against the naive reference, the adjoint identity with conv2d,
float64 gradients, torch's size rule and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from gradcheck import check_gradients
from ops import conv2d, conv_transpose2d, conv_transpose2d_backward

CASES = [  # (name, x_shape, w_shape, geometry)
    ("k3", (2, 2, 4, 4), (2, 3, 3, 3), {}),
    ("k3_s2", (2, 2, 3, 4), (2, 2, 3, 3), dict(stride=2)),
    ("k3_s2_p1_op1", (1, 2, 3, 3), (2, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("k2_s3_gaps", (2, 1, 3, 3), (1, 2, 2, 2), dict(stride=3)),
    ("k3_d2", (1, 2, 4, 3), (2, 1, 3, 3), dict(dilation=2)),
    ("d2_op1", (1, 1, 3, 3), (1, 1, 2, 2), dict(dilation=2, output_padding=1)),
    ("pairs", (2, 2, 3, 4), (2, 2, 2, 3), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ("groups2", (2, 4, 3, 3), (4, 3, 2, 2), dict(stride=2, groups=2)),
    ("depthwise", (1, 3, 4, 4), (3, 1, 3, 3), dict(padding=1, groups=3)),
]
IDS = [c[0] for c in CASES]


def _problem(case, bias=True, seed=0):
    _, xs, ws, geom = case
    rng = np.random.default_rng(seed)
    cout = ws[1] * geom.get("groups", 1)
    return (rng.standard_normal(xs), rng.standard_normal(ws),
            rng.standard_normal(cout) if bias else None, geom)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_reference(case):
    x, w, b, geom = _problem(case)
    out, cache = conv_transpose2d(x, w, b, **geom)
    expected = ref.conv_transpose2d(x, w, b, **geom)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert cache.out is out


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients(case):
    x, w, b, geom = _problem(case, seed=1)
    check_gradients(lambda x, w, b: conv_transpose2d(x, w, b, **geom),
                    conv_transpose2d_backward, [x, w, b])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2), st.integers(1, 2), st.integers(1, 5), st.integers(1, 5),
       st.integers(0, 2**31 - 1))
def test_adjoint_of_conv2d(cin, cout, k, s, p, d, h, w, seed):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> whenever the sizes line up."""
    rng = np.random.default_rng(seed)
    span = d * (k - 1) + 1
    h, w = max(h, span - 2 * p), max(w, span - 2 * p)
    x = rng.standard_normal((2, cin, h, w))
    wt = rng.standard_normal((cout, cin, k, k))
    y_shape, _ = conv2d(x, wt, stride=s, padding=p, dilation=d)
    y = rng.standard_normal(y_shape.shape)
    # output_padding restores the rows conv2d's floor dropped (torch's rule)
    ops_ = [(n + 2 * p - span) % s for n in (h, w)]
    if max(ops_) >= max(s, d):
        return
    back, _ = conv_transpose2d(y, wt, stride=s, padding=p, dilation=d, output_padding=tuple(ops_))
    assert back.shape == x.shape
    lhs = float(np.sum(y_shape * y))
    rhs = float(np.sum(x * back))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def test_output_size_rule():
    x = np.zeros((1, 1, 5, 7))
    out, _ = conv_transpose2d(x, np.zeros((1, 1, 3, 3)), stride=2, padding=1, output_padding=1,
                              dilation=1)
    assert out.shape == (1, 1, (5 - 1) * 2 - 2 + 2 + 1 + 1, (7 - 1) * 2 - 2 + 2 + 1 + 1)


def test_float32_stays_float32_and_backward_shapes():
    x, w, b, geom = _problem(CASES[2])
    out, cache = conv_transpose2d(x.astype(np.float32), w.astype(np.float32),
                                  b.astype(np.float32), **geom)
    assert out.dtype == np.float32
    dx, dw, db = conv_transpose2d_backward(np.ones(out.shape, np.float32), cache)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)
    assert dx.dtype == dw.dtype == db.dtype == np.float32


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=2, output_padding=2), "output_padding=2 is invalid"),
    (dict(groups=2), "groups=2 does not divide"),
    (dict(groups=0), "groups=0 is invalid"),
    (dict(padding=5), "output would be"),
])
def test_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_transpose2d(np.zeros((1, 3, 3, 3)), np.zeros((3, 1, 3, 3)), **kwargs)


def test_channel_mismatch_is_refused():
    with pytest.raises(ValueError, match="weight.shape\\[0\\] == x.shape\\[1\\]"):
        conv_transpose2d(np.zeros((1, 2, 3, 3)), np.zeros((3, 1, 3, 3)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_scatter_and_direct_views_reproduce_the_output(case):
    x, w, b, geom = _problem(case, seed=3)
    out, cache = conv_transpose2d(x, w, b, **geom)
    scatter, direct = cache.trace("scatter"), cache.trace("direct")
    assert scatter.value is out and direct.value is out
    np.testing.assert_allclose(scatter.output(), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(direct.output(), out, rtol=1e-12, atol=1e-12)
    # scatter: one step per input cell, stamping x × w into the output
    st = scatter.steps
    assert len(st) == x.size
    n, c, i, j = st.out_index[4]
    np.testing.assert_array_equal(st.stamp[4], x[n, c, i, j] * w[c])
    # direct: stride − 1 zeros inserted between input cells
    sh, sw = direct.steps.stride
    h, wd = x.shape[2:]
    inserted = (h + (h - 1) * (sh - 1)) * (wd + (wd - 1) * (sw - 1)) - h * wd
    assert direct.steps.is_inserted.sum() == inserted


def test_trace_view_is_checked():
    _, cache = conv_transpose2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="view='gather' is invalid"):
        cache.trace("gather")
