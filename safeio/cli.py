"""The command-line parser every script uses: bad usage prints one line and exits with 2."""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading

from .codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PIPE_CLOSED, EXIT_USAGE
from .streams import OutputLost, PipeClosed, guard_streams, say, silence_stdout


# "(default 5)" and "(default: the user cache)": the help already names its default
_STATES_DEFAULT = re.compile(r"\(default\b")


_NEGATIVE = re.compile(r"^-\d+(,-?\d+)*$|^-\d*\.\d+$")


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
        # "-1,2" (a --tour cell, an index list) is a value, as "-1" is, not an unknown option
        # that leaves --tour "expected at least one argument".
        self._negative_number_matcher = _NEGATIVE

    def error(self, message):
        one_line = " ".join(str(message).split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line} (see --help)\n")

    def fail(self, message, code: int = EXIT_FAILED):
        """The usage was right but the job could not be done (a full disk, an unwritable
        output): ``PROG: error: MESSAGE`` and exit code 1."""
        one_line = " ".join(str(message).split())
        self.exit(code, f"{self.prog}: error: {one_line}\n")


def existing_dir(value: str) -> str:
    """``type=`` for an option naming a folder that must exist (``--data-dir``): a typo is
    bad usage, said in one line that names the option, not a failure to load later."""
    if not os.path.isdir(value):
        what = "is not a directory" if os.path.exists(value) else "no such directory"
        raise argparse.ArgumentTypeError(f"{value!r} {what}")
    return value


def note_limit(prog: str, option: str, limit: int | None, size: int, what: str = "images") -> None:
    """Say on stderr what a limit above the data's size used: ``--limit 100000000`` on 10000
    test images uses all 10000, and the user should know it was not 100000000."""
    if limit is not None and limit > size:
        say(f"{prog}: note: {option} {limit} is more than the {size} {what} of the set; "
            f"using all {size}")


def _prog() -> str:
    return os.path.basename(sys.argv[0]) or "python"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the script is so that every ``finally`` and ``except
    KeyboardInterrupt`` runs: temporary files go, and the script says what was kept."""


def _terminate(signum, frame):
    raise Terminated()


def _uncaught(kind, value, tb):
    # Ctrl-C while the script still imports: one line, not a traceback from numpy's import.
    if issubclass(kind, KeyboardInterrupt):
        _interrupted("nothing was written")
        os._exit(EXIT_INTERRUPTED)
    sys.__excepthook__(kind, value, tb)


if sys.excepthook is sys.__excepthook__:
    sys.excepthook = _uncaught


def _interrupted(what: str | None) -> None:
    tty = getattr(sys.stderr, "isatty", lambda: False)
    try:
        lead = "\n" if tty() else ""       # end a progress bar's line first
    except (OSError, ValueError):
        lead = ""
    say(f"{lead}{_prog()}: interrupted" + (f"; {what}" if what else ""))


def run_main(main, interrupted: str | None = None) -> int | None:
    """``main()``'s exit code, whatever becomes of the script's streams.

    - stdout's reader gone (``script | head``): exit :data:`EXIT_PIPE_CLOSED`, quietly;
    - stdout not writable (``> /dev/full``): one line on stderr, exit :data:`EXIT_FAILED`;
    - stdout or stderr closed (``>&-``): written to /dev/null; stderr full or gone: dropped;
    - Ctrl-C or SIGTERM that ``main`` does not handle: one line, ``PROG: interrupted;
      INTERRUPTED`` (what is true of the outputs), exit :data:`EXIT_INTERRUPTED`.

    Files the script completed stay as they are (they are written atomically).
    """
    guard_streams()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        try:
            return main()
        finally:
            sys.stdout.flush()      # a closed pipe or full disk shows here, not at exit
    except PipeClosed:
        silence_stdout()
        return EXIT_PIPE_CLOSED
    except OutputLost as e:
        silence_stdout()
        say(f"{_prog()}: error: cannot write to stdout: {e.strerror}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _interrupted(interrupted)
        return EXIT_INTERRUPTED
