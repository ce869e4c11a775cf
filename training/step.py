"""One training step (forward, cross-entropy, backward), in one process or data-parallel.

NumPy runs most of a step (im2col copies, pooling, activations) on one core, and BLAS
uses several cores badly for LeNet-5's thin matrices. Splitting each batch into one shard
per core, each in its own process with BLAS on one thread, keeps every core busy
(figures: docs/training.md, ``scripts/bench_train.py --scaling``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import multiprocessing
import os
import signal

import numpy as np
from threadpoolctl import ThreadpoolController

import ops

# Measured in processes (scripts/bench_train.py --batch-size B --workers 1 vs 2, quiet 2
# cores): 2 shards of 32 beat one batch of 64 (3.40-3.88 against 4.94-5.28 s/epoch), 2 of
# 16 won only 7-11 % over 32 (5.0-5.4 against 5.5-5.8 s): under the 10 % a split must win.
MIN_SHARD = 32

_controller = None


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def default_workers(batch_size: int) -> int:
    """One shard per usable core, each of at least MIN_SHARD images."""
    return max(1, min(usable_cores(), batch_size // MIN_SHARD))


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
    """Forward, loss and backward of a batch, split over ``workers`` processes.

    Shard 0 runs in this process on the model itself; shard k > 0 runs in worker process
    k, forked (on the first call) with a copy of the model. Why processes: the shards of
    a step make many small NumPy calls, and threads of one process queue on its
    interpreter lock for each of them (2 threads were 1.13x one thread on 2 cores);
    processes do not share that lock. The parameter values, each worker's shard and its
    gradients go through shared memory, so a step copies a few hundred KB and sends a
    few bytes down a pipe.

    Each shard's loss is weighted by its share of the batch, and the gradients are summed
    in shard order into the model's ``.grad``, so the result is the gradient of the mean
    loss over the whole batch, as in :func:`train_step`, and a given worker count always
    gives the same numbers. BLAS runs on one thread per shard.

    Workers are daemon processes that ignore Ctrl-C (the terminal sends it to them too):
    this process stops them (:meth:`close`; also on any error or interruption during a
    step) and they exit by themselves when it dies, even by ``kill -9``: their pipe to it
    then closes.

    Parameters
    ----------
    model : nn.Module
    workers : int
        Shards per batch, at most one per usable core (``self.workers`` is the number
        used). 1 runs :func:`train_step` unchanged, in this process.
    """

    def __init__(self, model, workers: int) -> None:
        self._pool = None
        if not (isinstance(workers, int) and workers >= 1):
            raise ValueError(f"workers={workers!r}: expected an integer >= 1")
        self.model = model
        # More processes than cores would take turns on them, and each step waits for the
        # last shard: never faster, so a request above the core count runs one per core.
        # Without fork (Windows) the shards would need a fresh interpreter each: one process.
        can_fork = "fork" in multiprocessing.get_all_start_methods()
        self.workers = min(workers, usable_cores()) if can_fork else 1

    def __call__(self, optimizer, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Gradients of the batch's mean loss left in the model's ``.grad``.

        Returns
        -------
        loss : float
            Mean loss of the batch.
        logits : np.ndarray, (N, outputs)
        """
        if self.workers == 1:
            return train_step(self.model, optimizer, x, y)
        bounds = shard_bounds(len(x), self.workers)
        rows = max(b - a for a, b in bounds)
        if self._pool is not None and not self._pool.fits(rows, x, y):
            self.close()
        if self._pool is None:
            self._pool = _WorkerPool(self.model, self.workers - 1, rows, x, y)
        try:
            return self._pool.step(x, y, bounds)
        except BaseException:
            # Workers may be mid-shard: their next answer would be this step's, so they go.
            self.close()
            raise

    def close(self) -> None:
        """Stop the worker processes (the next call starts them again)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.close()

    def __enter__(self) -> "ShardedStep":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:       # at interpreter exit: multiprocessing stops daemons itself
            pass


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent ends (elsewhere: it ends when its pipe
    to the parent closes, after the shard in hand)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - not Linux
        pass


_PR_SET_PDEATHSIG = 1


class _Arena:
    """Arrays in one anonymous shared mapping made before the workers fork: they inherit
    it, and the kernel frees it with the last process that maps it. Nothing is named in
    /dev/shm, so nothing can be left there, whatever kills the processes."""

    def __init__(self, specs) -> None:
        offsets, end = [], 0
        for shape, dtype in specs:
            offsets.append(end)
            end += -(-int(np.prod(shape)) * np.dtype(dtype).itemsize // 64) * 64
        self._mem = mmap.mmap(-1, max(end, 1))
        self.arrays = [np.frombuffer(self._mem, dtype, int(np.prod(shape)), off).reshape(shape)
                       for (shape, dtype), off in zip(specs, offsets)]


class _WorkerPool:
    """``count`` forked workers, each with its slot of shared memory for one shard of up
    to ``rows`` rows shaped like ``x`` and ``y``; one shared copy of the parameters."""

    def __init__(self, model, count: int, rows: int, x: np.ndarray, y: np.ndarray) -> None:
        self.model = model
        self.params = model.parameters()
        specs = [(p.shape, p.data.dtype) for p in self.params]
        self.layout = (rows,) + x.shape[1:], x.dtype, y.shape[1:], y.dtype
        slot = specs + [((rows,) + x.shape[1:], x.dtype), ((rows,) + y.shape[1:], y.dtype)]
        arena = _Arena(specs + slot * count)
        self.values = arena.arrays[:len(specs)]
        self.slots = [arena.arrays[len(specs) + k * len(slot):len(specs) + (k + 1) * len(slot)]
                      for k in range(count)]
        context = multiprocessing.get_context("fork")
        self.conns, self.procs = [], []
        # Ctrl-C or SIGTERM held back while forking, so that a worker never sees one before
        # it ignores them (a traceback of its own); this process gets it right after.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            for slot_arrays in self.slots:
                ours, theirs = context.Pipe()
                self.conns.append(ours)
                proc = context.Process(target=_worker, daemon=True, name="numpy_dl shard",
                                       args=(theirs, list(self.conns), os.getpid(), model,
                                             self.values, slot_arrays))
                proc.start()
                theirs.close()
                self.procs.append(proc)
        except BaseException:
            self.close()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def fits(self, rows: int, x: np.ndarray, y: np.ndarray) -> bool:
        cap, x_dtype, y_shape, y_dtype = self.layout
        return (rows <= cap[0] and x.shape[1:] == cap[1:] and x.dtype == x_dtype
                and y.shape[1:] == y_shape and y.dtype == y_dtype)

    def step(self, x, y, bounds):
        model = self.model
        for value, p in zip(self.values, self.params):
            np.copyto(value, p.data)
        n = len(x)
        weights = [(b - a) / n for a, b in bounds]
        busy = []
        for (a, b), weight, conn, slot in zip(bounds[1:], weights[1:], self.conns, self.slots):
            slot[-2][:b - a] = x[a:b]
            slot[-1][:b - a] = y[a:b]
            try:
                conn.send((b - a, weight))
            except OSError:     # its end of the pipe is closed
                raise _died() from None
            busy.append((conn, slot))
        a, b = bounds[0]
        with _blas_single_thread():
            model.zero_grad()
            results = [_forward_backward(model, x[a:b], y[a:b], weights[0])]
        for conn, _ in busy:
            results.append(_answer(conn))
        for _, slot in busy:        # in shard order: the same numbers every run
            for p, grad in zip(self.params, slot):
                p.grad += grad
        loss = sum(weight * shard_loss for (shard_loss, _), weight in zip(results, weights))
        return float(loss), np.concatenate([logits for _, logits in results])

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
            conn.close()
        for proc in self.procs:
            proc.join(timeout=2)
            if proc.is_alive():     # still inside a shard: no need to let it finish
                proc.kill()
                proc.join()
        self.conns, self.procs = [], []


def _died() -> RuntimeError:
    return RuntimeError("a training worker process died (killed, or out of memory?)")


def _answer(conn):
    try:
        answer = conn.recv()
    except (EOFError, OSError):
        raise _died() from None
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _worker(conn, inherited, trainer: int, model, values, slot) -> None:
    """A worker's life: for each ``(rows, weight)`` received, the shard in ``slot`` through
    the model with the current parameter ``values``; its gradients go back in ``slot``,
    its loss and logits down the pipe. Ends on None, when the trainer's end of the pipe
    closes, or with the trainer itself (it may be killed mid-shard)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the trainer handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _die_with_parent()
    if os.getppid() != trainer:     # it died before that took effect
        return
    for other in inherited:     # the trainer's ends: held here, they would never close
        other.close()
    params = model.parameters()
    *grads, x, y = slot
    with _blas_single_thread():
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is None:
                return
            rows, weight = job
            try:
                for p, value in zip(params, values):
                    np.copyto(p.data, value)
                model.zero_grad()
                answer = _forward_backward(model, x[:rows], y[:rows], weight)
                for grad, p in zip(grads, params):
                    np.copyto(grad, p.grad)
            except Exception as e:      # sent back and raised in the trainer
                answer = e
            try:
                conn.send(answer)
            except (OSError, ValueError):   # the trainer is gone
                return
            except Exception as e:      # an exception that does not pickle
                conn.send(RuntimeError(f"in a training worker: {type(answer).__name__}: "
                                       f"{answer} ({e})"))
