"""Command lines: train.py, evaluate.py and bench_train.py, run as subprocesses."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAIN = str(ROOT / "scripts" / "train.py")
EVALUATE = str(ROOT / "scripts" / "evaluate.py")
BENCH = str(ROOT / "scripts" / "bench_train.py")
MODEL = ROOT / "models" / "lenet5.npz"


def run(*args, timeout=120):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def error_lines(stderr):
    return [line for line in stderr.splitlines() if "error:" in line]


@pytest.mark.parametrize("args,expected", [
    (["--net", "resnet"], "argument --net: invalid choice: 'resnet'"),
    (["--lr", "-0.1"], "argument --lr: must be a number > 0, got -0.1"),
    (["--lr", "0"], "argument --lr: must be a number > 0, got 0.0"),
    (["--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
    (["--workers", "0"], "argument --workers: must be >= 1, got 0"),
    (["--net", "lenet5-1998", "--modern", "c3,relu"], "argument --modern: unknown part 'relu'"),
    (["--modern", "c3"], "argument --modern: swaps parts of --net lenet5-1998 only"),
    (["--resume", "no/such/run"], "argument --resume: no checkpoint.npz in 'no/such/run'"),
])
def test_train_usage_errors(args, expected):
    r = run(TRAIN, *args)
    assert r.returncode == 2
    lines = error_lines(r.stderr)
    assert len(lines) == 1 and expected in lines[0], r.stderr
    assert r.stdout == ""


def test_train_resume_rejects_config_flags(tmp_path):
    (tmp_path / "checkpoint.npz").write_bytes(b"")
    r = run(TRAIN, "--resume", tmp_path, "--lr", "0.1")
    assert r.returncode == 2
    assert "come from its checkpoint; drop --lr" in error_lines(r.stderr)[0]


def test_train_resume_and_evaluate_on_fake_data(tmp_path, fake_mnist_dir):
    out = tmp_path / "run"
    r = run(TRAIN, "--net", "fc2", "--epochs", "1", "--batch-size", "8", "--data-dir",
            fake_mnist_dir, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    for name in ("metrics.jsonl", "checkpoint.npz", "weights.npz", "summary.json", "run.json"):
        assert (out / name).is_file(), name
    r = run(TRAIN, "--resume", out, "--epochs", "2", "--data-dir", fake_mnist_dir, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 2 and "scripts/train.py" in summary["command"]

    r = run(EVALUATE, out / "weights.npz", "--json", "--data-dir", fake_mnist_dir)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["n"] == 16 and report["net"] == "fc2"
    assert report["test_error"] == pytest.approx(lines[-1]["test_error"])
    assert len(report["per_class"]) == 10 and sum(c["n"] for c in report["per_class"]) == 16
    r = run(EVALUATE, out / "weights.npz", "--data-dir", fake_mnist_dir)
    assert r.returncode == 0 and "test error" in r.stdout and "most confused" in r.stdout


def test_train_ctrl_c_keeps_checkpoint_and_exits_130(tmp_path, fake_mnist_dir):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, TRAIN, "--net", "fc2", "--epochs", "100000",
                             "--batch-size", "8", "--data-dir", str(fake_mnist_dir), "--out",
                             str(out), "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert f"--resume {out}" in stderr
    r = run(EVALUATE, out / "checkpoint.npz", "--json", "--data-dir", fake_mnist_dir)
    assert r.returncode == 0, r.stderr


def test_evaluate_usage_errors(tmp_path):
    r = run(EVALUATE, tmp_path / "missing.npz")
    assert r.returncode == 2 and "no such file" in error_lines(r.stderr)[0]
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    r = run(EVALUATE, bad)
    assert r.returncode == 2 and "not a readable .npz" in error_lines(r.stderr)[0]


def test_bench_json_small(tmp_path, fake_mnist_dir):
    r = run(BENCH, "--net", "fc2", "--steps", "4", "--blocks", "2", "--workers", "2", "--json",
            "--data-dir", fake_mnist_dir)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["s_per_epoch"] > 0 and report["peak_rss_mb"] > 0 and report["workers"] == 2
    assert report["extrapolated_from_steps"] == 4 and report["optimizer"] == "adam"


def test_bench_scaling_times_one_two_and_four_workers(fake_mnist_dir):
    r = run(BENCH, "--net", "fc2", "--steps", "2", "--blocks", "1", "--scaling", "--json",
            "--data-dir", fake_mnist_dir)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    rows = report["scaling"]
    assert [row["workers_requested"] for row in rows] == [1, 2, 4]
    assert [row["workers"] for row in rows] == [min(w, report["threads"]) for w in (1, 2, 4)]
    assert all(row["s_per_epoch"] > 0 and row["cpu_s_per_epoch"] > 0 for row in rows)
    r = run(BENCH, "--scaling", "--workers", "2")
    assert r.returncode == 2
    assert error_lines(r.stderr) == ["bench_train.py: error: argument --workers: not allowed "
                                     "with argument --scaling (see --help)"]


def test_bench_times_the_1998_recipe(fake_mnist_dir):
    r = run(BENCH, "--net", "lenet5-1998", "--steps", "4", "--blocks", "2", "--json",
            "--data-dir", fake_mnist_dir)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert (report["optimizer"], report["batch_size"]) == ("sdlm", 32)


def test_train_smoke_on_real_mnist(tmp_path, mnist_dir):
    out = tmp_path / "run"
    r = run(TRAIN, "--train-limit", "256", "--test-limit", "256", "--epochs", "1",
            "--data-dir", mnist_dir, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    line = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert line["epoch"] == 1 and 0 <= line["test_error"] <= 1
    assert (out / "checkpoint.npz").is_file()


def test_shipped_lenet5_on_real_mnist(mnist_dir):
    assert MODEL.is_file(), "models/lenet5.npz is shipped with the repository"
    r = run(EVALUATE, MODEL, "--json", "--data-dir", mnist_dir)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["n"] == 10000 and report["test_error"] <= 0.009
