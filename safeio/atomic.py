"""The one way numpy_dl writes a file: a unique temporary name in the same folder, then a rename.

A reader sees the old file or the new one, never a partial one. Any exception,
KeyboardInterrupt included, removes the temporary file and leaves the target as it was.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, *, fsync: bool = True, mode: int = 0o644):
    """Yield a temporary :class:`~pathlib.Path` beside ``path``; the caller writes it, and a
    clean exit renames it over ``path``.

    The temporary name is ``.NAME.<random>.tmp`` (unique per process and call), so two
    writers never share one. ``fsync`` flushes the data to disk before the rename (for
    files a crash must not lose: checkpoints, metrics); ``mode`` sets the final permissions
    (``mkstemp`` creates files readable by the owner only).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(path, binary: bool = True, *, fsync: bool = True, mode: int = 0o644):
    """Open a temporary file beside ``path`` for writing; a clean exit renames it over ``path``.

    ``with atomic_write(p, binary=False) as f: f.write(text)``
    """
    with atomic_path(path, fsync=fsync, mode=mode) as tmp:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            yield f


def write_bytes(path, data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically. Returns the path."""
    with atomic_write(path, fsync=fsync) as f:
        f.write(data)
    return Path(path)


def write_text(path, text: str, *, fsync: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically. Returns the path."""
    with atomic_write(path, binary=False, fsync=fsync) as f:
        f.write(text)
    return Path(path)
