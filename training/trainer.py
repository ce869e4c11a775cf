"""The training loop: mini-batches, optimiser steps, per-epoch metrics and checkpoints."""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
from tqdm import tqdm

from mnist.atomic import write_text
from nn import clip_grad_norm_

from .augment import augment_batch
from .checkpoint import read_npz, save_checkpoint, save_weights
from .config import TrainConfig, build_model, build_training
from .data import background_value, batch_indices, num_batches, prepare_images
from .evaluation import evaluate_arrays
from .memory import keep_freed_memory
from .metrics import MetricsLog, param_norms, param_stds, peak_rss_mb
from .provenance import git_commit
from .snapshots import SnapshotRecorder, default_every
from .step import ShardedStep

CHECKPOINT = "checkpoint.npz"
WEIGHTS = "weights.npz"
METRICS = "metrics.jsonl"
RUN_INFO = "run.json"
SUMMARY = "summary.json"
SHIFT_PIXELS = 2  # --augment: random shifts of up to 2 pixels


def _finite(v):
    """JSON-safe float: non-finite values (a diverged run) become None."""
    v = float(v)
    return v if math.isfinite(v) else None


def _epoch_line(record: dict, epochs: int) -> str:
    def num(v, spec):
        return "nan" if v is None else format(v, spec)

    line = (f"epoch {record['epoch']}/{epochs}: train loss {num(record['train_loss'], '.4f')} "
            f"acc {record['train_acc']:.4f} | test error {100 * record['test_error']:.2f}% | "
            f"{record['wall_s']:.1f} s")
    if record["nonfinite_steps"]:
        line += f" | {record['nonfinite_steps']} steps with a non-finite loss (diverged)"
    return line


def _write_json_atomic(path: str, obj) -> None:
    write_text(path, json.dumps(obj, indent=2) + "\n")


