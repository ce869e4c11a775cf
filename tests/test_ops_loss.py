"""cross_entropy: forward against the reference, gradient, extremes, dtypes."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import reference as ref
from gradcheck import check_gradients
from ops import cross_entropy, cross_entropy_backward
from ops_cases import FAST

CASES = [pytest.param(1, 2, id="n1_k2"), pytest.param(4, 3, id="n4_k3"),
         pytest.param(5, 10, id="n5_k10")]

STRICT = dict(over="raise", invalid="raise", divide="raise", under="ignore")


def _problem(n, k, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, k)) * scale, rng.integers(0, k, n)


@pytest.mark.parametrize("n, k", CASES)
def test_forward_matches_reference(n, k):
    logits, labels = _problem(n, k)
    loss, _ = cross_entropy(logits, labels)
    assert np.shape(loss) == ()
    assert math.isclose(float(loss), ref.cross_entropy(logits, labels), rel_tol=1e-12)


@FAST
@given(st.integers(1, 5), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_forward_matches_reference_random(n, k, seed):
    logits, labels = _problem(n, k, seed, scale=10.0)
    loss, _ = cross_entropy(logits, labels)
    assert math.isclose(float(loss), ref.cross_entropy(logits, labels), rel_tol=1e-10,
                        abs_tol=1e-12)


def test_uniform_logits_give_log_k():
    loss, _ = cross_entropy(np.zeros((3, 7)), np.array([0, 3, 6]))
    assert math.isclose(float(loss), math.log(7), rel_tol=1e-12)


@pytest.mark.parametrize("dout", [1.0, 0.7], ids=["dout1", "dout0.7"])
@pytest.mark.parametrize("n, k", CASES)
def test_gradients(n, k, dout):
    logits, labels = _problem(n, k, seed=1)
    out, cache = cross_entropy(logits, labels)
    dlogits = cross_entropy_backward(dout, cache)
    assert dlogits.shape == logits.shape
    # d(mean loss)/dlogits = (softmax - onehot) / N, scaled by the upstream scalar
    expected = ref.softmax(logits, axis=1)
    expected[np.arange(n), labels] -= 1.0
    np.testing.assert_allclose(dlogits, dout * expected / n, rtol=1e-10, atol=1e-14)
    check_gradients(lambda z: cross_entropy(z, labels), cross_entropy_backward, [logits])


def test_backward_accepts_numpy_scalar_and_0d_dout():
    logits, labels = _problem(3, 4)
    _, cache = cross_entropy(logits, labels)
    a = cross_entropy_backward(1.0, cache)
    np.testing.assert_array_equal(cross_entropy_backward(np.float64(1.0), cache), a)
    np.testing.assert_array_equal(cross_entropy_backward(np.array(1.0), cache), a)


def test_backward_does_not_accumulate():
    logits, labels = _problem(3, 4)
    _, cache = cross_entropy(logits, labels)
    first = cross_entropy_backward(1.0, cache).copy()
    np.testing.assert_array_equal(cross_entropy_backward(1.0, cache), first)


def test_extreme_logits_are_finite():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 1e4]])
    labels = np.array([1, 1, 0])
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        loss, cache = cross_entropy(logits, labels)
        dlogits = cross_entropy_backward(1.0, cache)
    assert np.isfinite(loss)
    assert math.isclose(float(loss), ref.cross_entropy(logits, labels), rel_tol=1e-12)
    assert np.all(np.isfinite(dlogits))
    # sample 0 predicts class 0 with certainty but the label is 1
    np.testing.assert_allclose(dlogits[0], [1 / 3, -1 / 3, 0.0], atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_float_dtype_is_kept(dtype):
    logits, labels = _problem(4, 3)
    loss, cache = cross_entropy(logits.astype(dtype), labels)
    assert np.asarray(loss).dtype == dtype
    assert cross_entropy_backward(1.0, cache).dtype == dtype


def test_integer_logits_become_float32():
    logits = np.array([[0, 1, 2], [2, 0, 0]])
    loss, _ = cross_entropy(logits, np.array([2, 0]))
    assert np.asarray(loss).dtype == np.float32
    assert math.isclose(float(loss), ref.cross_entropy(logits, [2, 0]), rel_tol=1e-6)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8], ids=["int64", "int32", "uint8"])
def test_any_integer_label_dtype_is_accepted(dtype):
    logits, labels = _problem(4, 3)
    loss, _ = cross_entropy(logits, labels.astype(dtype))
    assert math.isclose(float(loss), ref.cross_entropy(logits, labels), rel_tol=1e-12)
