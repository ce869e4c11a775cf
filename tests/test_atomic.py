"""safeio.atomic: the one file writer: old or new file, never a partial one, no temp left."""
import os

import pytest

from safeio.atomic import atomic_path, atomic_write, write_bytes, write_text


def test_write_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "a.txt"
    write_text(p, "old")
    write_text(p, "new")
    assert p.read_text() == "new"
    assert os.listdir(tmp_path) == ["a.txt"]
    assert oct(p.stat().st_mode & 0o777) == oct(0o644)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupt_keeps_old_file(tmp_path, exc):
    p = tmp_path / "a.bin"
    write_bytes(p, b"old")
    with pytest.raises(exc):
        with atomic_write(p) as f:
            f.write(b"half of the new")
            raise exc()
    assert p.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_temp_names_are_unique_and_hidden(tmp_path):
    p = tmp_path / "x.gif"
    with atomic_path(p) as t1, atomic_path(p) as t2:
        assert t1 != t2 and t1.parent == t2.parent == tmp_path
        assert t1.name.startswith(".x.gif.") and t1.name.endswith(".tmp")
        t1.write_bytes(b"1")
        t2.write_bytes(b"2")
    assert p.read_bytes() == b"1"  # the outer one renamed last
    assert os.listdir(tmp_path) == ["x.gif"]


def test_missing_folder_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_text(tmp_path / "nope" / "a.txt", "x")
    assert os.listdir(tmp_path) == []
