"""Filter snapshots during training: conv weights every K steps, for "watch it learn" GIFs.

A :class:`SnapshotRecorder` copies a few weight arrays (by default LeNet-5's conv1 and
conv2 filters) at initialisation and then every ``every`` optimiser steps, with the step,
the (fractional) epoch, the training loss (mean of the steps since the previous snapshot)
and the latest test error. ``save()`` writes them to ``RUN_DIR/snapshots.npz`` atomically.

Layout of the archive (all loadable with ``allow_pickle=False``):

- ``step`` (K,) int64, strictly increasing; ``epoch``, ``loss``, ``test_error`` (K,) float64
  (NaN where unknown: no loss before the first step, no test error before the first
  evaluation);
- one array per recorded layer, e.g. ``conv1`` (K, 6, 1, 5, 5) and ``conv2`` (K, 16, 6, 5, 5);
- ``meta/every`` (0-d int) and ``meta/layers`` (JSON ``{"conv1": "c1.weight", ...}``).

Typical hook in a training loop::

    rec = SnapshotRecorder(run_dir, default_every(total_steps))
    rec.record(0, 0.0, None, None, model)               # the initial weights
    for each batch:
        loss = ...; optimizer.step(); step += 1
        rec.observe(loss)
        if rec.due(step):
            rec.record(step, step / steps_per_epoch, None, None, model)
    after each evaluation: rec.set_test_error(err); rec.save()   # with the checkpoint
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from .checkpoint import CheckpointError, load_npz, save_npz_atomic
from .config import TrainConfig, build_model
from .rundir import SNAPSHOTS, read_run_info

DEFAULT_LAYERS = {"conv1": "c1.weight", "conv2": "c3.weight"}
SCALARS = ("step", "epoch", "loss", "test_error")


def default_every(total_steps: int, count: int = 50) -> int:
    """Steps between snapshots so a run of ``total_steps`` has about ``count`` of them
    (the initial one included): ``ceil(total_steps / count)``, at least 1."""
    if count < 1:
        raise ValueError(f"default_every: count={count}, expected >= 1")
    return max(1, math.ceil(int(total_steps) / int(count)))


def _params(model) -> dict:
    """name -> array for a model with ``named_parameters()`` (Parameters or plain arrays)."""
    return {name: getattr(p, "data", p) for name, p in model.named_parameters()}


class SnapshotRecorder:
    """Collect weight snapshots in memory and save them to ``run_dir/snapshots.npz``.

    Parameters
    ----------
    run_dir : str or PathLike
        Where ``snapshots.npz`` is written (must exist when :meth:`save` runs).
    every : int
        Steps between snapshots (>= 1); :meth:`due` is true on multiples of it.
    layers : dict, optional
        Snapshot name -> parameter name; default ``{"conv1": "c1.weight", "conv2":
        "c3.weight"}``. Parameters the model lacks are skipped (the first :meth:`record`
        decides); a model with none of them (fc2) records nothing and saves no file.
    """

    def __init__(self, run_dir, every: int, layers: dict | None = None) -> None:
        if not (isinstance(every, (int, np.integer)) and every >= 1):
            raise ValueError(f"SnapshotRecorder: every={every!r}, expected an integer >= 1")
        self.path = os.path.join(os.fspath(run_dir), SNAPSHOTS)
        self.every = int(every)
        self.layers = dict(DEFAULT_LAYERS if layers is None else layers)
        self.present = None                 # the layers the model has, set by the first record
        self.rows = {k: [] for k in SCALARS}
        self.weights = {}                   # snapshot name -> list of arrays
        self.test_error = math.nan
        self._loss_sum, self._loss_n = 0.0, 0

    # -- the series ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows["step"])

    @property
    def active(self) -> bool:
        """False once a model without any of the layers was seen (nothing is recorded)."""
        return self.present is None or bool(self.present)

    @property
    def last_step(self) -> int | None:
        return self.rows["step"][-1] if self.rows["step"] else None

    def due(self, step: int) -> bool:
        """Whether a snapshot belongs at ``step`` (a multiple of ``every`` not recorded yet)."""
        return step % self.every == 0 and (self.last_step is None or step > self.last_step)

    def observe(self, loss: float) -> None:
        """Add one training step's loss to the running mean the next snapshot stores."""
        self._loss_sum += float(loss)
        self._loss_n += 1

    @property
    def pending_loss(self) -> tuple:
        """(sum, count) of the losses observed since the last snapshot."""
        return self._loss_sum, self._loss_n

    def restore_pending_loss(self, pending) -> None:
        """Continue the running loss mean a checkpoint saved (:attr:`pending_loss`)."""
        self._loss_sum, self._loss_n = float(pending[0]), int(pending[1])

    def set_test_error(self, err: float) -> None:
        """The latest test error (a fraction); later snapshots store it."""
        self.test_error = float(err)

    def record(self, step: int, epoch: float, loss: float | None, test_error: float | None,
               model) -> bool:
        """Copy the weights now, as the snapshot of ``step``.

        Parameters
        ----------
        step : int
            Optimiser steps completed (0: the initial weights). Must not decrease; recording
            the last step again replaces that snapshot.
        epoch : float
            Epochs completed, fractional (``step / steps_per_epoch``).
        loss : float or None
            Training loss to store; None: the mean of the losses given to :meth:`observe`
            since the previous snapshot (NaN if none).
        test_error : float or None
            None: the value of the latest :meth:`set_test_error` (NaN before any).
        model : object with ``named_parameters()``

        Returns
        -------
        bool : whether a snapshot was stored (False for a model without the layers).
        """
        params = _params(model)
        if self.present is None:
            self.present = {k: v for k, v in self.layers.items() if v in params}
            self.weights = {k: [] for k in self.present}
        if not self.present:
            return False
        step = int(step)
        last = self.last_step
        if last is not None and step < last:
            raise ValueError(f"SnapshotRecorder.record: step={step} is before the last "
                             f"snapshot (step {last}); steps must not decrease")
        if test_error is None:
            test_error = self.test_error
        if last is not None and step == last:       # same step again: replace it
            if loss is None and not self._loss_n:   # keep the loss it already had
                loss = self.rows["loss"][-1]
            for series in list(self.rows.values()) + list(self.weights.values()):
                series.pop()
        if loss is None:
            loss = self._loss_sum / self._loss_n if self._loss_n else math.nan
        for key, value in zip(SCALARS, (step, float(epoch), float(loss), float(test_error))):
            self.rows[key].append(value)
        for name, pname in self.present.items():
            self.weights[name].append(np.array(params[pname], copy=True))
        self._loss_sum, self._loss_n = 0.0, 0
        return True

    def check_fits(self, model) -> None:
        """Raise :class:`~training.checkpoint.CheckpointError` unless every series already
        recorded names a parameter of ``model`` with the same shape (a resumed run's
        snapshots must come from the same network)."""
        params = _params(model)
        for name, pname in (self.present or {}).items():
            series = self.weights.get(name) or []
            shape = series[0].shape if series else None
            if pname not in params or (shape is not None and params[pname].shape != shape):
                raise CheckpointError(
                    f"{self.path}: its {name} series ({pname}, shape {shape}) does not fit "
                    "this network: the snapshots belong to another run")

    # -- files ---------------------------------------------------------------------
    def arrays(self) -> dict:
        """The series as the arrays :func:`load_snapshots` returns."""
        out = {"step": np.array(self.rows["step"], dtype=np.int64)}
        for key in SCALARS[1:]:
            out[key] = np.array(self.rows[key], dtype=np.float64)
        for name, series in self.weights.items():
            out[name] = np.stack(series) if series else np.zeros((0,))
        return out

    def save(self) -> bool:
        """Write ``run_dir/snapshots.npz`` atomically; nothing (False) when empty."""
        if not len(self):
            return False
        arrays = self.arrays()
        arrays["meta/every"] = np.array(self.every)
        arrays["meta/layers"] = np.array(json.dumps(self.present))
        save_npz_atomic(self.path, arrays)
        return True

    @classmethod
    def resume(cls, run_dir, up_to_step: int, every: int | None = None,
               layers: dict | None = None) -> "SnapshotRecorder":
        """A recorder continuing the series saved in ``run_dir``.

        Snapshots after ``up_to_step`` (recorded after the checkpoint a run resumes from)
        are dropped, so the resumed run adds them again without duplicates or gaps. Without
        a file, a fresh recorder (``every`` is then required).

        Parameters
        ----------
        run_dir : str or PathLike
        up_to_step : int
            Optimiser steps completed at the checkpoint.
        every : int, optional
            Default: the value saved in the file.
        layers : dict, optional
            Default: the layers saved in the file.
        """
        path = os.path.join(os.fspath(run_dir), SNAPSHOTS)
        if not os.path.exists(path):
            if every is None:
                raise FileNotFoundError(f"SnapshotRecorder.resume: no {path} and no every= "
                                        "given to start a new series")
            return cls(run_dir, every, layers)
        data = load_snapshots(run_dir)
        try:
            saved_layers = json.loads(str(data.pop("meta/layers")))
            saved_every = int(data.pop("meta/every"))
            if not (isinstance(saved_layers, dict)
                    and all(isinstance(data.get(k), np.ndarray) and data[k].ndim == 5
                            and len(data[k]) == len(data["step"]) for k in saved_layers)):
                raise ValueError("meta/layers does not match the weight series")
            if not all(data[k].shape == data["step"].shape for k in SCALARS):
                raise ValueError("the step, epoch, loss and test_error series differ in length")
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: not a snapshot series written here ({e})") from None
        rec = cls(run_dir, every or saved_every,
                  layers if layers is not None else saved_layers)
        keep = data["step"] <= int(up_to_step)
        rec.present = {k: v for k, v in rec.layers.items() if k in saved_layers}
        for key in SCALARS:
            rec.rows[key] = data[key][keep].tolist()
        rec.weights = {k: list(data[k][keep]) for k in rec.present}
        errs = [e for e in rec.rows["test_error"] if not math.isnan(e)]
        rec.test_error = errs[-1] if errs else math.nan
        return rec


