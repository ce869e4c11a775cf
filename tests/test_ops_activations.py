"""relu, sigmoid, tanh, softmax and log_softmax: references, gradients, extremes, dtypes."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import reference as ref
from gradcheck import check_gradients
from ops import (log_softmax, relu, relu_backward, sigmoid, sigmoid_backward, softmax, tanh,
                 tanh_backward)
from ops_cases import FAST

ACTIVATIONS = [
    pytest.param(relu, relu_backward, ref.relu, id="relu"),
    pytest.param(sigmoid, sigmoid_backward, ref.sigmoid, id="sigmoid"),
    pytest.param(tanh, tanh_backward, ref.tanh, id="tanh"),
]
SHAPES = [pytest.param((7,), id="1d"), pytest.param((3, 4), id="2d"),
          pytest.param((2, 2, 3, 3), id="4d")]

# Overflow, 0/0 and divide-by-zero are bugs; underflow to 0 (exp(-1000)) is not.
STRICT = dict(over="raise", invalid="raise", divide="raise", under="ignore")


def _away_from_zero(rng, shape):
    """Values with |v| in [0.1, 3]: relu's kink at 0 is out of reach of the eps step."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 3.0, shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op, backward, reference", ACTIVATIONS)
def test_forward_matches_reference(op, backward, reference, shape):
    x = np.random.default_rng(0).standard_normal(shape) * 4
    out, _ = op(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, reference(x), rtol=1e-12, atol=1e-15)


@FAST
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=20))
def test_forward_matches_reference_random(values):
    x = np.array(values)
    for op, reference in [(relu, ref.relu), (sigmoid, ref.sigmoid), (tanh, ref.tanh)]:
        np.testing.assert_allclose(op(x)[0], reference(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op, backward, reference", ACTIVATIONS)
def test_gradients(op, backward, reference, shape):
    x = _away_from_zero(np.random.default_rng(1), shape)
    check_gradients(op, backward, [x])


def test_relu_gradient_is_a_mask():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    _, cache = relu(x)
    np.testing.assert_array_equal(relu_backward(np.array([1.0, 2.0, 3.0, 4.0]), cache),
                                  [0.0, 0.0, 3.0, 4.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_sigmoid_extremes_are_exact_without_warnings(dtype):
    x = np.array([-1000.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        out, cache = sigmoid(x)
        dx = sigmoid_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(out, [0.0, 1.0])
    assert np.all(np.isfinite(dx))
    np.testing.assert_array_equal(dx, [0.0, 0.0])


def test_tanh_extremes_are_exact_without_warnings():
    x = np.array([-1000.0, 1000.0])
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        out, cache = tanh(x)
        dx = tanh_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(out, [-1.0, 1.0])
    np.testing.assert_array_equal(dx, [0.0, 0.0])


@pytest.mark.parametrize("op, backward, reference", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_float_dtype_is_kept(op, backward, reference, dtype):
    x = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    out, cache = op(x)
    assert out.dtype == dtype
    assert backward(np.ones_like(out), cache).dtype == dtype
    np.testing.assert_allclose(out, reference(x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("op, backward, reference", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_], ids=["int64", "uint8", "bool"])
def test_integer_input_becomes_float32(op, backward, reference, dtype):
    x = np.array([[0, 1], [1, 0]]).astype(dtype)
    out, _ = op(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference(x), rtol=1e-6)


def test_backward_does_not_accumulate():
    x = _away_from_zero(np.random.default_rng(2), (3, 4))
    for op, backward in [(relu, relu_backward), (sigmoid, sigmoid_backward),
                         (tanh, tanh_backward)]:
        out, cache = op(x)
        first = backward(np.ones_like(out), cache).copy()
        np.testing.assert_array_equal(backward(np.ones_like(out), cache), first)


# ---- softmax / log_softmax -----------------------------------------------------------

SOFTMAX_CASES = [
    pytest.param((4, 5), -1, id="2d_last"),
    pytest.param((4, 5), 0, id="2d_axis0"),
    pytest.param((2, 3, 4), 1, id="3d_axis1"),
    pytest.param((6,), 0, id="1d"),
]


@pytest.mark.parametrize("shape, axis", SOFTMAX_CASES)
def test_softmax_matches_reference(shape, axis):
    x = np.random.default_rng(0).standard_normal(shape) * 5
    p = softmax(x, axis=axis)
    np.testing.assert_allclose(p, ref.softmax(x, axis=axis), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("shape, axis", SOFTMAX_CASES)
def test_log_softmax_matches_reference(shape, axis):
    x = np.random.default_rng(0).standard_normal(shape) * 5
    np.testing.assert_allclose(log_softmax(x, axis=axis), ref.log_softmax(x, axis=axis),
                               rtol=1e-12, atol=1e-12)


def test_softmax_default_axis_is_last():
    x = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_array_equal(softmax(x), softmax(x, axis=-1))
    np.testing.assert_array_equal(log_softmax(x), log_softmax(x, axis=-1))


def test_softmax_extreme_logits_are_finite_without_warnings():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        p = softmax(x)
        logp = log_softmax(x)
    np.testing.assert_allclose(p, ref.softmax(x), atol=1e-15)
    np.testing.assert_allclose(logp, ref.log_softmax(x), rtol=1e-12)
    assert np.all(np.isfinite(logp))


@pytest.mark.parametrize("fn", [softmax, log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softmax_dtype_is_kept(fn, dtype):
    assert fn(np.zeros((2, 3), dtype=dtype)).dtype == dtype


@pytest.mark.parametrize("fn, reference", [(softmax, ref.softmax), (log_softmax, ref.log_softmax)],
                         ids=["softmax", "log_softmax"])
def test_softmax_integer_input_becomes_float32(fn, reference):
    x = np.array([[0, 1, 2]])
    out = fn(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference(x), rtol=1e-6)
