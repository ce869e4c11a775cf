"""Backward traces equal the real gradients, over the forward test grid, in float64."""
import numpy as np
import pytest

from ops import (avg_pool2d, avg_pool2d_backward, conv2d, conv2d_backward, cross_entropy,
                 cross_entropy_backward, linear, linear_backward, max_pool2d, max_pool2d_backward,
                 relu, relu_backward, sigmoid, sigmoid_backward, tanh, tanh_backward)
from ops.backtrace import GatherTrace, ScatterTrace, WeightGradTrace, backward_trace
from ops_cases import AVG_POOL_CASES, CONV_CASES, MAX_POOL_CASES, pool_kwargs

TOL = dict(rtol=1e-12, atol=1e-13)


def _overlaps(tr):
    return tr.overlap_counts().max() > 1


@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_max_pool_backward_trace(case):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, case["x_shape"]).astype(np.float64)   # integers: many ties
    out, cache = max_pool2d(x, case["kernel_size"], **pool_kwargs(case))
    dout = rng.standard_normal(out.shape)
    tr = backward_trace(cache, dout)
    assert isinstance(tr, ScatterTrace) and len(tr) == dout.size
    # each upstream cell flows to exactly one cell: its window's argmax
    assert np.all(np.count_nonzero(tr.stamp.reshape(len(tr), -1), axis=1) <= 1)
    dx = max_pool2d_backward(dout, cache)
    if _overlaps(tr):
        np.testing.assert_allclose(tr.output(), dx, **TOL)
    else:
        assert np.array_equal(tr.output(), dx)


@pytest.mark.parametrize("case", AVG_POOL_CASES)
def test_avg_pool_backward_trace(case):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(case["x_shape"])
    out, cache = avg_pool2d(x, case["kernel_size"], **pool_kwargs(case, False))
    dout = rng.standard_normal(out.shape)
    tr = cache.backward_trace(dout)
    kh, kw = tr.kernel_size
    assert np.array_equal(tr.stamp[:, 0], np.broadcast_to(
        (dout / (kh * kw)).reshape(-1)[:, None, None], tr.stamp[:, 0].shape))
    np.testing.assert_allclose(tr.output(), avg_pool2d_backward(dout, cache), **TOL)
    # padding counts in the divisor, so the part of dout landing on padding is lost
    np.testing.assert_allclose(tr.output().sum() + tr.lost().sum(), dout.sum(), **TOL)


def _conv(case, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["x_shape"])
    w = rng.standard_normal(case["w_shape"])
    b = rng.standard_normal(case["w_shape"][0])
    out, cache = conv2d(x, w, b, stride=case["stride"], padding=case["padding"],
                        dilation=case["dilation"])
    return cache, rng.standard_normal(out.shape)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_dx_scatter_and_gather_equal_the_gradient(case):
    cache, dout = _conv(case, 2)
    dx, _, _ = conv2d_backward(dout, cache)
    scatter = cache.backward_trace(dout, wrt="x")
    gather = cache.backward_trace(dout, wrt="x", view="gather")
    assert isinstance(gather, GatherTrace)
    np.testing.assert_allclose(scatter.output(), dx, **TOL)
    np.testing.assert_allclose(gather.output(), dx, **TOL)
    np.testing.assert_allclose(gather.output(), scatter.output(), **TOL)
    # the inserted zeros sit exactly between dout cells: stride - 1 per gap
    sh, sw = gather.stride
    oh, ow = dout.shape[2:]
    assert gather.is_inserted.sum() == (oh + (oh - 1) * (sh - 1)) * (ow + (ow - 1) * (sw - 1)) - oh * ow
    assert np.all(gather.inserted[:, :, gather.is_inserted] == 0)
    assert np.all(gather.inserted[:, :, gather.is_border] == 0)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_dweight_trace(case):
    cache, dout = _conv(case, 3)
    _, dw, db = conv2d_backward(dout, cache)
    tr = cache.backward_trace(dout, wrt="weight")
    assert isinstance(tr, WeightGradTrace)
    assert np.array_equal(tr.output(), dw)
    assert np.array_equal(tr.bias, db)
    k = len(tr) // 2
    np.testing.assert_allclose(np.sum(tr.tap(k) * tr.upstream(k)), tr.value[k], **TOL)


def test_conv_scatter_stamp_is_dout_times_w():
    case = CONV_CASES[0].values[0]
    cache, dout = _conv(case, 4)
    tr = cache.backward_trace(dout)
    n, f, i, j = tr.out_index[5]
    np.testing.assert_array_equal(tr.stamp[5], dout[n, f, i, j] * cache.weight[f])


@pytest.mark.parametrize("wrt", ["x", "weight"])
def test_linear_backward_trace(wrt):
    rng = np.random.default_rng(5)
    out, cache = linear(rng.standard_normal((3, 7)), rng.standard_normal((4, 7)),
                        rng.standard_normal(4))
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = linear_backward(dout, cache)
    tr = cache.backward_trace(dout, wrt=wrt)
    np.testing.assert_allclose(tr.output(), dx if wrt == "x" else dw, **TOL)
    assert len(tr) == out.size


@pytest.mark.parametrize("op, backward", [(relu, relu_backward), (sigmoid, sigmoid_backward),
                                          (tanh, tanh_backward)])
def test_elementwise_backward_trace(op, backward):
    rng = np.random.default_rng(6)
    out, cache = op(rng.standard_normal((2, 3, 4)))
    dout = rng.standard_normal(out.shape)
    tr = cache.backward_trace(dout)
    assert np.array_equal(tr.output(), backward(dout, cache))
    np.testing.assert_allclose(tr.local * dout, tr.output(), **TOL)


def test_cross_entropy_backward_trace():
    rng = np.random.default_rng(7)
    loss, cache = cross_entropy(rng.standard_normal((4, 5)), np.array([0, 3, 1, 4]))
    tr = cache.backward_trace(1.0)
    assert np.array_equal(tr.output(), cross_entropy_backward(1.0, cache))
    np.testing.assert_allclose(tr.output(), (tr.probs - tr.onehot) / 4, **TOL)


def test_bad_arguments_are_named():
    _, cache = max_pool2d(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match="wrt='weight' is invalid"):
        cache.backward_trace(np.zeros((1, 1, 2, 2)), wrt="weight")
    _, cache = conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="view='both' is invalid"):
        cache.backward_trace(np.zeros((1, 1, 2, 2)), view="both")
    with pytest.raises(ValueError, match="dout has shape"):
        cache.backward_trace(np.zeros((1, 1, 3, 3)))


def test_scaled_tanh_shares_the_elementwise_cache_and_its_traces():
    from ops import scaled_tanh, scaled_tanh_backward
    rng = np.random.default_rng(8)
    out, cache = scaled_tanh(rng.standard_normal((2, 5)))
    assert np.array_equal(cache.trace().output(), out)
    dout = rng.standard_normal(out.shape)
    assert np.array_equal(cache.backward_trace(dout).output(), scaled_tanh_backward(dout, cache))
