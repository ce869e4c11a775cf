"""Stochastic diagonal Levenberg-Marquardt (LeCun et al. 1998, Appendix C; LeCun, Bottou,
Orr and Müller, "Efficient BackProp", 1998).

Each parameter k gets its own step ``eta / (mu + h_kk)``, where ``h_kk`` is the diagonal of
the Gauss-Newton approximation of the Hessian, averaged over a few hundred patterns
(500 in the paper) before each pass. The diagonal backpropagates like a gradient, but
through *squared* slopes; it drops the terms with second derivatives of the squashing
function and, layer by layer, the cross terms between units (so it is never negative, and
exact only for the last layer's weights):

    d2E/da2 = f'(a)^2 d2E/dx2       (squashing: the elementwise backward, applied twice)
    d2E/dx2 = sum w^2 d2E/da2       (conv, linear, subsampling: squared weights)
    h_w     = sum x^2 d2E/da2       (the weight's own input, squared)

At the output, the curvature is that of the penalty of the right class, y_D = |x - w_D|^2,
which dominates the MAP criterion: d2y_D/dx_j^2 = 2 for every F6 unit. (The log term's own
Gauss-Newton part is left out, as the paper's Appendix C does for its criteria.) A net
with a linear output read by softmax cross-entropy (the "output" ablation) starts from the
diagonal of that loss's Gauss-Newton matrix in the logits, p(1 - p).
"""

from __future__ import annotations

import math

import numpy as np

import ops

from .layers import _Activation, Conv2d, Flatten, Linear, MaxPool2d
from .lenet1998 import MaskedConv2d, RBFOutput, Subsample2d
from .optimizer import Optimizer

CURVATURE_SAMPLES = 500   # patterns per Hessian estimate (the paper's Appendix C)
MU = 0.02                 # the paper's mu: caps each step at eta / mu
# Mini-batch steps move every weight at once, and a stale estimate lets C5's 400 inputs
# push it into saturation within a few dozen steps of the start (measured, docs/
# lenet1998.md). So the estimate is also refreshed after each of the first WARMUP_STEPS
# steps (counted in steps: 20 estimates whatever the batch; one pattern at a time, the
# first estimate went stale within 5 patterns) and then every REFRESH_PATTERNS patterns.
# The schedule counts patterns seen, as the paper's once-per-pass estimate does, so that
# one pattern per step does not estimate 32x as often per pattern as batch 32 (at batch 1,
# counted in steps, the estimates took 64% of a pass). At batch 32 these are the
# step counts the shipped recipe was tuned with: 200, 2,000 and 20 steps.
WARMUP_STEPS = 20
REFRESH_PATTERNS = 6_400
# While the net is young (the first EARLY_PATTERNS patterns, about one pass, when the
# learning rate warms up) the curvature grows fast: a 6,400-pattern-old estimate let F6
# saturate in 2 of 3 seeds at batch 32 and 8e-3; refreshing every EARLY_REFRESH_PATTERNS
# costs ~1 s/pass at batch 32.
EARLY_PATTERNS = 64_000
EARLY_REFRESH_PATTERNS = 640


def _gn_layer(layer, d2, hess, first=False):
    """Gauss-Newton backward of one layer: d2E/d(out)^2 -> d2E/d(in)^2 (None for the
    ``first`` layer of the net); parameter curvature is added into ``hess[id(param)]``."""
    cache = layer._take_cache()
    if isinstance(layer, MaskedConv2d):
        cache = cache.conv
    if isinstance(layer, _Activation):
        return layer._op_backward(layer._op_backward(d2, cache), cache)
    if isinstance(layer, (Flatten,)):
        return ops.flatten_backward(d2, cache)
    if isinstance(layer, MaxPool2d):
        return ops.max_pool2d_backward(d2, cache)      # routing: slopes are 0 or 1
    if isinstance(layer, RBFOutput):
        return np.full(cache.x.shape, 2.0 / len(cache.x), dtype=cache.x.dtype)
    if isinstance(layer, Subsample2d):
        d2x, hw, hb = ops.subsample2d_gauss_newton(d2, cache)
        hess[id(layer.weight)] += hw
        hess[id(layer.bias)] += hb
        return d2x
    if isinstance(layer, Conv2d):
        # the first layer's input (the pixels) needs no curvature
        d2x, hw, hb = ops.conv2d_gauss_newton(d2, cache, need_dx=not first)
        hess[id(layer.weight)] += hw * layer.mask if isinstance(layer, MaskedConv2d) else hw
        if layer.bias is not None:
            hess[id(layer.bias)] += hb
        return d2x
    if isinstance(layer, Linear):
        d2x, hw, hb = ops.linear_gauss_newton(d2, cache)
        hess[id(layer.weight)] += hw
        if layer.bias is not None:
            hess[id(layer.bias)] += hb
        return d2x
    raise TypeError(f"SDLM: no Gauss-Newton rule for {type(layer).__name__} layers")


