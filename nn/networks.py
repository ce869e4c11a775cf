"""The networks: ``fc2``, ``cnn``, ``lenet5``, ``lenet5-wide`` and ``lenet5-1998``
(:mod:`nn.lenet1998`).

All take 28x28 single-channel images (N, 1, 28, 28) and return 10 logits (N, 10).
Each hidden layer is followed by the chosen activation; the last layer gives logits
(softmax lives in the loss).
"""

from __future__ import annotations

import numpy as np

from .containers import Sequential
from .init import INITS
from .layers import ACTIVATIONS, Conv2d, Flatten, Linear, MaxPool2d, activation
from .lenet1998 import lenet5_1998

NETS = ("fc2", "cnn", "lenet5", "lenet5-wide", "lenet5-1998")


def _check(activation_name: str, init: str, dtype) -> np.dtype:
    if activation_name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation_name!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def fc2(activation_name: str = "relu", init: str = "he", *, rng: np.random.Generator,
        dtype=np.float32, hidden: int = 300) -> Sequential:
    """Two-layer fully connected net 784-300-10 (LeCun et al. 1998's "2-layer NN, 300 HU").

    Parameters
    ----------
    activation_name : {"relu", "tanh", "sigmoid"}
    init : {"he", "glorot", "lecun", "naive"}
    rng : np.random.Generator
    dtype : float32 (default) or float64
    hidden : int
        Hidden units (300 in the paper's table).
    """
    dtype = _check(activation_name, init, dtype)
    kw = dict(init=init, rng=rng, dtype=dtype)
    return Sequential(
        ("flat", Flatten()),
        ("f1", Linear(28 * 28, hidden, **kw)), ("a1", activation(activation_name)),
        ("f2", Linear(hidden, 10, **kw)),
    )


def cnn(activation_name: str = "relu", init: str = "he", *, rng: np.random.Generator,
        dtype=np.float32) -> Sequential:
    """A small conv-pool-linear net: conv 8@3x3 (pad 1) -> pool -> conv 16@3x3 (pad 1) -> pool -> 10.

    (N,1,28,28) -> (N,8,28,28) -> (N,8,14,14) -> (N,16,14,14) -> (N,16,7,7) -> (N,784) -> (N,10).
    """
    dtype = _check(activation_name, init, dtype)
    kw = dict(init=init, rng=rng, dtype=dtype)
    return Sequential(
        ("c1", Conv2d(1, 8, 3, padding=1, **kw)), ("a1", activation(activation_name)),
        ("p1", MaxPool2d(2)),
        ("c2", Conv2d(8, 16, 3, padding=1, **kw)), ("a2", activation(activation_name)),
        ("p2", MaxPool2d(2)),
        ("flat", Flatten()),
        ("f3", Linear(16 * 7 * 7, 10, **kw)),
    )


def lenet5(activation_name: str = "relu", init: str = "he", *, rng: np.random.Generator,
           dtype=np.float32) -> Sequential:
    """LeNet-5 (LeCun et al. 1998) with max pooling.

    C1 conv 6@5x5, padding 2 (the paper's 32x32 input is MNIST's 28x28 padded by 2)
    -> S2 max pool 2x2 -> C3 conv 16@5x5 (full connection table) -> S4 max pool 2x2
    -> F5 120 -> F6 84 -> output 10 logits.
    The paper's S2/S4 were trainable subsampling layers and its output layer was RBF
    units; here pooling is max pooling and the output is a linear layer with softmax
    cross-entropy.

    Shapes: (N,1,28,28) -> C1 (N,6,28,28) -> S2 (N,6,14,14) -> C3 (N,16,10,10)
    -> S4 (N,16,5,5) -> (N,400) -> F5 (N,120) -> F6 (N,84) -> (N,10).
    """
    dtype = _check(activation_name, init, dtype)
    kw = dict(init=init, rng=rng, dtype=dtype)
    return Sequential(
        ("c1", Conv2d(1, 6, 5, padding=2, **kw)), ("a1", activation(activation_name)),
        ("s2", MaxPool2d(2)),
        ("c3", Conv2d(6, 16, 5, **kw)), ("a3", activation(activation_name)),
        ("s4", MaxPool2d(2)),
        ("flat", Flatten()),
        ("f5", Linear(16 * 5 * 5, 120, **kw)), ("a5", activation(activation_name)),
        ("f6", Linear(120, 84, **kw)), ("a6", activation(activation_name)),
        ("out", Linear(84, 10, **kw)),
    )


def lenet5_wide(activation_name: str = "relu", init: str = "he", *, rng: np.random.Generator,
                dtype=np.float32) -> Sequential:
    """LeNet-5's layout widened to 20 and 50 maps, with one hidden layer of 90: 98,570
    parameters, under the 100k of Fashion-MNIST's small-net benchmark entries.

    On Fashion-MNIST LeNet-5 fits its training set no better than its test set (92 %
    running training accuracy with shifts): it lacks capacity, mostly in its 6 first-layer
    maps. Widening the convolutions (the layout of Caffe's LeNet, 20-50) costs about 2x
    LeNet-5's time a step; the hidden layer is cut from 500 to 90 to stay under 100k.

    Shapes: (N,1,28,28) -> C1 (N,20,24,24) -> S2 (N,20,12,12) -> C3 (N,50,8,8)
    -> S4 (N,50,4,4) -> (N,800) -> F5 (N,90) -> (N,10).
    """
    dtype = _check(activation_name, init, dtype)
    kw = dict(init=init, rng=rng, dtype=dtype)
    return Sequential(
        ("c1", Conv2d(1, 20, 5, **kw)), ("a1", activation(activation_name)),
        ("s2", MaxPool2d(2)),
        ("c3", Conv2d(20, 50, 5, **kw)), ("a3", activation(activation_name)),
        ("s4", MaxPool2d(2)),
        ("flat", Flatten()),
        ("f5", Linear(50 * 4 * 4, 90, **kw)), ("a5", activation(activation_name)),
        ("out", Linear(90, 10, **kw)),
    )


def _lenet5_1998(activation_name: str = "scaled_tanh", init: str = "lecun", *, modern=(),
                 rng: np.random.Generator, dtype=np.float32):
    dtype = _check(activation_name, init, dtype)
    return lenet5_1998(activation_name, init, modern=modern, rng=rng, dtype=dtype)


_BUILDERS = {"fc2": fc2, "cnn": cnn, "lenet5": lenet5, "lenet5-wide": lenet5_wide,
             "lenet5-1998": _lenet5_1998}


def build_net(name: str, activation_name: str = "relu", init: str = "he", *, modern=(),
              rng: np.random.Generator, dtype=np.float32) -> Sequential:
    """Build a network by name (one of :data:`NETS`); ``modern`` swaps
    parts of lenet5-1998 for the modern LeNet-5's (:data:`nn.lenet1998.MODERN_PARTS`)."""
    if name not in _BUILDERS:
        raise ValueError(f"net must be one of {', '.join(NETS)}, got {name!r}")
    if modern:
        if name != "lenet5-1998":
            raise ValueError(f"modern parts are for lenet5-1998 only, not {name}")
        return _BUILDERS[name](activation_name, init, modern=modern, rng=rng, dtype=dtype)
    return _BUILDERS[name](activation_name, init, rng=rng, dtype=dtype)
