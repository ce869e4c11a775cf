"""Run directories: the files train.py keeps in one, and where outputs made from a run go.

A run directory (``runs/<net>-<time>/`` by default) holds metrics.jsonl, checkpoint.npz,
weights.npz, run.json, summary.json and snapshots.npz. A new run needs a new or empty
directory; outputs made from a run (filter GIFs, reports, feature maps) go into it. Files
shipped with the repository (models/, gifs/, docs/) are never a default output: outputs of
a shipped run go to ``runs/<name>/`` instead.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from safeio.lock import Busy, exclusive, is_locked

CHECKPOINT = "checkpoint.npz"
WEIGHTS = "weights.npz"
METRICS = "metrics.jsonl"
RUN_INFO = "run.json"
SUMMARY = "summary.json"
SNAPSHOTS = "snapshots.npz"     # written by training.snapshots.SnapshotRecorder
RUN_FILES = (METRICS, CHECKPOINT, WEIGHTS, RUN_INFO, SUMMARY, SNAPSHOTS)


class RunDirError(ValueError):
    """A new run was pointed at a directory that already holds files."""


class RunDirBusy(RunDirError):
    """Another process is training in the run directory."""

    def __init__(self, run_dir: str):
        super().__init__(f"another process is training in {run_dir}; nothing was changed "
                         "(wait for it to end, or choose another directory)")


def is_busy(run_dir: str) -> bool:
    """True while another process trains in ``run_dir`` (holds its lock)."""
    return is_locked(run_dir)


@contextlib.contextmanager
def locked_run_dir(run_dir: str, *, create: bool = False):
    """Be the one process that writes ``run_dir`` for the ``with`` block: an ``fcntl.flock``
    on the directory itself, which adds no file to it and which the kernel releases when the
    process ends, even by SIGKILL (no stale lock).

    ``create``: make ``run_dir`` if it does not exist; if it is still empty at the end (the
    run stopped before writing), it is removed again. Yields whether this call created it.

    Raises
    ------
    RunDirBusy
        Another process holds the lock; nothing was changed.
    """
    created = False
    if create:
        try:
            os.makedirs(run_dir)
            created = True
        except FileExistsError:
            pass
    try:
        held = exclusive(run_dir)
        held.__enter__()
    except Busy:
        raise RunDirBusy(run_dir) from None
    try:
        yield created
    finally:
        if created and not os.listdir(run_dir):
            with contextlib.suppress(OSError):
                os.rmdir(run_dir)
        held.__exit__(None, None, None)


ROOT = Path(__file__).resolve().parents[1]
SHIPPED = tuple(ROOT / d for d in ("models", "gifs", "docs"))


def is_temp(name: str) -> bool:
    """A leftover of an atomic write cut short (``.NAME.<random>.tmp``, :mod:`safeio.atomic`)."""
    return name.startswith(".") and name.endswith(".tmp")


def run_dir_entries(run_dir: str) -> list[str]:
    """What ``run_dir`` holds (sorted), leaving out the temporary files of atomic writes cut
    short by a crash; [] when it does not exist.

    Raises
    ------
    RunDirError
        ``run_dir`` exists and is not a directory.
    """
    if not os.path.exists(run_dir):
        return []
    if not os.path.isdir(run_dir):
        raise RunDirError(f"{run_dir} exists and is not a directory")
    return sorted(n for n in os.listdir(run_dir) if not is_temp(n))


def read_run_info(run_dir: str) -> dict | None:
    """RUN_DIR/run.json (None if absent).

    Raises
    ------
    ValueError
        Not a JSON object with a ``config``.
    """
    path = os.path.join(run_dir, RUN_INFO)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not readable JSON ({e})") from None
    if not (isinstance(info, dict) and isinstance(info.get("config"), dict)):
        raise ValueError(f"{path}: no 'config' object (not written by train.py?)")
    return info


def output_dir(source, name: str | None = None) -> Path:
    """Where outputs made from ``source`` (a run directory, or the folder of a weights file)
    go when no ``--out`` is given: ``source`` itself, except inside the shipped folders
    (models/, gifs/, docs/), whose files only an explicit ``--out`` may replace; their
    outputs go to ``runs/<folder name>/`` (created by the caller when it writes), or
    ``runs/<name>/`` for a file directly in a shipped folder (``models/lenet5.npz``).
    """
    source = Path(source)
    resolved = source.resolve()
    if resolved in SHIPPED:
        return Path("runs") / (name or resolved.name)
    if any(d in resolved.parents for d in SHIPPED):
        return Path("runs") / resolved.name
    return source
