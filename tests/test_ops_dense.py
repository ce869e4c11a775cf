"""linear and flatten: forward against the references, gradients, dtypes."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import reference as ref
from gradcheck import check_gradients
from ops import flatten, flatten_backward, linear, linear_backward
from ops_cases import FAST

LINEAR_SHAPES = [
    pytest.param((1, 1, 1), id="n1_in1_out1"),
    pytest.param((2, 5, 3), id="n2_in5_out3"),
    pytest.param((4, 3, 7), id="n4_in3_out7"),
]


def _linear_problem(shape, bias, seed=0, dtype=np.float64):
    n, i, o = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, i)).astype(dtype)
    w = rng.standard_normal((o, i)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", LINEAR_SHAPES)
def test_linear_forward_matches_reference(shape, bias):
    x, w, b = _linear_problem(shape, bias)
    out, _ = linear(x, w, b)
    assert out.shape == (shape[0], shape[2])
    np.testing.assert_allclose(out, ref.linear(x, w, b), rtol=1e-10, atol=1e-12)


@FAST
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_linear_forward_matches_reference_random(n, i, o, bias, seed):
    x, w, b = _linear_problem((n, i, o), bias, seed)
    np.testing.assert_allclose(linear(x, w, b)[0], ref.linear(x, w, b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", LINEAR_SHAPES)
def test_linear_gradients(shape, bias):
    x, w, b = _linear_problem(shape, bias, seed=1)
    check_gradients(linear, linear_backward, [x, w, b])


def test_linear_backward_does_not_accumulate():
    x, w, b = _linear_problem((2, 5, 3), True)
    out, cache = linear(x, w, b)
    first = [g.copy() for g in linear_backward(np.ones_like(out), cache)]
    for g1, g2 in zip(first, linear_backward(np.ones_like(out), cache)):
        np.testing.assert_array_equal(g1, g2)


FLATTEN_SHAPES = [
    pytest.param((2, 3), id="2d"),
    pytest.param((2, 3, 4), id="3d"),
    pytest.param((2, 3, 4, 5), id="4d"),
    pytest.param((1, 2, 1, 3, 2), id="5d"),
]


@pytest.mark.parametrize("shape", FLATTEN_SHAPES)
def test_flatten_forward_matches_reference(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    out, _ = flatten(x)
    assert out.shape == (shape[0], int(np.prod(shape[1:])))
    np.testing.assert_array_equal(out, ref.flatten(x))


@pytest.mark.parametrize("shape", FLATTEN_SHAPES)
def test_flatten_gradients(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    check_gradients(flatten, flatten_backward, [x])


def test_flatten_backward_restores_shape_and_values():
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    out, cache = flatten(x)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx = flatten_backward(dout, cache)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(ref.flatten(dx), dout)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_float_dtype_is_kept(dtype):
    x, w, b = _linear_problem((2, 5, 3), True, dtype=dtype)
    out, cache = linear(x, w, b)
    assert out.dtype == dtype
    dx, dw, db = linear_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == dtype
    flat, cache = flatten(x.reshape(2, 5, 1, 1))
    assert flat.dtype == dtype
    assert flatten_backward(flat, cache).dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_], ids=["int64", "uint8", "bool"])
def test_integer_input_becomes_float32(dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (2, 4)).astype(dtype)
    w = rng.integers(0, 2, (3, 4)).astype(dtype)
    out, _ = linear(x, w)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, ref.linear(x, w))
    flat, _ = flatten(x.reshape(2, 2, 2))
    assert flat.dtype == np.float32
    np.testing.assert_array_equal(flat, ref.flatten(x.reshape(2, 2, 2)))
