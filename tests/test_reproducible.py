"""Re-training byte for byte, on the machine that runs the tests: the README's claim holds
under one condition (same NumPy and BLAS build, kernels and threads, same --workers), and
this machine meets it by definition. Two train.py processes, same seed: the same weights.npz.
"""
import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest

from training.provenance import build_differences, describe, environment

ROOT = Path(__file__).resolve().parents[1]
TRAIN = str(ROOT / "scripts" / "train.py")


@pytest.mark.parametrize("net", ["lenet5-1998", "lenet5"])
def test_same_seed_twice_gives_the_same_weights_file(tmp_path, mnist_dir, net):
    # lenet5-1998 runs one worker with BLAS on its default threads; lenet5 shards the batch.
    args = [sys.executable, TRAIN, "--net", net, "--epochs", "1", "--train-limit", "128",
            "--test-limit", "50", "--data-dir", str(mnist_dir), "--no-progress"]
    for i in range(2):      # one after the other: two at once would share BLAS's cores
        r = subprocess.run(args + ["--out", str(tmp_path / str(i))], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    a, b = tmp_path / "0", tmp_path / "1"
    assert filecmp.cmp(a / "weights.npz", b / "weights.npz", shallow=False), \
        f"same seed, other weights on {describe(environment())}"
    envs = [json.loads((d / "run.json").read_text())["environment"] for d in (a, b)]
    assert envs[0] == envs[1]
    assert build_differences(envs[0], environment()) == []   # recorded as it is
    assert json.loads((a / "summary.json").read_text())["environment"] == envs[0]


def test_environment_records_what_the_weights_depend_on():
    env = environment()
    assert env["numpy"] == __import__("numpy").__version__
    assert env["blas"] and all(b["threads"] >= 1 and b["version"] for b in env["blas"])
    assert env["cpu"] and env["usable_cores"] >= 1 and env["python"].count(".") == 2
    line = describe(env)
    assert line.startswith(f"NumPy {env['numpy']}, ") and env["cpu"] in line
    other = json.loads(json.dumps(env))
    other["blas"][0]["threads"] += 1
    other["numpy"] = "1.0.0"
    diffs = build_differences(other, env)
    assert len(diffs) == 2 and diffs[0] == f"numpy 1.0.0 vs {env['numpy']}", diffs
    assert "BLAS" in diffs[1] and "vs" in diffs[1]
    assert build_differences(None, env) == [] and describe(None) == "not recorded"
