"""The trained network at work: training.features, scripts/feature_maps.py,
``make_gif.py conv2d --weights`` and scripts/report.py, on a tiny random LeNet-5."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nn
import ops
from training import TrainConfig, prepare_images, save_weights
from training.features import (conv_filter_input, forward_stages, layer_activations,
                               load_digits, prepare_unit_image, probabilities)
from viz.inputs import ASSET
from viz.readback import read_gif
from conftest import make_gif, render_gif, run_script, usage_error

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A random (untrained) LeNet-5 saved like train.py saves one."""
    path = tmp_path_factory.mktemp("w") / "lenet5.npz"
    model = nn.lenet5(rng=np.random.default_rng(0))
    save_weights(str(path), model, TrainConfig(net="lenet5").resolved())
    return path


@pytest.fixture(scope="module")
def model():
    return nn.lenet5(rng=np.random.default_rng(0))


def _usage_error(main, argv, capsys, match, prog):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"{prog}: error:") and match in err[-1], err


# -- training.features ------------------------------------------------------------------
def test_stages_are_the_layers_outputs(model):
    x = prepare_images(np.load(ASSET)[None])
    acts = dict(layer_activations(model, x))
    stages, logits = forward_stages(model, x)
    assert [lb for lb, _ in stages] == ["C1 conv + relu", "S2 max pool", "C3 conv + relu",
                                        "S4 max pool", "F5 linear + relu", "F6 linear + relu"]
    shapes = [a.shape for _, a in stages]
    assert shapes == [(1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 5, 5), (1, 120),
                      (1, 84)]
    np.testing.assert_array_equal(stages[0][1], acts["a1"])
    np.testing.assert_array_equal(logits, acts["out"])
    p = probabilities(logits)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-6)
    assert all(getattr(m, "cache", None) is None for m in model.children.values())


def test_conv_filter_input_runs_the_layers_before(model):
    x = prepare_unit_image(np.load(ASSET) / 255.0)
    np.testing.assert_allclose(x, prepare_images(np.load(ASSET)[None]), atol=1e-5)
    acts = dict(layer_activations(model, x))
    f = conv_filter_input(model, x, "conv2", 7)
    assert f["name"] == "c3" and f["before"] == ["c1", "a1", "s2"] and f["filters"] == 16
    np.testing.assert_array_equal(f["x"], acts["s2"])
    out, _ = ops.conv2d(f["x"], f["weight"], f["bias"], f["stride"], f["padding"])
    np.testing.assert_allclose(out[0, 0], acts["c3"][0, 7], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="--filter 6"):
        conv_filter_input(model, x, "conv1", 6)
    with pytest.raises(ValueError, match="conv3"):
        conv_filter_input(model, x, "conv3", 0)
    fc2 = nn.fc2(rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="0 conv layer"):
        conv_filter_input(fc2, x, "conv1", 0)


def test_load_digits(fake_mnist_dir, tmp_path):
    images, labels, names = load_digits("mnist:3", 4, fake_mnist_dir)
    assert images.shape == (4, 28, 28) and images.dtype == np.uint8
    assert labels == [3, 4, 5, 6] and names[0] == "MNIST test #3"
    img, lab, _ = load_digits("default")
    assert lab == [7] and img.shape == (1, 28, 28)
    Image.fromarray(np.full((40, 50), 200, np.uint8)).save(tmp_path / "d.png")
    img, lab, names = load_digits(str(tmp_path / "d.png"))
    assert img.shape == (1, 28, 28) and lab == [None] and names == ["d.png"]
    for spec, match in (("mnist:x", "integer"), ("mnist:14", "out of range"),
                        ("nope.png", "no such file")):
        with pytest.raises(ValueError, match=match):
            load_digits(spec, 4, fake_mnist_dir)


