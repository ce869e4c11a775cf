"""make_gif.py --format / --steps, run as a process: every format shows the GIF's own
frames; a bad format, a contradicting extension or a missing extra is one line, exit 2,
and no file."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from viz.player import decode_frames
from viz.readback import read_gif, rgb_to_index

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_gif.py"
ARGS = ["maxpool", "--input", "toy:0:6", "--max-frames", "12"]


def run(*argv, env=None):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, argv)], capture_output=True,
                          text=True, timeout=120, env=env)


def without_module(tmp_path, name):
    """An environment whose Python cannot import ``name``, as when an extra is not
    installed: a sitecustomize on PYTHONPATH (run at start-up) blocks it in sys.modules."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"import sys\nsys.modules[{name!r}] = None\n")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path)


def test_html_and_png_frames_are_the_gifs_frames(tmp_path):
    for out in ("a.gif", "a.html", "tour"):
        extra = ["--format", "png", "--steps", "tour"] if out == "tour" else []
        r = run(*ARGS, "--no-gifsicle", "--out", tmp_path / out, *extra)
        assert r.returncode == 0, r.stderr
    gif, durations, _ = read_gif(tmp_path / "a.gif")
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'class="ndl-data">(.*?)</script>', page, re.S).group(1))
    shown = [rgb_to_index(f) for f in decode_frames(data)]
    # the GIF merges identical neighbours; the player keeps every frame with its delay
    distinct = [shown[0]] + [b for a, b in zip(shown, shown[1:]) if not np.array_equal(a, b)]
    assert len(distinct) == len(gif)
    for a, b in zip(distinct, gif):
        np.testing.assert_array_equal(a, b)
    assert sum(f["ms"] for f in data["frames"]) == sum(durations)
    tours = [i for i, f in enumerate(data["frames"]) if f["phase"] == "tour"]
    pngs = sorted((tmp_path / "tour").iterdir())
    assert [p.name for p in pngs] == [f"tour_{i + 1:04d}.png" for i in tours + [len(shown) - 1]]
    np.testing.assert_array_equal(
        rgb_to_index(np.asarray(Image.open(pngs[0]).convert("RGB"))), shown[tours[0]])


def test_bad_formats_are_one_line_and_write_nothing(tmp_path):
    # (the other contradictions are viz.export.format_of's, tested in test_viz_export)
    cases = [(["--out", tmp_path / "x.mov"], "argument --format/--out: "
                                             f"'{tmp_path / 'x.mov'}': unknown extension .mov"),
             (["--steps", "tour", "--out", tmp_path / "x.gif"],
              "argument --steps: steps 'tour': only with format png")]
    for argv, msg in cases:
        r = run(*ARGS, *argv)
        assert r.returncode == 2 and msg in r.stderr, (argv, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1
    out = tmp_path / "out"
    out.mkdir()
    r = run(*ARGS, "--out", out / "x.mp4", env=without_module(tmp_path, "imageio_ffmpeg"))
    assert r.returncode == 2 and r.stderr.strip().endswith(
        "argument --format: MP4 needs the video extra: pip install -e '.[video]' (imageio-ffmpeg) "
        "(see --help)"), r.stderr
    assert list(out.iterdir()) == []
