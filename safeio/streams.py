"""stdout and stderr that cannot end a script with a traceback.

A script's stdout carries its result, so losing it is an error, said once: a closed pipe
(``| head``) raises :class:`PipeClosed`, any other failure (a full disk, ``> /dev/full``)
:class:`OutputLost`. Both derive from BaseException, so no ``except OSError`` meant for the
script's own files mistakes them for its work. stderr carries progress bars and messages:
a failed write there is dropped, so a bar that cannot be drawn never stops a run. A stream
that was closed before the script started (``>&-``) reads from and writes to /dev/null, so
no file the script opens can take its descriptor; text the terminal cannot encode is
written as ``\\u2265`` escapes instead of raising.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys


class PipeClosed(BaseException):
    """The reader of stdout has gone."""


class OutputLost(BaseException):
    """stdout could not be written (``strerror`` says why)."""

    def __init__(self, strerror: str):
        super().__init__(strerror)
        self.strerror = strerror


class _Stream:
    """Wraps a text stream; every other attribute is the wrapped one's."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, text):
        return self._guard(self._stream.write, text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        return self._guard(self._stream.flush)


class _Stdout(_Stream):
    def _guard(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise PipeClosed() from None
        except (OSError, ValueError) as e:      # ValueError: written after a close
            raise OutputLost(getattr(e, "strerror", None) or str(e)) from None


class _Stderr(_Stream):
    def _guard(self, call, *args):
        try:
            return call(*args)
        except (OSError, ValueError):
            return len(args[0]) if args else None


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _devnull_on(fd: int, mode: int) -> None:
    null = os.open(os.devnull, mode)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def _text(fd: int):
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                            line_buffering=True)


def guard_streams() -> None:
    """Install the guarded sys.stdout and sys.stderr (idempotent)."""
    if not _fd_open(0):
        _devnull_on(0, os.O_RDONLY)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        if isinstance(stream, _Stream):
            continue
        if stream is None or not _fd_open(fd):
            _devnull_on(fd, os.O_WRONLY)
            stream = _text(fd)
        with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):
            stream.reconfigure(errors="backslashreplace")
        setattr(sys, name, (_Stdout if fd == 1 else _Stderr)(stream))


def divert_stdout() -> None:
    """stdout's file has just received a binary output (``--out /dev/stdout``): the text a
    script prints after it (its report line) goes to stderr instead of into that output."""
    if isinstance(sys.stdout, _Stdout) and isinstance(sys.stderr, _Stream):
        sys.stdout.flush()
        sys.stdout._stream = sys.stderr._stream


def is_stdout(path) -> bool:
    """``path`` is the file stdout writes to (``/dev/stdout``, or the file it was redirected to)."""
    try:
        st = os.stat(path)
        # /dev/null for both (`--out /dev/null > /dev/null`) is no output to keep apart
        return os.path.samestat(st, os.fstat(1)) and not os.path.samestat(st, os.stat(os.devnull))
    except OSError:
        return False


def silence_stdout() -> None:
    """Point stdout at /dev/null after it failed, so the flush at exit stays quiet."""
    with contextlib.suppress(OSError):
        _devnull_on(1, os.O_WRONLY)


def say(line: str) -> None:
    """One line on stderr, if stderr can take it."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(line.rstrip("\n") + "\n")
        sys.stderr.flush()
