"""max_pool2d and avg_pool2d: forward against the references, ties, gradients, dtypes."""
import numpy as np
import pytest
from hypothesis import given

import reference as ref
from gradcheck import check_gradients
from ops import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from ops_cases import (AVG_POOL_CASES, FAST, MAX_POOL_CASES, distinct_values, get_case,
                       pool_geometries, pool_kwargs)


def _x(case, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(case["x_shape"]).astype(dtype)


# ---- forward -------------------------------------------------------------------------

@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_max_forward_matches_reference(case):
    x, kw = _x(case), pool_kwargs(case)
    out, _ = max_pool2d(x, case["kernel_size"], **kw)
    expected = ref.max_pool2d(x, case["kernel_size"], **kw)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)  # a max is exact


@pytest.mark.parametrize("case", AVG_POOL_CASES)
def test_avg_forward_matches_reference(case):
    x, kw = _x(case), pool_kwargs(case, with_dilation=False)
    out, _ = avg_pool2d(x, case["kernel_size"], **kw)
    expected = ref.avg_pool2d(x, case["kernel_size"], **kw)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@FAST
@given(pool_geometries(max_pool=True))
def test_max_forward_matches_reference_random(case):
    x, kw = _x(case, case["seed"]), pool_kwargs(case)
    out, _ = max_pool2d(x, case["kernel_size"], **kw)
    np.testing.assert_array_equal(out, ref.max_pool2d(x, case["kernel_size"], **kw))


@FAST
@given(pool_geometries(max_pool=False))
def test_avg_forward_matches_reference_random(case):
    x, kw = _x(case, case["seed"]), pool_kwargs(case, with_dilation=False)
    out, _ = avg_pool2d(x, case["kernel_size"], **kw)
    np.testing.assert_allclose(out, ref.avg_pool2d(x, case["kernel_size"], **kw),
                               rtol=1e-10, atol=1e-12)


def test_avg_padding_counts_in_divisor():
    # a 2x2 input of ones, 2x2 windows, stride 1, padding 1: the corner window sees one
    # real cell and three zeros of padding, so its average is 1/4, not 1
    out, _ = avg_pool2d(np.ones((1, 1, 2, 2)), 2, stride=1, padding=1)
    np.testing.assert_allclose(out[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5],
                                           [0.25, 0.5, 0.25]])


def test_max_padding_is_minus_inf():
    # all-negative input: zero padding would win the border windows, -inf never does
    x = -1.0 - np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    out, _ = max_pool2d(x, 3, stride=1, padding=1)
    np.testing.assert_array_equal(out, ref.max_pool2d(x, 3, stride=1, padding=1))
    assert out.max() < 0


@pytest.mark.parametrize("op", [max_pool2d, avg_pool2d], ids=["max", "avg"])
def test_stride_defaults_to_kernel_size(op):
    x = _x({"x_shape": (2, 2, 6, 7)})
    default, _ = op(x, (2, 3))
    explicit, _ = op(x, (2, 3), stride=(2, 3))
    assert default.shape == (2, 2, 3, 2)
    np.testing.assert_array_equal(default, explicit)


# ---- max-pool ties -------------------------------------------------------------------

@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_max_ties_forward_and_backward_match_reference(case):
    # integer values in {0, 1, 2}: almost every window holds several equal maxima
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, case["x_shape"]).astype(np.float64)
    kw = pool_kwargs(case)
    out, cache = max_pool2d(x, case["kernel_size"], **kw)
    np.testing.assert_array_equal(out, ref.max_pool2d(x, case["kernel_size"], **kw))
    dout = rng.integers(1, 5, out.shape).astype(np.float64)
    dx = max_pool2d_backward(dout, cache)
    # integer sums are exact, so the routing must match the first-max rule exactly
    np.testing.assert_array_equal(
        dx, ref.max_pool2d_backward(dout, x, case["kernel_size"], **kw))


def test_max_all_equal_window_routes_to_first_cell():
    x = np.full((1, 1, 2, 2), 7.0)
    out, cache = max_pool2d(x, 2)
    assert out.item() == 7.0
    dx = max_pool2d_backward(np.full((1, 1, 1, 1), 3.0), cache)
    np.testing.assert_array_equal(dx[0, 0], [[3.0, 0.0], [0.0, 0.0]])


def test_max_tie_goes_to_first_in_row_major_order():
    # the two maxima sit at (0, 1) and (1, 0): row-major order picks (0, 1)
    x = np.array([[[[0.0, 5.0], [5.0, 1.0]]]])
    _, cache = max_pool2d(x, 2)
    dx = max_pool2d_backward(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_max_overlapping_windows_accumulate():
    # stride 1 < kernel 3 on a 4x4 input: all four windows contain the single max at
    # (1, 2), so its gradient is the sum of the four upstream gradients
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 9.0
    _, cache = max_pool2d(x, 3, stride=1)
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = max_pool2d_backward(dout, cache)
    expected = np.zeros((4, 4))
    expected[1, 2] = 10.0
    np.testing.assert_array_equal(dx[0, 0], expected)


# ---- gradients -----------------------------------------------------------------------

@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_max_gradients(case):
    x = distinct_values(np.random.default_rng(1), case["x_shape"])  # no ties
    kw = pool_kwargs(case)
    check_gradients(lambda x: max_pool2d(x, case["kernel_size"], **kw),
                    max_pool2d_backward, [x])


@pytest.mark.parametrize("case", AVG_POOL_CASES)
def test_avg_gradients(case):
    x = _x(case, seed=1)
    kw = pool_kwargs(case, with_dilation=False)
    check_gradients(lambda x: avg_pool2d(x, case["kernel_size"], **kw),
                    avg_pool2d_backward, [x])


@pytest.mark.parametrize("op, backward", [(max_pool2d, max_pool2d_backward),
                                          (avg_pool2d, avg_pool2d_backward)],
                         ids=["max", "avg"])
def test_backward_does_not_accumulate(op, backward):
    x = distinct_values(np.random.default_rng(2), (2, 2, 5, 5))
    out, cache = op(x, 3, stride=1, padding=1)
    dout = np.ones_like(out)
    first = backward(dout, cache).copy()
    np.testing.assert_array_equal(backward(dout, cache), first)


# ---- dtypes --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op, backward", [(max_pool2d, max_pool2d_backward),
                                          (avg_pool2d, avg_pool2d_backward)],
                         ids=["max", "avg"])
def test_float_dtype_is_kept(op, backward, dtype):
    case = get_case(AVG_POOL_CASES, "k3_s2_p1")
    x = _x(case, dtype=dtype)
    out, cache = op(x, 3, stride=2, padding=1)
    assert out.dtype == dtype
    assert backward(np.ones_like(out), cache).dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_], ids=["int64", "uint8", "bool"])
@pytest.mark.parametrize("op, reference", [(max_pool2d, ref.max_pool2d),
                                           (avg_pool2d, ref.avg_pool2d)], ids=["max", "avg"])
def test_integer_input_becomes_float32(op, reference, dtype):
    x = np.random.default_rng(0).integers(0, 2, (1, 2, 4, 4)).astype(dtype)
    out, _ = op(x, 2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference(x, 2), rtol=1e-6)
