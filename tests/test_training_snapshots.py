"""training.snapshots: the recorder's series, its file, resume, and models without conv layers."""
import math
import os

import numpy as np
import pytest

from training.snapshots import (SNAPSHOTS, SnapshotRecorder, default_every, load_snapshots,
                                snapshot_layers)


class _Param:
    def __init__(self, data):
        self.data = data


class FakeModel:
    """Just ``named_parameters()``, like nn.Module; weights changed in place like an optimiser."""

    def __init__(self, names=("c1.weight", "c3.weight"), seed=0):
        rng = np.random.default_rng(seed)
        shapes = {"c1.weight": (6, 1, 5, 5), "c3.weight": (16, 6, 5, 5), "f1.weight": (3, 4)}
        self.params = {n: _Param(rng.normal(size=shapes[n]).astype(np.float32)) for n in names}

    def named_parameters(self):
        return list(self.params.items())

    def step(self, delta):
        for p in self.params.values():
            p.data += np.float32(delta)


def _train(rec, model, steps, eval_every=None, start=0):
    """A fake loop: one observe per step, a snapshot when due, test error now and then."""
    for step in range(start + 1, start + steps + 1):
        model.step(0.01)
        rec.observe(1.0 / step)
        if eval_every and step % eval_every == 0:
            rec.set_test_error(0.5 / step)
        if rec.due(step):
            rec.record(step, step / 10, None, None, model)


def test_default_every_gives_about_count_snapshots():
    for total in (7035, 938, 500, 51):
        n = total // default_every(total) + 1      # the initial snapshot and every k steps
        assert 26 <= n <= 51, (total, n)
    assert default_every(7035) == 141 and default_every(3) == 1
    assert default_every(1000, count=10) == 100
    with pytest.raises(ValueError, match="count"):
        default_every(10, count=0)


def test_count_shapes_monotone_steps_and_values(tmp_path):
    model = FakeModel()
    rec = SnapshotRecorder(tmp_path, every=4)
    rec.record(0, 0.0, None, None, model)
    first = model.params["c1.weight"].data.copy()
    _train(rec, model, 22, eval_every=10)
    assert rec.save()
    d = load_snapshots(tmp_path)
    np.testing.assert_array_equal(d["step"], [0, 4, 8, 12, 16, 20])
    assert d["conv1"].shape == (6, 6, 1, 5, 5) and d["conv2"].shape == (6, 16, 6, 5, 5)
    assert d["conv1"].dtype == np.float32 and snapshot_layers(d) == ["conv1", "conv2"]
    np.testing.assert_array_equal(d["conv1"][0], first)           # a copy, not a view
    np.testing.assert_allclose(d["conv1"][-1], first + 0.01 * 20, atol=1e-5)
    np.testing.assert_allclose(d["epoch"], d["step"] / 10)
    assert math.isnan(d["loss"][0])                                 # no step before init
    np.testing.assert_allclose(d["loss"][1], np.mean(1.0 / np.arange(1, 5)))
    np.testing.assert_allclose(d["loss"][2], np.mean(1.0 / np.arange(5, 9)))
    assert np.isnan(d["test_error"][:3]).all()                      # no evaluation before 10
    np.testing.assert_allclose(d["test_error"][3:], [0.05, 0.05, 0.025])
    assert int(d["meta/every"]) == 4


def test_recording_the_same_step_replaces_it_and_going_back_fails(tmp_path):
    model = FakeModel()
    rec = SnapshotRecorder(tmp_path, every=5)
    rec.record(0, 0.0, 2.0, None, model)
    _train(rec, model, 5)
    rec.set_test_error(0.3)
    model.step(1.0)
    rec.record(5, 0.5, None, None, model)       # e.g. at the end of an epoch, after evaluation
    d = rec.arrays()
    np.testing.assert_array_equal(d["step"], [0, 5])
    assert d["test_error"][-1] == 0.3 and np.isfinite(d["loss"][-1])
    np.testing.assert_allclose(d["conv1"][-1], model.params["c1.weight"].data)
    assert not rec.due(5) and rec.due(10)
    with pytest.raises(ValueError, match="step=3"):
        rec.record(3, 0.3, None, None, model)


def test_resume_drops_the_tail_without_duplicates_or_gaps(tmp_path):
    # an uninterrupted run ...
    full = SnapshotRecorder(tmp_path / "full", every=3)
    os.makedirs(tmp_path / "full")
    model = FakeModel()
    full.record(0, 0.0, None, None, model)
    _train(full, model, 20, eval_every=10)
    # ... and one saved at step 20 but resumed from a checkpoint at step 10
    os.makedirs(tmp_path / "run")
    rec = SnapshotRecorder(tmp_path / "run", every=3)
    model = FakeModel()
    rec.record(0, 0.0, None, None, model)
    _train(rec, model, 20, eval_every=10)
    rec.save()
    resumed = SnapshotRecorder.resume(tmp_path / "run", up_to_step=10)
    assert resumed.every == 3 and resumed.last_step == 9
    assert math.isnan(resumed.test_error)     # no kept snapshot had one ...
    resumed.set_test_error(0.05)              # ... the trainer restores it from metrics.jsonl
    model = FakeModel()
    model.step(0.01 * 10)                                 # the checkpoint's weights
    _train(resumed, model, 10, eval_every=10, start=10)
    a, b = resumed.arrays(), full.arrays()
    np.testing.assert_array_equal(a["step"], np.arange(0, 21, 3))
    np.testing.assert_array_equal(a["step"], b["step"])
    np.testing.assert_allclose(a["conv2"], b["conv2"], atol=1e-5)
    np.testing.assert_allclose(a["test_error"], b["test_error"])


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path):
    rec = SnapshotRecorder(tmp_path, every=1)
    model = FakeModel()
    for step in range(3):
        rec.record(step, step, 1.0, 0.1, model)
        rec.save()
    assert os.listdir(tmp_path) == [SNAPSHOTS]
    assert len(load_snapshots(tmp_path)["step"]) == 3


def test_models_without_the_layers(tmp_path):
    fc2 = FakeModel(names=("f1.weight",))
    rec = SnapshotRecorder(tmp_path, every=2)
    assert rec.record(0, 0.0, None, None, fc2) is False
    _train(rec, fc2, 6)
    assert len(rec) == 0 and not rec.active and rec.save() is False
    assert os.listdir(tmp_path) == []
    # a net with conv1 only records conv1
    rec = SnapshotRecorder(tmp_path, every=2)
    rec.record(0, 0.0, None, None, FakeModel(names=("c1.weight",)))
    assert rec.save() and snapshot_layers(load_snapshots(tmp_path)) == ["conv1"]


def test_bad_arguments_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="every=0"):
        SnapshotRecorder(tmp_path, every=0)
    with pytest.raises(FileNotFoundError, match="snapshots"):
        load_snapshots(tmp_path)
    with pytest.raises(FileNotFoundError, match="every"):
        SnapshotRecorder.resume(tmp_path, 10)
    assert len(SnapshotRecorder.resume(tmp_path, 10, every=5)) == 0
    (tmp_path / SNAPSHOTS).write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        load_snapshots(tmp_path)
