"""LeCun et al. 1998's MAP criterion (eq. 9) for RBF penalties.

With penalties y_i (here passed as scores s_i = -y_i, so that a larger score wins as
with logits) and the correct class D, the loss of one pattern is

    E = y_D + log(exp(-j) + sum_i exp(-y_i))

It is the cross-entropy of a softmax over the K classes plus one "rubbish" class whose
penalty is the constant j: lowering y_D pulls the right bitmap closer, and the log term
pushes the other penalties up until they pass j, which keeps all centres from collapsing.
"""
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, check_ndim
from .loss import _check_labels


@dataclass
class MapLossCache:
    probs: np.ndarray    # (N, K): exp(s_i) / (exp(-j) + sum exp(s))
    labels: np.ndarray   # (N,)


def map_loss(scores, labels, j):
    """Mean MAP loss over the batch.

    The naive loop reference is ``map_loss`` in tests/reference.py.

    Parameters
    ----------
    scores : ndarray (N, K), minus the RBF penalties
    labels : int ndarray (N,), values in [0, K)
    j : float, the rubbish class's constant penalty

    Returns
    -------
    loss : 0-d ndarray
    cache : MapLossCache
    """
    scores = as_float(scores, "scores", "map_loss")
    check_ndim(scores, 2, "scores", "map_loss", "(N, K)")
    n, k = scores.shape
    labels = _check_labels(labels, n, k)
    # logsumexp over [s, -j], shifted by the row max so that nothing overflows
    m = np.maximum(scores.max(axis=1, keepdims=True), -j)
    e = np.exp(scores - m)
    total = e.sum(axis=1, keepdims=True) + np.exp(-j - m)
    loss = (np.log(total[:, 0]) + m[:, 0] - scores[np.arange(n), labels]).mean()
    return loss, MapLossCache((e / total).astype(scores.dtype, copy=False), labels)


def map_loss_backward(dout, cache):
    """dloss (scalar) -> dscores (N, K) = dout * (probs - onehot) / N."""
    n = cache.labels.shape[0]
    dout = as_dout(dout, (), "map_loss", cache.probs.dtype)
    d = cache.probs.copy()
    d[np.arange(n), cache.labels] -= 1
    return d * (dout / n)
