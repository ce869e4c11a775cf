"""Batch-vectorised data augmentation: random shifts, rotations/scalings, elastic distortions
and horizontal flips.

Both work on a whole batch at once with fancy indexing (no Python loop over samples).
Pixels that come from outside the image are filled with ``fill`` (the input value of a
black pixel, see :func:`training.data.background_value`).
"""

from __future__ import annotations

import numpy as np


def random_flip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror a random half of the images left to right (each with probability 1/2), as
    ``torchvision.transforms.RandomHorizontalFlip``; for data whose classes are mirror
    symmetric, such as Fashion-MNIST's clothes, not digits."""
    flip = rng.random(x.shape[0]) < 0.5
    return np.where(flip[:, None, None, None], x[..., ::-1], x)


def _pad(x: np.ndarray, p: int, fill: float) -> np.ndarray:
    """x (N, C, H, W) framed by p pixels of ``fill`` on every side."""
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * p, w + 2 * p), fill, dtype=x.dtype)
    padded[:, :, p:p + h, p:p + w] = x
    return padded


def random_shift(x: np.ndarray, max_shift: int, rng: np.random.Generator,
                 fill: float = 0.0) -> np.ndarray:
    """Translate each image by its own random integer offset in [-max_shift, max_shift]².

    Parameters
    ----------
    x : np.ndarray, (N, C, H, W)
    max_shift : int
    rng : np.random.Generator
    fill : float

    Returns
    -------
    np.ndarray, (N, C, H, W), same dtype
    """
    if max_shift <= 0:
        return x
    n, c, h, w = x.shape
    p = int(max_shift)
    padded = _pad(x, p, fill)
    off = rng.integers(0, 2 * p + 1, size=(2, n))        # window origin in padded coords
    rows = off[0][:, None] + np.arange(h)                 # (N, H)
    cols = off[1][:, None] + np.arange(w)                 # (N, W)
    return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def all_shifts(x: np.ndarray, max_shift: int, fill: float = 0.0):
    """Yield ``x`` translated by every integer offset in [-max_shift, max_shift]², row by
    row ((2 max_shift + 1)² batches, the unshifted one in the middle): the offsets
    :func:`random_shift` draws from, for testing on each of them.

    Yields
    ------
    np.ndarray, (N, C, H, W), same dtype
    """
    h, w = x.shape[-2:]
    p = int(max_shift)
    padded = _pad(x, p, fill)
    for top in range(2 * p + 1):
        for left in range(2 * p + 1):
            yield padded[:, :, top:top + h, left:left + w]


def affine_sample(x: np.ndarray, angle: np.ndarray, scale: np.ndarray,
                  fill: float = 0.0, shear: np.ndarray | None = None,
                  squeeze: np.ndarray | None = None) -> np.ndarray:
    """Rotate by ``angle`` (radians, counter-clockwise) and zoom by ``scale`` about the centre;
    optionally also shear horizontally (x += shear * y) and squeeze (x / squeeze,
    y * squeeze: horizontal compression with vertical elongation, or the reverse), the
    planar affine distortions of LeCun et al. 1998, Section III-C.

    Bilinear sampling: output pixel p takes the value at ``A^-1 (p - c) + c`` in the input,
    where c is the image centre and A = rotation * scale * shear * squeeze.

    Parameters
    ----------
    x : np.ndarray, (N, C, H, W)
    angle, scale : np.ndarray, (N,)
    fill : float
        Value outside the input.
    shear, squeeze : np.ndarray, (N,), optional (0 and 1: none)

    Returns
    -------
    np.ndarray, (N, C, H, W), same dtype
    """
    h, w = x.shape[2:]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")  # (H, W)
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    # Inverse map in (y, x) (image rows point down, so a counter-clockwise turn on screen).
    inv = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)   # (N, 2, 2)
    if shear is not None:       # the inverse of x += k y comes before the rotation's
        one, zero = np.ones_like(shear), np.zeros_like(shear)
        unshear = np.stack([np.stack([one, zero], -1), np.stack([-shear, one], -1)], -2)
        inv = unshear @ inv
    if squeeze is not None:
        inv = inv * np.stack([1 / squeeze, squeeze], -1)[:, :, None]
    sy = inv[:, 0, 0, None, None] * yy + inv[:, 0, 1, None, None] * xx + cy   # (N, H, W)
    sx = inv[:, 1, 0, None, None] * yy + inv[:, 1, 1, None, None] * xx + cx
    return bilinear_sample(x, sy, sx, fill)


