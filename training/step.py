"""One training step (forward, cross-entropy, backward), on one thread or data-parallel.

NumPy runs most of a step (im2col copies, pooling, activations) on one core, and BLAS
uses several cores badly for LeNet-5's thin matrices. Splitting each batch into one shard
per core, with BLAS on one thread per shard, keeps every core busy: on the 2-core
machines here a LeNet-5 epoch at batch 128 went from 5.0-5.2 to 4.1-4.6 s
(``scripts/bench_train.py --workers 1`` vs ``--workers 2``, docs/training.md).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

import ops

# Shards of 32 were slower than none (batch 64: 4.27 s/epoch on one thread, 5.41 on two).
MIN_SHARD = 64
MAX_WORKERS = 4     # measured only up to 2 cores

_controller = None


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def default_workers(batch_size: int) -> int:
    """One shard per usable core, at most MAX_WORKERS, each of at least MIN_SHARD images."""
    return max(1, min(usable_cores(), MAX_WORKERS, batch_size // MIN_SHARD))


def _blas_single_thread():
    """A context manager holding BLAS at one thread (each shard is one thread already)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def shard_bounds(n: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous (start, stop) rows of each non-empty shard of an n-row batch."""
    edges = np.linspace(0, n, min(workers, n) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def criterion(model):
    """The model's loss as a ``(forward, backward)`` op pair: softmax cross-entropy, or the
    MAP criterion for a model with a ``map_j`` (LeNet-5 1998, whose outputs are minus its
    RBF penalties)."""
    j = getattr(model, "map_j", None)
    if j is None:
        return ops.cross_entropy, ops.cross_entropy_backward
    return (lambda scores, y: ops.map_loss(scores, y, j)), ops.map_loss_backward


def train_step(model, optimizer, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Forward, loss (see :func:`criterion`) and backward for one batch; gradients left in ``.grad``.

    The optimiser's gradients are zeroed first; the caller clips and calls
    ``optimizer.step()``.

    Returns
    -------
    loss : float
        Mean cross-entropy of the batch.
    logits : np.ndarray, (N, 10)
    """
    optimizer.zero_grad()
    return _forward_backward(model, x, y, 1.0)


def _forward_backward(model, x, y, weight):
    """Forward, cross-entropy and backward with the loss scaled by ``weight``; gradients
    add into ``.grad``. Returns the (unscaled) mean loss and the logits."""
    # A diverging run overflows; the trainer stops on the non-finite loss with one clear
    # message, so NumPy's warnings would only add noise (errstate is per thread: set here).
    loss_fn, loss_backward = criterion(model)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        logits = model.forward(x)
        loss, cache = loss_fn(logits, y)
        model.backward(loss_backward(weight, cache), need_dx=False)
    return float(loss), logits


class ShardedStep:
    """Forward, cross-entropy and backward of a batch, split over ``workers`` threads.

    Shard k runs on replica k of the model (replica 0 is the model itself; the others
    share its parameter values, see :meth:`nn.Module.replica`). Each shard's loss is
    weighted by its share of the batch, so the summed gradients are those of the mean
    loss over the whole batch, as in :func:`train_step`; they are added
    in shard order, so a given worker count always gives the same numbers.

    Parameters
    ----------
    model : nn.Module
    workers : int
        1 runs :func:`train_step` unchanged.
    """

    def __init__(self, model, workers: int) -> None:
        if not (isinstance(workers, int) and workers >= 1):
            raise ValueError(f"workers={workers!r}: expected an integer >= 1")
        self.model = model
        self.workers = workers
        self.replicas = [model] + [model.replica() for _ in range(workers - 1)]
        self._pool = ThreadPoolExecutor(workers - 1) if workers > 1 else None

    def __call__(self, optimizer, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Gradients of the batch's mean loss left in the model's ``.grad``.

        Returns
        -------
        loss : float
            Mean cross-entropy of the batch.
        logits : np.ndarray, (N, 10)
        """
        if self._pool is None:
            return train_step(self.model, optimizer, x, y)
        n = len(x)
        jobs = [(replica, x[a:b], y[a:b], (b - a) / n)
                for replica, (a, b) in zip(self.replicas, shard_bounds(n, self.workers))]
        with _blas_single_thread():
            futures = [self._pool.submit(_shard_step, *job) for job in jobs[1:]]
            results = [_shard_step(*jobs[0])] + [f.result() for f in futures]
        params = self.model.parameters()
        for replica, _, _, _ in jobs[1:]:
            for p, q in zip(params, replica.parameters()):
                p.grad += q.grad
        loss = sum(weight * shard_loss for shard_loss, _, weight in results)
        return float(loss), np.concatenate([logits for _, logits, _ in results])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def _shard_step(model, x, y, weight):
    """One shard on its own replica: gradients zeroed, then :func:`_forward_backward` with
    the loss scaled by ``weight``, the shard's share of the batch."""
    model.zero_grad()
    return _forward_backward(model, x, y, weight) + (weight,)
