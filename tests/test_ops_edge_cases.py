"""Edge cases that follow torch: max-pool routing of -inf and NaN windows, relu's gradient
at NaN, and empty inputs.

The expected values are worked out by hand from torch's own code, so these tests hold
without torch installed: its CPU max-pool kernel (aten/src/ATen/native/cpu/MaxPoolKernel.cpp)
starts each window at its first real cell with max = -inf and takes a cell when
``val > max || isnan(val)``; relu's gradient is ``threshold_backward``: ``x <= 0 ? 0 : dout``.
Where torch is installed, the last tests compare with it directly.
"""
import warnings

import numpy as np
import pytest

import reference as ref
from ops import (avg_pool2d, avg_pool2d_backward, conv2d, conv2d_backward, cross_entropy,
                 cross_entropy_backward, flatten, flatten_backward, linear, linear_backward,
                 log_softmax, max_pool2d, max_pool2d_backward, relu, relu_backward, sigmoid,
                 sigmoid_backward, softmax, tanh, tanh_backward, trace_softmax)
from ops_cases import MAX_POOL_CASES, pool_kwargs

INF, NAN = np.inf, np.nan


# ---- max pool: all -inf windows route to a real cell, never to the padding -----------

def test_all_minus_inf_with_padding_routes_every_gradient_to_a_real_cell():
    # 3x3 windows, stride 1, padding 1 on a 3x3 input of -inf: every window's max is -inf,
    # and torch keeps each window's first real cell (max(i-1, 0), max(j-1, 0)).
    x = np.full((1, 1, 3, 3), -INF)
    out, cache = max_pool2d(x, 3, stride=1, padding=1)
    assert np.all(out == -INF)
    dx = max_pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[4, 2, 0], [2, 1, 0], [0, 0, 0]])
    assert dx.sum() == 9                      # nothing lost in the padding
    tr = cache.trace()
    for k in range(len(tr)):
        r, c = tr.argmax[k]
        assert not tr.is_pad[k, r, c]         # the trace shows the cell the gradient goes to
    np.testing.assert_array_equal(tr.argmax[0], [1, 1])   # window (0, 0): padded (1, 1) = x[0, 0]


def test_minus_inf_window_beside_finite_ones_keeps_its_first_real_cell():
    # 2x2 windows, stride 2, padding 1 on a 4x4 input whose top-left 1x1 corner is -inf:
    # window (0, 0) holds three padding cells and x[0, 0]
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = -INF
    out, cache = max_pool2d(x, 2, stride=2, padding=1)
    assert out[0, 0, 0, 0] == -INF
    dx = max_pool2d_backward(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), cache)
    assert dx[0, 0, 0, 0] == 1.0              # window (0, 0)'s gradient
    np.testing.assert_array_equal(cache.trace()[0].argmax, [1, 1])


def test_minus_inf_and_finite_values_follow_the_first_max_rule():
    # -inf is an ordinary value when something beats it
    x = np.array([[[[-INF, 2.0], [2.0, -INF]]]])
    _, cache = max_pool2d(x, 2)
    np.testing.assert_array_equal(max_pool2d_backward(np.ones((1, 1, 1, 1)), cache)[0, 0],
                                  [[0, 1], [0, 0]])


# ---- max pool: a NaN wins its window, forward and backward ---------------------------

@pytest.mark.parametrize("window, cell", [
    pytest.param([[1.0, NAN], [3.0, 2.0]], (0, 1), id="one_nan"),
    pytest.param([[NAN, 5.0], [7.0, 1.0]], (0, 0), id="nan_first"),
    pytest.param([[9.0, 5.0], [7.0, NAN]], (1, 1), id="nan_last_after_the_max"),
    pytest.param([[NAN, 1.0], [NAN, 2.0]], (1, 0), id="two_nans_the_last_wins"),
])
def test_nan_window_routes_to_the_nan_cell(window, cell):
    x = np.array(window)[None, None]
    out, cache = max_pool2d(x, 2)
    assert np.isnan(out.item())
    dx = max_pool2d_backward(np.full((1, 1, 1, 1), 3.0), cache)
    expected = np.zeros((2, 2))
    expected[cell] = 3.0
    np.testing.assert_array_equal(dx[0, 0], expected)
    step = cache.trace()[0]
    np.testing.assert_array_equal(step.argmax, cell)
    assert np.isnan(step.value)


