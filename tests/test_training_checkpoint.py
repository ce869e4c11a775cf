"""Atomic .npz writing, checkpoint contents and weight files."""
import os

import numpy as np
import pytest

from nn import Adam
from training import (CheckpointError, TrainConfig, build_model, load_model, read_npz,
                      save_checkpoint, save_npz_atomic, save_weights)


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
    plain = str(tmp_path / "plain.npz")
    np.savez(plain, x=np.arange(2))
    with pytest.raises(CheckpointError, match="plain.npz: no meta/config"):
        read_npz(plain)


def _small_checkpoint(path):
    cfg = TrainConfig(net="fc2", lr=0.01).resolved()
    rng = np.random.default_rng(1)
    model = build_model(cfg, rng)
    save_checkpoint(str(path), model, Adam(model.parameters(), 0.01), rng, 2, cfg)
    return model


def _damaged(tmp_path):
    """(name, bytes) of damaged variants of a real checkpoint."""
    good = (tmp_path / "good.npz")
    _small_checkpoint(good)
    raw = good.read_bytes()
    yield "empty", b""
    yield "text", b"epoch,loss\n1,0.5\n"
    yield "png", b"\x89PNG\r\n\x1a\n" + raw[:100]
    yield "npy", raw[raw.index(b"\x93NUMPY"):][:400]
    for n in (4, 30, 100, len(raw) // 3, len(raw) // 2, len(raw) - 22, len(raw) - 1):
        yield f"truncated{n}", raw[:n]
    rng = np.random.default_rng(0)
    # Bit flips anywhere (mostly array data), in the first entry's headers and in the
    # zip's central directory at the end.
    spots = [(0, len(raw)), (0, 300), (len(raw) - 1500, len(raw))]
    for i in range(60):
        lo, hi = spots[i % 3]
        pos = int(rng.integers(lo, hi))
        yield f"flip{pos}", raw[:pos] + bytes([raw[pos] ^ (1 << int(rng.integers(8)))]) + raw[pos + 1:]


def test_damaged_files_raise_one_clear_error(tmp_path):
    good = tmp_path / "good.npz"
    model = _small_checkpoint(good)
    expected = {n: p.data for n, p in model.named_parameters()}
    loaded_anyway = 0
    for name, data in _damaged(tmp_path):
        path = tmp_path / f"{name}.npz"
        path.write_bytes(data)
        try:
            loaded, _ = load_model(str(path))
        except CheckpointError as e:
            msg = str(e)
            assert msg.startswith(str(path) + ": ") and "\n" not in msg, (name, msg)
            assert "pickle" not in msg, (name, msg)
        else:   # a flip in a field nobody reads (a timestamp): the weights must be intact
            loaded_anyway += 1
            for n, p in loaded.named_parameters():
                np.testing.assert_array_equal(p.data, expected[n], err_msg=name)
    assert loaded_anyway < 10


@pytest.mark.parametrize("change,message", [
    (lambda a: a.pop("meta/config"), "no meta/config"),
    (lambda a: a.update({"meta/config": np.array("{not json")}), "bad meta/config"),
    (lambda a: a.update({"meta/config": np.array('{"net": "vgg"}')}), "bad meta/config"),
    (lambda a: a.update({"meta/config": np.array('{"colour": 1}')}), "bad meta/config"),
    (lambda a: a.update({"meta/config": np.arange(3)}), "bad meta/config"),
    (lambda a: a.update({"meta/epoch": np.array("two")}), "bad meta/epoch"),
    (lambda a: a.update({"meta/epoch": np.arange(2)}), "bad meta/epoch"),
    (lambda a: a.pop("meta/rng"), "bad meta/rng"),
    (lambda a: a.update({"meta/format": np.array("zip")}), "meta/format is 'zip'"),
    (lambda a: a["param/f1.weight"].__setitem__((0, 0), np.nan), "f1.weight is not finite"),
    (lambda a: a.update({"param/f1.weight": np.zeros((3, 3), np.float32)}), "does not fit"),
    (lambda a: a.pop("param/f1.bias"), "does not fit"),
    (lambda a: a.update({"param/c1.weight": np.zeros((6, 1, 5, 5), np.float32)}), "does not fit"),
])
def test_wrong_contents_raise_one_clear_error(tmp_path, change, message):
    path = tmp_path / "c.npz"
    _small_checkpoint(path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=message):
        load_model(str(path))


def test_object_arrays_are_refused_without_pickle(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, **{"meta/config": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(CheckpointError, match="object arrays"):
        read_npz(str(path))
