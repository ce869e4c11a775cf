"""Running a trained network over a data set."""

from __future__ import annotations

import numpy as np

from .metrics import confusion_matrix
from .step import criterion


def predict_logits(model, x: np.ndarray, batch_size: int = 1000,
                   mirror: bool = False) -> np.ndarray:
    """Logits (N, 10) for inputs x (N, 1, 28, 28), computed in batches; with ``mirror``, the
    mean of each image's logits and its mirror image's (test-time augmentation, for a net
    trained on flipped images: ``train.py --test-flip``)."""
    if mirror:
        mirrored = predict_logits(model, x[..., ::-1], batch_size)
        return (predict_logits(model, x, batch_size) + mirrored) / 2
    outs = [model.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    # Forward passes leave caches behind; drop them so evaluation does not hold memory.
    for layer in getattr(model, "children", {}).values():
        if hasattr(layer, "cache"):
            layer.cache = None
    return np.concatenate(outs) if outs else np.zeros((0, 10), dtype=np.float32)


def evaluate_arrays(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000,
                    mirror: bool = False) -> dict:
    """Loss, error and confusion matrix of ``model`` on inputs ``x`` with labels ``y``
    (``mirror``: on each image averaged with its mirror image, see :func:`predict_logits`).

    Returns
    -------
    dict
        ``loss`` (the training loss: mean cross-entropy, or the MAP criterion), ``error`` (fraction misclassified), ``n``,
        ``confusion`` ((10, 10) int array, rows = true class).
    """
    logits = predict_logits(model, x, batch_size, mirror)
    loss, _ = criterion(model)[0](logits, y)
    preds = logits.argmax(axis=1)
    return {"loss": float(loss), "error": float(np.mean(preds != y)), "n": int(len(y)),
            "confusion": confusion_matrix(y, preds, logits.shape[1])}