# -- feature_maps.py --------------------------------------------------------------------
def test_feature_maps_png(weights, tmp_path):
    out = tmp_path / "fm.png"
    r = run_script("feature_maps.py", "--weights", weights, "--out", out)
    assert r.returncode == 0, r.stderr
    with Image.open(out) as im:
        w, h = im.size
        assert im.format == "PNG"
        rgb = np.asarray(im.convert("RGB"))
    assert 900 <= w <= 1400 and 400 <= h <= 700
    from viz.feature_maps import render_feature_maps
    from viz.readback import rgb_to_index
    assert (rgb_to_index(rgb) >= 0).all()                 # drawn in the shared palette
    assert "predicted" in r.stdout
    assert os.listdir(tmp_path) == ["fm.png"]
    # the renderer alone gives the same size for the same shapes
    frame, layout = render_feature_maps(
        np.zeros((28, 28)), [("C1", np.zeros((6, 28, 28))), ("S2", np.zeros((6, 14, 14))),
                             ("C3", np.zeros((16, 10, 10))), ("S4", np.zeros((16, 5, 5)))],
        [("F5", np.zeros(120)), ("F6", np.zeros(84))], np.full(10, 0.1), 3, "x")
    assert len(layout["maps"]) == 4 and len(layout["maps"][2]) == 16 and len(layout["bars"]) == 10


def test_feature_maps_gif_one_frame_per_digit(weights, fake_mnist_dir, tmp_path):
    out = tmp_path / "fm.gif"
    r = run_script("feature_maps.py", "--weights", weights, "--input", "mnist:2", "--gif",
                   "--count", "3", "--data-dir", fake_mnist_dir, "--out", out, "--no-gifsicle",
                   "--no-progress", "--frame-ms", "500")
    assert r.returncode == 0, r.stderr
    frames, durations, _ = read_gif(out)
    assert len(frames) == 3 and durations == [500, 500, 3000]


def test_feature_maps_help():
    r = run_script("feature_maps.py", "--help")
    assert r.returncode == 0
    for opt in ("--weights", "--input", "--gif", "--count", "--out", "--data-dir"):
        assert opt in r.stdout


@pytest.mark.parametrize("argv, match", [
    (["--weights", "{tmp}/missing.npz"], "no such file"),
    (["--input", "mnist:x"], "integer"),
    (["--gif", "--count", "3", "--input", "{tmp}/pic.png"], "mnist:INDEX"),
    (["--gif", "--frame-ms", "5"], "frame_ms"),
    (["--out", "{tmp}/no/dir/x.png"], "does not exist"),
])
def test_feature_maps_bad_usage(weights, tmp_path, argv, match):
    argv = [a.format(tmp=tmp_path) for a in argv]
    if "--weights" not in argv:
        argv += ["--weights", str(weights)]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "x.png")]
    usage_error(run_script("feature_maps.py", *argv), "feature_maps.py", match)
    assert os.listdir(tmp_path) == []


