"""Memory layout: windowed ops return batch-last memory, and every op gives the same
numbers whatever the memory order of its inputs (NCHW, batch-last or a strided slice)."""
import numpy as np
import pytest

import ops
from ops._window import is_batch_last

RNG = np.random.default_rng(7)


def _layouts(x):
    """The same logical (N, C, H, W) array in three memory orders."""
    last = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    big = np.zeros(x.shape[:3] + (2 * x.shape[3],), dtype=x.dtype)
    big[..., ::2] = x
    strided = big[..., ::2]
    assert not is_batch_last(x) and is_batch_last(last) and not strided.flags.c_contiguous
    return {"nchw": x, "batch_last": last, "strided": strided}


def _x(shape=(3, 2, 9, 7)):
    return RNG.standard_normal(shape).astype(np.float32)


def _tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)


OPS = {
    "conv2d": (lambda x: ops.conv2d(x, np.ones((4, 2, 3, 2), np.float32) * 0.1, np.ones(4, np.float32),
                                    stride=(2, 1), padding=1, dilation=(1, 2)),
               lambda d, c: ops.conv2d_backward(d, c)),
    "max_pool2d": (lambda x: ops.max_pool2d(x, 3, 2, padding=1), ops.max_pool2d_backward),
    "avg_pool2d": (lambda x: ops.avg_pool2d(x, 2, 1, padding=1), ops.avg_pool2d_backward),
    "relu": (ops.relu, ops.relu_backward),
    "flatten": (ops.flatten, ops.flatten_backward),
}


@pytest.mark.parametrize("name", OPS)
def test_results_do_not_depend_on_input_memory_order(name):
    forward, backward = OPS[name]
    x = _x()
    out0, cache0 = forward(x)
    dout = RNG.standard_normal(out0.shape).astype(np.float32)
    grads0 = backward(dout, cache0)
    for label, xl in _layouts(x).items():
        out, cache = forward(xl)
        np.testing.assert_array_equal(out, out0, err_msg=label)
        for dl in _layouts(dout).values() if dout.ndim == 4 else [dout]:
            for g, g0 in zip(_tuple(backward(dl, cache)), _tuple(grads0)):
                np.testing.assert_allclose(g, g0, rtol=1e-6, atol=1e-6, err_msg=label)


@pytest.mark.parametrize("name", ["conv2d", "max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("layout", ["nchw", "batch_last", "strided"])
def test_windowed_ops_return_batch_last_memory(name, layout):
    forward, backward = OPS[name]
    x = _layouts(_x())[layout]
    out, cache = forward(x)
    assert is_batch_last(out)
    dx = _tuple(backward(np.ones_like(out), cache))[0]
    assert dx.shape == x.shape


@pytest.mark.parametrize("name", ["relu", "flatten"])
def test_shape_ops_keep_batch_last_memory(name):
    forward, backward = OPS[name]
    x = _layouts(_x())["batch_last"]
    out, cache = forward(x)
    if name == "relu":
        assert is_batch_last(out)
    dx = backward(np.ones_like(out), cache)
    assert is_batch_last(dx)


def test_a_batch_last_chain_never_copies_into_nchw():
    """conv -> relu -> pool -> conv: each result stays batch-last, so no op pays a transpose."""
    x = _x((4, 1, 12, 12))
    h, _ = ops.conv2d(x, _x((3, 1, 3, 3)), padding=1)
    for step in (ops.relu, lambda a: ops.max_pool2d(a, 2),
                 lambda a: ops.conv2d(a, _x((5, 3, 3, 3))), ops.tanh, ops.sigmoid):
        h, _ = step(h)
        assert is_batch_last(h)
