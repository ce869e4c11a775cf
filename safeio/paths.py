"""What is wrong with a path given as an input or an output, said the way a user gave it."""
from __future__ import annotations

import os
import stat

from .atomic import writes_in_place

_KINDS = ((stat.S_ISDIR, "is a directory"), (stat.S_ISFIFO, "is a FIFO"),
          (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
          (stat.S_ISSOCK, "is a socket"))


def kind_problem(mode: int) -> str | None:
    """"is a directory", "is a FIFO", ... for anything but a regular file."""
    return next((text for test, text in _KINDS if test(mode)), None)


def input_problem(path) -> str | None:
    """Why ``path`` cannot be read as a file ("no such file", "is a directory", "is a FIFO",
    "is a character device", "permission denied"), or None when it can."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as e:
        return e.strerror or str(e)
    problem = kind_problem(st.st_mode)
    if problem is None and not os.access(path, os.R_OK):
        problem = "permission denied"
    return problem


def output_problem(path, suffixes=(".gif",), what="a GIF") -> str | None:
    """Why ``path`` cannot take the output, or None when it can. A device, FIFO or ``/dev/stdout`` is fine (it is written in place);
    a name ending in another format's extension is refused (``anim.png`` holding GIF bytes
    would mislead every viewer); a name without extension is fine."""
    shown = repr(str(path))
    if writes_in_place(path):
        return None if os.access(path, os.W_OK) else f"{shown} cannot be written (permission denied)"
    if os.path.isdir(path):
        return (f"cannot write {shown}: is a folder, expected a file path such as "
                f"{os.path.join(str(path), 'name' + suffixes[0])!r}")
    ext = os.path.splitext(str(path))[1]
    if ext and ext.lower() not in suffixes:
        return (f"{shown} ends in {ext}, but the output is {what} (expected a name ending in "
                f"{' or '.join(suffixes)})")
    parent = os.path.dirname(str(path)) or "."
    if not os.path.isdir(parent):
        return f"folder {parent!r} does not exist"
    if not os.access(parent, os.W_OK):
        return f"cannot write into folder {parent!r} (permission denied)"
    return None
