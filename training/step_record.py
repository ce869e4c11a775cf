"""One SGD step of a tiny network on one digit, recorded layer by layer for the
``training-step`` GIF: conv → relu → maxpool → flatten → linear → cross-entropy.

The step is the real one: each layer's ``forward`` and ``backward`` (the ``ops`` functions),
``ops.cross_entropy`` and ``nn.optim.SGD``. Every gradient kept for drawing is read from the
layer's backward trace (``cache.backward_trace(dout)``), taken from the very caches the
backward then consumes; :func:`record_step` checks that each trace's sum equals what the
layer's backward returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import ops
from nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from nn.optim import SGD


def tiny_net(rng: np.random.Generator, size: int = 14, filters: int = 2,
             classes: int = 10) -> Sequential:
    """conv(1 → ``filters``, 3×3, padding 1) → relu → maxpool(2) → flatten → linear."""
    flat = filters * (size // 2) ** 2
    return Sequential(("conv", Conv2d(1, filters, 3, padding=1, rng=rng, dtype=np.float64)),
                      ("relu", ReLU()), ("pool", MaxPool2d(2)), ("flat", Flatten()),
                      ("fc", Linear(flat, classes, rng=rng, dtype=np.float64)))


@dataclass
class StepRecord:
    """What one SGD step computed, in drawing order.

    Attributes
    ----------
    x : ndarray (1, 1, H, W)
    acts : dict name -> ndarray
        Each layer's output (conv, relu, pool, flat, fc = the logits).
    probs : ndarray (K,)
    loss, loss_after : float
        Cross-entropy before the step and after it (same digit).
    douts : dict name -> ndarray
        ∂L/∂(layer output), read from the next layer's backward trace.
    grads : dict "conv.weight" etc. -> ndarray
        Parameter gradients from the weight traces (and Σ ∂L/∂out for biases).
    before, after : dict "conv.weight" etc. -> ndarray
        The parameters before and after the step.
    label : int
    lr : float
    probs_after : ndarray (K,)
    """
    x: np.ndarray
    acts: dict
    probs: np.ndarray
    loss: float
    douts: dict
    grads: dict
    before: dict
    after: dict
    label: int
    lr: float
    loss_after: float
    probs_after: np.ndarray


def record_step(model: Sequential, x: np.ndarray, label: int, lr: float = 0.5) -> StepRecord:
    """Run one forward pass, one backward pass and one SGD step of ``model`` on ``x``.

    Raises
    ------
    AssertionError
        If a backward trace's sum differs from the layer's own gradient (it never should:
        tests/test_ops_backtrace.py proves it for every op).
    """
    names = list(model.children)
    acts, caches = {}, {}
    h = x
    for n in names:
        h = model.children[n].forward(h)
        acts[n] = h
        caches[n] = model.children[n].cache
    probs = ops.softmax(h, axis=-1)[0]
    loss, ce = ops.cross_entropy(h, np.array([label]))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    model.zero_grad()
    d = ce.backward_trace(1.0).output()
    douts, grads = {}, {}
    for n in reversed(names):
        layer, cache = model.children[n], caches[n]
        douts[n] = d
        if isinstance(layer, (Conv2d, Linear)):
            grads[f"{n}.weight"] = cache.backward_trace(d, wrt="weight").output()
            if layer.bias is not None:
                grads[f"{n}.bias"] = d.sum(axis=tuple(i for i in range(d.ndim) if i != 1))
        traced = None if isinstance(layer, Flatten) else cache.backward_trace(d).output()
        d = layer.backward(d)
        if traced is not None:
            assert np.allclose(traced, d, rtol=1e-12, atol=1e-15), n
        for k in ("weight", "bias"):
            p = getattr(layer, k, None)
            if p is not None:
                assert np.allclose(grads[f"{n}.{k}"], p.grad, rtol=1e-12, atol=1e-15), n
    SGD(model.parameters(), lr=lr).step()
    after = {k: v.copy() for k, v in model.state_dict().items()}
    logits_after = model.forward(x)
    for layer in model.children.values():
        layer.cache = None
    loss_after = float(ops.cross_entropy(logits_after, np.array([label]))[0])
    model.zero_grad()
    return StepRecord(x, acts, probs, float(loss), douts, grads, before, after, int(label),
                      float(lr), loss_after, ops.softmax(logits_after, axis=-1)[0])


def digit_step(image: np.ndarray, label: int, lr: float = 0.5, seed: int = 0) -> StepRecord:
    """The ``training-step`` GIF's step: a (28, 28) digit in [0, 1], averaged down to 14×14
    (``ops.avg_pool2d``), through a freshly initialised :func:`tiny_net` (seed)."""
    img = np.asarray(image, dtype=np.float64)
    if img.shape != (28, 28):
        raise ValueError(f"the image is {img.shape[0]}×{img.shape[1]}, expected 28×28")
    x, _ = ops.avg_pool2d(img[None, None], 2)
    return record_step(tiny_net(np.random.default_rng(seed)), x, int(label), lr)
