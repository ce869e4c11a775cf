"""Weight initialisation schemes.

Every scheme draws weights from a zero-mean normal distribution whose standard deviation
depends on the layer's fan-in (inputs feeding one output unit) and fan-out:

=========  ============================  ==========================================
name       std                           meant for
=========  ============================  ==========================================
``he``     ``sqrt(2 / fan_in)``          ReLU (He et al. 2015, "kaiming_normal")
``glorot`` ``sqrt(2 / (fan_in+fan_out))`` tanh / sigmoid (Glorot & Bengio 2010)
``lecun``  ``sqrt(1 / fan_in)``          tanh / SELU (LeCun et al. 1998)
``naive``  ``1``                         nothing: N(0, 1) weights, only to show
                                         exploding activations and gradients
=========  ============================  ==========================================

``lecun98`` is the exception: LeNet-5 (1998, Appendix A) draws weights *uniformly* in
±2.4/fan_in (std ``2.4 / fan_in / sqrt(3)``), as the paper prints it. Its sums shrink layer
by layer (C5's and F6's start near 0), so the 1998 net itself defaults to ``lecun``.

Biases start at zero.
"""

from __future__ import annotations

import math

import numpy as np

INITS = ("he", "glorot", "lecun", "naive", "lecun98")
# LeCun et al. 1998, Appendix A: weights uniform in +-2.4/F_in.
LECUN98_RANGE = 2.4


def init_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the normal distribution used by ``scheme``.

    Parameters
    ----------
    scheme : {"he", "glorot", "lecun", "naive"}
    fan_in, fan_out : int
        Inputs per output unit and outputs per input unit (for a conv layer
        ``C_in*kh*kw`` and ``C_out*kh*kw``).

    Returns
    -------
    float
    """
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)
    if scheme == "glorot":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "lecun":
        return math.sqrt(1.0 / fan_in)
    if scheme == "naive":
        return 1.0
    if scheme == "lecun98":
        return LECUN98_RANGE / fan_in / math.sqrt(3.0)   # the std of U(-r, r) is r/sqrt(3)
    raise ValueError(f"init: unknown scheme {scheme!r} (expected one of {', '.join(INITS)})")


def init_weight(scheme: str, shape: tuple[int, ...], fan_in: int, fan_out: int,
                rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Draw a weight array.

    Parameters
    ----------
    scheme : {"he", "glorot", "lecun", "naive"}
    shape : tuple of int
        Weight shape, e.g. (F, C, kh, kw) or (out, in).
    fan_in, fan_out : int
        (``lecun98`` also takes an array of per-output fan-ins that broadcasts against
        ``shape``, for partially connected layers such as LeNet-5's C3.)
    rng : np.random.Generator
        The run's single generator (its state is checkpointed).
    dtype : np.float32 or np.float64

    Returns
    -------
    np.ndarray of ``shape`` and ``dtype``
    """
    if scheme == "lecun98":
        r = LECUN98_RANGE / np.asarray(fan_in, dtype=np.float64)
        return (rng.uniform(-1.0, 1.0, shape) * r).astype(dtype, copy=False)
    std = init_std(scheme, fan_in, fan_out)
    return (rng.standard_normal(shape) * std).astype(dtype, copy=False)
