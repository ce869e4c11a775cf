"""Layers, containers, networks and initialisation."""
import math

import numpy as np
import pytest

import ops
from nn import (Conv2d, Flatten, Linear, MaxPool2d, Parameter, ReLU, Sequential, build_net,
                init_std, init_weight)


def test_gradients_accumulate_until_zero_grad():
    rng = np.random.default_rng(0)
    layer = Linear(4, 3, rng=rng, dtype=np.float64)
    x = rng.standard_normal((5, 4))
    dout = rng.standard_normal((5, 3))
    layer.forward(x)
    layer.backward(dout)
    once = layer.weight.grad.copy()
    layer.forward(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    np.testing.assert_allclose(layer.bias.grad, 2 * dout.sum(0))
    grad_array = layer.weight.grad
    layer.zero_grad()
    assert layer.weight.grad is grad_array and not grad_array.any()


def test_layers_call_the_ops():
    rng = np.random.default_rng(0)
    conv = Conv2d(2, 3, 3, padding=1, rng=rng, dtype=np.float64)
    conv.bias.data[:] = rng.standard_normal(3)
    x = rng.standard_normal((2, 2, 6, 6))
    ref, cache = ops.conv2d(x, conv.weight.data, conv.bias.data, padding=1)
    np.testing.assert_array_equal(conv.forward(x), ref)
    dout = rng.standard_normal(ref.shape)
    dx_ref, dw_ref, db_ref = ops.conv2d_backward(dout, cache)
    np.testing.assert_array_equal(conv.backward(dout), dx_ref)
    np.testing.assert_array_equal(conv.weight.grad, dw_ref)
    np.testing.assert_array_equal(conv.bias.grad, db_ref)


def test_backward_without_forward_is_an_error():
    layer = ReLU()
    with pytest.raises(RuntimeError, match="without a forward"):
        layer.backward(np.ones(3))
    layer.forward(np.ones(3))
    layer.backward(np.ones(3))
    with pytest.raises(RuntimeError):
        layer.backward(np.ones(3))


def test_sequential_names_and_order():
    rng = np.random.default_rng(0)
    net = Sequential(("c", Conv2d(1, 2, 3, rng=rng)), ("r", ReLU()), ("p", MaxPool2d(2)),
                     Flatten(), Linear(2 * 3 * 3, 4, rng=rng))
    assert [n for n, _ in net.named_parameters()] == ["c.weight", "c.bias", "4.weight", "4.bias"]
    out = net.forward(np.ones((2, 1, 8, 8), np.float32))
    assert out.shape == (2, 4)
    with pytest.raises(ValueError, match="duplicate"):
        Sequential(("a", ReLU()), ("a", ReLU()))
    with pytest.raises(TypeError, match="expected an nn.Module"):
        Sequential(np.zeros(3))


def test_lenet5_architecture():
    net = build_net("lenet5", rng=np.random.default_rng(0))
    shapes = {n: p.shape for n, p in net.named_parameters()}
    assert shapes == {"c1.weight": (6, 1, 5, 5), "c1.bias": (6,), "c3.weight": (16, 6, 5, 5),
                      "c3.bias": (16,), "f5.weight": (120, 400), "f5.bias": (120,),
                      "f6.weight": (84, 120), "f6.bias": (84,), "out.weight": (10, 84),
                      "out.bias": (10,)}
    assert net.num_parameters() == 61706
    h = np.zeros((1, 1, 28, 28), np.float32)
    sizes = {}
    for name, layer in net.children.items():
        h = layer.forward(h)
        sizes[name] = h.shape[1:]
    assert sizes["c1"] == (6, 28, 28) and sizes["s2"] == (6, 14, 14)
    assert sizes["c3"] == (16, 10, 10) and sizes["s4"] == (16, 5, 5)
    assert build_net("fc2", rng=np.random.default_rng(0)).num_parameters() == 784 * 300 + 300 + 3010


def test_lenet5_wide_stays_under_100k_parameters():
    net = build_net("lenet5-wide", rng=np.random.default_rng(0))
    shapes = {n: p.shape for n, p in net.named_parameters()}
    assert shapes["c1.weight"] == (20, 1, 5, 5) and shapes["c3.weight"] == (50, 20, 5, 5)
    assert shapes["f5.weight"] == (90, 800) and shapes["out.weight"] == (10, 90)
    assert net.num_parameters() == 98570 < 100_000
    assert net.forward(np.zeros((3, 1, 28, 28), np.float32)).shape == (3, 10)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
def test_networks_take_activation(act):
    net = build_net("cnn", act, rng=np.random.default_rng(0))
    kinds = {type(layer).__name__ for layer in net}
    assert {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}[act] in kinds


def test_bad_network_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="net must be one of"):
        build_net("resnet", rng=rng)
    with pytest.raises(ValueError, match="activation"):
        build_net("fc2", "gelu", rng=rng)
    with pytest.raises(ValueError, match="init"):
        build_net("fc2", "relu", "xavier", rng=rng)
    with pytest.raises(TypeError, match="float32 or float64"):
        build_net("fc2", rng=rng, dtype=np.float16)


@pytest.mark.parametrize("scheme,expected", [("he", math.sqrt(2 / 400)),
                                             ("glorot", math.sqrt(2 / 520)),
                                             ("lecun", math.sqrt(1 / 400)), ("naive", 1.0)])
def test_init_std(scheme, expected):
    assert init_std(scheme, 400, 120) == pytest.approx(expected)
    w = init_weight(scheme, (120, 400), 400, 120, np.random.default_rng(0))
    assert w.dtype == np.float32
    assert w.std() == pytest.approx(expected, rel=0.02)
    assert abs(w.mean()) < 0.01 * expected + 1e-3


def test_state_dict_round_trip_and_errors():
    a = build_net("lenet5", rng=np.random.default_rng(0))
    b = build_net("lenet5", rng=np.random.default_rng(1))
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    state = a.state_dict()
    state["c1.weight"] = state["c1.weight"][:3]
    with pytest.raises(ValueError, match="c1.weight has shape"):
        b.load_state_dict(state)
    with pytest.raises(ValueError, match="missing"):
        b.load_state_dict({})


def test_parameter_rejects_non_float():
    with pytest.raises(TypeError, match="float ndarray"):
        Parameter(np.zeros(3, dtype=np.int64))