def test_nan_in_overlapping_padded_windows():
    # 3x3 windows, stride 1, padding 1 on a 3x3 input with NaN at (1, 2): every window
    # that reaches column 2 holds it (6 of 9) and sends its gradient there
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    x[0, 0, 1, 2] = NAN
    out, cache = max_pool2d(x, 3, stride=1, padding=1)
    assert np.isnan(out[0, 0, :, 1:]).all() and not np.isnan(out[0, 0, :, 0]).any()
    dx = max_pool2d_backward(np.ones_like(out), cache)
    # the other three: (0, 0) -> x[1, 1] = 4; (1, 0) and (2, 0) -> x[2, 1] = 7
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 0], [0, 1, 6], [0, 2, 0]])
    assert dx.sum() == 9


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_nan_and_minus_inf_routing_matches_the_reference_on_the_grid(case, dtype):
    # tests/reference.py scans each window as torch's loop does
    rng = np.random.default_rng(11)
    x = rng.integers(0, 3, case["x_shape"]).astype(dtype)          # ties too
    x[rng.random(x.shape) < 0.15] = NAN
    x[rng.random(x.shape) < 0.3] = -INF
    kw = pool_kwargs(case)
    out, cache = max_pool2d(x, case["kernel_size"], **kw)
    expected_out, where = ref.max_pool2d_argmax(x, case["kernel_size"], **kw)
    np.testing.assert_array_equal(out, expected_out)               # NaN == NaN here
    dout = rng.integers(1, 5, out.shape).astype(dtype)
    np.testing.assert_array_equal(max_pool2d_backward(dout, cache),
                                  ref.max_pool2d_backward(dout, x, case["kernel_size"], **kw))
    tr = cache.trace()
    cells = tr.origin + tr.argmax * np.array(tr.dilation) - np.array(tr.padding)
    real = (where >= 0).all(axis=-1).reshape(-1)
    np.testing.assert_array_equal(cells[real], where.reshape(-1, 2)[real])


# ---- relu at NaN ---------------------------------------------------------------------

def test_relu_passes_nan_forward_and_its_gradient_backward():
    x = np.array([NAN, -1.0, 0.0, 2.0, -0.0])
    out, cache = relu(x)
    np.testing.assert_array_equal(out, [NAN, 0.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(relu_backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), cache),
                                  [1.0, 0.0, 0.0, 4.0, 0.0])


# ---- empty inputs: the batch may be empty, as in torch --------------------------------

@pytest.mark.parametrize("filters", [2, 16])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_conv2d_empty_batch(filters, bias):
    x = np.zeros((0, 3, 7, 6), np.float32)
    w = np.ones((filters, 3, 3, 3), np.float32)
    b = np.ones(filters, np.float32) if bias else None
    out, cache = conv2d(x, w, b, stride=2, padding=1)
    assert out.shape == (0, filters, 4, 3) and out.dtype == np.float32
    dx, dw, db = conv2d_backward(np.zeros(out.shape, np.float32), cache)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dw, np.zeros_like(w))
    assert (db is None) == (not bias)
    if bias:
        np.testing.assert_array_equal(db, np.zeros(filters))
    assert conv2d_backward(np.zeros(out.shape), cache, need_dx=False)[0] is None
    assert len(cache.trace()) == 0 and cache.trace().out_shape == out.shape


@pytest.mark.parametrize("op, backward, kwargs, out_hw", [
    pytest.param(max_pool2d, max_pool2d_backward, dict(kernel_size=3, stride=2, padding=1),
                 (3, 3), id="max_pool2d"),
    pytest.param(avg_pool2d, avg_pool2d_backward, dict(kernel_size=2), (2, 2), id="avg_pool2d"),
])
def test_pool_empty_batch(op, backward, kwargs, out_hw):
    x = np.zeros((0, 2, 5, 5))
    out, cache = op(x, **kwargs)
    assert out.shape == (0, 2) + out_hw
    assert backward(np.zeros(out.shape), cache).shape == x.shape
    assert len(cache.trace()) == 0


