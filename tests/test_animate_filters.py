"""viz.snapshot_filters and scripts/animate_filters.py (run as a process): one frame per
snapshot, weights read back."""
import json
import os

import numpy as np
import pytest

from training.snapshots import SnapshotRecorder, load_snapshots
from viz.readback import read_gif
from viz.snapshot_filters import render_snapshot_filters
from conftest import run_script, usage_error

SCRIPT = "animate_filters.py"


class _Param:
    def __init__(self, data):
        self.data = data


class _Model:
    def __init__(self, rng):
        self.p = {"c1.weight": _Param(rng.normal(0, 0.3, (6, 1, 5, 5)).astype(np.float32)),
                  "c3.weight": _Param(rng.normal(0, 0.1, (16, 6, 5, 5)).astype(np.float32))}

    def named_parameters(self):
        return list(self.p.items())


@pytest.fixture
def run_dir(tmp_path):
    """A run directory with 7 snapshots whose weights grow, and a metrics.jsonl."""
    d = tmp_path / "run"
    d.mkdir()
    rng = np.random.default_rng(0)
    model = _Model(rng)
    rec = SnapshotRecorder(d, every=5)
    rec.record(0, 0.0, None, None, model)
    for step in range(1, 31):
        for p in model.p.values():
            p.data *= np.float32(1.03)          # growth: later frames more saturated
            p.data += rng.normal(0, 0.01, p.data.shape).astype(np.float32)
        rec.observe(2.0 / step)
        if step % 10 == 0:
            rec.set_test_error(0.2 / step)
        if rec.due(step):
            rec.record(step, step / 10, None, None, model)
    rec.save()
    with open(d / "metrics.jsonl", "w") as f:
        for e in (1, 2, 3):
            f.write(json.dumps({"epoch": e, "train_loss": 1 / e, "test_error": 0.02 / e}) + "\n")
    return d


def _decode(frame, layout, f, c):
    """The (kh, kw) weights of kernel (f, c) read back through its colour scale."""
    x, y = layout["cells"][(f, c)]
    s, (kh, kw) = layout["scale"], layout["kernel"]
    block = frame[y:y + kh * s, x:x + kw * s]
    assert (block == np.repeat(np.repeat(block[::s, ::s], s, 0), s, 1)).all()   # crisp blocks
    return layout["scales"][f].value(block[::s, ::s])


@pytest.mark.parametrize("layer, extra", [("conv1", []), ("conv2", []),
                                          ("conv2", ["--sum-channels"])])
def test_frames_are_the_snapshots(run_dir, tmp_path, layer, extra):
    out = tmp_path / "f.gif"
    r = run_script(SCRIPT, run_dir, "--layer", layer, "--out", out, "--no-gifsicle",
                   "--no-progress", "--scale", "3", *extra)
    assert r.returncode == 0, r.stderr
    data = load_snapshots(run_dir)
    w = data[layer].astype(float)
    if extra:
        w = w.sum(axis=2, keepdims=True)
    frames, durations, _ = read_gif(out)
    assert len(frames) == len(data["step"]) == 7
    assert durations[0] == 150 and durations[-1] == 2500
    # the renderer's own layout for the same data; the GIF holds exactly its frames
    anim = render_snapshot_filters(data, layer, bool(extra), False, "run", "run", 3)
    for k in (0, len(frames) - 1):
        np.testing.assert_array_equal(frames[k], anim.frames[k])
    F, C = w.shape[1:3]
    for k in (0, len(frames) - 1):               # initial weights first, final weights last
        for f in range(F):
            tol = anim.layout["scales"][f].step / 2 + 1e-6
            for c in range(C):
                np.testing.assert_allclose(_decode(frames[k], anim.layout, f, c), w[k, f, c],
                                           atol=tol)
    # one fixed scale per filter: ± its largest |w| over all snapshots
    vabs = np.abs(w).reshape(7, F, -1).max(axis=(0, 2))
    np.testing.assert_allclose([sc.vmax for sc in anim.layout["scales"]], vabs, rtol=1e-6)


def test_change_starts_blank_and_ends_at_the_difference(run_dir, tmp_path):
    out = tmp_path / "c.gif"
    r = run_script(SCRIPT, run_dir, "--change", "--out", out, "--no-gifsicle", "--no-progress",
                   "--scale", "2")
    assert r.returncode == 0, r.stderr
    data = load_snapshots(run_dir)
    d = data["conv1"].astype(float) - data["conv1"][:1]
    anim = render_snapshot_filters(data, "conv1", False, True, "run", "run", 2)
    frames, _, _ = read_gif(out)
    for f in range(6):
        np.testing.assert_allclose(_decode(frames[0], anim.layout, f, 0), 0, atol=1e-9)
        np.testing.assert_allclose(_decode(frames[-1], anim.layout, f, 0), d[-1, f, 0],
                                   atol=anim.layout["scales"][f].step / 2 + 1e-6)


def test_default_output_goes_into_the_run_and_timing(run_dir):
    r = run_script(SCRIPT, run_dir, "--layer", "conv2", "--fps", "5", "--hold", "500",
                   "--no-gifsicle", "--no-progress")
    assert r.returncode == 0, r.stderr
    _, durations, _ = read_gif(run_dir / "conv2_filters.gif")
    assert durations == [200] * 6 + [500]


def test_help():
    r = run_script(SCRIPT, "--help")
    assert r.returncode == 0
    for opt in ("RUN_DIR", "--layer", "--sum-channels", "--change", "--fps", "--frame-ms",
                "--hold", "--scale", "--out"):
        assert opt in r.stdout


@pytest.mark.parametrize("argv, match", [
    (["{missing}"], "no such directory"),
    (["{empty}"], "no snapshots.npz"),
    (["{run}", "--sum-channels"], "--sum-channels"),
    (["{run}", "--frame-ms", "15"], "frame_ms"),
    (["{run}", "--scale", "0"], "--scale"),
    (["{run}", "--layer", "conv3"], "invalid choice"),
])
def test_bad_usage_exits_2_with_one_line_and_writes_nothing(run_dir, tmp_path, argv, match):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(missing=tmp_path / "nope", empty=tmp_path / "empty", run=run_dir)
            for a in argv]
    r = run_script(SCRIPT, *argv, "--out", out / "x.gif", "--no-progress")
    usage_error(r, "animate_filters.py", match)
    assert os.listdir(out) == []


def test_layer_missing_from_the_snapshots(tmp_path):
    rec = SnapshotRecorder(tmp_path, every=1)

    class _C1Only:
        def named_parameters(self):
            return [("c1.weight", np.zeros((8, 1, 3, 3), np.float32))]

    rec.record(0, 0.0, None, None, _C1Only())
    rec.save()
    r = run_script(SCRIPT, tmp_path, "--layer", "conv2", "--out", tmp_path / "x.gif")
    assert r.returncode == 2 and "holds conv1" in r.stderr
    assert not (tmp_path / "x.gif").exists()
