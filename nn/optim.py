"""Optimisers with ``torch.optim`` update formulas: SGD (momentum, Nesterov) and Adam, and
:func:`build_optimizer`, which builds any optimiser of ours by name (SDLM included).

Each optimiser holds a list of :class:`~nn.parameter.Parameter` and updates
``p.data`` in place from ``p.grad``. ``lr`` is a plain attribute that schedules set. The
base class :class:`~nn.optimizer.Optimizer` lives in nn/optimizer.py.
"""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer
from .sdlm import MU, SDLM


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    With ``g = grad + weight_decay * p``::

        buf = g                               (first step)
        buf = momentum * buf + (1 - dampening) * g   (later steps)
        g   = g + momentum * buf  if nesterov else buf
        p  -= lr * g

    Parameters
    ----------
    params : iterable of Parameter
    lr : float
    momentum : float
    dampening : float
    weight_decay : float
    nesterov : bool
        Requires ``momentum > 0`` and ``dampening == 0``.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr, weight_decay)
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov requires momentum > 0 and dampening == 0 "
                             f"(got momentum={momentum}, dampening={dampening})")
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            g = self._grad(p)
            if self.momentum:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = g.copy()
                else:
                    buf *= self.momentum
                    buf += (1.0 - self.dampening) * g
                g = g + self.momentum * buf if self.nesterov else buf
            p.data -= self.lr * g

    def state_dict(self) -> dict[str, np.ndarray]:
        return self._slot_arrays("momentum_buffer", self.buffers)

    def load_state_dict(self, state) -> None:
        self.buffers = self._load_slot("momentum_buffer", state)


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (L2 ``weight_decay`` added to the gradient, not AdamW).

    With ``g = grad + weight_decay * p`` and step count ``t`` (starting at 1)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        self.betas, self.eps = (float(b1), float(b2)), float(eps)
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1.0 - b1 ** self.t)
        sqrt_bc2 = math.sqrt(1.0 - b2 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = self._grad(p)
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= sqrt_bc2
            denom += self.eps
            p.data -= step_size * (m / denom)

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"step": np.array(self.t)}
        state.update(self._slot_arrays("exp_avg", self.m))
        state.update(self._slot_arrays("exp_avg_sq", self.v))
        return state

    def load_state_dict(self, state) -> None:
        self.t = int(state["step"])
        self.m = self._load_slot("exp_avg", state)
        self.v = self._load_slot("exp_avg_sq", state)
        if any(a is None for a in self.m + self.v):
            raise ValueError("Adam state is missing exp_avg/exp_avg_sq arrays")


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "sdlm")


def build_optimizer(name: str, params, lr: float, weight_decay: float = 0.0,
                    momentum: float = 0.9, mu: float | None = None,
                    batch_size: int = 1) -> Optimizer:
    """Optimiser by name: "sgd" (plain), "momentum", "nesterov" (momentum 0.9), "adam" or
    "sdlm" (:class:`nn.sdlm.SDLM`, whose damping ``mu`` None leaves at the paper's, and
    whose curvature refreshes count the ``batch_size`` patterns of each step)."""
    if name == "sgd":
        return SGD(params, lr, weight_decay=weight_decay)
    if name == "momentum":
        return SGD(params, lr, momentum=momentum, weight_decay=weight_decay)
    if name == "nesterov":
        return SGD(params, lr, momentum=momentum, weight_decay=weight_decay, nesterov=True)
    if name == "adam":
        return Adam(params, lr, weight_decay=weight_decay)
    if name == "sdlm":
        return SDLM(params, lr, mu=MU if mu is None else mu, weight_decay=weight_decay,
                    batch_size=batch_size)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
