"""Bad usage prints one line, ``SCRIPT: error: ... (see --help)``, and exits with 2."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from safeio.cli import EXIT_PIPE_CLOSED, ArgumentParser

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "scripts").glob("*.py"))


def _run(script, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("script", SCRIPTS)
def test_bad_option_is_one_line_and_exit_2(script):
    r = _run(script, "--no-such-option")
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and r.stdout == ""
    assert len(lines) == 1, r.stderr
    # scripts with a required argument name it first, the others the unknown option
    assert lines[0].startswith(f"{script}: error: ") and lines[0].endswith(" (see --help)")
    assert "--no-such-option" in lines[0] or "required" in lines[0]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_exits_0_and_shows_each_default_once(script):
    r = _run(script, "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: "), r.stderr
    assert "(default: None)" not in r.stdout and "(default: False)" not in r.stdout
    for option in re.split(r"\n\s*(?=-)", r.stdout):   # one option's help per piece
        assert len(re.findall(r"\(default\b", option)) <= 1, option


def _into_closed_pipe(*argv):
    """Run argv with stdout a pipe whose reader is gone before the first byte
    (``... | head -0``)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, *argv], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                              timeout=120)
    finally:
        os.close(write_end)


def test_run_main_ends_a_closed_pipe_quietly():
    r = _into_closed_pipe("-c", "import sys; from safeio.cli import run_main; "
                          "sys.exit(run_main(lambda: print('x' * 100_000)))")
    assert (r.returncode, r.stderr) == (EXIT_PIPE_CLOSED, "")


def test_evaluate_into_a_closed_pipe_is_quiet(fake_mnist_dir):
    # `evaluate.py ... | head` once printed a BrokenPipeError traceback
    r = _into_closed_pipe(str(ROOT / "scripts" / "evaluate.py"), str(ROOT / "models" / "lenet5.npz"),
                          "--data-dir", str(fake_mnist_dir))
    assert (r.returncode, r.stderr) == (EXIT_PIPE_CLOSED, "")


@pytest.mark.parametrize("script, args, match", [
    ("train.py", ["--epochs", "0"], "--epochs"),
    ("evaluate.py", [], "the following arguments are required"),
    ("get_mnist.py", ["--from", "/no/such/dir"], "not a directory"),
    ("get_data.py", ["--dataset", "cifar"], "invalid choice: 'cifar'"),
    ("train.py", ["--dataset", "fashion"], "invalid choice: 'fashion'"),
])
def test_the_scripts_own_checks_are_one_line_too(script, args, match):
    r = _run(script, *args)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and match in lines[0]
    assert lines[0].startswith(f"{script}: error: ") and lines[0].endswith("(see --help)")


def test_parser_error_is_one_line_for_subcommands_and_multiline_messages(capsys):
    p = ArgumentParser(prog="tool.py")
    sub = p.add_subparsers(dest="cmd", required=True).add_parser("run")
    sub.add_argument("--n", type=int)
    with pytest.raises(SystemExit) as info:
        p.parse_args(["run", "--n", "x"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err == "tool.py run: error: argument --n: invalid int value: 'x' (see --help)\n"
    with pytest.raises(SystemExit):
        p.error("first\nsecond")
    assert capsys.readouterr().err == "tool.py: error: first second (see --help)\n"
