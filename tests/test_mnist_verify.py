"""load_mnist checks SHA-256 at load time: a changed pixel is refused, and a stamp keyed on
size and mtime spares the hashing on later loads."""
import json
import os
import shutil

import numpy as np
import pytest

import mnist.verify
from mnist import MnistError, load_mnist, read_idx, write_idx
from mnist.catalog import SPLITS
from mnist.verify import MANIFEST, STAMP, write_manifest


def _change_one_pixel(path):
    images = read_idx(path)
    images[0, 14, 14] ^= 1          # still a valid IDX file of the same size
    write_idx(path, images)


def test_real_mnist_with_one_pixel_changed_is_refused(mnist_dir, tmp_path):
    d = tmp_path / "mnist"
    d.mkdir()
    for name in SPLITS["test"]:
        shutil.copy(mnist_dir / name, d / name)
    x, _ = load_mnist("test", data_dir=d, fetch=False)     # the real files pass
    _change_one_pixel(d / "t10k-images-idx3-ubyte")
    with pytest.raises(MnistError, match="SHA-256 mismatch") as info:
        load_mnist("test", data_dir=d, fetch=False)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte" in msg and f"get_data.py --dir {d}" in msg
    assert "\n" not in msg


def test_one_pixel_changed_is_refused_against_the_manifest(fake_mnist_dir):
    load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    _change_one_pixel(fake_mnist_dir / "t10k-images-idx3-ubyte")
    with pytest.raises(MnistError, match=f"SHA-256 mismatch.*{MANIFEST}"):
        load_mnist("test", data_dir=fake_mnist_dir, fetch=False)


@pytest.fixture
def hash_calls(monkeypatch):
    calls = []
    real = mnist.verify.content_sha256

    def counting(path):
        calls.append(path.name)
        return real(path)

    monkeypatch.setattr(mnist.verify, "content_sha256", counting)
    return calls


def test_stamp_spares_the_second_hash_and_touching_invalidates_it(fake_mnist_dir, hash_calls):
    load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    assert sorted(hash_calls) == sorted(SPLITS["test"])
    stamp = json.loads((fake_mnist_dir / STAMP).read_text())
    assert set(stamp) == set(SPLITS["test"])

    hash_calls.clear()
    x, y = load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    assert hash_calls == [] and x.shape == (16, 28, 28)

    images = fake_mnist_dir / "t10k-images-idx3-ubyte"
    st = images.stat()
    os.utime(images, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))    # touch
    load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    assert hash_calls == ["t10k-images-idx3-ubyte"]


def test_a_file_changed_after_stamping_is_refused(fake_mnist_dir, hash_calls):
    load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    _change_one_pixel(fake_mnist_dir / "t10k-images-idx3-ubyte")    # a new mtime
    with pytest.raises(MnistError, match="SHA-256 mismatch"):
        load_mnist("test", data_dir=fake_mnist_dir, fetch=False)


def test_stamp_for_other_digests_is_not_trusted(fake_mnist_dir, hash_calls):
    load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    (fake_mnist_dir / MANIFEST).unlink()    # now the published MNIST digests apply
    with pytest.raises(MnistError, match="get_data.py --dir"):
        load_mnist("test", data_dir=fake_mnist_dir, fetch=False)


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", '{"t10k-images-idx3-ubyte": 3}'])
def test_a_damaged_stamp_means_hashing_again(fake_mnist_dir, hash_calls, content):
    (fake_mnist_dir / STAMP).write_text(content)
    x, _ = load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    assert len(hash_calls) == 2 and x.shape == (16, 28, 28)
    assert set(json.loads((fake_mnist_dir / STAMP).read_text())) >= set(SPLITS["test"])


def test_gz_files_are_checked_by_their_raw_content(fake_mnist_dir, tmp_path):
    import gzip
    d = tmp_path / "gz"
    d.mkdir()
    for name in SPLITS["test"]:
        (d / (name + ".gz")).write_bytes(gzip.compress((fake_mnist_dir / name).read_bytes()))
    shutil.copy(fake_mnist_dir / MANIFEST, d)
    x, _ = load_mnist("test", data_dir=d, fetch=False)
    np.testing.assert_array_equal(x, read_idx(fake_mnist_dir / "t10k-images-idx3-ubyte"))
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(MnistError, match="gzip"):
        load_mnist("test", data_dir=d, fetch=False)


def test_malformed_manifest_is_named(fake_mnist_dir):
    (fake_mnist_dir / MANIFEST).write_text("abc  t10k-images-idx3-ubyte\n")
    with pytest.raises(MnistError, match=f"{MANIFEST}: line 1"):
        load_mnist("test", data_dir=fake_mnist_dir, fetch=False)
    write_manifest(fake_mnist_dir)
    load_mnist("test", data_dir=fake_mnist_dir, fetch=False)


def test_fetch_keeps_files_that_match_the_directorys_manifest(fake_mnist_dir):
    from mnist import fetch_mnist_report
    (fake_mnist_dir / "t10k-labels-idx1-ubyte").unlink()    # one missing: a fetch runs
    before = {p.name: p.read_bytes() for p in fake_mnist_dir.iterdir()}
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        fetch_mnist_report(fake_mnist_dir, use_package=False, download=False, progress=False)
    assert {p.name: p.read_bytes() for p in fake_mnist_dir.iterdir()} == before
