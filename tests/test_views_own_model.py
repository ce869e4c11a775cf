"""Your own model in the views: any network train.py saves (here a 'cnn'), and weights
trained elsewhere as an .npz of bare arrays named as our layers, checked on load with one
clear line."""
from pathlib import Path

import numpy as np
import pytest

from training import TrainConfig, build_model, load_model, save_weights
from training.checkpoint import CheckpointError
from training.foreign import load_any, load_arrays
from conftest import make_gif, render_gif

LENET = Path(__file__).resolve().parents[1] / "models" / "lenet5.npz"


@pytest.fixture
def bare(tmp_path):
    """models/lenet5.npz's parameters as bare arrays, as np.savez(**state_dict) writes them."""
    model, _ = load_model(str(LENET))
    path = tmp_path / "bare.npz"
    np.savez(path, **model.state_dict())
    return path, model.state_dict()


def test_bare_arrays_load_as_the_same_network(bare):
    path, state = bare
    model, config = load_any(str(path))
    assert config.net == "lenet5" and config.normalize
    for k, v in model.state_dict().items():
        assert np.array_equal(v, state[k])
    ours = render_gif(["network"])
    theirs = render_gif(["network", "--weights", str(path)])
    assert ours.texts[-1] == theirs.texts[-1]            # the same class scores


@pytest.mark.parametrize("edit,words", [
    (lambda s: s.pop("c3.bias"), "no array 'c3.bias' (expected c3.bias of shape (16,)"),
    (lambda s: s.update({"c1.weight": s["c1.weight"][:, :, :3, :3]}),
     "array 'c1.weight' has shape (6, 1, 3, 3), expected (6, 1, 5, 5)"),
    (lambda s: s.update({"fc.weight": np.zeros(3, np.float32)}), "unexpected array 'fc.weight'"),
    (lambda s: s.update({"out.bias": np.zeros(10, np.int64)}), "'out.bias' is not finite floats")])
def test_a_bad_array_is_one_clear_line(tmp_path, bare, edit, words, capsys):
    _, state = bare
    edit(state)
    path = tmp_path / "bad.npz"
    np.savez(path, **state)
    with pytest.raises(CheckpointError, match="bad.npz"):
        load_arrays(str(path))
    with pytest.raises(SystemExit) as e:
        make_gif(["chain-rule", "--weights", str(path), "--out", str(tmp_path / "x.gif")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "x.gif").exists()


def test_a_cnn_saved_by_train_py_runs_in_every_view(tmp_path):
    cfg = TrainConfig(net="cnn").resolved()
    path = tmp_path / "weights.npz"
    save_weights(str(path), build_model(cfg, np.random.default_rng(1)), cfg)
    for argv in (["network"], ["receptive-field", "--layer", "p1", "--unit", "0,3,3"],
                 ["chain-rule", "--pixel", "14,14"]):
        r = make_gif(argv + ["--weights", str(path), "--out", str(tmp_path / "v.gif")])
        assert r["frames"] >= 3
    anim = render_gif(["receptive-field", "--weights", str(path), "--layer", "c2",
                       "--unit", "0,5,5"])
    assert "one unit sees 3×3" in anim.texts[0]["caption"]
    assert "r = 4 + (3 − 1)·2 = 8" in anim.texts[2]["work"]         # c1 3, p1 4, c2 8
