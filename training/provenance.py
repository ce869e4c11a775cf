"""Where a result came from: the command line and the git commit."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys


def git_commit(cwd: str | None = None) -> str:
    """``git rev-parse HEAD`` of the repository holding this package, or ``"uncommitted"``."""
    cwd = cwd or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "uncommitted"
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else "uncommitted"


def command_line(argv: list[str] | None = None) -> str:
    """The command that ran, e.g. ``python scripts/train.py --net lenet5``."""
    argv = sys.argv if argv is None else argv
    return "python " + " ".join(shlex.quote(a) for a in argv)
