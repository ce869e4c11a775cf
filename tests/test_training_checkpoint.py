"""Atomic .npz writing, checkpoint contents and weight files."""
import os

import numpy as np
import pytest

from nn import Adam
from training import (TrainConfig, build_model, load_model, read_npz, save_checkpoint,
                      save_npz_atomic, save_weights)


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    path = str(tmp_path / "a.npz")
    save_npz_atomic(path, {"x": np.arange(3)})
    save_npz_atomic(path, {"x": np.arange(5)})
    with np.load(path) as z:
        np.testing.assert_array_equal(z["x"], np.arange(5))
    assert os.listdir(tmp_path) == ["a.npz"]


def test_failed_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "a.npz")
    save_npz_atomic(path, {"x": np.arange(3)})

    class Boom:
        def __array__(self, *a, **k):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_npz_atomic(path, {"x": np.arange(4), "y": Boom()})
    with np.load(path) as z:
        np.testing.assert_array_equal(z["x"], np.arange(3))
    assert os.listdir(tmp_path) == ["a.npz"]


def test_checkpoint_round_trip(tmp_path):
    cfg = TrainConfig(net="fc2", activation="tanh", lr=0.01).resolved()
    rng = np.random.default_rng(4)
    model = build_model(cfg, rng)
    opt = Adam(model.parameters(), 0.01)
    for p in model.parameters():
        p.grad[...] = 1.0
    opt.step()
    path = str(tmp_path / "checkpoint.npz")
    save_checkpoint(path, model, opt, rng, epoch=3, config=cfg, elapsed_s=12.5)
    saved = read_npz(path)
    assert saved["format"] == "checkpoint" and saved["epoch"] == 3 and saved["elapsed_s"] == 12.5
    assert saved["config"] == cfg
    assert int(saved["optim"]["step"]) == 1 and "exp_avg.0" in saved["optim"]
    restored = np.random.default_rng(0)
    restored.bit_generator.state = saved["rng"]
    assert restored.random() == rng.random()
    loaded, loaded_cfg = load_model(path)
    assert loaded_cfg.activation == "tanh"
    for (_, p), (_, q) in zip(model.named_parameters(), loaded.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_weights_file_has_config_and_info(tmp_path):
    cfg = TrainConfig(net="cnn").resolved()
    model = build_model(cfg, np.random.default_rng(0))
    path = str(tmp_path / "w.npz")
    save_weights(path, model, cfg, {"test_error": 0.01})
    saved = read_npz(path)
    assert saved["format"] == "weights" and saved["info"] == {"test_error": 0.01}
    assert "epoch" not in saved
    with np.load(path, allow_pickle=False) as z:     # loads without pickle
        assert z["param/c1.weight"].dtype == np.float32


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_npz(str(tmp_path / "missing.npz"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.npz: not a readable"):
        read_npz(str(bad))
    plain = str(tmp_path / "plain.npz")
    np.savez(plain, x=np.arange(2))
    with pytest.raises(ValueError, match="no meta/config"):
        read_npz(plain)