def load_snapshots(run_dir) -> dict:
    """Read ``run_dir/snapshots.npz``.

    Returns
    -------
    dict
        ``step`` (K,) int64, ``epoch``, ``loss``, ``test_error`` (K,) float64, one
        (K, F, C, kh, kw) array per recorded layer (``conv1``, ``conv2``), and
        ``meta/every``, ``meta/layers``.

    Raises
    ------
    FileNotFoundError, CheckpointError
        Naming the path and what is wrong (CheckpointError is a ValueError).
    """
    path = os.path.join(os.fspath(run_dir), SNAPSHOTS)
    data = load_npz(path, " (runs of train.py record snapshots)")
    missing = [k for k in SCALARS if k not in data]
    if missing:
        raise CheckpointError(f"{path}: missing {missing}, expected a file written by "
                              "training.snapshots.SnapshotRecorder")
    k = data["step"].shape
    if len(k) != 1 or not k[0] or any(data[s].shape != k for s in SCALARS):
        raise CheckpointError(f"{path}: the step, epoch, loss and test_error series must be "
                              f"1-D of one length >= 1, got {[data[s].shape for s in SCALARS]}")
    for name in snapshot_layers(data):
        if data[name].shape[0] != k[0] or not np.isfinite(data[name]).all():
            raise CheckpointError(f"{path}: the {name} series does not match the {k[0]} "
                                  "steps or is not finite")
    return data


