"""conv2d: forward against the naive reference, gradients, dtypes."""
import numpy as np
import pytest
from hypothesis import given

import reference as ref
from gradcheck import check_gradients
from ops import conv2d, conv2d_backward
from ops_cases import CONV_CASES, FAST, conv_geometries, get_case


def _problem(case, bias, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    w = rng.standard_normal(case["w_shape"]).astype(dtype)
    b = rng.standard_normal(case["w_shape"][0]).astype(dtype) if bias else None
    geom = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    return x, w, b, geom


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_forward_matches_reference(case, bias):
    x, w, b, geom = _problem(case, bias)
    out, _ = conv2d(x, w, b, **geom)
    expected = ref.conv2d(x, w, b, **geom)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@FAST
@given(conv_geometries())
def test_forward_matches_reference_random(case):
    x, w, b, geom = _problem(case, case["bias"], seed=case["seed"])
    out, _ = conv2d(x, w, b, **geom)
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, **geom), rtol=1e-10, atol=1e-12)


def test_defaults_are_stride1_pad0_dil1():
    x, w, b, _ = _problem(get_case(CONV_CASES, "k3"), True)
    out, _ = conv2d(x, w, b)
    np.testing.assert_allclose(out, ref.conv2d(x, w, b), rtol=1e-10, atol=1e-12)
    assert out.shape == (2, 3, 3, 3)


def test_numpy_integer_geometry_accepted():
    x, w, b, _ = _problem(get_case(CONV_CASES, "k3"), False)
    out, _ = conv2d(x, w, stride=np.int64(2), padding=(np.int32(1), 1))
    np.testing.assert_allclose(out, ref.conv2d(x, w, stride=2, padding=1), atol=1e-12)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_gradients(case, bias):
    x, w, b, geom = _problem(case, bias, seed=1)
    check_gradients(lambda x, w, b: conv2d(x, w, b, **geom), conv2d_backward, [x, w, b])


def test_backward_does_not_accumulate():
    x, w, b, geom = _problem(get_case(CONV_CASES, "k3_p1"), True)
    out, cache = conv2d(x, w, b, **geom)
    dout = np.ones_like(out)
    first = [g.copy() for g in conv2d_backward(dout, cache)]
    second = conv2d_backward(dout, cache)
    for g1, g2 in zip(first, second):
        np.testing.assert_array_equal(g1, g2)


def test_backward_leaves_inputs_untouched():
    x, w, b, geom = _problem(get_case(CONV_CASES, "k3_p1"), True)
    saved = [x.copy(), w.copy(), b.copy()]
    out, cache = conv2d(x, w, b, **geom)
    conv2d_backward(np.ones_like(out), cache)
    for a, s in zip([x, w, b], saved):
        np.testing.assert_array_equal(a, s)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_float_dtype_is_kept(dtype):
    x, w, b, geom = _problem(get_case(CONV_CASES, "k3_p1"), True, dtype=dtype)
    out, cache = conv2d(x, w, b, **geom)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, **geom), rtol=1e-4, atol=1e-5)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_],
                         ids=["int64", "int32", "uint8", "bool"])
def test_integer_input_becomes_float32(dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1, 2, 4, 4)).astype(dtype)
    w = rng.integers(0, 2, (2, 2, 3, 3)).astype(dtype)
    out, _ = conv2d(x, w)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, ref.conv2d(x, w))
