"""Vectorised augmentation against per-sample references."""
import numpy as np
import pytest

from training import affine_sample, augment_batch, random_affine, random_shift
from training.augment import random_flip
from training.data import background_value, prepare_images, MNIST_MEAN, MNIST_STD


def shift_reference(img, dy, dx, fill):
    """One image moved by (dy, dx) pixels (content goes down/right for positive offsets)."""
    h, w = img.shape[-2:]
    out = np.full_like(img, fill)
    for i in range(h):
        for j in range(w):
            si, sj = i - dy, j - dx
            if 0 <= si < h and 0 <= sj < w:
                out[..., i, j] = img[..., si, sj]
    return out


def test_random_shift_moves_each_sample_within_range():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2, 7, 6)).astype(np.float32)
    out = random_shift(x, 2, np.random.default_rng(5), fill=-1.0)
    assert out.shape == x.shape and out.dtype == x.dtype
    seen = set()
    for n in range(len(x)):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(out[n], shift_reference(x[n], dy, dx, -1.0))]
        assert len(matches) == 1, n
        seen.add(matches[0])
    assert len(seen) > 10          # offsets differ between samples


def test_random_shift_zero_is_identity():
    x = np.ones((2, 1, 4, 4), np.float32)
    assert random_shift(x, 0, np.random.default_rng(0)) is x


def test_random_flip_mirrors_about_half_the_images_and_nothing_else():
    x = np.random.default_rng(0).standard_normal((400, 2, 5, 6)).astype(np.float32)
    out = random_flip(x, np.random.default_rng(3))
    assert out.shape == x.shape and out.dtype == x.dtype
    mirrored = []
    for n in range(len(x)):
        same, flipped = np.array_equal(out[n], x[n]), np.array_equal(out[n], x[n, :, :, ::-1])
        assert same != flipped, n                  # exactly one of the two
        mirrored.append(flipped)
    assert 160 < sum(mirrored) < 240               # each with probability 1/2


def test_augment_batch_without_flip_draws_the_same_numbers_as_before_it_existed():
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    np.testing.assert_array_equal(augment_batch(x, a, shift=2, flip=False),
                                  random_shift(x, 2, b))
    assert a.random() == b.random()
    flipped = augment_batch(x, np.random.default_rng(4), flip=True)
    assert not np.array_equal(flipped, x)


def test_affine_identity_and_quarter_turn():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 1, 9, 9))
    same = affine_sample(x, np.zeros(3), np.ones(3))
    np.testing.assert_allclose(same, x, atol=1e-12)
    # A quarter turn about the centre lands exactly on pixel centres of a square image.
    turned = affine_sample(x, np.full(3, np.pi / 2), np.ones(3))
    np.testing.assert_allclose(turned, np.rot90(x, k=1, axes=(2, 3)), atol=1e-9)


def test_affine_zoom_out_fills_the_border():
    x = np.ones((1, 1, 10, 10))
    out = affine_sample(x, np.zeros(1), np.full(1, 0.5), fill=-3.0)
    assert out[0, 0, 0, 0] == -3.0 and out[0, 0, 5, 5] == 1.0


def test_affine_bilinear_matches_a_point_sample():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 8, 8))
    angle, scale = np.array([0.3, -0.2]), np.array([1.1, 0.9])
    out = affine_sample(x, angle, scale)
    n, i, j = 1, 4, 3
    c = 3.5
    sy = (np.cos(angle[n]) * (i - c) + np.sin(angle[n]) * (j - c)) / scale[n] + c
    sx = (-np.sin(angle[n]) * (i - c) + np.cos(angle[n]) * (j - c)) / scale[n] + c
    y0, x0 = int(np.floor(sy)), int(np.floor(sx))
    wy, wx = sy - y0, sx - x0
    img = x[n, 0]
    ref = ((1 - wy) * ((1 - wx) * img[y0, x0] + wx * img[y0, x0 + 1])
           + wy * ((1 - wx) * img[y0 + 1, x0] + wx * img[y0 + 1, x0 + 1]))
    assert out[n, 0, i, j] == pytest.approx(ref)


def test_random_affine_and_augment_batch_keep_shape_and_dtype():
    x = np.random.default_rng(0).standard_normal((16, 1, 28, 28)).astype(np.float32)
    assert random_affine(x, 0, 0, np.random.default_rng(0)) is x
    out = augment_batch(x, np.random.default_rng(1), shift=2, rotate=10, scale=0.1, fill=-0.4)
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.array_equal(out, x)
    # Same generator state, same result.
    again = augment_batch(x, np.random.default_rng(1), shift=2, rotate=10, scale=0.1, fill=-0.4)
    np.testing.assert_array_equal(out, again)


def test_prepare_images_normalises_once():
    imgs = np.array([[[0, 255]]], dtype=np.uint8)
    x = prepare_images(imgs)
    assert x.shape == (1, 1, 1, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x.ravel(), [-MNIST_MEAN / MNIST_STD, (1 - MNIST_MEAN) / MNIST_STD],
                               rtol=1e-6)
    assert x.ravel()[0] == pytest.approx(background_value(True))
    raw = prepare_images(imgs, normalize=False)
    np.testing.assert_array_equal(raw.ravel(), [0, 255])
    with pytest.raises(ValueError, match="expected"):
        prepare_images(np.zeros((2, 3, 4, 4), np.uint8))


def test_shear_and_squeeze_move_pixels_where_the_paper_says():
    # One bright pixel one row below the centre column of a 5x5 image (y = +1, x = 0).
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 3, 2] = 1.0
    none = (np.zeros(1), np.ones(1))
    # Horizontal shear x += k y with k = 1: the pixel moves one column right.
    sheared = affine_sample(x, *none, shear=np.ones(1))
    assert np.argwhere(sheared[0, 0] > 0.99).tolist() == [[3, 3]]
    # Squeeze f = 2: y * 2 (two rows down), x / 2; a pixel at x = +2 goes to x = +1.
    x2 = np.zeros((1, 1, 5, 5))
    x2[0, 0, 2, 4] = 1.0
    assert np.argwhere(affine_sample(x, *none, squeeze=np.full(1, 2.0))[0, 0] > 0.99).tolist() \
        == [[4, 2]]
    assert np.argwhere(affine_sample(x2, *none, squeeze=np.full(1, 2.0))[0, 0] > 0.99).tolist() \
        == [[2, 3]]
    # Zero shear and unit squeeze change nothing; the ranges are drawn only when asked.
    same = affine_sample(x, *none, shear=np.zeros(1), squeeze=np.ones(1))
    np.testing.assert_array_equal(same, x)
    assert random_affine(x, 0, 0, np.random.default_rng(0), max_shear=0.3) is not x
    a = augment_batch(x, np.random.default_rng(5), shear=0.3, squeeze=0.2)
    b = augment_batch(x, np.random.default_rng(5), shear=0.3, squeeze=0.2)
    np.testing.assert_array_equal(a, b)
