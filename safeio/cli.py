"""The command-line parser every script uses: bad usage prints one line and exits with 2."""
from __future__ import annotations

import argparse
import os
import re
import sys


# "(default 5)" and "(default: the user cache)": the help already names its default
_STATES_DEFAULT = re.compile(r"\(default\b")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks and shows each default once: not where the help
    already says it, nor None or a flag's False."""

    def _get_help_string(self, action):
        help_ = action.help or ""
        if _STATES_DEFAULT.search(help_) or action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` whose errors are one line on stderr,
    ``PROG: error: MESSAGE (see --help)``, and exit code 2, without the usage block.

    Sub-command parsers made by ``add_subparsers`` are of this class too. The help uses
    :class:`HelpFormatter` unless another ``formatter_class`` is given.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        one_line = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {one_line} (see --help)\n")


# What a shell reports for a tool that SIGPIPE ended (128 + 13), e.g. under `set -o pipefail`.
EXIT_PIPE_CLOSED = 141


def run_main(main) -> int | None:
    """``main()``'s exit code; when the reader of stdout has gone (``script | head``), the
    script ends quietly with :data:`EXIT_PIPE_CLOSED` instead of a BrokenPipeError traceback."""
    try:
        try:
            return main()
        finally:
            sys.stdout.flush()      # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at /dev/null so that stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
