"""The base class of every optimiser: parameter list, ``lr``, ``weight_decay``, ``zero_grad``
and the (de)serialisation of per-parameter state.

Its own module, as ``torch.optim.optimizer``: the optimisers of :mod:`nn.optim` (SGD, Adam)
and :mod:`nn.sdlm` (SDLM) build on it, and :func:`nn.optim.build_optimizer` names them all.
"""

from __future__ import annotations

import math

import numpy as np

from .parameter import Parameter


class Optimizer:
    """Base class: parameter list, ``lr``, ``zero_grad`` and state (de)serialisation."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0) -> None:
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a positive finite number, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, p: Parameter) -> np.ndarray:
        """The gradient with L2 weight decay added (``g + wd * p``), as torch does."""
        if self.weight_decay:
            return p.grad + self.weight_decay * p.data
        return p.grad

    # Per-parameter state is stored as {"<slot>": [array or None per parameter]}
    # plus scalars, so it can be saved in an .npz file.
    def state_dict(self) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:  # pragma: no cover
        raise NotImplementedError

    def _slot_arrays(self, slot: str, values) -> dict[str, np.ndarray]:
        return {f"{slot}.{i}": v for i, v in enumerate(values) if v is not None}

    def _load_slot(self, slot: str, state) -> list:
        out = []
        for i, p in enumerate(self.params):
            v = state.get(f"{slot}.{i}")
            if v is not None:
                v = np.asarray(v, dtype=p.data.dtype)
                if v.shape != p.data.shape:
                    raise ValueError(f"optimizer state {slot}.{i} has shape {v.shape}, "
                                     f"expected {p.data.shape}")
                v = v.copy()
            out.append(v)
        return out