@pytest.mark.parametrize("x_shape, w_shape", [
    pytest.param((0, 4), (3, 4), id="empty_batch"),
    pytest.param((2, 0), (3, 0), id="no_in_features"),
    pytest.param((2, 4), (0, 4), id="no_out_features"),
])
def test_linear_empty(x_shape, w_shape):
    # torch: x @ w.T over an empty inner axis is 0, so the output is the bias
    x, w, b = np.ones(x_shape), np.ones(w_shape), np.arange(w_shape[0], dtype=np.float64)
    out, cache = linear(x, w, b)
    assert out.shape == (x_shape[0], w_shape[0])
    np.testing.assert_array_equal(out, np.broadcast_to(b, out.shape))
    dx, dw, db = linear_backward(np.ones(out.shape), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    np.testing.assert_array_equal(db, np.full(w_shape[0], x_shape[0]))


@pytest.mark.parametrize("shape, flat", [((0, 3, 4, 4), (0, 48)), ((2, 0, 3), (2, 0))])
def test_flatten_empty(shape, flat):
    out, cache = flatten(np.zeros(shape))
    assert out.shape == flat
    assert flatten_backward(np.zeros(flat), cache).shape == shape


@pytest.mark.parametrize("op, backward", [(relu, relu_backward), (sigmoid, sigmoid_backward),
                                          (tanh, tanh_backward)], ids=["relu", "sigmoid", "tanh"])
def test_activations_empty(op, backward):
    out, cache = op(np.zeros((0, 3, 2, 2), np.float32))
    assert out.shape == (0, 3, 2, 2) and out.dtype == np.float32
    assert backward(np.zeros(out.shape), cache).shape == out.shape


@pytest.mark.parametrize("shape, axis", [((2, 0), -1), ((0, 5), -1), ((0, 5), 0), ((3, 0, 2), 1)])
def test_softmax_empty(shape, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert softmax(np.zeros(shape), axis).shape == shape
        assert log_softmax(np.zeros(shape), axis).shape == shape


@pytest.mark.parametrize("k", [3, 0])
def test_cross_entropy_empty_batch_is_nan_like_torch(k):
    # torch's mean over no samples is 0 / 0 = nan; the gradient is empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, cache = cross_entropy(np.zeros((0, k), np.float32), np.zeros(0, np.int64))
        assert np.isnan(loss) and loss.dtype == np.float32
        assert cross_entropy_backward(np.float32(1.0), cache).shape == (0, k)


# ---- empty inputs torch rejects: an error naming the argument -------------------------

@pytest.mark.parametrize("call, name", [
    pytest.param(lambda: conv2d(np.zeros((1, 1, 5, 5)), np.zeros((0, 1, 3, 3))), "weight",
                 id="conv_no_filters"),
    pytest.param(lambda: conv2d(np.zeros((1, 0, 5, 5)), np.zeros((2, 0, 3, 3))), r"\bx\b.*C=0",
                 id="conv_no_channels"),
    pytest.param(lambda: conv2d(np.zeros((1, 1, 0, 5)), np.zeros((2, 1, 1, 1)), padding=1),
                 r"\bx\b.*H=0", id="conv_no_rows"),
    pytest.param(lambda: max_pool2d(np.zeros((1, 0, 4, 4)), 2), r"\bx\b.*C=0",
                 id="max_pool_no_channels"),
    pytest.param(lambda: max_pool2d(np.zeros((1, 1, 4, 0)), 1), r"\bx\b.*W=0",
                 id="max_pool_no_columns"),
    pytest.param(lambda: avg_pool2d(np.zeros((2, 0, 4, 4)), 2), r"\bx\b.*C=0",
                 id="avg_pool_no_channels"),
    pytest.param(lambda: trace_softmax(np.zeros(0)), "logits", id="trace_softmax_no_logits"),
])
def test_empty_inputs_torch_rejects_are_rejected_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---- torch itself, where installed -----------------------------------------------------

def test_max_pool_routing_matches_torch_where_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for param in MAX_POOL_CASES:
        case = param.values[0]
        x = rng.integers(0, 3, case["x_shape"]).astype(np.float64)
        x[rng.random(x.shape) < 0.15] = NAN
        x[rng.random(x.shape) < 0.3] = -INF
        kw = pool_kwargs(case)
        out, cache = max_pool2d(x, case["kernel_size"], **kw)
        dout = rng.standard_normal(out.shape)
        t = torch.tensor(x, requires_grad=True)
        tout = torch.nn.functional.max_pool2d(t, case["kernel_size"], kw["stride"], kw["padding"],
                                              kw["dilation"])
        tout.backward(torch.tensor(dout))
        np.testing.assert_array_equal(out, tout.detach().numpy())
        np.testing.assert_array_equal(max_pool2d_backward(dout, cache), t.grad.numpy())


def test_relu_and_empty_inputs_match_torch_where_installed():
    torch = pytest.importorskip("torch")
    x = torch.tensor([NAN, -1.0, 0.0, 2.0], requires_grad=True)
    torch.relu(x).backward(torch.ones(4))
    _, cache = relu(x.detach().numpy())
    np.testing.assert_array_equal(relu_backward(np.ones(4), cache), x.grad.numpy())
    t = torch.nn.functional.conv2d(torch.zeros(0, 3, 7, 6), torch.ones(2, 3, 3, 3), stride=2,
                                   padding=1)
    assert conv2d(np.zeros((0, 3, 7, 6)), np.ones((2, 3, 3, 3)), stride=2,
                  padding=1)[0].shape == tuple(t.shape)
