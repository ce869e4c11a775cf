"""Classification metrics, per-layer norms, memory use and the metrics.jsonl log."""

from __future__ import annotations

import json
import os
import resource
import sys

import numpy as np

from mnist.atomic import write_text


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts ``cm[true, pred]``, shape (K, K), int64."""
    labels = np.asarray(labels, dtype=np.intp)
    preds = np.asarray(preds, dtype=np.intp)
    return np.bincount(labels * num_classes + preds,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_table(cm: np.ndarray) -> list[dict]:
    """One dict per class: ``class``, ``n`` (true count), ``errors``, ``error`` (fraction)."""
    n = cm.sum(axis=1)
    errors = n - np.diag(cm)
    return [{"class": k, "n": int(n[k]), "errors": int(errors[k]),
             "error": float(errors[k] / n[k]) if n[k] else 0.0} for k in range(cm.shape[0])]


def most_confused(cm: np.ndarray, top: int = 5) -> list[dict]:
    """The off-diagonal cells with the largest counts: ``true``, ``pred``, ``count``."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None, kind="stable")[::-1][:top]
    pairs = []
    for flat in order:
        t, p = divmod(int(flat), cm.shape[1])
        if off[t, p] == 0:
            break
        pairs.append({"true": t, "pred": p, "count": int(off[t, p])})
    return pairs


def param_norms(named_params) -> dict[str, float]:
    """2-norm of each parameter array, keyed by name."""
    return {name: float(np.linalg.norm(p.data.ravel())) for name, p in named_params}


def param_stds(named_params) -> dict[str, float]:
    """Standard deviation of each parameter array, keyed by name."""
    return {name: float(p.data.std()) for name, p in named_params}


def grad_norms(named_params) -> dict[str, float]:
    """2-norm of each parameter's gradient, keyed by name."""
    return {name: float(np.linalg.norm(p.grad.ravel())) for name, p in named_params}


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``resource.getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class MetricsLog:
    """Append-only JSON-lines file, one object per epoch.

    Parameters
    ----------
    path : str
        RUN_DIR/metrics.jsonl
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def append(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def read(self) -> list[dict]:
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def truncate_after(self, epoch: int) -> None:
        """Drop records of epochs > ``epoch`` (written after the last checkpoint), atomically."""
        records = [r for r in self.read() if r["epoch"] <= epoch]
        write_text(self.path, "".join(json.dumps(r) + "\n" for r in records))