def snapshot_layers(data: dict) -> list[str]:
    """Names of the weight series in a :func:`load_snapshots` dict (``conv1``, ``conv2``)."""
    return [k for k, v in data.items() if k not in SCALARS and not k.startswith("meta/")
            and getattr(v, "ndim", 0) == 5]


def snapshot_connections(run_dir, data: dict) -> dict:
    """Which kernels each weight series really has, for the layers that read only some of
    their input maps (the 1998 net's C3, Table I).

    The table is the layer's own ``connections``, from the network RUN_DIR/run.json names
    (built afresh: the table is part of the architecture, not of the weights).

    Returns
    -------
    dict
        Series name (``conv2``) -> (F, C) bool; empty for a run without run.json, whose
        config is unreadable, or whose layers all read every input map.
    """
    try:
        info = read_run_info(os.fspath(run_dir))
        if info is None:
            return {}
        model = build_model(TrainConfig.from_dict(info["config"]).resolved(),
                            np.random.default_rng(0))
        layers = json.loads(str(data["meta/layers"]))
    except (KeyError, TypeError, ValueError):
        return {}
    out = {}
    for name, pname in layers.items():
        module = model
        for part in pname.split(".")[:-1]:
            module = getattr(module, "children", {}).get(part)
        table = getattr(module, "connections", None)
        if table is not None and name in data and data[name].shape[1:3] == table.shape:
            out[name] = np.asarray(table, dtype=bool)
    return out
