"""IDX reader/writer: round trips, the exact byte layout, and a clear error for each kind of bad file."""
import gzip
import struct

import numpy as np
import pytest

from mnist import MnistError, read_idx, write_idx


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype,shape", [(np.uint8, (3, 4, 5)), (np.int8, (7,)), (np.int16, (2, 3)),
                                         (np.int32, (4, 1)), (np.float32, (2, 2, 2, 2)),
                                         (np.float64, (5,))])
def test_round_trip_raw_and_gz(tmp_path, name, dtype, shape):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    write_idx(tmp_path / name, a)
    b = read_idx(tmp_path / name)
    assert b.dtype == np.dtype(dtype) and b.shape == shape
    np.testing.assert_array_equal(a, b)
    b[...] = 0  # writable copy, not a view of the file's bytes
    assert list(tmp_path.iterdir()) == [tmp_path / name]  # no temporary file left


def test_byte_layout_matches_the_mnist_format(tmp_path):
    # Written by hand from the format description: magic 0x00000803, sizes, data (C order).
    data = bytes(range(12))
    (tmp_path / "hand").write_bytes(b"\0\0\x08\x03" + struct.pack(">3I", 2, 3, 2) + data)
    np.testing.assert_array_equal(read_idx(tmp_path / "hand"),
                                  np.arange(12, dtype=np.uint8).reshape(2, 3, 2))
    # Multi-byte types are big-endian in the file.
    (tmp_path / "i32").write_bytes(b"\0\0\x0c\x01" + struct.pack(">I", 2) + struct.pack(">2i", 1, -2))
    np.testing.assert_array_equal(read_idx(tmp_path / "i32"), [1, -2])
    write_idx(tmp_path / "w", np.array([1, -2], dtype="<i4"))
    assert (tmp_path / "w").read_bytes() == (tmp_path / "i32").read_bytes()
    write_idx(tmp_path / "w.gz", np.array([1, -2], dtype=np.int32))
    assert gzip.decompress((tmp_path / "w.gz").read_bytes()) == (tmp_path / "i32").read_bytes()


def _good(tmp_path):
    write_idx(tmp_path / "good-idx3-ubyte", np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))
    return (tmp_path / "good-idx3-ubyte").read_bytes()


def _bad(tmp_path, content, name="bad-idx3-ubyte"):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(MnistError) as info:
        read_idx(p, ndim=3)
    assert str(p) in str(info.value)  # every message names the file
    return str(info.value)


def test_truncated_data(tmp_path):
    msg = _bad(tmp_path, _good(tmp_path)[:-5])
    assert "truncated" in msg and str(16 + 2 * 28 * 28) in msg


def test_truncated_header(tmp_path):
    assert "truncated" in _bad(tmp_path, _good(tmp_path)[:10])
    assert "truncated" in _bad(tmp_path, b"\0\0")


def test_truncated_gzip(tmp_path):
    packed = gzip.compress(_good(tmp_path))
    assert "gzip" in _bad(tmp_path, packed[: len(packed) // 2], name="bad-idx3-ubyte.gz")


def test_not_gzip_but_named_gz(tmp_path):
    assert "gzip" in _bad(tmp_path, _good(tmp_path), name="bad-idx3-ubyte.gz")


def test_bad_magic(tmp_path):
    good = _good(tmp_path)
    assert "magic" in _bad(tmp_path, b"\x01\x02" + good[2:])
    msg = _bad(tmp_path, good[:2] + b"\x07" + good[3:])  # unknown type code
    assert "magic" in msg and "0x07" in msg


def test_gzip_content_under_a_raw_name_gets_a_hint(tmp_path):
    assert ".gz" in _bad(tmp_path, gzip.compress(_good(tmp_path)))


def test_wrong_dimension_count(tmp_path):
    write_idx(tmp_path / "labels", np.zeros(5, np.uint8))
    with pytest.raises(MnistError, match=r"1 dimensions, expected 3"):
        read_idx(tmp_path / "labels", ndim=3)
    assert "dimension count is 0" in _bad(tmp_path, b"\0\0\x08\x00")


def test_length_mismatch_trailing_bytes(tmp_path):
    msg = _bad(tmp_path, _good(tmp_path) + b"\0\0\0")
    assert "trailing" in msg and str(16 + 2 * 28 * 28 + 3) in msg


def test_write_idx_rejects_bad_arrays(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="0-D"):
        write_idx(tmp_path / "x", np.uint8(3))
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")
