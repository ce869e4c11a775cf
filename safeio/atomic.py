"""The one way numpy_dl writes a file: a unique temporary name in the same folder, then a rename.

A reader sees the old file or the new one, never a partial one. Any exception,
KeyboardInterrupt included, removes the temporary file and leaves the target as it was.
Only regular files are replaced: a device, FIFO or socket (``/dev/null``, ``/dev/stdout``
on a pipe) is written to in place, and a symbolic link keeps pointing where it did.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from .streams import divert_stdout, is_stdout
from .temp import TAG, file_prefix, remove_stale


def writes_in_place(path) -> bool:
    """True for an existing target that is not a regular file (a character device, a FIFO,
    a socket), or that stands for an open file (``/dev/stdout``, ``/proc/self/fd/1``):
    renaming over it would destroy it, so it is written to directly."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if stat.S_ISDIR(st.st_mode):
        return False            # not a file at all: the rename fails, with its own error
    if not stat.S_ISREG(st.st_mode):
        return True
    return os.path.abspath(path).startswith(("/dev/std", "/dev/fd/", "/proc/"))


@contextlib.contextmanager
def atomic_path(path, *, fsync: bool = True, mode: int = 0o644):
    """Yield a temporary :class:`~pathlib.Path` beside ``path``; the caller writes it, and a
    clean exit renames it over ``path``.

    The temporary name is ``.NAME.numpy_dl-PID-<random>.tmp`` (unique per process and call),
    so two writers never share one, and one that a killed writer left behind is removed by
    the next write of ``path`` (:func:`safeio.temp.remove_stale`). ``fsync`` flushes the data
    to disk before the rename (for files a crash must not lose: checkpoints, metrics);
    ``mode`` sets the final permissions (``mkstemp`` creates files readable by the owner
    only). A target that :func:`writes_in_place` is written from the temporary file (made in
    the system's temporary folder) once it is complete, and never replaced.
    """
    path = Path(path)
    if writes_in_place(path):
        with _in_place(path) as tmp:
            yield tmp
        return
    if path.is_symlink():       # replace the file the link points to, not the link
        path = Path(os.path.realpath(path))
    remove_stale(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=file_prefix(path.name), suffix=".tmp", dir=path.parent)
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
def _in_place(path: Path):
    fd, tmp = tempfile.mkstemp(prefix=f"{TAG}-out-{os.getpid()}-", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        to_stdout = is_stdout(path)
        if to_stdout:
            sys.stdout.flush()      # what the script printed before comes first
        with open(tmp, "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        if to_stdout:
            divert_stdout()
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
