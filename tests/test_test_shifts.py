"""--test-shifts K: each test image moved by every offset of up to K pixels, the logits
averaged; train.py records it, evaluate.py follows the weights file or its own flag."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from training import (TrainConfig, background_value, describe_views, evaluate_arrays,
                      load_model, predict_logits, prepare_images, views_for)
from training.augment import all_shifts

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def shifted_loop(x, dy, dx, fill):
    """x moved down by dy and right by dx, pixel by pixel."""
    out = np.full_like(x, fill)
    h, w = x.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[..., i, j] = x[..., i - dy, j - dx]
    return out


@pytest.mark.parametrize("k", [1, 2])
def test_all_shifts_are_every_offset_once(k):
    rng = np.random.default_rng(k)
    x = rng.standard_normal((3, 2, 7, 6)).astype(np.float32)
    views = list(all_shifts(x, k, fill=-0.5))
    assert len(views) == (2 * k + 1) ** 2
    np.testing.assert_array_equal(views[len(views) // 2], x)      # the unshifted one, centred
    want = [shifted_loop(x, dy, dx, -0.5) for dy in range(k, -k - 1, -1)
            for dx in range(k, -k - 1, -1)]
    for got, ref in zip(views, want):
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, ref)


def test_predict_logits_averages_the_shifted_copies():
    rng = np.random.default_rng(0)
    model = nn.lenet5(rng=rng)
    x = rng.standard_normal((20, 1, 28, 28)).astype(np.float32)
    fill = background_value(True)
    ref = np.mean([predict_logits(model, shifted_loop(x, dy, dx, fill))
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
    got = predict_logits(model, x, shifts=1, fill=fill)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    assert np.abs(got - predict_logits(model, x)).max() > 1e-3          # it is another test
    both = predict_logits(model, x, mirror=True, shifts=1, fill=fill)
    mirror_ref = (ref + predict_logits(model, x[..., ::-1].copy(), shifts=1, fill=fill)) / 2
    np.testing.assert_allclose(both, mirror_ref, rtol=1e-5, atol=1e-6)
    # a blank image looks the same at every offset: the plain logits
    blank = np.full((2, 1, 28, 28), fill, np.float32)
    np.testing.assert_allclose(predict_logits(model, blank, shifts=2, fill=fill),
                               predict_logits(model, blank), rtol=1e-5, atol=1e-6)


def test_config_records_test_shifts_and_old_files_test_once():
    from training.cli import parse
    assert parse(["--test-shifts", "2"])[1].test_shifts == 2 and parse([])[1].test_shifts == 0
    assert TrainConfig.from_dict({"net": "lenet5"}).test_shifts == 0      # older files
    for bad in (-1, 5, 1.0, True):
        with pytest.raises(ValueError, match=r"test_shifts=.*: expected an integer in \[0, 4\]"):
            TrainConfig(test_shifts=bad).resolved()
    cfg = TrainConfig(test_shifts=2, test_flip=True).resolved()
    assert views_for(cfg) == {"mirror": True, "shifts": 2, "fill": background_value(True)}
    assert describe_views(**views_for(cfg)) == "with mirror images and 25 shifts of up to 2 px"
    assert describe_views(shifts=1) == "with 9 shifts of up to 1 px"
    assert describe_views() == ""


def test_train_evaluate_and_report_with_test_shifts(tmp_path, fake_mnist_dir):
    from mnist import load_mnist
    out = tmp_path / "run"
    r = run("train.py", "--net", "fc2", "--epochs", "1", "--augment", "--test-shifts", "1",
            "--batch-size", "8", "--data-dir", fake_mnist_dir, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "images (with 9 shifts of up to 1 px) after" in r.stdout
    model, config = load_model(str(out / "weights.npz"))
    assert config.test_shifts == 1
    images, labels = load_mnist("test", fake_mnist_dir)
    x, y = prepare_images(images), labels.astype(int)
    fill = background_value(True)
    want = {k: evaluate_arrays(model, x, y, shifts=k, fill=fill) for k in (0, 1, 2)}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_error"] == want[1]["error"]
    for flag, k in (([], 1), (["--test-shifts", "0"], 0), (["--test-shifts", "2"], 2)):
        r = run("evaluate.py", out / "weights.npz", "--data-dir", fake_mnist_dir, "--json", *flag)
        report = json.loads(r.stdout)
        assert report["test_shifts"] == k and report["test_flip"] is False
        assert report["test_error"] == want[k]["error"]
        assert report["test_loss"] == pytest.approx(want[k]["loss"], rel=1e-6)
    r = run("evaluate.py", out / "weights.npz", "--data-dir", fake_mnist_dir)
    assert "; tested with 9 shifts of up to 1 px" in r.stdout
    r = run("report.py", out, "--data-dir", fake_mnist_dir, "--out", tmp_path / "rep",
            "--no-progress")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "rep" / "confusion.png").stat().st_size > 0


@pytest.mark.parametrize("script", ["train.py", "evaluate.py"])
def test_test_shifts_out_of_range_is_one_line(tmp_path, script):
    args = (["--net", "fc2", "--out", tmp_path / "run"] if script == "train.py"
            else [ROOT / "models" / "lenet5.npz"])
    r = run(script, *args, "--test-shifts", "9")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "test" in r.stderr and "9" in r.stderr
    assert not (tmp_path / "run").exists()
