"""Time to a test error: one recipe of train.py trained epoch by epoch in our trainer, and
the same recipe in torch (``scripts/bench_time_to_error.py``).

The torch side is a speed reference only. It starts from our initial weights and takes the
same optimiser, schedule (set at every step), batch size, weight decay and batch order, so
that the two differ in their arithmetic alone. Both count the per-epoch test evaluation in
their time, as train.py's ``elapsed_s`` does.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time

import numpy as np

from .bench import TORCH_TWINS, torch_net
from .config import TrainConfig, build_model
from .data import batch_indices, num_batches, prepare_images
from .trainer import Trainer
from nn import build_schedule


def check_portable(cfg: TrainConfig) -> None:
    """Raise ValueError unless torch's twin can run ``cfg`` as our trainer does."""
    why = []
    if cfg.optimizer != "adam":
        why.append(f"optimizer {cfg.optimizer} (torch's twin has Adam only)")
    if cfg.activation != "relu":
        why.append(f"activation {cfg.activation} (the twin is ReLU)")
    if cfg.augmented:
        why.append("augmentation (not ported)")
    if cfg.clip:
        why.append("gradient clipping (not ported)")
    if cfg.net not in TORCH_TWINS:
        why.append(f"net {cfg.net} (no torch twin)")
    if why:
        raise ValueError("torch cannot run this recipe: " + "; ".join(why))


def ours(cfg: TrainConfig, train, test, quiet: bool = False) -> list[dict]:
    """Train ``cfg`` with :class:`training.Trainer` in a temporary run directory; one row per
    epoch: ``epoch``, ``elapsed_s`` (wall time since training began, evaluations
    included), ``test_error``. ``quiet`` drops the trainer's line per epoch."""
    with tempfile.TemporaryDirectory(prefix="numpy_dl-race-") as run_dir:
        trainer = Trainer(cfg, train, test, run_dir, progress=False)
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            trainer.fit()
        return [{k: r[k] for k in ("epoch", "elapsed_s", "test_error")}
                for r in trainer.log.read()]


def theirs(cfg: TrainConfig, train, test, threads: int, on_epoch=None) -> list[dict]:
    """The same recipe in torch on ``threads`` threads; rows as :func:`ours`, each also
    passed to ``on_epoch`` (progress) as it is made."""
    import torch

    check_portable(cfg)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(cfg.seed)
    model = build_model(cfg, rng)       # the trainer's first draws: the same weights
    net = torch_net(cfg.net)
    with torch.no_grad():
        for ours_p, their_p in zip(model.parameters(), net.parameters()):
            their_p.copy_(torch.from_numpy(ours_p.data))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = build_schedule(cfg.schedule, cfg.lr, cfg.epochs, cfg.warmup)
    x = torch.from_numpy(prepare_images(train[0][:cfg.train_limit], cfg.normalize))
    y = torch.from_numpy(np.asarray(train[1][:cfg.train_limit]).astype(np.int64))
    x_test = torch.from_numpy(prepare_images(test[0][:cfg.test_limit], cfg.normalize))
    y_test = np.asarray(test[1][:cfg.test_limit]).astype(np.int64)
    loss_fn = torch.nn.CrossEntropyLoss()
    steps, rows = num_batches(len(x), cfg.batch_size), []
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        for b, idx in enumerate(batch_indices(len(x), cfg.batch_size, rng)):
            for group in opt.param_groups:
                group["lr"] = schedule(epoch + b / steps)
            idx = torch.from_numpy(idx)
            opt.zero_grad()
            loss_fn(net(x[idx]), y[idx]).backward()
            opt.step()
        with torch.no_grad():
            preds = np.concatenate([net(x_test[i:i + 1000]).argmax(1).numpy()
                                    for i in range(0, len(x_test), 1000)])
        rows.append({"epoch": epoch + 1, "elapsed_s": time.perf_counter() - t0,
                     "test_error": float(np.mean(preds != y_test))})
        if on_epoch is not None:
            on_epoch(rows[-1])
    return rows


def first_at(rows: list[dict], error: float) -> dict | None:
    """The first row whose test error is at most ``error`` (a fraction), or None."""
    return next((r for r in rows if r["test_error"] <= error), None)
