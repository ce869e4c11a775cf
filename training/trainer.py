"""The training loop: mini-batches, optimiser steps, per-epoch metrics and checkpoints."""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
from tqdm import tqdm

from safeio.atomic import write_text
from nn import clip_grad_norm_

from .augment import augment_batch
from .checkpoint import CheckpointError, read_npz, save_checkpoint, save_weights
from .config import TrainConfig, build_model, build_training, upgrade
from .data import background_value, batch_indices, num_batches, prepare_images
from .evaluation import evaluate_arrays, views_for
from .memory import keep_freed_memory
from .metrics import MetricsLog, param_norms, param_stds, peak_rss_mb
from .provenance import environment, git_commit
from .rundir import (CHECKPOINT, METRICS, RUN_FILES, RUN_INFO, SUMMARY, WEIGHTS, RunDirError,
                     is_temp, read_run_info, run_dir_entries)
from .snapshots import SnapshotRecorder, default_every
from .step import ShardedStep

SHIFT_PIXELS = 2  # --augment: random shifts of up to 2 pixels


class TrainingDiverged(ArithmeticError):
    """The loss, a gradient or a weight became non-finite. Nothing of the epoch in progress
    was saved; ``checkpoint_epoch`` is the epoch of the checkpoint kept (None: none yet)."""

    def __init__(self, message: str, checkpoint_epoch: int | None) -> None:
        super().__init__(message)
        self.checkpoint_epoch = checkpoint_epoch


def _finite(v):
    """JSON-safe float: non-finite values (an overflowing test loss) become None."""
    v = float(v)
    return v if math.isfinite(v) else None


