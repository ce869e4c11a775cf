"""Softmax, log-softmax and mean cross-entropy, stable for large logits."""
from dataclasses import dataclass

import numpy as np

from ._check import as_dout, as_float, check_ndim
from .backtrace import CrossEntropyBackwardTrace, check_args
from .trace import SoftmaxTrace


def softmax_parts(x, axis=-1):
    """The steps of a stable softmax: shifted = x - max, exp(shifted) and its sum.

    ``initial=-inf`` lets an empty ``axis`` through (torch returns an empty result there).
    """
    shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=axis, keepdims=True)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``; returns a plain array of x's shape.

    The naive loop reference is ``softmax`` in tests/reference.py.
    """
    _, e, total = softmax_parts(as_float(x, "x", "softmax"), axis)
    return e / total


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``; returns a plain array of x's shape.

    The naive loop reference is ``log_softmax`` in tests/reference.py.
    """
    shifted, _, total = softmax_parts(as_float(x, "x", "log_softmax"), axis)
    if shifted.size == 0:
        return shifted            # an empty axis sums to 0, and log(0) would only warn
    return shifted - np.log(total)


def trace_softmax(logits, label=None):
    """Trace softmax (and, with ``label``, cross-entropy) of a 1-D logits vector (K,)."""
    z = as_float(logits, "logits", "trace_softmax")
    if z.ndim != 1:
        raise ValueError(f"trace_softmax: logits has shape {z.shape}, expected a 1-D vector (K,)")
    if z.size == 0:
        raise ValueError("trace_softmax: logits is empty, expected at least one logit")
    shifted, e, total = softmax_parts(z)
    loss = None
    if label is not None:
        if not 0 <= int(label) < z.size:
            raise ValueError(f"trace_softmax: label={label} is out of range, expected [0, {z.size})")
        label = int(label)
        loss = float(np.log(total[0]) - shifted[label])
    return SoftmaxTrace(z, shifted, e, float(total[0]), e / total, label, loss)


@dataclass
class CrossEntropyCache:
    probs: np.ndarray    # (N, K)
    labels: np.ndarray   # (N,)

    def backward_trace(self, dout, wrt="x", view="scatter"):
        """The backward pass run instrumented: a CrossEntropyBackwardTrace (see ops.backtrace),
        dlogits = (softmax − onehot) · dout / N."""
        check_args(self, wrt, view)
        onehot = np.zeros_like(self.probs)
        onehot[np.arange(len(self.labels)), self.labels] = 1
        return CrossEntropyBackwardTrace(self.probs, onehot, len(self.labels), float(dout),
                                         cross_entropy_backward(dout, self))


def _check_labels(labels, n, k):
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels has dtype {labels.dtype}, expected an integer array")
    if labels.shape != (n,):
        raise ValueError(f"cross_entropy: labels has shape {labels.shape}, expected ({n},) to match "
                         f"logits' {n} rows")
    if n and (labels.min() < 0 or labels.max() >= k):
        bad = labels[(labels < 0) | (labels >= k)][0]
        raise ValueError(f"cross_entropy: labels contains {bad}, expected class indices in [0, {k})")
    return labels


def cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits), as ``torch.nn.functional.cross_entropy``.

    The naive loop reference is ``cross_entropy`` in tests/reference.py.

    Parameters
    ----------
    logits : ndarray (N, K)
    labels : int ndarray (N,), values in [0, K)

    Returns
    -------
    loss : 0-d ndarray (nan for an empty batch, as torch)
    cache : CrossEntropyCache
    """
    logits = as_float(logits, "logits", "cross_entropy")
    check_ndim(logits, 2, "logits", "cross_entropy", "(N, K)")
    n, k = logits.shape
    labels = _check_labels(labels, n, k)
    shifted, e, total = softmax_parts(logits, axis=1)
    logp = shifted[np.arange(n), labels] - np.log(total[:, 0])
    loss = -logp.mean() if n else logits.dtype.type(np.nan)   # torch: the mean of nothing is nan
    return loss, CrossEntropyCache(e / total, labels)


def cross_entropy_backward(dout, cache):
    """dloss (scalar) -> dlogits (N, K) = dout * (softmax - onehot) / N."""
    n = cache.labels.shape[0]
    dout = as_dout(dout, (), "cross_entropy", cache.probs.dtype)
    d = cache.probs.copy()
    if n == 0:
        return d
    d[np.arange(n), cache.labels] -= 1
    return d * (dout / n)
