"""evaluate.py and report.py say where the weights were trained and where they run now."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

from training.provenance import (describe, environment, environment_lines,
                                 recorded_environment)

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def run(script, *args):
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def lines_starting(stdout, prefix):
    return [line for line in stdout.splitlines() if line.startswith(prefix)]


def test_evaluate_and_report_show_the_recorded_environment(tmp_path, fake_mnist_dir):
    out = tmp_path / "run"
    r = run("train.py", "--net", "fc2", "--epochs", "1", "--batch-size", "8", "--data-dir",
            fake_mnist_dir, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    here = describe(environment())

    r = run("evaluate.py", out / "weights.npz", "--data-dir", fake_mnist_dir)
    assert r.returncode == 0, r.stderr
    assert lines_starting(r.stdout, "trained with: ") == [
        f"trained with: {here} ({out / 'run.json'})"]
    assert lines_starting(r.stdout, "running with: ") == [
        "running with: the same NumPy, BLAS (kernels, threads) and CPU"]
    r = run("evaluate.py", out / "weights.npz", "--json", "--data-dir", fake_mnist_dir)
    report = json.loads(r.stdout)
    recorded = json.loads((out / "run.json").read_text())["environment"]
    assert report["trained_environment"] == recorded
    assert describe(report["environment"]) == here

    r = run("report.py", out, "--data-dir", fake_mnist_dir, "--no-progress", "--dpi", "30")
    assert r.returncode == 0, r.stderr
    assert lines_starting(r.stdout, "trained with: ") == [
        f"trained with: {here} ({out / 'run.json'})"]


def test_lines_when_trained_elsewhere_or_not_recorded(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = environment()
    (run_dir / "run.json").write_text(json.dumps({"config": {}, "environment":
                                                  {**env, "numpy": "1.26.4"}}))
    (run_dir / "weights.npz").write_bytes(b"")
    found, source = recorded_environment(str(run_dir / "weights.npz"))
    assert found["numpy"] == "1.26.4" and source == str(run_dir / "run.json")
    assert environment_lines(found, source)[1] == (
        f"running with: {describe(env)} (differs: numpy 1.26.4 vs {env['numpy']})")
    # The shipped layout: models/NAME.npz with NAME.json or NAME-run/run.json beside it.
    (tmp_path / "net.npz").write_bytes(b"")
    assert recorded_environment(str(tmp_path / "net.npz")) == (None, None)
    assert environment_lines(None, None) == [
        "trained with: not recorded (no run.json beside the weights records it)",
        f"running with: {describe(env)}"]
    shutil.copytree(run_dir, tmp_path / "net-run")
    found = recorded_environment(str(tmp_path / "net.npz"))[1]
    assert found == str(tmp_path / "net-run" / "run.json")