def _epoch_line(record: dict, epochs: int) -> str:
    def num(v, spec):
        return "nan" if v is None else format(v, spec)

    return (f"epoch {record['epoch']}/{epochs}: train loss {num(record['train_loss'], '.4f')} "
            f"acc {record['train_acc']:.4f} | test error {100 * record['test_error']:.2f}% | "
            f"{record['wall_s']:.1f} s")


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
        Created if needed, and must be empty (a :class:`RunDirError` otherwise: use
        :meth:`resume` to continue a run); receives metrics.jsonl, checkpoint.npz,
        weights.npz, run.json, summary.json and snapshots.npz.
    progress : bool
        Show a tqdm bar (loss, accuracy, images/s, ETA).
    command : str or None
        The command line, recorded in run.json and summary.json.

    Notes
    -----
    One ``np.random.Generator`` (seeded by ``config.seed``) draws the initial weights,
    the shuffling and the augmentation; its state is part of the checkpoint, so a
    resumed run continues exactly as an uninterrupted one, bit for bit.

    A loss, gradient or weight that becomes non-finite stops :meth:`fit` with
    :class:`TrainingDiverged` before anything of that epoch is written.
    """

    def __init__(self, config: TrainConfig, train, test, run_dir: str, *,
                 progress: bool = True, command: str | None = None, _resume: bool = False) -> None:
        self.config = config.resolved()
        cfg = self.config
        self.run_dir = run_dir
        self.progress = progress
        self.command = command
        if not _resume:
            held = run_dir_entries(run_dir)
            if held:
                raise RunDirError(f"{run_dir} is not empty (it holds {', '.join(held[:5])}"
                                  f"{', ...' if len(held) > 5 else ''})")
        keep_freed_memory()
        self.rng = np.random.default_rng(cfg.seed)
        self.model = build_model(cfg, self.rng)
        self.optimizer, self.schedule = build_training(cfg, self.model)
        self.step = ShardedStep(self.model, cfg.workers)
        self.epoch = 0          # completed epochs
        self.checkpoint_epoch = None    # the epoch of the checkpoint on disk (None: none yet)
        self.elapsed_s = 0.0    # training wall time over all sessions
        self._resumed = _resume
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
        self.steps = num_batches(len(self.x_train), cfg.batch_size)
        self.snapshots = self._snapshot_recorder()
        os.makedirs(run_dir, exist_ok=True)

    # -- construction from a checkpoint --------------------------------------------
    @classmethod
    def resume(cls, run_dir: str, train, test, *, epochs: int | None = None,
               progress: bool = True, command: str | None = None) -> "Trainer":
        """Continue the run saved in ``run_dir/checkpoint.npz`` (its config included).

        A run interrupted before its first checkpoint starts again from epoch 0 with the
        config of ``run_dir/run.json``. ``epochs`` may raise the total number of epochs
        (this also stretches a cosine or step schedule over the new total).

        Everything is checked before anything is written (:meth:`fit` writes): the
        checkpoint, run.json, metrics.jsonl and snapshots.npz must belong to one run.

        Raises
        ------
        FileNotFoundError
            Neither checkpoint.npz nor run.json in ``run_dir``.
        CheckpointError, ValueError
            A damaged or mismatched file, or ``epochs`` below the epochs already done.
        """
        path = os.path.join(run_dir, CHECKPOINT)
        info = read_run_info(run_dir)
        saved = read_npz(path) if os.path.exists(path) else None
        if saved is not None:
            if saved["format"] != "checkpoint":
                raise CheckpointError(f"{path}: is a weights file, not a checkpoint")
            config = saved["config"]
            if info is not None:
                _check_same_run(path, config, info)
        elif info is not None:
            try:
                config = TrainConfig.from_dict(info["config"]).resolved()
            except (TypeError, ValueError) as e:
                raise ValueError(f"{os.path.join(run_dir, RUN_INFO)}: bad config ({e})") from None
            # Starting over is right only for a run stopped before its first checkpoint
            # (epoch 1 may be logged); anything more is a run whose checkpoint is gone.
            logged = [r["epoch"] for r in MetricsLog(os.path.join(run_dir, METRICS)).read()]
            ended = [n for n in (WEIGHTS, SUMMARY) if os.path.exists(os.path.join(run_dir, n))]
            if max(logged, default=0) > 1 or ended:
                raise FileNotFoundError(
                    f"no {CHECKPOINT} in {run_dir}, which holds "
                    + (f"{max(logged)} epochs in {METRICS}" if logged else " and ".join(ended))
                    + ": it cannot be resumed (a finished run kept without its checkpoint?)")
        else:
            raise FileNotFoundError(f"no {CHECKPOINT} or {RUN_INFO} in {run_dir} (not a run "
                                    "directory written by train.py)")
        done = saved["epoch"] if saved is not None else 0
        if epochs is not None:
            if epochs < done:
                raise ValueError(f"{run_dir} has already completed {done} epochs; a run "
                                 f"cannot be shortened to {epochs}")
            config.epochs = epochs
        elif done > config.epochs:
            raise CheckpointError(f"{path}: saved after epoch {done} of {config.epochs}")
        trainer = cls(config, train, test, run_dir, progress=progress, command=command,
                      _resume=True)
        if saved is not None:
            trainer._restore(path, saved)
        trainer._check_log()
        return trainer

    def _restore(self, path: str, saved: dict) -> None:
        try:
            self.model.load_state_dict(saved["params"])
            self.optimizer.load_state_dict(saved["optim"])
            self.rng.bit_generator.state = saved["rng"]
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: does not fit its own config "
                                  f"({self.config.net}, {self.config.optimizer}): {e}") from None
        self.epoch = self.checkpoint_epoch = saved["epoch"]
        self.elapsed_s = saved["elapsed_s"]
        self.snapshots = self._snapshot_recorder()
        self.snapshots.restore_pending_loss(saved.get("pending_loss", (0.0, 0)))

    def _check_log(self) -> None:
        """metrics.jsonl must hold epochs 1..E up to the checkpoint's epoch E (lines after it,
        from a crash between the two writes, are dropped by :meth:`fit`)."""
        epochs = [r["epoch"] for r in self.log.read() if r["epoch"] <= self.epoch]
        if epochs != list(range(1, self.epoch + 1)):
            shown = f"epochs {epochs[0]}..{epochs[-1]}" if epochs else "no epochs"
            raise ValueError(f"{self.log.path}: holds {shown}, but the checkpoint was saved "
                             f"after epoch {self.epoch}: not the same run")

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
        steps = self.steps
        if self._resumed:
            self._drop_newer_than_checkpoint()
            self._resumed = False
        if self.epoch == 0 and not os.path.exists(os.path.join(self.run_dir, RUN_INFO)):
            self._write_run_info()
        # One bar over the whole run; its label names the epoch the current batch is in.
        bar = tqdm(total=cfg.epochs * steps, initial=self.epoch * steps, unit="batch",
                   desc=f"epoch {min(self.epoch + 1, cfg.epochs)}/{cfg.epochs}",
                   disable=not self.progress, dynamic_ncols=True, mininterval=0.5)
        try:
            while self.epoch < cfg.epochs:
                if stop_after is not None and self.epoch >= stop_after:
                    return None
                bar.set_description(f"epoch {self.epoch + 1}/{cfg.epochs}")
                record = self._train_epoch(bar, steps)
                self.epoch += 1
                self.snapshots.set_test_error(record["test_error"])
                if self.epoch == cfg.epochs:    # the final weights end the series
                    self.snapshots.record(self.epoch * steps, self.epoch, None, None, self.model)
                # Log and snapshots first, then checkpoint: resume drops what is newer.
                self.log.append(record)
                self.snapshots.save()
                save_checkpoint(os.path.join(self.run_dir, CHECKPOINT), self.model,
                                self.optimizer, self.rng, self.epoch, cfg, self.elapsed_s,
                                self.snapshots.pending_loss)
                self.checkpoint_epoch = self.epoch
                bar.write(_epoch_line(record, cfg.epochs))
        except KeyboardInterrupt:
            self._settle_interrupted()
            raise
        finally:
            bar.close()
            self.step.close()   # the shards' worker processes (started again if fit resumes)
        return self._finish()

    def _settle_interrupted(self) -> None:
        """After Ctrl-C or SIGTERM the checkpoint on disk is the run's state: a signal between
        an epoch's log line and its checkpoint would leave the line behind (resume drops it,
        but a reader of the log until then would see an epoch that was not kept)."""
        path = os.path.join(self.run_dir, CHECKPOINT)
        try:
            kept = read_npz(path)["epoch"] if os.path.exists(path) else 0
            self.log.truncate_after(kept)
        except (OSError, ValueError):   # left as it is: resume reports or mends it
            return
        self.checkpoint_epoch = kept or None

    def _drop_newer_than_checkpoint(self) -> None:
        """A resumed run's first writes: log lines newer than the checkpoint (a crash between
        the two) go, and so do temporary files of atomic writes a crash cut short."""
        self.log.truncate_after(self.epoch)
        for name in os.listdir(self.run_dir):
            if is_temp(name) and any(name.startswith(f".{f}.") for f in RUN_FILES):
                os.remove(os.path.join(self.run_dir, name))

    def _diverged(self, what: str, b: int | None) -> TrainingDiverged:
        where = f"epoch {self.epoch + 1}/{self.config.epochs}"
        if b is not None:
            where += f", step {b + 1}/{self.steps}"
        kept = (f"the checkpoint after epoch {self.checkpoint_epoch} is kept"
                if self.checkpoint_epoch else "no checkpoint had been saved yet")
        return TrainingDiverged(f"{what} became non-finite at {where} (lr "
                                f"{self.optimizer.lr:g}); nothing of this epoch was saved, "
                                f"{kept}", self.checkpoint_epoch)

    def _train_epoch(self, bar, steps: int) -> dict:
        # Overflow warnings would drown the one clear TrainingDiverged message.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return self._train_epoch_quiet(bar, steps)

    def _train_epoch_quiet(self, bar, steps: int) -> dict:
        cfg, model, opt = self.config, self.model, self.optimizer
        named = list(model.named_parameters())
        grad_sums = np.zeros(len(named))
        max_total = 0.0
        loss_sum, correct, seen = 0.0, 0, 0
        lr_first = None
        snapshot_s = 0.0
        t0 = time.perf_counter()
        augment = cfg.augmented
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
                                   shear=cfg.shear, squeeze=cfg.squeeze, flip=cfg.flip,
                                   fill=self.fill)
            loss, logits = self.step(opt, xb, yb)
            norms = [float(np.linalg.norm(p.grad.ravel())) for _, p in named]
            if cfg.clip:
                total = clip_grad_norm_(opt.params, cfg.clip)
            else:
                total = math.sqrt(sum(n * n for n in norms))
            if not math.isfinite(loss):
                raise self._diverged(f"the training loss ({loss})", b)
            if not math.isfinite(total):
                raise self._diverged(f"the gradient norm ({total})", b)
            grad_sums += norms
            max_total = max(max_total, total)
            opt.step()
            t_snap = time.perf_counter()
            self.snapshots.observe(loss)
            step = self.epoch * steps + b + 1
            if self.snapshots.due(step):
                self.snapshots.record(step, step / steps, None, None, model)
            snapshot_s += time.perf_counter() - t_snap
            loss_sum += loss * len(idx)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
            seen += len(idx)
            bar.update(1)
            if b % 10 == 0 or b == steps - 1:
                rate = seen / max(time.perf_counter() - t0, 1e-9)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}",
                                img_s=f"{rate:.0f}", refresh=False)
        train_s = time.perf_counter() - t0
        bad = [name for name, p in named if not np.isfinite(p.data).all()]
        if bad:                             # the last step overflowed a weight
            raise self._diverged(f"weight {bad[0]}", None)
        test = evaluate_arrays(model, self.x_test, self.y_test, **views_for(self.config))
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
            "grad_norm": {name: s / steps for (name, _), s in zip(named, grad_sums)},
            "grad_norm_max": max_total,
            "train_s": train_s,
            "wall_s": wall,
            "elapsed_s": self.elapsed_s,
            "images_per_s": seen / train_s,
            "snapshot_s": snapshot_s,
            "peak_rss_mb": peak_rss_mb(),
        }

    def _snapshot_recorder(self) -> SnapshotRecorder:
        """conv1/conv2 filters about 50 times per run (RUN_DIR/snapshots.npz), continued on resume."""
        every = default_every(self.config.epochs * self.steps)
        if self.epoch == 0:
            rec = SnapshotRecorder(self.run_dir, every)
            rec.record(0, 0.0, None, None, self.model)
            return rec
        rec = SnapshotRecorder.resume(self.run_dir, self.epoch * self.steps, every=every)
        rec.check_fits(self.model)
        records = [r for r in self.log.read() if r["epoch"] <= self.epoch]
        if records:
            rec.set_test_error(records[-1]["test_error"])
        return rec

    @property
    def complete(self) -> bool:
        """All epochs done and the final weights.npz and summary.json written."""
        return (self.epoch >= self.config.epochs
                and all(os.path.isfile(os.path.join(self.run_dir, n)) for n in (WEIGHTS, SUMMARY)))

    # -- run files -------------------------------------------------------------------
    def _write_run_info(self) -> None:
        named = list(self.model.named_parameters())
        _write_json_atomic(os.path.join(self.run_dir, RUN_INFO), {
            "command": self.command,
            "commit": git_commit(),
            "environment": environment(),
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
            "environment": environment(),   # where it finished (run.json: where it began)
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


def _check_same_run(path: str, config: TrainConfig, info: dict) -> None:
    """The checkpoint's config must be run.json's (the total of epochs aside: resume may raise it)."""
    ours, theirs = config.to_dict(), upgrade(info["config"])
    for key in sorted(set(ours) | set(theirs)):
        if key != "epochs" and ours.get(key) != theirs.get(key):
            raise CheckpointError(f"{path}: belongs to another run: its {key} is "
                                  f"{ours.get(key)!r}, {RUN_INFO} says {theirs.get(key)!r}")
