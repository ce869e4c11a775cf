"""Classification metrics, per-layer norms, memory use and the metrics.jsonl log."""

from __future__ import annotations

import json
import os
import resource
import sys

import numpy as np

from safeio.atomic import write_text


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts ``cm[true, pred]``, shape (K, K), int64."""
    labels = np.asarray(labels, dtype=np.intp)
    preds = np.asarray(preds, dtype=np.intp)
    return np.bincount(labels * num_classes + preds,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_table(cm: np.ndarray, names=None) -> list[dict]:
    """One dict per class: ``class``, ``n`` (true count), ``errors``, ``error`` (fraction),
    and ``name`` when ``names`` (one per class) is given."""
    n = cm.sum(axis=1)
    errors = n - np.diag(cm)
    rows = [{"class": k, "n": int(n[k]), "errors": int(errors[k]),
             "error": float(errors[k] / n[k]) if n[k] else 0.0} for k in range(cm.shape[0])]
    if names is not None:
        for row in rows:
            row["name"] = names[row["class"]]
    return rows


def most_confused(cm: np.ndarray, top: int = 5, names=None) -> list[dict]:
    """The off-diagonal cells with the largest counts: ``true``, ``pred``, ``count``, and
    ``true_name``, ``pred_name`` when ``names`` (one per class) is given."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None, kind="stable")[::-1][:top]
    pairs = []
    for flat in order:
        t, p = divmod(int(flat), cm.shape[1])
        if off[t, p] == 0:
            break
        pairs.append({"true": t, "pred": p, "count": int(off[t, p])})
        if names is not None:
            pairs[-1].update(true_name=names[t], pred_name=names[p])
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
    """JSON-lines file, one object per epoch, each with an integer ``epoch``.

    Every change rewrites the whole (small) file through :mod:`safeio.atomic`, so a crash
    leaves the old lines or the new ones, never a half-written line.

    Parameters
    ----------
    path : str
        RUN_DIR/metrics.jsonl
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def _text(self) -> str:
        if not os.path.exists(self.path):
            return ""
        try:
            with open(self.path, encoding="utf-8") as f:
                return f.read()
        except UnicodeDecodeError:
            raise ValueError(f"{self.path}: not a text file (damaged?)") from None

    @staticmethod
    def _lines(records) -> str:
        return "".join(json.dumps(r) + "\n" for r in records)

    def append(self, record: dict) -> None:
        write_text(self.path, self._text() + self._lines([record]))

    def read(self) -> list[dict]:
        """The records, in file order.

        Raises
        ------
        ValueError
            A line that is not a JSON object with an integer ``epoch`` (naming file and line).
        """
        records = []
        for i, line in enumerate(self._text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                raise ValueError(f"{self.path}: line {i} is not JSON ({e})") from None
            if not (isinstance(r, dict) and type(r.get("epoch")) is int):
                raise ValueError(f"{self.path}: line {i} has no integer 'epoch'")
            records.append(r)
        return records

    def truncate_after(self, epoch: int) -> None:
        """Drop records of epochs > ``epoch`` (written after the last checkpoint), atomically;
        the file is not touched when there is nothing to drop."""
        text = self._lines(r for r in self.read() if r["epoch"] <= epoch)
        if text != self._text():
            write_text(self.path, text)
