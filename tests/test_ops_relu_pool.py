"""relu_max_pool2d, the training path of a ReLU before max pooling: the same numbers as the
two ops and their loop references, on its fast path (disjoint windows of a batch-last input)
and off it."""
import numpy as np
import pytest

import reference as ref
from gradcheck import check_gradients
from nn import MaxPool2d, ReLU, build_net
from ops import (max_pool2d, max_pool2d_backward, relu, relu_backward, relu_max_pool2d,
                 relu_max_pool2d_backward)
from ops._window import is_batch_last
from ops_cases import MAX_POOL_CASES, distinct_values, pool_kwargs


def _batch_last(x):
    """``x`` as the convolutions hand it on: a view of a C-contiguous (C, H, W, N) buffer."""
    return np.ascontiguousarray(np.transpose(x, (1, 2, 3, 0))).transpose(3, 0, 1, 2)


def _two_ops(x, dout, k, **kw):
    r, rc = relu(x)
    out, pc = max_pool2d(r, k, **kw)
    return out, relu_backward(max_pool2d_backward(dout, pc), rc)


def _fused(x, dout, k, **kw):
    out, cache = relu_max_pool2d(x, k, **kw)
    return out, relu_max_pool2d_backward(dout, cache), cache


def _ties(rng, shape):
    """Values in {-1, 0, 0.5, 2} (ties everywhere, maxima of exactly 0 and below 0) and a
    constant band, as a blank background gives after a convolution."""
    x = rng.choice([-1.0, 0.0, 0.5, 2.0], size=shape)
    x[:, :, :2] = 0.25
    return x


@pytest.mark.parametrize("layout", ["nchw", "batch_last"])
@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_matches_references_and_the_two_ops(case, layout):
    rng = np.random.default_rng(4)
    x = _ties(rng, case["x_shape"])
    x = _batch_last(x) if layout == "batch_last" else x
    kw = pool_kwargs(case)
    k = case["kernel_size"]
    dout = rng.integers(-3, 4, ref.max_pool2d(x, k, **kw).shape).astype(np.float64)
    out, dx, _ = _fused(x, dout, k, **kw)
    # integer-valued gradients add exactly: the routing must be the first-max rule's
    np.testing.assert_array_equal(out, ref.relu_max_pool2d(x, k, **kw))
    np.testing.assert_array_equal(dx, ref.relu_max_pool2d_backward(dout, x, k, **kw))
    two_out, two_dx = _two_ops(x, dout, k, **kw)
    assert out.tobytes() == two_out.tobytes()
    np.testing.assert_array_equal(dx, two_dx)


def test_the_fast_path_is_taken_where_it_applies():
    x = _batch_last(np.random.default_rng(0).standard_normal((3, 2, 6, 8)))
    assert relu_max_pool2d(x, 2)[1].pool_cache is None                  # disjoint 2x2
    assert relu_max_pool2d(x, (3, 2))[1].pool_cache is None             # disjoint 3x2
    assert relu_max_pool2d(x, 2, stride=1)[1].pool_cache is not None    # overlapping
    assert relu_max_pool2d(x, 3)[1].pool_cache is not None              # 8 % 3: a border left
    assert relu_max_pool2d(np.ascontiguousarray(x), 2)[1].pool_cache is not None   # NCHW


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lenet5_shapes_bit_for_bit(dtype):
    # C1's and C3's outputs at a shard's batch, with a blank band of exactly equal values
    rng = np.random.default_rng(1)
    for shape in [(16, 6, 28, 28), (16, 16, 10, 10)]:
        x = rng.standard_normal(shape).astype(dtype)
        x[:, :, :6] = x[0, 0, 0, 0]
        x[:, :, 6:8] = 0.0
        x = _batch_last(x)
        dout = _batch_last(rng.standard_normal((shape[0], shape[1], shape[2] // 2,
                                                shape[3] // 2)).astype(dtype))
        out, dx, cache = _fused(x, dout, 2)
        assert cache.pool_cache is None
        two_out, two_dx = _two_ops(x, dout, 2)
        assert out.dtype == dx.dtype == dtype
        assert is_batch_last(out) and is_batch_last(dx)
        assert out.tobytes() == two_out.tobytes()
        np.testing.assert_array_equal(dx, two_dx)     # zeros may differ in sign only


def test_nan_and_minus_inf_windows_route_as_the_two_ops():
    x = np.random.default_rng(2).standard_normal((2, 2, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan     # torch's rule: the last NaN takes the gradient
    x[1, 1, 2:, 2:] = -np.inf
    x = _batch_last(x)
    dout = np.arange(1.0, 17.0).reshape(2, 2, 2, 2)
    out, dx, _ = _fused(x, dout, 2)
    two_out, two_dx = _two_ops(x, dout, 2)
    np.testing.assert_array_equal(out, two_out)
    np.testing.assert_array_equal(dx, two_dx)
    assert dx[0, 0, 1, 0] == 1.0 and dx[0, 0, 0, 1] == 0.0
    x = np.where(np.isnan(x), 1.0, x)             # -inf alone stays on the fast path
    out, dx, cache = _fused(x, dout, 2)
    assert cache.pool_cache is None
    two_out, two_dx = _two_ops(x, dout, 2)
    np.testing.assert_array_equal(out, two_out)
    np.testing.assert_array_equal(dx, two_dx)


@pytest.mark.parametrize("layout", ["nchw", "batch_last"])
@pytest.mark.parametrize("case", MAX_POOL_CASES, ids=lambda c: c["name"])
def test_gradients(case, layout):
    x = distinct_values(np.random.default_rng(5), case["x_shape"])   # no ties, none at 0
    kw = pool_kwargs(case)
    convert = _batch_last if layout == "batch_last" else np.asarray
    check_gradients(lambda x: relu_max_pool2d(convert(x), case["kernel_size"], **kw),
                    relu_max_pool2d_backward, [x])


def test_sequential_runs_relu_and_max_pool_as_one_op():
    rng = np.random.default_rng(6)
    net = build_net("lenet5", rng=rng)
    x = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    logits = net.forward(x)
    assert net["a1"].cache is None and net["a3"].cache is None     # absorbed by s2, s4
    net.backward(np.ones_like(logits) / 8, need_dx=False)
    fused = {k: p.grad.copy() for k, p in net.named_parameters()}
    net.zero_grad()
    h = x                                         # layer by layer, as the viewers run it
    for layer in net:
        h = layer.forward(h)
    assert h.tobytes() == logits.tobytes()
    d = np.ones_like(h) / 8
    layers = list(net)
    for layer in reversed(layers[1:]):
        d = layer.backward(d)
    layers[0].backward(d, need_dx=False)
    for k, p in net.named_parameters():
        assert p.grad.tobytes() == fused[k].tobytes(), k


def test_only_a_relu_is_absorbed():
    assert MaxPool2d(2).absorbs(ReLU())
    net = build_net("lenet5", activation_name="tanh", rng=np.random.default_rng(0))
    net.forward(np.zeros((2, 1, 28, 28), np.float32))
    assert net["a1"].cache is not None            # tanh makes ties: it runs on its own
    assert not MaxPool2d(2).absorbs(MaxPool2d(2))