def bilinear_sample(x: np.ndarray, sy: np.ndarray, sx: np.ndarray,
                    fill: float = 0.0) -> np.ndarray:
    """Output pixel (n, :, i, j) = x[n, :] read bilinearly at row sy[n, i, j], column sx[n, i, j].

    Parameters
    ----------
    x : np.ndarray, (N, C, H, W)
    sy, sx : np.ndarray, (N, H, W), source coordinates in pixels
    fill : float
        Value outside the input.
    """
    n, c, h, w = x.shape
    y0 = np.floor(sy)
    x0 = np.floor(sx)
    wy = (sy - y0).astype(x.dtype)[:, None]
    wx = (sx - x0).astype(x.dtype)[:, None]
    # A one-pixel border of `fill` plus clipping sends every outside sample to the border.
    padded = np.full((n, c, h + 2, w + 2), fill, dtype=x.dtype)
    padded[:, :, 1:-1, 1:-1] = x
    y0 = y0.astype(np.intp) + 1                               # +1: padded coordinates
    x0 = x0.astype(np.intp) + 1
    y1 = np.clip(y0 + 1, 0, h + 1)
    x1 = np.clip(x0 + 1, 0, w + 1)
    y0 = np.clip(y0, 0, h + 1)
    x0 = np.clip(x0, 0, w + 1)
    ni = np.arange(n)[:, None, None, None]
    ci = np.arange(c)[None, :, None, None]

    def at(yi, xi):
        return padded[ni, ci, yi[:, None], xi[:, None]]

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


# Simard, Steinkraus and Platt 2003 (Section 2): sigma 4 and alpha 34 on MNIST.
ELASTIC_SIGMA = 4.0


def _smoothing_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) Gaussian smoothing along one axis, zero outside (a normalised kernel)."""
    i = np.arange(n)
    g = np.exp(-((i[:, None] - i[None, :]) ** 2) / (2.0 * sigma * sigma))
    k = np.arange(-n + 1, n)
    return g / np.exp(-(k ** 2) / (2.0 * sigma * sigma)).sum()


def elastic_distort(x: np.ndarray, alpha: float, rng: np.random.Generator,
                    sigma: float = ELASTIC_SIGMA, fill: float = 0.0) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003), a new field per image.

    Each image gets a displacement field uniform in [-1, 1] per pixel and per axis,
    smoothed by a Gaussian of std ``sigma`` pixels and scaled by ``alpha``; the output reads
    the input bilinearly at the displaced positions. Vectorised: the smoothing is two
    matrix products per axis for the whole batch.

    Returns ``x`` itself when ``alpha <= 0`` (no random numbers drawn).
    """
    if alpha <= 0:
        return x
    n, _, h, w = x.shape
    field = rng.uniform(-1.0, 1.0, (2, n, h, w))
    field = alpha * np.einsum("ij,dnjk,lk->dnil", _smoothing_matrix(h, sigma), field,
                              _smoothing_matrix(w, sigma), optimize=True)
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    return bilinear_sample(x, yy + field[0], xx + field[1], fill)


def random_affine(x: np.ndarray, max_degrees: float, max_scale: float,
                  rng: np.random.Generator, fill: float = 0.0, max_shear: float = 0.0,
                  max_squeeze: float = 0.0) -> np.ndarray:
    """Rotate each image by U(-max_degrees, max_degrees), scale by U(1-max_scale, 1+max_scale),
    shear by U(-max_shear, max_shear) and squeeze by U(1-max_squeeze, 1+max_squeeze).

    Returns ``x`` itself when every range is zero (no random numbers drawn).
    """
    if max_degrees <= 0 and max_scale <= 0 and max_shear <= 0 and max_squeeze <= 0:
        return x
    n = x.shape[0]
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, size=n))
    scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, size=n)
    shear = rng.uniform(-max_shear, max_shear, size=n) if max_shear > 0 else None
    squeeze = rng.uniform(1 - max_squeeze, 1 + max_squeeze, size=n) if max_squeeze > 0 else None
    return affine_sample(x, angle, scale, fill, shear, squeeze)


def augment_batch(x: np.ndarray, rng: np.random.Generator, *, shift: int = 0,
                  rotate: float = 0.0, scale: float = 0.0, elastic: float = 0.0,
                  shear: float = 0.0, squeeze: float = 0.0, flip: bool = False,
                  fill: float = 0.0) -> np.ndarray:
    """Apply the flip, the elastic part, the affine part, then the shift (each if any) to a
    batch (N, C, H, W). Without ``flip`` no random number is drawn for it, so runs made
    before it existed draw the same numbers."""
    if flip:
        x = random_flip(x, rng)
    x = elastic_distort(x, elastic, rng, fill=fill)
    x = random_affine(x, rotate, scale, rng, fill, shear, squeeze)
    return random_shift(x, shift, rng, fill)
