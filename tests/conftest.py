"""Shared fixtures: ``mnist_dir`` and ``fashion_dir`` (the real caches, or a skip saying how
to get them) and ``fake_mnist_dir`` (tiny data under the four MNIST file names); the GIF
recipes as make_gif.py runs them (``gif_parser``, ``make_gif``, ``render_gif``); and
``run_script``, a command-line script run as a process (tests never import a script)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnist import check_mnist_dir, default_data_dir
from mnist.catalog import SIZES


@pytest.fixture(scope="session")
def mnist_dir():
    """Directory holding the four verified real MNIST files (never fetched by tests).

    Hashing the 55 MB once per session costs about 0.2 s.
    """
    directory = default_data_dir()
    if check_mnist_dir(directory, sizes=SIZES):
        pytest.skip(f"real MNIST not in {directory}; run python scripts/get_data.py")
    return directory


@pytest.fixture(scope="session")
def fashion_dir():
    """Directory holding the four verified real Fashion-MNIST files (never fetched by tests)."""
    directory = default_data_dir("fashion-mnist")
    if check_mnist_dir(directory, sizes=SIZES, dataset="fashion-mnist"):
        pytest.skip(f"real Fashion-MNIST not in {directory}; run "
                    "python scripts/get_data.py --dataset fashion-mnist")
    return directory


def write_fake_mnist(directory, n_train=32, n_test=16, seed=0):
    """Tiny random data under the four MNIST file names, in the real format (uint8 28x28
    images, labels ``i % 10``), plus the ``SHA256SUMS`` that ``load_mnist`` checks them
    against (they are not MNIST's files). Returns ``directory``."""
    from mnist import write_idx
    from mnist.verify import write_manifest

    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(directory / f"{prefix}-images-idx3-ubyte",
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(directory / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))
    write_manifest(directory)
    return directory


@pytest.fixture
def fake_mnist_dir(tmp_path):
    """A directory of :func:`write_fake_mnist` data: 32 training and 16 test images.

    ``load_mnist(split, data_dir=fake_mnist_dir, fetch=False)`` reads it.
    """
    directory = tmp_path / "fake_mnist"
    directory.mkdir()
    return write_fake_mnist(directory)


ROOT = Path(__file__).resolve().parents[1]
# the defaults make_gif.py passes in: the checkout's gifs/ and models/lenet5.npz
GIF_DIR = ROOT / "gifs"


def run_script(script, *args, timeout=120, cwd=ROOT, env=None):
    """``python scripts/SCRIPT ARGS...`` as a process, from the repository root unless
    ``cwd`` says otherwise. Returns the ``CompletedProcess`` (stdout and stderr as text)."""
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


def usage_error(proc, prog, match):
    """``proc`` ended as bad usage: exit 2, its last stderr line ``PROG: error: ...MATCH...``."""
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and err, (proc.returncode, proc.stderr)
    assert err[-1].startswith(f"{prog}: error:") and match in err[-1], err


def gif_parser():
    """``(parser, subs)`` of make_gif.py's command line (``recipes.build_parser``)."""
    from recipes import Paths, build_parser
    return build_parser(None, Paths(GIF_DIR, ROOT / "models" / "lenet5.npz"))


def make_gif(argv):
    """What ``make_gif.py ARGV`` does for one animation, in process: parse, then
    ``recipes.make`` (bad usage: SystemExit 2 and one line on stderr). Returns its dict."""
    from recipes import make
    parser, subs = gif_parser()
    args = parser.parse_args(argv)
    return make(args, subs[args.op], GIF_DIR)


def render_gif(argv):
    """The Animation ``make_gif.py ARGV`` would write (``recipes.render``)."""
    from recipes import render
    parser, _ = gif_parser()
    return render(parser.parse_args(argv))


def decoded_view(argv, out):
    """Write ``make_gif.py ARGV`` to ``out`` and decode it: (frames, Animation), after
    checking what every view must be: <= 500 KB, <= 880 px wide, one delay per frame."""
    from viz.readback import read_gif
    r = make_gif(argv + ["--out", str(out)])
    assert r["bytes"] <= 500 * 1024
    frames, delays, _ = read_gif(out)
    anim = render_gif(argv)
    assert len(frames) == len(anim) and delays == anim.delays()
    assert frames[0].shape[1] <= 880
    return frames, anim
