"""conv1d, max_pool1d, avg_pool1d: naive references, float64 gradients, 1-D traces."""
import numpy as np
import pytest

import reference as ref
from gradcheck import check_gradients
from ops import (avg_pool1d, avg_pool1d_backward, conv1d, conv1d_backward, max_pool1d,
                 max_pool1d_backward)
from ops.conv1d import WindowTrace1d

CONV = [  # x_shape, w_shape, stride, padding, dilation
    ((2, 2, 9), (3, 2, 3), 1, 0, 1),
    ((2, 1, 10), (2, 1, 3), 2, 1, 1),
    ((1, 2, 11), (2, 2, 3), 1, 2, 2),
    ((2, 3, 7), (1, 3, 2), 3, 0, 1),
    ((1, 1, 5), (1, 1, 5), 1, 0, 1),
]
POOL = [  # x_shape, kernel, stride, padding, dilation
    ((2, 2, 9), 2, None, 0, 1),
    ((2, 2, 9), 3, 1, 1, 1),
    ((1, 2, 10), 2, 3, 0, 1),
    ((2, 1, 11), 3, 2, 2, 2),
]


@pytest.mark.parametrize("xs, ws, s, p, d", CONV)
def test_conv1d_forward_gradients_trace(xs, ws, s, p, d):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    out, cache = conv1d(x, w, b, stride=s, padding=p, dilation=d)
    np.testing.assert_allclose(out, ref.conv1d(x, w, b, s, p, d), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, w, b: conv1d(x, w, b, s, p, d), conv1d_backward, [x, w, b])
    tr = cache.trace()
    assert isinstance(tr, WindowTrace1d) and tr.op == "conv1d"
    assert tr.field.shape == (out.size, xs[1], ws[2]) and tr.input.shape == xs
    assert np.array_equal(tr.output(), out)   # the op's own output, bit for bit
    last = len(tr) - 1
    assert np.array_equal(tr.cells(last), tr.origin[last] + d * np.arange(ws[2]))
    assert tr.origin[last] == tr.out_index[last, 2] * s


@pytest.mark.parametrize("kind, xs, k, s, p, d",
                         [("max",) + c for c in POOL] + [("avg",) + c for c in POOL if c[4] == 1])
def test_pool1d_forward_gradients_trace(kind, xs, k, s, p, d):
    rng = np.random.default_rng(1)
    x = (rng.permutation(int(np.prod(xs))) * 0.1).reshape(xs)   # distinct: no max ties
    if kind == "max":
        fwd = lambda x: max_pool1d(x, k, s, p, d)  # noqa: E731
        bwd = max_pool1d_backward
    else:
        fwd = lambda x: avg_pool1d(x, k, s, p)  # noqa: E731
        bwd = avg_pool1d_backward
    out, cache = fwd(x)
    np.testing.assert_allclose(out, ref.pool1d(x, kind, k, s, p, d), rtol=1e-12)
    check_gradients(fwd, bwd, [x])
    tr = cache.trace(sample=0)
    assert tr.op == f"{kind}_pool1d" and len(tr) == out[0].size
    np.testing.assert_array_equal(tr.value, out[0].reshape(-1))
    if kind == "max":
        assert np.array_equal(tr.field[np.arange(len(tr)), 0, tr.argmax], tr.value)


@pytest.mark.parametrize("call, match", [
    (lambda: conv1d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3))), "conv1d: x has shape"),
    (lambda: conv1d(np.zeros((1, 2, 4)), np.zeros((1, 1, 3))), "conv1d: weight has 1 input"),
    (lambda: conv1d(np.zeros((1, 1, 4)), np.zeros((1, 1, 3)), stride=(1, 2)), "conv1d: stride"),
    (lambda: conv1d(np.zeros((1, 1, 2)), np.zeros((1, 1, 3))), "conv1d: kernel size 3"),
    (lambda: max_pool1d(np.zeros((1, 1, 4)), 2, padding=2), "max_pool1d: padding=2"),
    (lambda: avg_pool1d(np.zeros((1, 1, 2)), 3), "avg_pool1d: kernel_size=3"),
])
def test_errors_name_the_1d_op(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.parametrize("k, d", [(3, 1), (4, 1), (2, 3)])
def test_conv1d_same_groups_as_torch(k, d):
    """padding='same' keeps the length (odd cell on the right) and groups split the channels."""
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, k)), rng.standard_normal(6)
    out, cache = conv1d(x, w, b, padding="same", dilation=d, groups=2)
    assert out.shape == (2, 6, 9)
    total = d * (k - 1)
    xp = np.pad(x, ((0, 0), (0, 0), (total // 2, total - total // 2)))
    expected = np.concatenate([ref.conv1d(xp[:, :2], w[:3], b[:3], 1, 0, d),
                               ref.conv1d(xp[:, 2:], w[3:], b[3:], 1, 0, d)], axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, w, b: conv1d(x, w, b, padding="same", dilation=d, groups=2),
                    conv1d_backward, [x, w, b])
    assert np.array_equal(cache.trace().output(), out)
    assert np.array_equal(conv1d(x, w, b, padding="valid", groups=2)[0],
                          conv1d(x, w, b, padding=0, groups=2)[0])


def test_conv1d_same_refuses_strides():
    with pytest.raises(ValueError, match="conv1d: padding='same' is not supported for strided"):
        conv1d(np.zeros((1, 1, 5)), np.zeros((1, 1, 3)), stride=2, padding="same")
