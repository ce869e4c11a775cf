"""Running a trained network over a data set."""

from __future__ import annotations

import numpy as np

from .augment import all_shifts
from .data import background_value
from .metrics import confusion_matrix
from .step import criterion


def views_for(config) -> dict:
    """The test a run's config asks for, as :func:`predict_logits`' keyword arguments."""
    return {"mirror": config.test_flip, "shifts": config.test_shifts,
            "fill": background_value(config.normalize)}


def describe_views(mirror: bool = False, shifts: int = 0, fill: float = 0.0) -> str:
    """How the test saw each image, in words ("" for once, as it is)."""
    parts = (["mirror images"] if mirror else []) + (
        [f"{(2 * shifts + 1) ** 2} shifts of up to {shifts} px"] if shifts else [])
    return "with " + " and ".join(parts) if parts else ""


def predict_logits(model, x: np.ndarray, batch_size: int = 1000, mirror: bool = False,
                   shifts: int = 0, fill: float = 0.0) -> np.ndarray:
    """Logits (N, 10) for inputs x (N, 1, 28, 28), computed in batches.

    Test-time augmentation (training is not changed by it): with ``mirror``, the mean of each
    image's logits and its mirror image's (``train.py --test-flip``); with ``shifts`` K, the
    mean over the image moved by every offset of up to K pixels, uncovered pixels ``fill``
    (``--test-shifts``). With both, the mean over the (2K+1)² shifts of each of the two.
    """
    if mirror:
        mirrored = predict_logits(model, x[..., ::-1], batch_size, shifts=shifts, fill=fill)
        return (predict_logits(model, x, batch_size, shifts=shifts, fill=fill) + mirrored) / 2
    if shifts:
        total = None
        for view in all_shifts(x, shifts, fill):
            logits = predict_logits(model, view, batch_size)
            total = logits if total is None else total + logits
        return total / (2 * shifts + 1) ** 2
    outs = [model.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    # Forward passes leave caches behind; drop them so evaluation does not hold memory.
    for layer in getattr(model, "children", {}).values():
        if hasattr(layer, "cache"):
            layer.cache = None
    return np.concatenate(outs) if outs else np.zeros((0, 10), dtype=np.float32)


def evaluate_arrays(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000,
                    **views) -> dict:
    """Loss, error and confusion matrix of ``model`` on inputs ``x`` with labels ``y``
    (``views``: ``mirror``, ``shifts``, ``fill``, the test-time augmentation of
    :func:`predict_logits`; :func:`views_for` gives a run's).

    Returns
    -------
    dict
        ``loss`` (the training loss: mean cross-entropy, or the MAP criterion), ``error`` (fraction misclassified), ``n``,
        ``confusion`` ((10, 10) int array, rows = true class).
    """
    logits = predict_logits(model, x, batch_size, **views)
    loss, _ = criterion(model)[0](logits, y)
    preds = logits.argmax(axis=1)
    return {"loss": float(loss), "error": float(np.mean(preds != y)), "n": int(len(y)),
            "confusion": confusion_matrix(y, preds, logits.shape[1])}
