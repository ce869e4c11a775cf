"""The LeNet-5 (1998) ops: trainable subsampling, Euclidean RBF, scaled tanh, the MAP
criterion and the input's rescale-and-pad, against loop references and finite differences."""
import numpy as np
import pytest

import reference as ref
from gradcheck import check_gradients, numerical_grad, rel_error
from ops import (affine_pad2d, affine_pad2d_backward, conv2d, conv2d_backward,
                 conv2d_gauss_newton, euclidean_rbf, euclidean_rbf_backward, linear,
                 linear_backward, linear_gauss_newton, map_loss, map_loss_backward, scaled_tanh,
                 scaled_tanh_backward, subsample2d, subsample2d_backward,
                 subsample2d_gauss_newton)

SUBSAMPLE_CASES = [
    pytest.param((2, 3, 6, 6), 2, None, id="2x2"),
    pytest.param((1, 2, 7, 5), 2, None, id="odd-size"),
    pytest.param((2, 1, 9, 9), 3, None, id="3x3"),
    pytest.param((1, 2, 8, 8), 2, 3, id="stride3"),
    pytest.param((3, 16, 10, 10), 2, None, id="S4"),
]


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("shape,k,s", SUBSAMPLE_CASES)
def test_subsample_matches_reference(shape, k, s):
    rng = _rng()
    x = rng.standard_normal(shape)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    out, _ = subsample2d(x, w, b, k, s)
    np.testing.assert_allclose(out, ref.subsample2d(x, w, b, k, s), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,k,s", SUBSAMPLE_CASES)
def test_subsample_gradients(shape, k, s):
    rng = _rng(1)
    inputs = [rng.standard_normal(shape), rng.standard_normal(shape[1]),
              rng.standard_normal(shape[1])]
    check_gradients(lambda x, w, b: subsample2d(x, w, b, k, s), subsample2d_backward, inputs)


def test_subsample_gauss_newton_is_the_squared_slopes():
    # For a 0/1 "second derivative" on one output cell, the Gauss-Newton diagonal of each
    # input is the squared slope d out / d input: the finite-difference gradient, squared.
    rng = _rng(2)
    x, w, b = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal(2), rng.standard_normal(2)
    out, cache = subsample2d(x, w, b)
    for cell in [(0, 0, 0, 0), (0, 1, 1, 0)]:
        d2 = np.zeros_like(out)
        d2[cell] = 1.0
        d2x, d2w, d2b = subsample2d_gauss_newton(d2, cache)
        for arg, got in ((x, d2x), (w, d2w), (b, d2b)):
            slope = numerical_grad(lambda: float(subsample2d(x, w, b)[0][cell]), arg)
            assert rel_error(got, slope ** 2) < 1e-6


@pytest.mark.parametrize("geom", [dict(), dict(padding=1, groups=2), dict(stride=2)],
                         ids=["plain", "pad-groups", "stride"])
def test_conv_gauss_newton_is_the_squared_slopes(geom):
    # Each input cell and weight enters an output cell with a slope (w or x): the diagonal
    # Gauss-Newton backward of a 0/1 second derivative there is that slope squared summed
    # over the cells. Reference: the finite-difference gradient of one cell, squared.
    rng = _rng(4)
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2 // geom.get(
        "groups", 1), 3, 3)), rng.standard_normal(2)
    out, cache = conv2d(x, w, b, **geom)
    for cell in [(0, 0, 0, 0), (1, 1, 1, 0)]:
        d2 = np.zeros_like(out)
        d2[cell] = 1.0
        d2x, d2w, d2b = conv2d_gauss_newton(d2, cache)
        for arg, got in ((x, d2x), (w, d2w), (b, d2b)):
            slope = numerical_grad(lambda: float(conv2d(x, w, b, **geom)[0][cell]), arg)
            assert rel_error(got, slope ** 2) < 1e-6
    assert conv2d_gauss_newton(d2, cache, need_dx=False)[0] is None


