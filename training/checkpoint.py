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

from mnist.atomic import atomic_write

from .config import TrainConfig, build_model


def save_npz_atomic(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (:mod:`mnist.atomic`): an interruption leaves
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
                    config: TrainConfig, elapsed_s: float = 0.0) -> None:
    """Save everything needed to continue a run after ``epoch`` completed epochs."""
    arrays = _model_arrays(model, config, "checkpoint")
    arrays.update({f"optim/{k}": v for k, v in optimizer.state_dict().items()})
    arrays["meta/rng"] = _json(rng.bit_generator.state)
    arrays["meta/epoch"] = np.array(int(epoch))
    arrays["meta/elapsed_s"] = np.array(float(elapsed_s))
    save_npz_atomic(path, arrays)


def save_weights(path: str, model, config: TrainConfig, extra: dict | None = None) -> None:
    """Save the parameters and the config (so loading needs no flags); ``extra`` goes in meta/info."""
    arrays = _model_arrays(model, config, "weights")
    if extra:
        arrays["meta/info"] = _json(extra)
    save_npz_atomic(path, arrays)


def load_npz(path: str, missing: str = "") -> dict:
    """Every array of an .npz archive, loaded without pickle.

    Raises
    ------
    FileNotFoundError
        No such file (``missing`` adds a hint on how to make one).
    ValueError
        Not a readable archive.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}{missing}")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable .npz archive ({e})") from None


def read_npz(path: str) -> dict:
    """Load an archive written here into a dict: ``params``, ``optim``, ``config`` and meta fields.

    Raises
    ------
    FileNotFoundError, ValueError
        With the path and what is wrong.
    """
    data = load_npz(path)
    if "meta/config" not in data:
        raise ValueError(f"{path}: no meta/config entry (expected a file saved by "
                         "training.checkpoint, e.g. RUN_DIR/weights.npz)")
    out = {
        "params": {k[len("param/"):]: v for k, v in data.items() if k.startswith("param/")},
        "optim": {k[len("optim/"):]: v for k, v in data.items() if k.startswith("optim/")},
        "config": TrainConfig.from_dict(json.loads(str(data["meta/config"]))),
        "format": str(data.get("meta/format", "weights")),
    }
    if "meta/rng" in data:
        out["rng"] = json.loads(str(data["meta/rng"]))
        out["epoch"] = int(data["meta/epoch"])
        out["elapsed_s"] = float(data["meta/elapsed_s"])
    if "meta/info" in data:
        out["info"] = json.loads(str(data["meta/info"]))
    return out


def load_model(path: str, dtype=np.float32):
    """Rebuild the network stored in a weights file or checkpoint.

    Returns
    -------
    model : nn.Sequential
    config : TrainConfig
    """
    saved = read_npz(path)
    config = saved["config"]
    model = build_model(config, np.random.default_rng(0), dtype=dtype)
    model.load_state_dict(saved["params"])
    return model, config
