"""The command-line parser every script uses: bad usage prints one line and exits with 2.

It lives in ``mnist`` because that package imports no other of ours, so every script can
use it without bending the import arrows (like :mod:`mnist.atomic`).
"""
from __future__ import annotations

import argparse


class ArgumentParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` whose errors are one line on stderr,
    ``PROG: error: MESSAGE (see --help)``, and exit code 2, without the usage block.

    Sub-command parsers made by ``add_subparsers`` are of this class too.
    """

    def error(self, message):
        one_line = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {one_line} (see --help)\n")
