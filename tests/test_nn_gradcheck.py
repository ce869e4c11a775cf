"""Float64 finite-difference checks of whole networks: loss gradients w.r.t. parameters and input."""
import numpy as np
import pytest

import ops
from nn import build_net

EPS = 1e-6


def loss_of(net, x, y):
    logits = net.forward(x)
    loss, _ = ops.cross_entropy(logits, y)
    for layer in net:          # forward-only evaluation: drop the caches
        layer.cache = None
    return float(loss)


def numeric(net, x, y, array, index):
    old = array[index]
    array[index] = old + EPS
    plus = loss_of(net, x, y)
    array[index] = old - EPS
    minus = loss_of(net, x, y)
    array[index] = old
    return (plus - minus) / (2 * EPS)


@pytest.mark.parametrize("name,act", [("lenet5", "relu"), ("lenet5", "tanh"), ("fc2", "sigmoid"),
                                      ("fc2", "relu"), ("cnn", "relu"), ("lenet5-wide", "relu")])
def test_network_gradients_match_finite_differences(name, act):
    rng = np.random.default_rng(1)
    net = build_net(name, act, "glorot", rng=rng, dtype=np.float64)
    for p in net.parameters():                      # non-zero biases exercise their gradients
        if p.data.ndim == 1:
            p.data[:] = rng.normal(0, 0.1, p.data.shape)
    x = rng.standard_normal((2, 1, 28, 28))
    y = np.array([3, 7])
    logits = net.forward(x)
    assert logits.dtype == np.float64 and logits.shape == (2, 10)
    _, cache = ops.cross_entropy(logits, y)
    net.zero_grad()
    dx = net.backward(ops.cross_entropy_backward(1.0, cache))
    assert dx.shape == x.shape

    for pname, p in net.named_parameters():
        assert p.grad.dtype == np.float64
        coords = [tuple(rng.integers(0, s) for s in p.data.shape) for _ in range(4)]
        for c in coords:
            num = numeric(net, x, y, p.data, c)
            assert p.grad[c] == pytest.approx(num, rel=1e-4, abs=1e-7), (pname, c)
    for _ in range(6):
        c = tuple(rng.integers(0, s) for s in x.shape)
        assert dx[c] == pytest.approx(numeric(net, x, y, x, c), rel=1e-4, abs=1e-7), ("input", c)


def test_float32_network_stays_float32():
    net = build_net("lenet5", rng=np.random.default_rng(0))
    x = np.zeros((3, 1, 28, 28), np.float32)
    out = net.forward(x)
    dx = net.backward(np.ones_like(out))
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in net.parameters())
