"""Fault injection: SIGKILL a training run at random points 10 times, resuming each time.

Each kill lands somewhere else: while Python starts, while MNIST loads, mid-epoch, or while
metrics.jsonl, snapshots.npz or checkpoint.npz are written. The run must always resume
(``--resume`` once run.json or a checkpoint exists, otherwise ``--out`` again) and end with
files equal, bit for bit, to those of a run never interrupted.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_fake_mnist

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "scripts" / "train.py"
KILLS = 10
# 32 epochs: room for 10 kills (a life runs about 2 epochs at most), and 192 steps give a
# snapshot every 4 steps, so snapshot intervals straddle the 6-step epochs' checkpoints
EPOCHS = 32
ARGS = ("--net", "lenet5", "--epochs", str(EPOCHS), "--batch-size", "8", "--workers", "1",
        "--no-progress")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """48 training images: 6 steps per epoch, so an epoch is a fraction of a second."""
    return write_fake_mnist(tmp_path_factory.mktemp("data"), n_train=48)


def start(run_dir, data):
    resumable = any((run_dir / n).is_file() for n in ("checkpoint.npz", "run.json"))
    where = ("--resume", str(run_dir)) if resumable else ("--out", str(run_dir))
    return subprocess.Popen([sys.executable, str(TRAIN), *where, "--data-dir", str(data),
                             *(ARGS[-1:] if resumable else ARGS)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def stamp(path):
    try:
        st = os.stat(path)
        return st.st_ino, st.st_mtime_ns
    except FileNotFoundError:
        return None


def wait_for(proc, condition, timeout=120):
    deadline = time.time() + timeout
    while proc.poll() is None and not condition() and time.time() < deadline:
        time.sleep(0.005)


def test_sigkill_ten_times_then_resume_equals_an_uninterrupted_run(tmp_path, data):
    ref = subprocess.run([sys.executable, str(TRAIN), "--out", str(tmp_path / "ref"),
                          "--data-dir", str(data), *ARGS], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ref.returncode == 0, ref.stderr
    epoch_s = json.loads((tmp_path / "ref" / "summary.json").read_text())["train_wall_s"] / EPOCHS

    run_dir = tmp_path / "run"
    rng = np.random.default_rng(12)
    kills = 0
    for k in range(KILLS):
        proc = start(run_dir, data)
        if k % 4 == 0:          # anywhere from interpreter start-up to this life's first epoch
            before = stamp(run_dir / "metrics.jsonl")
            wait_for(proc, lambda: stamp(run_dir / "metrics.jsonl") != before,
                     timeout=rng.uniform(0.5, 2.0))
        elif k % 4 == 1:        # just after a metrics line: writing snapshots or checkpoint
            before = stamp(run_dir / "metrics.jsonl")
            wait_for(proc, lambda: stamp(run_dir / "metrics.jsonl") != before)
            wait_for(proc, lambda: False, timeout=rng.uniform(0, 0.02))
        else:                   # after one more checkpoint, somewhere in the next epoch
            before = stamp(run_dir / "checkpoint.npz")
            wait_for(proc, lambda: stamp(run_dir / "checkpoint.npz") != before)
            wait_for(proc, lambda: False, timeout=rng.uniform(0, 1.2 * epoch_s))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), err     # never a refusal
    assert kills >= KILLS - 1, kills

    final = start(run_dir, data)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    for name in ("weights.npz", "snapshots.npz"):           # bit for bit, timings aside
        assert (run_dir / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    a, b = ([json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
            for d in (tmp_path / "ref", run_dir))
    assert [r["epoch"] for r in b] == list(range(1, EPOCHS + 1))
    assert [(r["train_loss"], r["test_loss"], r["weight_norm"]) for r in b] \
        == [(r["train_loss"], r["test_loss"], r["weight_norm"]) for r in a]
    assert not [n for n in os.listdir(run_dir) if n.endswith(".tmp")]
