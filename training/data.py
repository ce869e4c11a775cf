"""Turning MNIST arrays into network inputs, once, and cutting them into mini-batches."""

from __future__ import annotations

from typing import Iterator

import numpy as np

# Mean and standard deviation of the 60,000 MNIST training images scaled to [0, 1].
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def prepare_images(images: np.ndarray, normalize: bool = True, dtype=np.float32) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float inputs (N, 1, 28, 28), done once for the whole set.

    Parameters
    ----------
    images : np.ndarray, (N, H, W) or (N, 1, H, W), uint8 (or float already in 0..255)
    normalize : bool
        True: ``(x / 255 - MNIST_MEAN) / MNIST_STD`` (zero mean, unit variance over the
        training set). False: raw pixel intensities 0..255 as floats, used only to show
        what goes wrong without input normalisation.
    dtype : float dtype

    Returns
    -------
    np.ndarray, (N, 1, H, W) of ``dtype``
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"prepare_images: images has shape {images.shape}, "
                         "expected (N, H, W) or (N, 1, H, W)")
    x = images.astype(dtype)
    if normalize:
        x *= 1.0 / (255.0 * MNIST_STD)
        x -= MNIST_MEAN / MNIST_STD
    return x


def background_value(normalize: bool) -> float:
    """The input value of a black (0) pixel: what augmentation fills uncovered pixels with."""
    return -MNIST_MEAN / MNIST_STD if normalize else 0.0


def batch_indices(n: int, batch_size: int, rng: np.random.Generator | None) -> Iterator[np.ndarray]:
    """Yield index arrays covering ``range(n)`` in batches; shuffled when ``rng`` is given.

    The last batch may be smaller. One permutation per call draws from ``rng``.
    """
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def num_batches(n: int, batch_size: int) -> int:
    return -(-n // batch_size)
