"""Elastic distortions (Simard et al. 2003): shape, identity at alpha 0, smooth per-image
fields, the background fill, and the train.py flag."""
import numpy as np
import pytest

from training.augment import _smoothing_matrix, augment_batch, bilinear_sample, elastic_distort


def _digits(n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, 28, 28), dtype=np.float32)
    x[:, :, 8:20, 12:16] = 1.0                      # a bar, like a "1"
    return x + 0.01 * rng.standard_normal(x.shape).astype(np.float32)


def test_alpha_zero_is_the_identity_and_draws_nothing():
    x, rng = _digits(), np.random.default_rng(0)
    state = rng.bit_generator.state
    assert elastic_distort(x, 0.0, rng) is x
    assert rng.bit_generator.state == state


def test_bilinear_sample_at_integer_positions_is_a_copy():
    x = _digits(2)
    yy, xx = np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")
    out = bilinear_sample(x, np.stack([yy, yy]), np.stack([xx, xx]), fill=-1.0)
    np.testing.assert_allclose(out, x, rtol=1e-6, atol=1e-6)


def test_smoothing_is_a_normalised_gaussian():
    g = _smoothing_matrix(28, 4.0)
    assert g[14].sum() == pytest.approx(1.0, abs=1e-3)     # the kernel fits inside
    assert g[0].sum() < 0.6                                # zero outside at the border


def test_distortion_is_smooth_different_per_image_and_keeps_the_ink():
    x = _digits()
    out = elastic_distort(x, 34.0, np.random.default_rng(1), fill=0.0)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.allclose(out[0], out[1])                 # one field per image
    assert not np.allclose(out, x)
    # a smooth field stretches and squeezes the bar without tearing it away
    ratio = out.clip(0).sum(axis=(1, 2, 3)) / x.clip(0).sum(axis=(1, 2, 3))
    assert np.all((ratio > 0.4) & (ratio < 2.5)) and 0.8 < ratio.mean() < 1.25


def test_fill_shows_where_the_field_reads_outside():
    x = np.zeros((4, 1, 28, 28), dtype=np.float32)
    out = elastic_distort(x, 300.0, np.random.default_rng(2), fill=-0.5)
    assert out.min() == pytest.approx(-0.5) and out.max() <= 0


def test_same_seed_same_distortion():
    x = _digits()
    a = augment_batch(x, np.random.default_rng(3), elastic=34.0)
    b = augment_batch(x, np.random.default_rng(3), elastic=34.0)
    np.testing.assert_array_equal(a, b)


def test_train_flag():
    from training.cli import parse
    _, cfg = parse(["--net", "lenet5", "--elastic", "34"])
    assert cfg.elastic == 34.0 and cfg.epochs == 30        # augmented: the longer default
    with pytest.raises(SystemExit) as e:
        parse(["--elastic", "-1"])
    assert e.value.code == 2
