"""scripts/make_gif.py: options, defaults, and bad usage (exit code 2, no file left)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ops
from viz.draw import RING_MARGIN
from viz.palette import ACCENT, HATCH_A
from viz.readback import read_gif
from conftest import gif_parser, make_gif, render_gif

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_gif.py"


@pytest.fixture
def png(tmp_path):
    img = (np.random.default_rng(0).random((10, 12)) * 255).astype(np.uint8)
    p = tmp_path / "in.png"
    Image.fromarray(img).save(p)
    return p


_run, _anim = make_gif, render_gif


def _swept(anim):
    """Steps the sweep of a window GIF shows (all of them when --max-frames allows)."""
    return anim.phases.count("sweep")


def _usage_error(argv, capsys, match):
    with pytest.raises(SystemExit) as e:
        make_gif(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "error:" in err[-1] and match in err[-1], err


# -- command line as a user runs it ------------------------------------------------------
def test_help_lists_ops_and_option_defaults():
    r = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for op in ("maxpool", "avgpool", "conv2d", "relu", "sigmoid", "tanh", "linear", "flatten",
               "softmax", "all"):
        assert op in r.stdout
    r = subprocess.run([sys.executable, str(SCRIPT), "conv2d", "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0
    for opt in ("--input", "--kernel-size", "--stride", "--padding", "--dilation", "--channels",
                "--filters", "--kernel", "--seed", "--fps", "--frame-ms", "--scale", "--hold",
                "--out", "--max-frames"):
        assert opt in r.stdout
    assert "at most 40% of the play time" in " ".join(r.stdout.split()) and "64" in r.stdout


def test_cli_writes_a_gif(tmp_path, png):
    out = tmp_path / "m.gif"
    r = subprocess.run([sys.executable, str(SCRIPT), "maxpool", "--input", str(png), "--scale",
                        "2", "--out", str(out), "--no-gifsicle", "--tour", "none"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    frames, durations, loop = read_gif(out)
    assert len(frames) == 5 * 6 + 1 and loop == 0 and durations[-1] == 2500   # steps, hold


@pytest.mark.parametrize("argv, match", [
    (["blurpool"], "invalid choice"),
    (["maxpool", "--kernel-size", "13"], "kernel_size"),
])
def test_cli_bad_usage_exits_2_and_writes_nothing(tmp_path, png, argv, match):
    out = tmp_path / "x.gif"
    r = subprocess.run([sys.executable, str(SCRIPT)] + argv + ["--input", str(png), "--out",
                                                                str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert match in r.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


# -- options, in process -----------------------------------------------------------------
def test_timing_options(tmp_path, png):
    base = ["maxpool", "--input", str(png), "--scale", "2", "--no-gifsicle", "--tour", "none"]
    r = _run(base + ["--max-frames", "10", "--frame-ms", "30", "--hold", "500", "--out",
                     str(tmp_path / "a.gif")])
    frames, durations, _ = read_gif(r["path"])
    assert len(frames) == r["frames"] == 10
    assert durations == [30] * 9 + [500] and r["play_s"] == pytest.approx(0.77)
    r = _run(base + ["--fps", "25", "--out", str(tmp_path / "b.gif")])
    assert read_gif(r["path"])[1][:3] == [40, 40, 40]


def test_geometry_options_change_the_trace(png):
    base = ["--input", str(png), "--scale", "2", "--max-frames", "1000"]
    assert _swept(_anim(["maxpool"] + base)) == 5 * 6
    assert _swept(_anim(["maxpool", "--stride", "1"] + base)) == 9 * 11
    assert _swept(_anim(["maxpool", "--kernel-size", "3,2", "--stride", "2,3"] + base)) == 4 * 4
    padded = _anim(["avgpool", "--kernel-size", "3", "--padding", "1"] + base)
    assert _swept(padded) == 4 * 4 and (padded.frames[0] == HATCH_A).any()
    assert not (_anim(["avgpool", "--kernel-size", "3"] + base).frames[0] == HATCH_A).any()
    assert _swept(_anim(["maxpool", "--kernel-size", "3", "--stride", "1", "--dilation", "2"]
                        + base)) == 6 * 8
    assert _swept(_anim(["conv2d"] + base)) == 10 * 12
    assert _swept(_anim(["conv2d", "--padding", "0", "--kernel", "blur", "--kernel-size", "5"]
                        + base)) == 6 * 8


def test_conv_channels_filters_and_kernels(png):
    base = ["conv2d", "--input", str(png), "--scale", "2", "--stride", "2"]
    a = _anim(base + ["--channels", "3", "--kernel", "sobel-x,sobel-y"])
    assert len(a.layout["input_xy"]) == 3 and len(a.layout["output_xy"]) == 2
    assert _swept(a) == 2 * 5 * 6
    a = _anim(base + ["--filters", "3", "--kernel", "random", "--seed", "1"])
    assert len(a.layout["output_xy"]) == 3
    assert not np.array_equal(_anim(base + ["--kernel", "random", "--seed", "1"]).frames[-1],
                              _anim(base + ["--kernel", "random", "--seed", "2"]).frames[-1])
    assert not np.array_equal(_anim(base + ["--kernel", "sobel-x"]).frames[-1],
                              _anim(base + ["--kernel", "sobel-y"]).frames[-1])


def test_scale_option_sets_pixel_size(png):
    small = _anim(["maxpool", "--input", str(png), "--scale", "2"])
    big = _anim(["maxpool", "--input", str(png), "--scale", "5"])
    assert small.layout["scale"] == 2 and big.layout["scale"] == 5
    for a, s in ((small, 2), (big, 5)):
        ix, iy = a.layout["input_xy"][0]
        region = a.frames[0][iy - RING_MARGIN:iy + 10 * s + RING_MARGIN,
                             ix - RING_MARGIN:ix + 12 * s + RING_MARGIN]
        ys, xs = np.nonzero(region == ACCENT)
        assert xs.max() - xs.min() + 1 == 2 * s + 2 * (RING_MARGIN - 1)   # the 2×2 window, ringed


def test_other_ops_options(png):
    assert _anim(["relu", "--input", str(png), "--scale", "2"]).phases.count("sweep") \
        == 10 * 12
    assert len(_anim(["tanh", "--input", str(png), "--kernel", "none", "--max-frames", "7"])) == 7
    lin = _anim(["linear", "--input", str(png), "--pool", "2", "--out-features", "3"])
    assert lin.phases.count("sweep") == 3
    fl = _anim(["flatten", "--input", str(png), "--pool", "3", "--channels", "2"])
    assert fl.phases.count("sweep") == 2 * 3 * 4
    sm = _anim(["softmax", "--logits", "1,2,3", "--label", "0"])
    assert len(sm) == 2 * 3 + 4
    assert len(_anim(["softmax", "--logits", "1,2,3", "--label", "-1"])) == 2 * 3 + 3


def test_default_maxpool_fits_its_budget(tmp_path):
    r = _run(["maxpool", "--out", str(tmp_path / "m.gif"), "--no-gifsicle"])
    assert r["frames"] == r["tour_frames"] + 196 + 1 and 3 <= r["tour_frames"] <= 4
    assert r["play_s"] <= 30 and r["bytes"] <= 500_000 and r["tour_s"] >= 0.8 * r["tour_frames"]


def test_mnist_input(monkeypatch, tmp_path):
    from mnist import write_idx
    from mnist.verify import write_manifest
    d = tmp_path / "data" / "mnist"       # a tiny test set in the cache NUMPY_DL_DATA names
    d.mkdir(parents=True)
    images = np.zeros((5, 28, 28), np.uint8)
    images[3, 10:20, 10:20] = 255
    write_idx(d / "t10k-images-idx3-ubyte", images)
    write_idx(d / "t10k-labels-idx1-ubyte", np.arange(5, dtype=np.uint8))
    write_manifest(d, ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
    monkeypatch.setenv("NUMPY_DL_DATA", str(tmp_path / "data"))
    a = _anim(["maxpool", "--input", "mnist:3"])
    b = _anim(["maxpool", "--input", "mnist:2"])
    assert _swept(a) == 196 and not np.array_equal(a.frames[-1], b.frames[-1])


@pytest.mark.parametrize("argv, match", [
    (["maxpool", "--input", "mnist:x"], "mnist:INDEX"),
    (["maxpool", "--input", "nope.png"], "no such file"),
    (["maxpool", "--max-frames", "1"], "--max-frames"),
    (["maxpool", "--frame-ms", "25"], "multiple of 10"),
    (["maxpool", "--hold", "10"], "hold"),
    (["maxpool", "--scale", "0"], "--scale"),
    (["maxpool", "--stride", "a"], "--stride"),
    (["conv2d", "--kernel", "sobel-x", "--kernel-size", "5"], "3×3"),
    (["conv2d", "--kernel", "edgy"], "unknown"),
    (["conv2d", "--kernel", "sobel-x,sobel-y", "--filters", "3"], "--filters"),
    (["conv2d", "--channels", "5"], "--channels"),
    (["linear", "--pool", "2"], "at most 64"),
    (["softmax", "--label", "12"], "label"),
    (["softmax", "--logits", "1,x"], "--logits"),
])
def test_bad_usage_exits_2(tmp_path, capsys, argv, match):
    out = tmp_path / "x.gif"
    _usage_error(argv + ["--out", str(out)], capsys, match)
    assert list(tmp_path.iterdir()) == []


def test_unreadable_image_and_missing_folder(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    _usage_error(["maxpool", "--input", str(bad), "--out", str(tmp_path / "x.gif")], capsys,
                 "cannot read")
    _usage_error(["maxpool", "--out", str(tmp_path / "no" / "x.gif")], capsys, "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png"]


def test_large_pictures_are_shrunk(tmp_path):
    p = tmp_path / "big.jpg"
    Image.fromarray((np.random.default_rng(0).random((300, 150, 3)) * 255).astype(np.uint8)).save(p)
    a = _anim(["avgpool", "--input", str(p), "--kernel-size", "4", "--max-frames", "1000"])
    assert _swept(a) == 16 * 8                                 # 64×32 after shrinking


def test_all_renders_the_gallery(tmp_path, png):
    """What `make_gif.py all` runs (recipes.gallery_jobs), on a gallery of three."""
    from recipes import Gif, gallery_jobs, make
    gallery = {"one": Gif(f"maxpool --input {png} --scale 2"),
               "two": Gif("softmax --logits 0,1 --label 1"),
               "arithmetic/three": Gif("conv2d --input toy:0:4 --padding 0 --no-bias", "o = 2")}
    parser, subs = gif_parser()
    headings = []
    for heading, name, a in gallery_jobs(parser, tmp_path, no_gifsicle=True, gallery=gallery):
        headings.append(heading)
        make(a, subs[a.op], tmp_path)
    assert headings[:2] == [None, None] and headings[2].startswith("-- convolution arithmetic")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arithmetic", "in.png", "one.gif",
                                                          "two.gif"]
    assert [p.name for p in (tmp_path / "arithmetic").iterdir()] == ["three.gif"]


def test_gallery_arguments_parse():
    from recipes import GALLERY
    parser, _ = gif_parser()
    for name, gif in GALLERY.items():
        op = parser.parse_args(gif.argv).op.replace("-", "_")
        assert name.startswith("arithmetic/") or op in name or name.startswith(op)


def test_trace_is_from_ops(png):
    # the output panel of the last frame holds the op's own result
    img = np.asarray(Image.open(png), dtype=np.float32) / 255
    out, _ = ops.max_pool2d(img[None, None], 2)
    a = _anim(["maxpool", "--input", str(png), "--scale", "3"])
    (ox, oy), o, gap = a.layout["output_xy"][0], a.layout["cell"], a.layout["gap"]
    sc = a.layout["out_scale"]
    got = sc.value(a.frames[-1][oy + o // 2 - 1, ox + o // 2 - 1 + 2 * o])
    assert abs(got - out[0, 0, 0, 2]) <= sc.step / 2 + 1e-6


def test_same_command_same_bytes_whatever_the_hash_seed(tmp_path):
    """A GIF depends only on its command: string hashing (set order) must not leak into the
    layout (it once picked the window rulers' widest label from a set)."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_gif.py"
    out = []
    for seed in ("1", "3"):
        path = tmp_path / f"m{seed}.gif"
        env = dict(os.environ, PYTHONHASHSEED=seed,
                   PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        r = subprocess.run([sys.executable, str(script), "maxpool", "--kernel-size", "3",
                            "--stride", "2", "--padding", "1", "--dilation", "2",
                            "--max-frames", "6", "--no-gifsicle", "--out", str(path)],
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        out.append(path.read_bytes())
    assert out[0] == out[1]