def test_gauss_newton_backwards_skip_only_the_unread_forward():
    # The naive form runs the op forward on x^2 and w^2 and its backward on that cache;
    # the Gauss-Newton backwards build the cache without the forward product: same bits.
    rng = _rng(5)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 4, 7, 7), (5, 4, 3, 3), 5))
    out, cache = conv2d(x, w, b, padding=1)
    d2 = rng.random(out.shape).astype(np.float32)
    naive = conv2d_backward(d2, conv2d(x ** 2, w ** 2, b, padding=1)[1])
    for got, want in zip(conv2d_gauss_newton(d2, cache), naive):
        np.testing.assert_array_equal(got, want)
    x, w, b = rng.standard_normal((6, 9)), rng.standard_normal((4, 9)), rng.standard_normal(4)
    out, cache = linear(x, w, b)
    d2 = rng.random(out.shape)
    naive = linear_backward(d2, linear(x ** 2, w ** 2, b)[1])
    for got, want in zip(linear_gauss_newton(d2, cache), naive):
        np.testing.assert_array_equal(got, want)


def test_subsample_rejects_wrong_coefficients():
    with pytest.raises(ValueError, match="subsample2d: weight has shape"):
        subsample2d(np.zeros((1, 3, 4, 4)), np.ones(2), np.zeros(3))


def test_subsample_trace_values_are_the_output():
    rng = _rng(3)
    x, w, b = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal(3), rng.standard_normal(3)
    out, cache = subsample2d(x, w, b)
    tr = cache.trace()
    np.testing.assert_array_equal(tr.output(), out)
    step = tr[5]
    n, c, i, j = step.out_index
    np.testing.assert_array_equal(step.field[0], x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2])
    assert np.all(step.weight == w[c]) and step.bias == b[c]
    assert len(cache.trace(sample=1)) == 3 * 2 * 2


@pytest.mark.parametrize("n,k,d", [(1, 1, 1), (4, 10, 84), (3, 5, 7)])
def test_rbf_matches_reference_and_gradients(n, k, d):
    rng = _rng(4)
    x, c = rng.standard_normal((n, d)), rng.standard_normal((k, d))
    out, cache = euclidean_rbf(x, c)
    np.testing.assert_allclose(out, ref.euclidean_rbf(x, c), rtol=1e-12)
    check_gradients(euclidean_rbf, euclidean_rbf_backward, [x, c])
    tr = cache.trace()
    np.testing.assert_array_equal(tr.output(), out)
    assert tr.winner(0) == int(np.argmin(out[0]))


def test_rbf_is_exact_at_a_centre():
    c = np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], dtype=np.float32)
    out, _ = euclidean_rbf(c[:1], c)
    assert out[0, 0] == 0.0 and out[0, 1] == 4.0


def test_scaled_tanh_matches_reference_and_gradients():
    rng = _rng(5)
    x = rng.standard_normal((2, 3, 4)) * 2
    out, _ = scaled_tanh(x)
    np.testing.assert_allclose(out, ref.scaled_tanh(x), rtol=1e-12)
    check_gradients(scaled_tanh, scaled_tanh_backward, [x])
    # the paper's normalisation: f(1) = 1, f(-1) = -1 (to 4 digits of A = 1.7159)
    np.testing.assert_allclose(scaled_tanh(np.array([1.0, -1.0]))[0], [1, -1], atol=1e-4)


@pytest.mark.parametrize("j", [0.0, 1.5, -2.0])
def test_map_loss_matches_reference_and_gradients(j):
    rng = _rng(6)
    scores = -rng.uniform(0, 30, (5, 10))
    labels = rng.integers(0, 10, 5)
    loss, _ = map_loss(scores, labels, j)
    assert abs(float(loss) - ref.map_loss(scores, labels, j)) < 1e-10
    check_gradients(lambda s: map_loss(s, labels, j), lambda d, c: map_loss_backward(d, c),
                    [scores])


def test_map_loss_is_stable_for_huge_penalties():
    scores = -np.array([[1e4, 2e4, 5e3]])
    with np.errstate(all="raise", under="ignore"):
        loss, cache = map_loss(scores, np.array([2]), 0.0)
    # exp(-j) = 1 dominates: E = y_D + log(1 + ...) = 5000
    assert float(loss) == pytest.approx(5e3)
    assert np.isfinite(map_loss_backward(1.0, cache)).all()


def test_affine_pad_matches_reference_and_gradients():
    rng = _rng(7)
    x = rng.standard_normal((2, 1, 5, 4))
    out, _ = affine_pad2d(x, 0.4, -0.2, (2, 1), -0.1)
    np.testing.assert_allclose(out, ref.affine_pad2d(x, 0.4, -0.2, (2, 1), -0.1), rtol=1e-12)
    check_gradients(lambda a: affine_pad2d(a, 0.4, -0.2, (2, 1), -0.1), affine_pad2d_backward,
                    [x])
