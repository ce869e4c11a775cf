"""Temporary files and folders with the project's name in them, and the removal of the ones a
killed process left.

A temporary file is ``.NAME.numpy_dl-PID-RANDOM.tmp`` beside its target; a temporary folder
is ``numpy_dl-KIND-PID-RANDOM`` in the system's temporary folder. The PID says whose it is:
one whose writer no longer runs (SIGKILL, a power cut) is stale, and the next writer of the
same target (or the next folder of the same kind) removes it. A live writer's files are
never touched, so two processes can work side by side.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

TAG = "numpy_dl"
_FILE = re.compile(rf"^\.(?P<name>.+)\.{TAG}-(?P<pid>\d+)-[^.]+\.tmp$")
_DIR = re.compile(rf"^{TAG}-(?P<kind>[a-z]+)-(?P<pid>\d+)-[^.]+$")


def file_prefix(name: str) -> str:
    """The prefix of this process's temporary files for a target named ``name``."""
    return f".{name}.{TAG}-{os.getpid()}-"


def _ticks_per_s() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        return 100


def _started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return boot + ticks / _ticks_per_s()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True     # someone else's process: alive
    return True


def is_stale(path: Path, pid: int) -> bool:
    """A temporary file or folder of writer ``pid`` that nobody writes any more: the writer
    is gone, or the PID now belongs to a process that started after the file was made."""
    if pid == os.getpid():
        return False
    if not _running(pid):
        return True
    started = _started(pid)
    try:
        made = path.lstat().st_mtime
    except OSError:
        return False
    return started is not None and made < started - 1.0


def remove_stale(folder, name: str | None = None) -> list[Path]:
    """Remove the stale temporary files in ``folder`` (those of target ``name`` only, when
    given). Returns what was removed; errors are ignored (a cleanup never stops a run)."""
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        m = _FILE.match(entry)
        if m is None or (name is not None and m["name"] != name):
            continue
        path = Path(folder, entry)
        if is_stale(path, int(m["pid"])):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def remove_stale_dirs(*kinds: str) -> None:
    """Remove the stale ``numpy_dl-KIND-PID-RANDOM`` folders of these kinds in the system's
    temporary folder (their process gone)."""
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in os.listdir(base):
            m = _DIR.match(entry)
            if m and m["kind"] in kinds and is_stale(base / entry, int(m["pid"])):
                shutil.rmtree(base / entry, ignore_errors=True)


@contextlib.contextmanager
def temp_dir(kind: str):
    """A fresh folder ``numpy_dl-KIND-PID-RANDOM`` in the system's temporary folder, removed
    on the way out; stale folders of the same kind are removed first."""
    remove_stale_dirs(kind)
    path = Path(tempfile.mkdtemp(prefix=f"{TAG}-{kind}-{os.getpid()}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

