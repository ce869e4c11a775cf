"""An exclusive lock held by one process at a time: ``fcntl.flock`` on a folder or a file.

The kernel releases the lock when its holder exits, however it exits (SIGKILL included),
so no stale lock survives a crash. A folder is locked by its own descriptor, so locking it
adds no file to it; a file to lock is created if absent (and stays, empty and harmless).
"""
from __future__ import annotations

import contextlib
import fcntl
import os


class Busy(OSError):
    """Another process holds the lock."""


def _open(path, create: bool) -> int:
    if os.path.isdir(path) or not create:
        return os.open(path, os.O_RDONLY)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def is_locked(path) -> bool:
    """True when another process holds the lock on ``path`` (False when it does not exist)."""
    try:
        fd = _open(path, create=False)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)        # closing releases a lock this test took
    return False


@contextlib.contextmanager
def exclusive(path):
    """Hold the lock on ``path`` (a folder, or a file created if absent) for the ``with`` block.

    Raises
    ------
    Busy
        Another process holds it; nothing was changed.
    """
    fd = _open(path, create=True)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"{path} is locked by another process") from None
        yield
    finally:
        os.close(fd)
