"""Global-norm gradient clipping with ``torch.nn.utils.clip_grad_norm_`` semantics."""

from __future__ import annotations

import math

import numpy as np


def grad_norm(params) -> float:
    """2-norm of all gradients concatenated (computed in float64)."""
    total = 0.0
    for p in params:
        g = p.grad.ravel().astype(np.float64, copy=False)
        total += float(np.dot(g, g))
    return math.sqrt(total)


def clip_grad_norm_(params, max_norm: float) -> float:
    """Scale all gradients in place so their global 2-norm is at most ``max_norm``.

    ``total = ||concat(grads)||_2``; ``coef = max_norm / (total + 1e-6)``; gradients are
    multiplied by ``coef`` only when ``coef < 1``.

    Parameters
    ----------
    params : iterable of Parameter
    max_norm : float
        Must be > 0.

    Returns
    -------
    float
        The total norm *before* clipping.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be > 0, got {max_norm}")
    params = list(params)
    total = grad_norm(params)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad *= p.grad.dtype.type(coef)
    return total
