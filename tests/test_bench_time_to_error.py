"""scripts/bench_time_to_error.py: train.py's recipe timed epoch by epoch to a test error,
in numpy_dl and (where torch is installed) in torch from the same initial weights."""
import json

import numpy as np
import pytest

from conftest import run_script
from training import TrainConfig
from training.race import check_portable, first_at


def test_numpy_side_trains_the_recipe_and_reports_each_epoch(fake_mnist_dir):
    r = run_script("bench_time_to_error.py", "--no-torch", "--epochs", "3", "--error", "99",
                   "--data-dir", fake_mnist_dir, "--json", timeout=300)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)          # one JSON object: the trainer's lines held back
    rows = report["numpy"]
    assert [row["epoch"] for row in rows] == [1, 2, 3] and report["epochs"] == 3
    times = [row["elapsed_s"] for row in rows]
    assert 0 < times[0] < times[1] < times[2]
    assert all(0 <= row["test_error"] <= 1 for row in rows)
    assert report["numpy_reached"] == first_at(rows, 0.99)
    assert "torch" not in report


def test_the_table_and_the_first_epoch_at_the_error(fake_mnist_dir):
    r = run_script("bench_time_to_error.py", "--no-torch", "--epochs", "2", "--error", "0.01",
                   "--data-dir", fake_mnist_dir, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "| epoch | numpy test error | numpy wall s |" in r.stdout
    assert "numpy: never <= 0.01 % in 2 epochs" in r.stdout


def test_first_at_picks_the_first_epoch_at_or_under_the_error():
    rows = [{"epoch": 1, "test_error": 0.02}, {"epoch": 2, "test_error": 0.009},
            {"epoch": 3, "test_error": 0.008}]
    assert first_at(rows, 0.009)["epoch"] == 2
    assert first_at(rows, 0.001) is None


@pytest.mark.parametrize("args, expected", [
    (["--error", "0"], "argument --error: a percentage in (0, 100), got 0"),
    (["--epochs", "0"], "epochs=0: expected an integer >= 1"),
])
def test_usage_errors_are_one_line_and_exit_2(args, expected):
    r = run_script("bench_time_to_error.py", "--no-torch", *args)
    assert r.returncode == 2 and expected in r.stderr and r.stdout == ""


def test_recipes_torch_cannot_run_are_refused_with_the_reason():
    check_portable(TrainConfig(net="lenet5").resolved())
    with pytest.raises(ValueError, match="augmentation"):
        check_portable(TrainConfig(net="lenet5", augment=True).resolved())
    with pytest.raises(ValueError, match="optimizer sdlm.*activation scaled_tanh"):
        check_portable(TrainConfig(net="lenet5-1998").resolved())


def test_torch_starts_from_our_weights_and_batches(fake_mnist_dir):
    pytest.importorskip("torch")
    from mnist import load_mnist
    from training.race import ours, theirs
    train, test = (load_mnist(s, fake_mnist_dir, fetch=False) for s in ("train", "test"))
    cfg = TrainConfig(net="lenet5", epochs=2, workers=1).resolved()
    mine, yours = ours(cfg, train, test, quiet=True), theirs(cfg, train, test, 1)
    # the same start, batches and recipe: only float rounding can tell the two apart
    assert [r["test_error"] for r in mine] == [r["test_error"] for r in yours]
