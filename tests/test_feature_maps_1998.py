"""Watching lenet5-1998: feature_maps.py shows C3's Table I and the RBF read-out (distances,
the winner's bitmap beside F6), animate_filters.py draws only C3's Table I kernels.

The run is a real one: the Trainer on random digits for one pass (run.json, snapshots.npz
and weights.npz as train.py writes them). Pixels are read back from the written files."""

import numpy as np
import pytest
from PIL import Image

import ops
from nn.lenet1998 import C3_TABLE, c3_connections, rbf_bitmaps
from training import TrainConfig, Trainer, load_model, prepare_images
from training.features import forward_stages, load_digits, readout
from training.snapshots import load_snapshots, snapshot_connections
from viz.feature_maps import default_scales, render_feature_maps
from viz.palette import ACCENT, BLANK, GOOD
from viz.readback import read_gif, rgb_to_index
from viz.snapshot_filters import render_snapshot_filters
from conftest import run_script

C3 = "C3 conv + squash"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A one-pass lenet5-1998 run on 64 random digits (two steps of 32)."""
    d = tmp_path_factory.mktemp("run1998")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8)
    labels = np.arange(64) % 10
    cfg = TrainConfig(net="lenet5-1998", epochs=1, batch_size=32, workers=1)
    Trainer(cfg, (images, labels), (images[:16], labels[:16]), str(d), progress=False).fit()
    return d


@pytest.fixture(scope="module")
def digit():
    """The bundled digit (MNIST test #0, a 7), as feature_maps.py --input default reads it."""
    images, labels, _ = load_digits("default")
    return images, labels[0]


def _read_png(path):
    with Image.open(path) as im:
        return rgb_to_index(np.asarray(im.convert("RGB")))


# -- training.features ------------------------------------------------------------------
def test_readout_gathers_the_layers_own_arrays(run_dir, digit):
    model, cfg = load_model(str(run_dir / "weights.npz"))
    x = prepare_images(digit[0], cfg.normalize)
    got = readout(model, x)
    assert all(getattr(m, "cache", None) is None for m in model.children.values())
    assert [lb for lb, _ in got.maps] == ["C1 conv + squash", "S2 subsample + squash", C3,
                                          "S4 subsample + squash"]
    assert [(lb, a.shape) for lb, a in got.vectors] == [("C5 conv + squash", (1, 120)),
                                                        ("F6 linear + squash", (1, 84))]
    stages, logits = forward_stages(model, x)
    assert [lb for lb, _ in stages] == [lb for lb, _ in got.maps + got.vectors]
    # the connection table is C3's own, Table I
    assert list(got.connections) == [C3]
    np.testing.assert_array_equal(got.connections[C3], model.children["c3"].connections)
    assert [set(np.flatnonzero(r)) for r in got.connections[C3]] == [set(t) for t in C3_TABLE]
    # the penalties are the RBF layer's output negated, the bitmaps its centres
    scores = model.forward(x)
    np.testing.assert_array_equal(got.rbf["penalties"], -scores)
    np.testing.assert_array_equal(got.rbf["bitmaps"], rbf_bitmaps())
    np.testing.assert_array_equal(got.rbf["input"], got.vectors[-1][1])
    y, _ = ops.euclidean_rbf(got.rbf["input"].astype(np.float64),
                             rbf_bitmaps().reshape(10, -1).astype(np.float64))
    np.testing.assert_allclose(got.rbf["penalties"], y, rtol=1e-5)
    assert got.predicted[0] == np.argmin(-scores[0])
    np.testing.assert_allclose(got.probs, ops.softmax(scores, axis=-1), rtol=1e-6)


# -- feature_maps.py ----------------------------------------------------------------------
def test_feature_maps_png_shows_table_i_and_the_rbf_readout(run_dir, digit, tmp_path):
    out = tmp_path / "fm.png"
    r = run_script("feature_maps.py", "--weights", run_dir / "weights.npz", "--out", out)
    assert r.returncode == 0, r.stderr
    said = r.stdout
    png = _read_png(out)
    assert (png >= 0).all()                               # drawn in the shared palette
    h, w = png.shape
    assert 1300 <= w <= 1700 and 650 <= h <= 900

    # where everything went: the renderer's layout for the same arrays (titles aside)
    model, cfg = load_model(str(run_dir / "weights.npz"))
    x = prepare_images(digit[0], cfg.normalize)
    got = readout(model, x)
    _, lay = render_feature_maps(digit[0][0] / 255.0, label=digit[1], title="t", footer="f",
                                 **got.digit(0))
    assert lay["size"] == (w, h)
    names = {p.name for p in lay["placed"]}
    assert {"connection table", "table key swatch reads", "distance bars", "bitmap",
            "distance key swatch smallest y: the answer", "rbf input", "bitmap legend bar",
            "posterior"} <= names
    for lb, _ in got.maps + got.vectors:                  # a legend for every colour panel
        assert f"{lb} legend bar" in names

    # the winner: the one highlighted bar is argmin of the penalties of a fresh forward
    winner = int(np.argmin(-model.forward(x)[0]))
    assert f"MNIST test #0: {winner} (true 7)" in said
    lit = [k for k, (x0, y0, x1, y1) in enumerate(lay["distances"])
           if png[(y0 + y1) // 2, x0] == ACCENT]
    assert lit == [winner] == [lay["winner"]]
    # bar lengths follow the penalties (two penalties 0.4 apart may round to one length)
    lengths = np.array([x1 - x0 for x0, _, x1, _ in lay["distances"]])
    assert lengths[winner] == lengths.min()
    y = got.rbf["penalties"][0]
    assert all(lengths[i] <= lengths[j] for i in range(10) for j in range(10) if y[i] < y[j])

    # the table: filled exactly where Table I connects, read at each cell's centre
    cells = lay["tables"][C3]
    assert len(cells) == 16 * 6
    drawn = np.array([[png[cells[(f, c)][::-1]] for c in range(6)] for f in range(16)])
    assert set(np.unique(drawn)) == {ACCENT, BLANK}
    np.testing.assert_array_equal(drawn == ACCENT, c3_connections())

    # the winner's bitmap, and F6's 84 outputs as 12×7 beside it, read back through the scale
    scale = default_scales([], [], got.rbf)[2][0]
    s = lay["bitmap_scale"]

    def read(box):
        x0, y0, x1, y1 = box
        block = png[y0:y1, x0:x1]
        assert (block == np.repeat(np.repeat(block[::s, ::s], s, 0), s, 1)).all()
        return scale.value(block[::s, ::s])

    np.testing.assert_allclose(read(lay["bitmap"]), rbf_bitmaps()[winner], atol=scale.step)
    np.testing.assert_allclose(read(lay["rbf_input"]), got.rbf["input"][0].reshape(12, 7),
                               atol=scale.step / 2 + 1e-6)


def test_feature_maps_gif_frames_share_one_size(run_dir, fake_mnist_dir, tmp_path):
    out = tmp_path / "fm.gif"
    r = run_script("feature_maps.py", "--weights", run_dir / "weights.npz", "--input", "mnist:0",
                   "--gif", "--count", "6", "--data-dir", fake_mnist_dir, "--out", out,
                   "--no-gifsicle", "--no-progress")
    assert r.returncode == 0, r.stderr
    frames, _, _ = read_gif(out)
    assert len(frames) == 6 and all((f >= 0).all() for f in frames)


def test_distance_panel_marks_the_smallest_and_the_true_class():
    """The renderer alone: y smallest for 3, true class 5, no probability bars."""
    rng = np.random.default_rng(1)
    penalties = rng.uniform(20, 90, 10)
    penalties[3] = 4.0
    rbf = {"penalties": penalties, "bitmaps": rbf_bitmaps(),
           "input": rbf_bitmaps()[3].ravel() * 0.9, "input_label": "F6 linear + squash"}
    maps = [("C1", rng.normal(size=(6, 28, 28))), ("S2", rng.normal(size=(6, 14, 14))),
            ("C3", rng.normal(size=(16, 10, 10))), ("S4", rng.normal(size=(16, 5, 5)))]
    vectors = [("C5", rng.normal(size=120)), ("F6", rbf["input"])]
    probs = np.exp(-penalties) / np.exp(-penalties).sum()
    frame, lay = render_feature_maps(np.zeros((28, 28)), maps, vectors, probs, label=5,
                                     connections={"C3": c3_connections()}, rbf=rbf)
    assert lay["winner"] == 3 and lay["bars"] == []
    x0, y0, x1, y1 = lay["distances"][3]
    assert frame[(y0 + y1) // 2, x0 + 1] == ACCENT
    others = [frame[(b[1] + b[3]) // 2, b[0] + 1] for k, b in enumerate(lay["distances"])
              if k != 3]
    assert ACCENT not in others
    true_box = next(p.box for p in lay["placed"] if p.name == "class 5")
    assert (frame[true_box[1]:true_box[3], true_box[0]:true_box[2]] == GOOD).any()
    # the table's cells, and its rows and columns named after the stages
    names = {p.name for p in lay["placed"]}
    assert {"table caption", "table rows", "table columns", "table row 15",
            "table column 5"} <= names
    assert "C3 map 15" in names and "C3 number 15" in names


# -- animate_filters.py -------------------------------------------------------------------
def test_snapshot_connections_come_from_the_runs_network(run_dir, tmp_path):
    data = load_snapshots(run_dir)
    got = snapshot_connections(run_dir, data)
    assert list(got) == ["conv2"]
    np.testing.assert_array_equal(got["conv2"], c3_connections())
    assert snapshot_connections(tmp_path, data) == {}       # no run.json: every kernel


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_animate_filters_on_the_1998_run(run_dir, tmp_path, layer):
    out = tmp_path / "f.gif"
    r = run_script("animate_filters.py", run_dir, "--layer", layer, "--out", out, "--no-gifsicle",
                   "--no-progress", "--scale", "3")
    assert r.returncode == 0, r.stderr
    data = load_snapshots(run_dir)
    table = snapshot_connections(run_dir, data).get(layer)
    anim = render_snapshot_filters(data, layer, scale=3, net="lenet5-1998",
                                   run_name=run_dir.name, connections=table)
    frames, _, _ = read_gif(out)
    assert len(frames) == len(data["step"]) >= 3
    np.testing.assert_array_equal(frames[-1], anim.frames[-1])
    w = data[layer][-1].astype(float)
    F, C = w.shape[:2]
    connected = np.ones((F, C), bool) if layer == "conv1" else c3_connections()
    np.testing.assert_array_equal(anim.layout["connected"], connected)
    s, (kh, kw) = anim.layout["scale"], anim.layout["kernel"]
    for f in range(F):
        sc = anim.layout["scales"][f]
        for c in range(C):
            x, y = anim.layout["cells"][(f, c)]
            block = frames[-1][y:y + kh * s, x:x + kw * s]
            if connected[f, c]:
                np.testing.assert_allclose(sc.value(block[::s, ::s]), w[f, c],
                                           atol=sc.step / 2 + 1e-6)
            else:                                   # an empty slot: a kernel C3 does not have
                assert (block == BLANK).all() and not w[f, c].any()