def gauss_newton_diagonal(model, x: np.ndarray) -> list[np.ndarray]:
    """The Gauss-Newton Hessian diagonal of the mean loss over the patterns ``x``, one array
    per parameter (in ``model.parameters()`` order). Needs an RBF output layer."""
    layers = list(model.children.values())
    if not layers or not isinstance(layers[-1], (RBFOutput, Linear)):
        raise TypeError("SDLM: the Gauss-Newton diagonal needs a net with an RBF or linear "
                        "output (--net lenet5-1998)")
    params = model.parameters()
    hess = {id(p): np.zeros_like(p.data) for p in params}
    out = model.forward(x)
    d2 = None
    if isinstance(layers[-1], Linear):          # softmax cross-entropy on the logits
        p = ops.softmax(out)
        d2 = p * (1 - p) / len(out)
    # no curvature flows below the first layer with parameters: it needs no d2E/d(in)^2
    first = next(i for i, layer in enumerate(layers) if layer.params)
    for i in range(len(layers) - 1, -1, -1):
        if i < first:
            layers[i]._take_cache()             # free the input layer's activations
        else:
            d2 = _gn_layer(layers[i], d2, hess, first=i == first)
    return [hess[id(p)] for p in params]


class SDLM(Optimizer):
    """``p -= lr / (mu + h) * grad``, with ``h`` from :meth:`refresh_curvature`.

    ``lr`` is the paper's eta, applied per *mini-batch* step to the batch's mean gradient
    (the paper stepped after every pattern, ``batch_size=1``; at batch 32 a pass makes 1/32
    as many steps).

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, eta
    mu : float
    weight_decay : float (L2, added to the gradient)
    samples : int, patterns per Hessian estimate
    batch_size : int, patterns per step: the refresh schedule counts patterns seen
    warmup_steps : int, steps after each of which the estimate is refreshed
    refresh_patterns, early_patterns, early_refresh_patterns : int, see
        :data:`REFRESH_PATTERNS` and :data:`EARLY_PATTERNS`; each becomes a whole number of
        steps (:attr:`refresh_steps`, :attr:`early_steps`, :attr:`early_refresh`)
    """

    def __init__(self, params, lr: float = 5e-4, mu: float = MU, weight_decay: float = 0.0,
                 samples: int = CURVATURE_SAMPLES, batch_size: int = 1,
                 warmup_steps: int = WARMUP_STEPS, refresh_patterns: int = REFRESH_PATTERNS,
                 early_patterns: int = EARLY_PATTERNS,
                 early_refresh_patterns: int = EARLY_REFRESH_PATTERNS) -> None:
        super().__init__(params, lr, weight_decay)
        if not (mu > 0 and math.isfinite(mu)):
            raise ValueError(f"mu must be a positive finite number, got {mu}")
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.mu, self.samples, self.batch_size = float(mu), samples, batch_size

        def steps(patterns):            # at least one step between estimates
            return max(1, round(patterns / batch_size))

        self.warmup_steps = warmup_steps
        self.refresh_steps, self.early_steps = steps(refresh_patterns), steps(early_patterns)
        self.early_refresh = steps(early_refresh_patterns)
        self.t = 0                  # steps taken
        self.hessian: list[np.ndarray] | None = None
        self.estimates = 0          # Hessian estimates so far (this session)
        self._source = None
        self._since = 0
        self._rates, self._rate_lr = None, None     # lr / (mu + h) and its (lr, mu), see step

    def refresh_curvature(self, model, x: np.ndarray, rng: np.random.Generator) -> None:
        """Estimate the Hessian diagonal on ``samples`` patterns of ``x`` drawn by ``rng``,
        as the paper does before every pass; :meth:`step` re-estimates it from the same
        source after each of the first ``warmup_steps`` steps and then every ``refresh_steps``
        (``early_refresh`` in the first ``early_steps``)."""
        self._source = (model, x, rng)
        self._estimate()

    def _estimate(self) -> None:
        model, x, rng = self._source
        idx = rng.choice(len(x), min(self.samples, len(x)), replace=False)
        hess = gauss_newton_diagonal(model, x[idx])
        own = {id(p): i for i, p in enumerate(model.parameters())}
        self.hessian = [hess[own[id(p)]] for p in self.params]
        self.estimates += 1
        self._since = 0
        self._rate_lr = None

    def step(self) -> None:
        if self.hessian is None:
            raise RuntimeError("SDLM.step: call refresh_curvature(model, x, rng) first")
        if self._rate_lr != (self.lr, self.mu):
            # lr / (mu + h), kept while lr and h stay (the schedule holds lr for passes
            # after its warm-up): at one pattern per step this step took ~75 us with the
            # 60,000 divisions, ~40 without; same operations, same bits as inline
            self._rates = [self.lr / (self.mu + h) for h in self.hessian]
            self._rate_lr = (self.lr, self.mu)
        for p, rate in zip(self.params, self._rates):
            p.data -= rate * self._grad(p)
        self.t += 1
        self._since += 1
        every = self.early_refresh if self.t < self.early_steps else self.refresh_steps
        due = self.t < self.warmup_steps or self._since >= every
        if due and self._source is not None:
            self._estimate()

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"step": np.array(self.t)}
        if self.hessian is not None:
            state.update(self._slot_arrays("hessian", self.hessian))
        return state

    def load_state_dict(self, state) -> None:
        self.t = int(state.get("step", 0))
        hess = self._load_slot("hessian", state)
        self.hessian = None if any(h is None for h in hess) else hess
        self._rate_lr = None