class Trainer:
    """Train one network on in-memory arrays and keep a run directory up to date.

    Parameters
    ----------
    config : TrainConfig
        Resolved (defaults filled in) by the constructor.
    train : (images, labels)
        uint8 images (N, 28, 28) (or (N, 1, 28, 28)) and integer labels (N,).
        ``config.train_limit`` keeps the first N.
    test : (images, labels)
        Same for the test set (``config.test_limit``).
    run_dir : str
        Created if needed; receives metrics.jsonl, checkpoint.npz, weights.npz,
        run.json and summary.json.
    progress : bool
        Show a tqdm bar (loss, accuracy, images/s, ETA).
    command : str or None
        The command line, recorded in run.json and summary.json.

    Notes
    -----
    One ``np.random.Generator`` (seeded by ``config.seed``) draws the initial weights,
    the shuffling and the augmentation; its state is part of the checkpoint, so a
    resumed run continues exactly as an uninterrupted one.
    """

    def __init__(self, config: TrainConfig, train, test, run_dir: str, *,
                 progress: bool = True, command: str | None = None) -> None:
        self.config = config.resolved()
        cfg = self.config
        self.run_dir = run_dir
        self.progress = progress
        self.command = command
        os.makedirs(run_dir, exist_ok=True)
        keep_freed_memory()
        self.rng = np.random.default_rng(cfg.seed)
        self.model = build_model(cfg, self.rng)
        self.optimizer, self.schedule = build_training(cfg, self.model)
        self.step = ShardedStep(self.model, cfg.workers)
        self.epoch = 0          # completed epochs
        self.elapsed_s = 0.0    # training wall time over all sessions
        self.log = MetricsLog(os.path.join(run_dir, METRICS))
        # Normalise once for the whole set, not per batch.
        self.x_train = prepare_images(train[0][:cfg.train_limit], cfg.normalize)
        self.y_train = np.asarray(train[1][:cfg.train_limit]).astype(np.intp)
        self.x_test = prepare_images(test[0][:cfg.test_limit], cfg.normalize)
        self.y_test = np.asarray(test[1][:cfg.test_limit]).astype(np.intp)
        if len(self.x_train) != len(self.y_train) or len(self.x_test) != len(self.y_test):
            raise ValueError("images and labels differ in length: train "
                             f"{len(self.x_train)} vs {len(self.y_train)}, test "
                             f"{len(self.x_test)} vs {len(self.y_test)}")
        if len(self.x_train) == 0:
            raise ValueError("the training set is empty")
        self.fill = background_value(cfg.normalize)

    # -- construction from a checkpoint --------------------------------------------
    @classmethod
    def resume(cls, run_dir: str, train, test, *, epochs: int | None = None,
               progress: bool = True, command: str | None = None) -> "Trainer":
        """Continue the run saved in ``run_dir/checkpoint.npz`` (its config included).

        ``epochs`` may raise the total number of epochs (this also stretches a cosine
        or step schedule over the new total).
        """
        path = os.path.join(run_dir, CHECKPOINT)
        saved = read_npz(path)
        if saved["format"] != "checkpoint":
            raise ValueError(f"{path}: is a weights file, not a checkpoint")
        config = saved["config"]
        if epochs is not None:
            config.epochs = epochs
        trainer = cls(config, train, test, run_dir, progress=progress, command=command)
        trainer.model.load_state_dict(saved["params"])
        trainer.optimizer.load_state_dict(saved["optim"])
        trainer.rng.bit_generator.state = saved["rng"]
        trainer.epoch = saved["epoch"]
        trainer.elapsed_s = saved["elapsed_s"]
        # Epoch lines written after the checkpoint (a crash between the two) are redone.
        trainer.log.truncate_after(trainer.epoch)
        return trainer

    # -- the loop --------------------------------------------------------------------
    def fit(self, stop_after: int | None = None) -> dict | None:
        """Train from ``self.epoch`` to ``config.epochs``.

        Parameters
        ----------
        stop_after : int or None
            Stop (as if interrupted) once this many epochs are complete.

        Returns
        -------
        dict or None
            The summary (also written to summary.json) when the run finished, else None.
        """
        cfg = self.config
        if self.epoch == 0 and not os.path.exists(os.path.join(self.run_dir, RUN_INFO)):
            self._write_run_info()
        steps = num_batches(len(self.x_train), cfg.batch_size)
        self.snapshots = self._snapshot_recorder(steps)
        bar = tqdm(total=cfg.epochs * steps, initial=self.epoch * steps, unit="batch",
                   disable=not self.progress, dynamic_ncols=True, mininterval=0.5)
        try:
            while self.epoch < cfg.epochs:
                if stop_after is not None and self.epoch >= stop_after:
                    return None
                record = self._train_epoch(bar, steps)
                self.epoch += 1
                self.snapshots.set_test_error(record["test_error"])
                if self.epoch == cfg.epochs:    # the final weights end the series
                    self.snapshots.record(self.epoch * steps, self.epoch, None, None, self.model)
                # Log and snapshots first, then checkpoint: resume drops what is newer.
                self.log.append(record)
                self.snapshots.save()
                save_checkpoint(os.path.join(self.run_dir, CHECKPOINT), self.model,
                                self.optimizer, self.rng, self.epoch, cfg, self.elapsed_s)
                bar.write(_epoch_line(record, cfg.epochs))
        finally:
            bar.close()
        return self._finish()

    def _train_epoch(self, bar, steps: int) -> dict:
        cfg, model, opt = self.config, self.model, self.optimizer
        named = list(model.named_parameters())
        grad_sums = np.zeros(len(named))
        max_total, finite_steps = 0.0, 0
        loss_sum, correct, seen, nonfinite = 0.0, 0, 0, 0
        lr_first = None
        snapshot_s = 0.0
        t0 = time.perf_counter()
        augment = cfg.augment or cfg.rotate > 0 or cfg.scale > 0 or cfg.elastic > 0
        refresh = getattr(opt, "refresh_curvature", None)
        if refresh is not None:     # SDLM: the Hessian diagonal, re-estimated each pass
            refresh(model, self.x_train, self.rng)
        for b, idx in enumerate(batch_indices(len(self.x_train), cfg.batch_size, self.rng)):
            opt.lr = self.schedule(self.epoch + b / steps)
            lr_first = opt.lr if lr_first is None else lr_first
            xb, yb = self.x_train[idx], self.y_train[idx]
            if augment:
                xb = augment_batch(xb, self.rng, shift=SHIFT_PIXELS if cfg.augment else 0,
                                   rotate=cfg.rotate, scale=cfg.scale, elastic=cfg.elastic,
                                   fill=self.fill)
            loss, logits = self.step(opt, xb, yb)
            norms = [float(np.linalg.norm(p.grad.ravel())) for _, p in named]
            if cfg.clip:
                total = clip_grad_norm_(opt.params, cfg.clip)
            else:
                total = math.sqrt(sum(n * n for n in norms))
            if math.isfinite(total):        # a diverged step would turn every mean into nan
                grad_sums += norms
                finite_steps += 1
                max_total = max(max_total, total)
            opt.step()
            t_snap = time.perf_counter()
            self.snapshots.observe(loss)
            step = self.epoch * steps + b + 1
            if self.snapshots.due(step):
                self.snapshots.record(step, step / steps, None, None, model)
            snapshot_s += time.perf_counter() - t_snap
            loss_sum += loss * len(idx)
            nonfinite += not math.isfinite(loss)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
            seen += len(idx)
            bar.update(1)
            if b % 10 == 0 or b == steps - 1:
                rate = seen / max(time.perf_counter() - t0, 1e-9)
                bar.set_description(f"epoch {self.epoch + 1}/{cfg.epochs}", refresh=False)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}",
                                img_s=f"{rate:.0f}", refresh=False)
        train_s = time.perf_counter() - t0
        test = evaluate_arrays(model, self.x_test, self.y_test)
        wall = time.perf_counter() - t0
        self.elapsed_s += wall
        return {
            "epoch": self.epoch + 1,
            "train_loss": _finite(loss_sum / seen),
            "train_acc": correct / seen,
            "test_loss": _finite(test["loss"]),
            "test_error": test["error"],
            "lr": lr_first,
            "weight_norm": {k: _finite(v) for k, v in param_norms(named).items()},
            "weight_std": {k: _finite(v) for k, v in param_stds(named).items()},
            "grad_norm": {name: (s / finite_steps if finite_steps else None)
                          for (name, _), s in zip(named, grad_sums)},
            "grad_norm_max": max_total if finite_steps else None,
            "nonfinite_steps": nonfinite,
            "train_s": train_s,
            "wall_s": wall,
            "elapsed_s": self.elapsed_s,
            "images_per_s": seen / train_s,
            "snapshot_s": snapshot_s,
            "peak_rss_mb": peak_rss_mb(),
        }

    def _snapshot_recorder(self, steps: int) -> SnapshotRecorder:
        """conv1/conv2 filters about 50 times per run (RUN_DIR/snapshots.npz), continued on resume."""
        every = default_every(self.config.epochs * steps)
        if self.epoch == 0:
            rec = SnapshotRecorder(self.run_dir, every)
            rec.record(0, 0.0, None, None, self.model)
            return rec
        rec = SnapshotRecorder.resume(self.run_dir, self.epoch * steps, every=every)
        records = self.log.read()
        if records:
            rec.set_test_error(records[-1]["test_error"])
        return rec

    # -- run files -------------------------------------------------------------------
    def _write_run_info(self) -> None:
        named = list(self.model.named_parameters())
        _write_json_atomic(os.path.join(self.run_dir, RUN_INFO), {
            "command": self.command,
            "commit": git_commit(),
            "config": self.config.to_dict(),
            "num_parameters": self.model.num_parameters(),
            "init_weight_std": param_stds(named),
            "init_weight_norm": param_norms(named),
            "train_size": int(len(self.x_train)),
            "test_size": int(len(self.x_test)),
        })

    def _finish(self) -> dict:
        records = self.log.read()
        last = records[-1] if records else {}
        summary = {
            "command": self.command,
            "commit": git_commit(),
            "net": self.config.net,
            "epochs": self.config.epochs,
            "train_wall_s": round(self.elapsed_s, 2),
            "test_error": last.get("test_error"),
            "test_n": int(len(self.y_test)),
            "config": self.config.to_dict(),
        }
        save_weights(os.path.join(self.run_dir, WEIGHTS), self.model, self.config,
                     {"test_error": summary["test_error"], "epochs": self.config.epochs})
        _write_json_atomic(os.path.join(self.run_dir, SUMMARY), summary)
        return summary
