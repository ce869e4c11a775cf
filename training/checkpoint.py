"""Checkpoints and weight files: .npz archives written atomically.

Layout of the archive (keys):

- ``param/<name>``: each parameter array (``c1.weight`` ...);
- ``optim/<slot>.<i>``: optimiser state (checkpoints only);
- ``meta/config``: the run's :class:`~training.config.TrainConfig` as JSON;
- ``meta/format``: ``"checkpoint"`` or ``"weights"``;
- ``meta/rng``, ``meta/epoch``, ``meta/elapsed_s`` (checkpoints only).

JSON values are stored as 0-d unicode arrays so the file loads with
``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from safeio.atomic import atomic_write

from .config import TrainConfig, build_model


def save_npz_atomic(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (:mod:`safeio.atomic`): an interruption leaves
    either the old file or the new one, never a partial file."""
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def _json(value) -> np.ndarray:
    return np.array(json.dumps(value))


def _model_arrays(model, config: TrainConfig, fmt: str) -> dict[str, np.ndarray]:
    arrays = {f"param/{name}": p.data for name, p in model.named_parameters()}
    arrays["meta/config"] = _json(config.to_dict())
    arrays["meta/format"] = np.array(fmt)
    return arrays


def save_checkpoint(path: str, model, optimizer, rng: np.random.Generator, epoch: int,
                    config: TrainConfig, elapsed_s: float = 0.0, pending_loss=(0.0, 0)) -> None:
    """Save everything needed to continue a run after ``epoch`` completed epochs.

    ``pending_loss`` is the (sum, count) of the training losses the next weight snapshot
    will average (a snapshot interval may straddle the checkpoint)."""
    arrays = _model_arrays(model, config, "checkpoint")
    arrays.update({f"optim/{k}": v for k, v in optimizer.state_dict().items()})
    arrays["meta/rng"] = _json(rng.bit_generator.state)
    arrays["meta/epoch"] = np.array(int(epoch))
    arrays["meta/elapsed_s"] = np.array(float(elapsed_s))
    arrays["meta/pending_loss"] = np.array([float(pending_loss[0]), float(pending_loss[1])])
    save_npz_atomic(path, arrays)


def save_weights(path: str, model, config: TrainConfig, extra: dict | None = None) -> None:
    """Save the parameters and the config (so loading needs no flags); ``extra`` goes in meta/info."""
    arrays = _model_arrays(model, config, "weights")
    if extra:
        arrays["meta/info"] = _json(extra)
    save_npz_atomic(path, arrays)


class CheckpointError(ValueError):
    """An .npz file (checkpoint, weights or snapshots) that cannot be used: damaged, not an
    archive, or not what was expected. The message names the file and what is wrong, on
    one line, so a script can print it as it is."""


ZIP_MAGIC = b"PK\x03\x04"


def load_npz(path: str, missing: str = "") -> dict:
    """Every array of an .npz archive, loaded without pickle.

    Raises
    ------
    FileNotFoundError
        No such file (``missing`` adds a hint on how to make one).
    CheckpointError
        Empty, truncated, damaged or not an .npz archive (a ValueError).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}{missing}")
    try:
        with open(path, "rb") as f:
            head = f.read(len(ZIP_MAGIC))
        if not head:
            raise CheckpointError(f"{path}: not a readable .npz archive: the file is empty")
        if head != ZIP_MAGIC:
            raise CheckpointError(f"{path}: not a readable .npz archive: it does not start "
                                  "like a zip file (a text file or another format?)")
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except CheckpointError:
        raise
    except PermissionError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror})") from None
    except Exception as e:
        # numpy and zipfile raise a dozen types on damaged bytes: BadZipFile, EOFError,
        # KeyError, zlib.error, SyntaxError from a .npy header, MemoryError from a size field.
        why = " ".join(str(e).split()) or type(e).__name__
        why = why if len(why) <= 100 else why[:97] + "..."
        why = ("it holds object arrays, which are never unpickled" if "pickle" in why
               else f"damaged or truncated ({why})")
        raise CheckpointError(f"{path}: not a readable .npz archive: {why}") from None


def _meta(path: str, data: dict, key: str, convert):
    try:
        value = data[key]
        if value.ndim != 0:
            raise ValueError(f"shape {value.shape}, expected a scalar")
        return convert(value[()])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{path}: bad {key} entry ({e})") from None


def read_npz(path: str) -> dict:
    """Load an archive written here into a dict: ``params``, ``optim``, ``config`` and meta fields.

    Raises
    ------
    FileNotFoundError
        No such file.
    CheckpointError
        With the path and what is wrong (damaged, or not a file written here).
    """
    data = load_npz(path)
    if "meta/config" not in data:
        raise CheckpointError(f"{path}: no meta/config entry (expected a file saved by "
                              "training.checkpoint, e.g. RUN_DIR/weights.npz)")
    try:
        config = TrainConfig.from_dict(_meta(path, data, "meta/config", json.loads)).resolved()
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad meta/config entry ({e})") from None
    params = {k[len("param/"):]: v for k, v in data.items() if k.startswith("param/")}
    bad = [k for k, v in params.items() if v.dtype.kind != "f" or not np.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path}: parameter {bad[0]} is not finite floats "
                              "(damaged, or saved from a diverged run)")
    out = {
        "params": params,
        "optim": {k[len("optim/"):]: v for k, v in data.items() if k.startswith("optim/")},
        "config": config,
        "format": _meta(path, data, "meta/format", str) if "meta/format" in data else "weights",
    }
    if out["format"] not in ("checkpoint", "weights"):
        raise CheckpointError(f"{path}: meta/format is {out['format']!r}, expected "
                              "'checkpoint' or 'weights'")
    if out["format"] == "checkpoint":
        out["rng"] = _meta(path, data, "meta/rng", json.loads)
        out["epoch"] = _meta(path, data, "meta/epoch", int)
        out["elapsed_s"] = _meta(path, data, "meta/elapsed_s", float)
        pending = data.get("meta/pending_loss")        # absent in older checkpoints
        out["pending_loss"] = ((0.0, 0) if pending is None or np.shape(pending) != (2,)
                               else (float(pending[0]), int(pending[1])))
        if out["epoch"] < 0:
            raise CheckpointError(f"{path}: meta/epoch is {out['epoch']}, expected >= 0")
    if "meta/info" in data:
        out["info"] = _meta(path, data, "meta/info", json.loads)
    return out


def load_model(path: str, dtype=np.float32):
    """Rebuild the network stored in a weights file or checkpoint.

    Returns
    -------
    model : nn.Sequential
    config : TrainConfig

    Raises
    ------
    FileNotFoundError, CheckpointError
    """
    saved = read_npz(path)
    config = saved["config"]
    model = build_model(config, np.random.default_rng(0), dtype=dtype)
    try:
        model.load_state_dict(saved["params"])
    except ValueError as e:
        raise CheckpointError(f"{path}: does not fit a {config.net} network ({e})") from None
    return model, config
