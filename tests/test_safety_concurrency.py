"""One writer per run directory: two train.py processes on one directory, for real.

A second --out or --resume while the first trains is refused in one line (exit 1) and
changes nothing; the first run ends whole (metrics.jsonl epochs 1..E, resumable). The
lock is the kernel's (flock), so a SIGKILLed trainer leaves no stale lock behind.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_fake_mnist

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "scripts" / "train.py"
TINY = ("--net", "fc2", "--batch-size", "8", "--no-progress")
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_fake_mnist(tmp_path_factory.mktemp("data"))


def _argv(data, *args):
    return [sys.executable, str(TRAIN), *map(str, args), "--data-dir", str(data)]


def run(data, *args, cwd):
    return subprocess.run(_argv(data, *args), capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=ENV)


def start(data, *args, cwd):
    return subprocess.Popen(_argv(data, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, env=ENV)


def wait_for(proc, text):
    """Read proc's stdout until a line holds ``text``."""
    for line in proc.stdout:
        if text in line:
            return line
    raise AssertionError(f"{text!r} never printed: {proc.wait()} {proc.stderr.read()}")


def tree(path):
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(path).rglob("*")) if p.is_file()}


def epochs(run_dir):
    return [json.loads(x)["epoch"] for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def busy(r, run_dir):
    """The refusal: exit 1, one line naming the directory, no traceback."""
    assert r.returncode == 1, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "another process is training in" in lines[0] and str(run_dir) in lines[0]


def refused_while_stopped(proc, data, argv, run_dir, cwd):
    """With ``proc`` frozen mid-run (holding the lock), ``argv`` is refused and changes nothing."""
    proc.send_signal(signal.SIGSTOP)
    try:
        before = tree(run_dir)
        busy(run(data, *argv, cwd=cwd), run_dir)
        assert tree(run_dir) == before
    finally:
        proc.send_signal(signal.SIGCONT)


def test_a_second_out_on_a_run_in_progress_is_refused(data, tmp_path):
    run_dir = tmp_path / "run"
    first = start(data, *TINY, "--epochs", 2, "--seed", 1, "--out", run_dir, cwd=tmp_path)
    wait_for(first, "run directory:")
    refused_while_stopped(first, data, (*TINY, "--epochs", 2, "--seed", 2, "--out", run_dir),
                          run_dir, tmp_path)
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert epochs(run_dir) == [1, 2]
    assert json.loads((run_dir / "run.json").read_text())["config"]["seed"] == 1


def test_a_second_resume_on_a_run_in_progress_is_refused(data, tmp_path):
    run_dir = tmp_path / "run"
    assert run(data, *TINY, "--epochs", 1, "--out", run_dir, cwd=tmp_path).returncode == 0
    first = start(data, "--resume", run_dir, "--epochs", 3, "--no-progress", cwd=tmp_path)
    wait_for(first, "resuming")
    refused_while_stopped(first, data, ("--resume", run_dir, "--epochs", 3, "--no-progress"),
                          run_dir, tmp_path)
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert epochs(run_dir) == [1, 2, 3]
    r = run(data, "--resume", run_dir, "--no-progress", cwd=tmp_path)
    assert r.returncode == 0 and "already complete" in r.stdout


def test_two_outs_started_together_leave_one_whole_run(data, tmp_path):
    run_dir = tmp_path / "run"
    procs = [start(data, *TINY, "--epochs", 1, "--seed", s, "--out", run_dir, cwd=tmp_path)
             for s in (1, 2)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    # the loser is refused as busy (1), or, if it looked after the winner ended, as a
    # directory that already holds a run (2); never two results
    assert codes in ([0, 1], [0, 2]), results
    assert sum("test error" in out for _, out, _ in results) == 1
    assert epochs(run_dir) == [1]
    r = run(data, "--resume", run_dir, "--no-progress", cwd=tmp_path)
    assert r.returncode == 0 and "already complete" in r.stdout, r.stderr


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_trainer_leaves_no_stale_lock(data, tmp_path, signum):
    run_dir = tmp_path / "run"
    first = start(data, *TINY, "--epochs", 3, "--out", run_dir, cwd=tmp_path)
    wait_for(first, "epoch 1/3")
    first.send_signal(signum)
    first.wait(timeout=60)
    if signum == signal.SIGTERM:        # Python sees it: one line, exit 130, no temp left
        stderr = first.stderr.read()
        assert first.returncode == 130 and "Traceback" not in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1 and "is intact" in stderr
        assert not [n for n in os.listdir(run_dir) if n.endswith(".tmp")]
    r = run(data, "--resume", run_dir, "--no-progress", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert epochs(run_dir) == [1, 2, 3]
    assert sorted(os.listdir(run_dir)) == ["checkpoint.npz", "metrics.jsonl", "run.json",
                                           "summary.json", "weights.npz"]   # no temp left