def test_feature_maps_rejects_a_weights_file_that_is_not_one(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    usage_error(run_script("feature_maps.py", "--weights", bad, "--out", tmp_path / "x.png"),
                "feature_maps.py", "meta/config")
    assert sorted(os.listdir(tmp_path)) == ["bad.npz"]


# -- make_gif.py conv2d --weights -------------------------------------------------------
_render = render_gif


@pytest.mark.parametrize("layer, index, act", [("conv1", 2, "c1"), ("conv2", 11, "c3")])
def test_learned_filter_output_panel_is_the_layers_output(weights, model, layer, index, act):
    anim = _render(["conv2d", "--weights", str(weights), "--layer", layer, "--filter",
                    str(index), "--max-frames", "2", "--scale", "2"])
    lay = anim.layout
    expected = dict(layer_activations(model, prepare_unit_image(np.load(ASSET) / 255.0)))[act]
    expected = expected[0, index]
    oh, ow = expected.shape
    x0, y0 = lay["output_xy"][0]
    o = lay["cell"]
    last = anim.frames[-1]
    cells = last[y0 + (o - lay["gap"]) // 2::o, x0 + (o - lay["gap"]) // 2::o][:oh, :ow]
    got = lay["out_scale"].value(cells)
    ok = np.ones_like(expected, dtype=bool)
    ok[-1, -1] = False                 # the current cell carries the amber ring
    np.testing.assert_allclose(got[ok], expected[ok], atol=lay["out_scale"].step / 2 + 1e-5)
    assert anim.steps[-1] == oh * ow - 1          # the last frame is the complete output


def test_learned_filter_gif_default_name(weights, tmp_path, monkeypatch):
    """The GIF of a run's filter goes beside its weights; of shipped weights, to runs/NAME/."""
    gifs_before = sorted(p.name for p in (ROOT / "gifs").iterdir())
    make_gif(["conv2d", "--weights", str(weights), "--filter", "3", "--max-frames", "3",
              "--no-gifsicle"])
    frames, _, _ = read_gif(weights.parent / "lenet5_conv1_filter3.gif")
    assert len(frames) == 3
    monkeypatch.chdir(tmp_path)
    make_gif(["conv2d", "--weights", str(ROOT / "models" / "lenet5.npz"), "--filter", "3",
              "--max-frames", "3", "--no-gifsicle"])
    assert (tmp_path / "runs" / "lenet5" / "lenet5_conv1_filter3.gif").is_file()
    assert sorted(p.name for p in (ROOT / "gifs").iterdir()) == gifs_before


@pytest.mark.parametrize("argv, match", [
    (["--weights", "{tmp}/missing.npz"], "no such file"),
    (["--weights", "{w}", "--filter", "6"], "--filter 6"),
    (["--weights", "{w}", "--layer", "conv2", "--filter", "-1"], "--filter"),
    (["--weights", "{w}", "--kernel", "sobel-y"], "--kernel"),
    (["--weights", "{w}", "--padding", "0"], "--padding"),
    (["--layer", "conv2"], "only with --weights"),
])
def test_learned_filter_bad_usage(weights, tmp_path, capsys, argv, match):
    argv = ["conv2d"] + [a.format(tmp=tmp_path, w=weights) for a in argv]
    _usage_error(make_gif, argv + ["--out", str(tmp_path / "x.gif")], capsys, match,
                 "make_gif.py conv2d")
    assert os.listdir(tmp_path) == []


# -- report.py ---------------------------------------------------------------------------
def _run_dir(tmp_path, weights):
    d = tmp_path / "run"
    d.mkdir()
    (d / "weights.npz").write_bytes(Path(weights).read_bytes())
    names = ["c1.weight", "c1.bias", "c3.weight", "f5.weight"]
    with open(d / "metrics.jsonl", "w") as f:
        for e in range(1, 4):
            f.write(json.dumps({
                "epoch": e, "train_loss": 1.0 / e, "train_acc": 1 - 0.1 / e,
                "test_loss": 1.2 / e, "test_error": 0.05 / e, "lr": 0.002 / e,
                "weight_norm": {n: 1.0 + e for n in names},
                "grad_norm": {n: 0.1 / e for n in names},
                "grad_norm_max": None if e == 2 else 3.0}) + "\n")
    return d


def test_report_writes_four_pngs(weights, fake_mnist_dir, tmp_path):
    d = _run_dir(tmp_path, weights)
    r = run_script("report.py", d, "--data-dir", fake_mnist_dir, "--no-progress", "--dpi", "40")
    assert r.returncode == 0, r.stderr
    names = sorted(os.listdir(d / "report"))
    assert names == ["confusion.png", "curves.png", "misclassified.png", "norms.png"]
    for n in names:
        with Image.open(d / "report" / n) as im:
            assert im.format == "PNG" and min(im.size) > 100
    assert "on 16 images" in r.stdout


def test_report_help():
    r = run_script("report.py", "--help")
    assert r.returncode == 0 and "RUN_DIR" in r.stdout and "--out" in r.stdout


@pytest.mark.parametrize("make, match", [
    (lambda d: d / "missing", "no such directory"),
    (lambda d: d, "no metrics.jsonl"),
    (lambda d: (d / "metrics.jsonl").write_text("{}\n") and d, "neither weights.npz"),
])
def test_report_bad_usage(tmp_path, make, match):
    run = make(tmp_path)
    usage_error(run_script("report.py", run, "--no-progress"), "report.py", match)
    assert not (tmp_path / "report").exists()
