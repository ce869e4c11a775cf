"""scripts/get_data.py (and its old name get_mnist.py): usage errors, the no-source error,
a run from a local directory, and the order of sources with fake npm / apt-get on the PATH."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnist import FILES
from mnist.verify import MANIFEST

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "get_data.py"
OLD = SCRIPT.with_name("get_mnist.py")


def _run(args, env_dir, script=SCRIPT):
    env = dict(os.environ, NUMPY_DL_DATA=str(env_dir))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("script", [SCRIPT, OLD])
def test_bad_usage_exits_2_with_one_line(tmp_path, script):
    proc = _run(["--from", str(tmp_path / "nope"), "--no-npm", "--no-download"], tmp_path, script)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"{script.name}: error: --from {tmp_path / 'nope'}: not a directory (see --help)"]


@pytest.mark.parametrize("script, dataset, title", [(SCRIPT, "mnist", "MNIST"),
                                                    (OLD, "mnist", "MNIST"),
                                                    (SCRIPT, "fashion-mnist", "Fashion-MNIST"),
                                                    (OLD, "fashion-mnist", "Fashion-MNIST")])
def test_no_source_exits_1_with_one_clear_line(tmp_path, script, dataset, title):
    proc = _run(["--dataset", dataset, "--no-package", "--no-download"], tmp_path, script)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{script.name}: error: {title} not found.")
    assert str(tmp_path / dataset) in lines[0] and all(n in lines[0] for n in FILES)
    assert "packages disabled" in lines[0] and "download disabled" in lines[0]
    assert not any((tmp_path / dataset).iterdir())


def test_fetch_from_a_local_directory(tmp_path, fake_mnist_dir):
    # the tiny files pass verification as other data does: a SHA256SUMS in the cache
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(fake_mnist_dir / MANIFEST, cache / MANIFEST)
    proc = _run(["--dir", str(cache), "--from", str(fake_mnist_dir), "--no-npm",
                 "--no-download"], tmp_path / "data")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"MNIST ready in {cache}" in out
    assert f"{fake_mnist_dir / 'train-images-idx3-ubyte'}" in out
    assert all((cache / n).read_bytes() == (fake_mnist_dir / n).read_bytes() for n in FILES)


def _fake_npm(tmp_path):
    """An ``npm`` on the PATH that only records that it was run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(f"#!/bin/sh\ntouch {tmp_path / 'npm-was-run'}\nexit 1\n")
    npm.chmod(0o755)
    return dict(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_from_an_empty_directory_stops_there(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ, NUMPY_DL_DATA=str(tmp_path / "data"), **_fake_npm(tmp_path))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--from", str(empty)], capture_output=True,
                          text=True, env=env, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and proc.stdout == ""
    assert lines[0].startswith("get_data.py: error: MNIST not found.") and str(empty) in lines[0]
    assert "download disabled" in lines[0] and "downloading" not in proc.stderr
    assert not (tmp_path / "npm-was-run").exists()


def test_a_mistyped_data_dir_is_refused_not_created(tmp_path):
    typo = tmp_path / "mnsit"
    env = dict(os.environ, PYTHONPATH=str(SCRIPT.parents[1]), **_fake_npm(tmp_path))
    proc = subprocess.run([sys.executable, str(SCRIPT.with_name("evaluate.py")),
                           str(SCRIPT.parents[1] / "models" / "lenet5.npz"), "--data-dir", str(typo)],
                          capture_output=True, text=True, env=env, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1           # bad usage: names the option
    assert f"argument --data-dir: '{typo}' no such directory" in lines[0]
    assert not typo.exists() and not (tmp_path / "npm-was-run").exists()
