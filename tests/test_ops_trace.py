"""Traces: every step agrees with the fast path's output and with its own window."""
import math

import numpy as np
import pytest
from hypothesis import given

import reference as ref
from ops import (ElementwiseTrace, FlattenTrace, LinearTrace, SoftmaxTrace, WindowTrace,
                 avg_pool2d, conv2d, cross_entropy, flatten, linear, max_pool2d, relu, sigmoid,
                 tanh, trace_softmax)
from ops_cases import (AVG_POOL_CASES, CONV_CASES, FAST, MAX_POOL_CASES, conv_geometries,
                       pool_geometries, pool_kwargs)


def _run_conv(case, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["x_shape"])
    w = rng.standard_normal(case["w_shape"])
    b = rng.standard_normal(case["w_shape"][0]) if bias else None
    geom = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    return conv2d(x, w, b, **geom) + (x,)


def _run_pool(op, case, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    if ties:
        x = rng.integers(0, 3, case["x_shape"]).astype(np.float64)
    else:
        x = rng.standard_normal(case["x_shape"])
    kw = pool_kwargs(case, with_dilation=op is max_pool2d)
    return op(x, case["kernel_size"], **kw) + (x,)


def _check_window_trace(tr, out, x, op):
    """Everything docs/ops.md promises about a WindowTrace of the whole batch."""
    assert isinstance(tr, WindowTrace)
    assert tr.op == op
    kh, kw = tr.kernel_size
    (sh, sw), (ph, pw), (dh, dw) = tr.stride, tr.padding, tr.dilation
    n_, c_, h, w = x.shape
    s = out.size
    assert len(tr) == s
    assert tuple(tr.out_shape) == out.shape

    # the output, rebuilt from the steps: value is read from the op's output, so exact
    np.testing.assert_array_equal(tr.output(), out)
    np.testing.assert_array_equal(tr.value, out[tuple(tr.out_index.T)])

    # row-major order over (n, c, i, j) and window origins
    np.testing.assert_array_equal(tr.out_index, np.argwhere(np.ones(out.shape, bool)))
    np.testing.assert_array_equal(tr.origin, tr.out_index[:, 2:] * [sh, sw])

    # the padded input and its pad value
    np.testing.assert_array_equal(tr.input, x)
    assert tr.padded.shape == (n_, c_, h + 2 * ph, w + 2 * pw)
    np.testing.assert_array_equal(tr.padded[:, :, ph:ph + h, pw:pw + w], x)
    border = np.ones(tr.padded.shape[2:], bool)
    border[ph:ph + h, pw:pw + w] = False
    pad_value = -np.inf if op == "max_pool2d" else 0.0
    assert np.all(tr.padded[:, :, border] == pad_value)

    # field and is_pad against the padded input, cell by cell
    rows = tr.origin[:, 0, None, None] + dh * np.arange(kh)[None, :, None]    # (S, kh, 1)
    cols = tr.origin[:, 1, None, None] + dw * np.arange(kw)[None, None, :]    # (S, 1, kw)
    n, c = tr.out_index[:, 0], tr.out_index[:, 1]
    if op == "conv2d":
        expected_field = tr.padded[n[:, None, None, None], np.arange(c_)[None, :, None, None],
                                   rows[:, None], cols[:, None]]
    else:
        expected_field = tr.padded[n[:, None, None], c[:, None, None], rows, cols][:, None]
    np.testing.assert_array_equal(tr.field, expected_field)
    expected_pad = (rows < ph) | (rows >= ph + h) | (cols < pw) | (cols >= pw + w)
    np.testing.assert_array_equal(tr.is_pad, expected_pad)

    if op == "conv2d":
        f = tr.out_index[:, 1]
        products = np.einsum("sckl,sckl->sc", tr.field, tr.weight[f])
        np.testing.assert_allclose(tr.contrib, products, rtol=1e-12, atol=1e-12)
        bias = 0.0 if tr.bias is None else tr.bias[f]
        np.testing.assert_allclose(tr.contrib.sum(1) + bias, tr.value, rtol=1e-12, atol=1e-12)
    elif op == "avg_pool2d":
        # zero padding counts in the divisor
        np.testing.assert_allclose(tr.field.sum(axis=(1, 2, 3)) / (kh * kw), tr.value,
                                   rtol=1e-12, atol=1e-12)
    else:
        flat = tr.field.reshape(s, -1)
        # argmax points at a max cell, and at the first one in row-major order
        np.testing.assert_array_equal(tr.argmax[:, 0] * kw + tr.argmax[:, 1],
                                      np.argmax(flat, axis=1))
        np.testing.assert_array_equal(flat[np.arange(s), np.argmax(flat, axis=1)], tr.value)


def _check_steps(tr, ks):
    """tr[k] agrees with row k of the struct of arrays, and its cells with the padding."""
    for k in ks:
        step = tr[k]
        np.testing.assert_array_equal(step.out_index, tr.out_index[k])
        np.testing.assert_array_equal(step.origin, tr.origin[k])
        np.testing.assert_array_equal(step.field, tr.field[k])
        np.testing.assert_array_equal(step.is_pad, tr.is_pad[k])
        assert step.value == tr.value[k]
        kh, kw = tr.kernel_size
        assert step.cells.shape == (kh, kw, 2)
        for r in range(kh):
            for c in range(kw):
                row, col = step.cells[r, c]
                assert (row, col) == (tr.origin[k, 0] + r * tr.dilation[0],
                                      tr.origin[k, 1] + c * tr.dilation[1])
                chans = slice(None) if tr.op == "conv2d" else step.out_index[1]
                np.testing.assert_array_equal(
                    step.field[:, r, c], np.atleast_1d(tr.padded[step.out_index[0], chans, row, col]))


# ---- window traces on the geometry grids ---------------------------------------------

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_trace(case, bias):
    out, cache, x = _run_conv(case, bias)
    tr = cache.trace()
    _check_window_trace(tr, out, x, "conv2d")
    assert (tr.bias is None) == (not bias)
    _check_steps(tr, [0, len(tr) // 2, len(tr) - 1])
    step = tr[len(tr) - 1]
    np.testing.assert_array_equal(step.weight, tr.weight[step.out_index[1]])
    np.testing.assert_allclose(step.contrib.sum() + (step.bias or 0.0), step.value, atol=1e-12)


@pytest.mark.parametrize("ties", [False, True], ids=["random", "ties"])
@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_max_pool_trace(case, ties):
    out, cache, x = _run_pool(max_pool2d, case, ties=ties)
    tr = cache.trace()
    _check_window_trace(tr, out, x, "max_pool2d")
    _check_steps(tr, [0, len(tr) - 1])
    assert tr.weight is None and tr.contrib is None


@pytest.mark.parametrize("case", AVG_POOL_CASES)
def test_avg_pool_trace(case):
    out, cache, x = _run_pool(avg_pool2d, case)
    tr = cache.trace()
    _check_window_trace(tr, out, x, "avg_pool2d")
    _check_steps(tr, [0, len(tr) - 1])
    assert tr.argmax is None


@FAST
@given(conv_geometries())
def test_conv_trace_random(case):
    out, cache, x = _run_conv(case, case["bias"], case["seed"])
    _check_window_trace(cache.trace(), out, x, "conv2d")


@FAST
@given(pool_geometries(max_pool=True))
def test_max_pool_trace_random(case):
    out, cache, x = _run_pool(max_pool2d, case, case["seed"], ties=case["seed"] % 2 == 0)
    _check_window_trace(cache.trace(), out, x, "max_pool2d")


@FAST
@given(pool_geometries(max_pool=False))
def test_avg_pool_trace_random(case):
    out, cache, x = _run_pool(avg_pool2d, case, case["seed"])
    _check_window_trace(cache.trace(), out, x, "avg_pool2d")


def test_max_pool_all_equal_window_argmax_is_first_cell():
    _, cache = max_pool2d(np.full((1, 1, 3, 3), 2.0), 3)
    np.testing.assert_array_equal(cache.trace()[0].argmax, [0, 0])


def test_max_pool_argmax_is_in_kernel_units():
    # dilation 2: kernel cell (1, 1) sits at padded pixel (2, 2)
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 2, 2] = 1.0
    _, cache = max_pool2d(x, 2, dilation=2)
    step = cache.trace()[0]
    np.testing.assert_array_equal(step.argmax, [1, 1])
    np.testing.assert_array_equal(step.cells[1, 1], [2, 2])


@pytest.mark.parametrize("make", [
    pytest.param(lambda x: conv2d(x, np.ones((2, 3, 2, 2)), np.ones(2), padding=1), id="conv2d"),
    pytest.param(lambda x: max_pool2d(x, 2, stride=1, padding=1), id="max_pool2d"),
    pytest.param(lambda x: avg_pool2d(x, 3, stride=2, padding=1), id="avg_pool2d"),
])
@pytest.mark.parametrize("sample", [0, 2])
def test_window_trace_of_one_sample(make, sample):
    x = np.random.default_rng(0).standard_normal((3, 3, 4, 5))
    out, cache = make(x)
    tr = cache.trace(sample=sample)
    assert len(tr) == out[sample].size
    assert np.all(tr.out_index[:, 0] == sample)
    np.testing.assert_allclose(tr.value, out[sample].ravel(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(tr.out_index[:, 1:],
                                  np.argwhere(np.ones(out.shape[1:], bool)))


def test_max_pool_28x28_k3_s1_has_676_steps():
    x = np.random.default_rng(0).standard_normal((1, 1, 28, 28))
    out, cache = max_pool2d(x, 3, stride=1)
    tr = cache.trace()
    assert len(tr) == 676 == 26 * 26
    assert np.array_equal(tr.output(), out)


# ---- linear, elementwise, flatten, softmax -------------------------------------------

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_linear_trace(bias):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    b = rng.standard_normal(4) if bias else None
    out, cache = linear(x, w, b)
    tr = cache.trace()
    assert isinstance(tr, LinearTrace)
    assert len(tr) == 12
    np.testing.assert_allclose(tr.output(), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(tr.out_index, np.argwhere(np.ones((3, 4), bool)))
    for k in [0, 5, 11]:
        step = tr[k]
        n, o = step.out_index
        np.testing.assert_array_equal(step.inputs, x[n])
        np.testing.assert_array_equal(step.weights, w[o])
        np.testing.assert_allclose(step.products, x[n] * w[o], rtol=1e-15)
        total = step.products.sum() + (0.0 if step.bias is None else step.bias)
        assert math.isclose(total, step.value, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(step.value, out[n, o], rel_tol=1e-12, abs_tol=1e-12)
    one = cache.trace(sample=1)
    assert len(one) == 4 and np.all(one.out_index[:, 0] == 1)
    np.testing.assert_allclose(one.value, out[1], rtol=1e-12)


@pytest.mark.parametrize("op, reference", [(relu, ref.relu), (sigmoid, ref.sigmoid),
                                           (tanh, ref.tanh)], ids=["relu", "sigmoid", "tanh"])
def test_elementwise_trace(op, reference):
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 2))
    out, cache = op(x)
    tr = cache.trace()
    assert isinstance(tr, ElementwiseTrace)
    assert len(tr) == x.size
    np.testing.assert_array_equal(tr.output(), out)
    np.testing.assert_array_equal(tr.index, np.argwhere(np.ones(x.shape, bool)))
    np.testing.assert_allclose(tr.value, reference(x).ravel(), rtol=1e-12, atol=1e-15)
    step = tr[7]
    idx = tuple(step.index)
    assert step.input == x[idx] and step.value == out[idx]
    assert len(cache.trace(sample=1)) == x[1].size


def test_flatten_trace():
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 4))
    out, cache = flatten(x)
    tr = cache.trace()
    assert isinstance(tr, FlattenTrace)
    assert tuple(tr.input_shape) == x.shape
    assert len(tr) == x.size
    np.testing.assert_array_equal(tr.output(), out)
    np.testing.assert_array_equal(tr.value, x[tuple(tr.src_index.T)])
    np.testing.assert_array_equal(tr.value, out[tuple(tr.dst_index.T)])
    np.testing.assert_array_equal(tr.src_index, np.argwhere(np.ones(x.shape, bool)))
    assert len(cache.trace(sample=0)) == x[0].size


@pytest.mark.parametrize("logits", [
    pytest.param([1.0, 2.0, 0.5], id="small"),
    pytest.param([1e4, -1e4, 0.0, 3.0], id="extreme"),
    pytest.param([0.0, 0.0], id="uniform"),
])
@pytest.mark.parametrize("label", [0, 1])
def test_softmax_trace(logits, label):
    z = np.array(logits)
    tr = trace_softmax(z, label=label)
    assert isinstance(tr, SoftmaxTrace)
    np.testing.assert_array_equal(tr.logits, z)
    np.testing.assert_array_equal(tr.shifted, z - z.max())
    np.testing.assert_allclose(tr.exp, np.exp(z - z.max()), rtol=1e-15)
    assert math.isclose(tr.total, tr.exp.sum(), rel_tol=1e-15)
    assert math.isclose(tr.probs.sum(), 1.0, rel_tol=1e-12)
    np.testing.assert_allclose(tr.probs, ref.softmax(z), rtol=1e-12, atol=1e-300)
    loss, _ = cross_entropy(z[None], np.array([label]))
    assert tr.label == label
    assert math.isclose(tr.loss, float(loss), rel_tol=1e-12, abs_tol=1e-12)


def test_softmax_trace_without_label():
    tr = trace_softmax(np.array([0.5, -1.0]))
    assert tr.label is None and tr.loss is None
    assert math.isclose(tr.probs.sum(), 1.0, rel_tol=1e-12)


# ---- one source of truth: value is the op's output, bit for bit ----------------------

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]


def _same_bits(tr, out):
    """value, and the output rebuilt from it, equal ``out`` bit for bit (dtype included)."""
    assert tr.value.dtype == out.dtype
    expected = np.ascontiguousarray(out)[tuple(tr.out_index.T)]
    assert tr.value.tobytes() == expected.tobytes()
    assert tr.output().tobytes() == np.ascontiguousarray(out).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_trace_value_is_the_output_bit_for_bit(case, bias, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    w = rng.standard_normal(case["w_shape"]).astype(dtype)
    b = rng.standard_normal(case["w_shape"][0]).astype(dtype) if bias else None
    out, cache = conv2d(x, w, b, stride=case["stride"], padding=case["padding"],
                        dilation=case["dilation"])
    _same_bits(cache.trace(), out)
    one = cache.trace(sample=out.shape[0] - 1)
    assert one.value.tobytes() == np.ascontiguousarray(out[-1]).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op, cases", [
    pytest.param(max_pool2d, MAX_POOL_CASES, id="max_pool2d"),
    pytest.param(avg_pool2d, AVG_POOL_CASES, id="avg_pool2d"),
])
def test_pool_trace_value_is_the_output_bit_for_bit(op, cases, dtype):
    rng = np.random.default_rng(6)
    for param in cases:
        case = param.values[0]
        x = rng.standard_normal(case["x_shape"]).astype(dtype)
        out, cache = op(x, case["kernel_size"], **pool_kwargs(case, op is max_pool2d))
        _same_bits(cache.trace(), out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_linear_trace_value_is_the_output_bit_for_bit(bias, dtype):
    # 400 inputs: long enough sums for a recomputation to land on other last bits
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((3, 400)).astype(dtype), rng.standard_normal((20, 400)).astype(dtype)
    out, cache = linear(x, w, rng.standard_normal(20).astype(dtype) if bias else None)
    _same_bits(cache.trace(), out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [relu, sigmoid, tanh, flatten], ids=["relu", "sigmoid", "tanh",
                                                                   "flatten"])
def test_elementwise_and_flatten_trace_value_is_the_output_bit_for_bit(op, dtype):
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 4)).astype(dtype)
    out, cache = op(x)
    tr = cache.trace()
    assert tr.value.dtype == out.dtype
    assert tr.output().tobytes() == np.ascontiguousarray(out).tobytes()


@pytest.mark.parametrize("make", [
    pytest.param(lambda x: conv2d(x, np.ones((2, 3, 3, 3), np.float32), padding=1), id="conv2d"),
    pytest.param(lambda x: max_pool2d(x, 2), id="max_pool2d"),
    pytest.param(lambda x: avg_pool2d(x, 2), id="avg_pool2d"),
    pytest.param(lambda x: linear(x.reshape(2, -1), np.ones((4, 48), np.float32)), id="linear"),
])
def test_cache_keeps_the_output_itself_not_a_copy(make):
    out, cache = make(np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32))
    assert cache.out is out

