"""Timing a training epoch: our NumPy networks, and the same architecture in torch.

The torch networks here exist only as a speed reference for ``scripts/bench_train.py``;
nothing trains or renders with them.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from .config import TrainConfig, build_model, build_training
from .memory import keep_freed_memory
from .step import ShardedStep

EPOCH_IMAGES = 60_000


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    while True:
        for idx in np.array_split(rng.permutation(n), max(1, n // batch_size)):
            yield idx[:batch_size]


def time_epoch(step, batch_size: int, steps: int, blocks: int, warmup: int = 5) -> dict:
    """Time ``steps`` calls of ``step()`` in ``blocks`` equal blocks and extrapolate to an epoch.

    Returns
    -------
    dict
        ``s_per_step`` (median over blocks), ``s_per_epoch`` (= s_per_step * 60000 /
        batch_size), ``images_per_s``, ``block_s_per_epoch`` (one estimate per block),
        ``cpu_s_per_epoch``: the median block's CPU time of the whole process (all its
        threads) and its worker processes (:func:`cpu_s`), extrapolated alike. On a machine shared with other work, CPU time
        varies far less than wall time (with one thread per core and the cores free, the
        two agree).
    """
    for _ in range(warmup):
        step()
    per_block = max(1, steps // blocks)
    estimates, cpu = [], []
    for _ in range(blocks):
        t0, c0 = time.perf_counter(), cpu_s()
        for _ in range(per_block):
            step()
        estimates.append((time.perf_counter() - t0) / per_block)
        cpu.append((cpu_s() - c0) / per_block)
    s_step = statistics.median(estimates)
    s_epoch = s_step * EPOCH_IMAGES / batch_size
    return {"s_per_step": s_step, "s_per_epoch": s_epoch,
            "cpu_s_per_epoch": statistics.median(cpu) * EPOCH_IMAGES / batch_size,
            "images_per_s": EPOCH_IMAGES / s_epoch, "steps_timed": per_block * blocks,
            "block_s_per_epoch": [e * EPOCH_IMAGES / batch_size for e in estimates]}


def plural(n: int, word: str) -> str:
    """"1 worker", "2 workers": the benchmarks' counts in their printed lines."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def cpu_s() -> float:
    """CPU seconds of this process and of its live child processes (the shards' workers,
    read from /proc on Linux: elsewhere this process alone)."""
    total = time.process_time()
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as f:
            children = f.read().split()
    except OSError:
        return total
    tick = os.sysconf("SC_CLK_TCK")
    for pid in children:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:         # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / tick    # utime, stime
    return total


def numpy_step(net_name: str, x: np.ndarray, y: np.ndarray, batch_size: int, workers: int,
               seed: int = 0):
    """A closure running one training step of our network on the next batch of (x, y) as
    ``train.py --net NET`` would (its default activation, init and optimiser: Adam, or SDLM
    for lenet5-1998), split over ``workers`` processes as the trainer does
    (:class:`training.step.ShardedStep`). The closure's ``workers`` is the number of
    workers used (at most one per core), and its ``close()`` stops them.

    SDLM's curvature estimates come at the rate of a pass after the first (every
    ``refresh_steps`` steps, 6,400 patterns); the first pass estimates 10x as often (see
    :mod:`nn.sdlm`).
    """
    keep_freed_memory()
    rng = np.random.default_rng(seed)
    cfg = TrainConfig(net=net_name, batch_size=batch_size, workers=workers).resolved()
    model = build_model(cfg, rng)
    opt, _ = build_training(cfg, model)
    if hasattr(opt, "refresh_curvature"):
        opt.refresh_curvature(model, x, rng)
        opt.t = opt.early_steps
    batches = _batches(len(x), batch_size, rng)
    sharded = ShardedStep(model, workers)

    def step():
        idx = next(batches)
        sharded(opt, x[idx], y[idx])
        opt.step()

    step.workers, step.close = sharded.workers, sharded.close
    return step


TORCH_TWINS = ("fc2", "cnn", "lenet5", "lenet5-wide")     # nets torch_net can build


def torch_net(name: str):
    """The torch twin of ``nn.build_net(name)`` with ReLU (same layers and shapes)."""
    import torch.nn as tnn

    if name == "fc2":
        return tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 300), tnn.ReLU(), tnn.Linear(300, 10))
    if name == "cnn":
        return tnn.Sequential(tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Flatten(), tnn.Linear(784, 10))
    if name == "lenet5":
        return tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                              tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                              tnn.Linear(84, 10))
    if name == "lenet5-wide":
        return tnn.Sequential(tnn.Conv2d(1, 20, 5), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Conv2d(20, 50, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                              tnn.Linear(800, 90), tnn.ReLU(), tnn.Linear(90, 10))
    raise ValueError(f"net must be one of {', '.join(TORCH_TWINS)}, got {name!r}")


def torch_step(net_name: str, x: np.ndarray, y: np.ndarray, batch_size: int, threads: int,
               seed: int = 0):
    """A closure running one torch Adam training step on the next batch of the same data."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch_net(net_name)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    batches = _batches(len(x), batch_size, np.random.default_rng(seed))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        idx = torch.from_numpy(next(batches))
        opt.zero_grad()
        loss_fn(model(xt[idx]), yt[idx]).backward()
        opt.step()

    return step


def conv_peak_mb(lib: str, n: int = 4096) -> dict:
    """Peak memory growth (MB, peak RSS over its value before the call) of LeNet-5's C1,
    conv2d 6@5x5 padding 2 on an (n, 1, 28, 28) float32 batch: the forward alone, then
    forward + backward (input, weight and bias gradients), in ``lib`` ("numpy" or "torch").

    Linux only: the peak is /proc's VmHWM, reset to the current RSS first (``clear_refs``).
    """
    def status(key):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(key)) / 1024

    def reset():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return status("VmRSS:")

    def peak():
        return status("VmHWM:")

    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    w = rng.random((6, 1, 5, 5), dtype=np.float32)
    b = rng.random(6, dtype=np.float32)
    dout = np.ones((n, 6, 28, 28), np.float32)
    if lib == "torch":
        import torch
        x, w, b, dout = (torch.from_numpy(a).requires_grad_(a is not dout)
                         for a in (x, w, b, dout))
        start = reset()
        out = torch.nn.functional.conv2d(x, w, b, padding=2)
        forward = peak() - start
        out.backward(dout)
    else:
        import ops
        start = reset()
        out, cache = ops.conv2d(x, w, b, padding=2)
        forward = peak() - start
        ops.conv2d_backward(dout, cache)
    return {"forward_mb": forward, "backward_mb": peak() - start}


def conv_peak_mb_isolated(lib: str, n: int = 4096) -> dict:
    """:func:`conv_peak_mb` in a fresh process."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(conv_peak_mb, (lib, n))
