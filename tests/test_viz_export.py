"""Every export format decoded back: HTML player, WebP, PNG frames and MP4 show the
Animation's own frames (exactly, where the format is lossless), for their delays."""
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viz.export import (ExtraMissing, VIDEO_EXTRA, format_of, merged, mp4_scale, mp4_tick, rgb,
                        save, slide_frames)
from viz.player import chapters, decode_frames, frame_captions
from viz.readback import rgb_to_index

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def anim():
    import ops
    from viz.window_gif import render_window
    x = np.random.default_rng(3).random((1, 1, 8, 8))
    _, cache = ops.max_pool2d(x, 2)
    return render_window(cache.trace(sample=0), max_frames=12)


def html_data(path):
    """The JSON a player page carries."""
    m = re.search(r'<script type="application/json" class="ndl-data">(.*?)</script>',
                  Path(path).read_text(encoding="utf-8"), re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_format_follows_the_option_or_the_extension(tmp_path):
    assert [format_of(tmp_path / n) for n in ("a.gif", "a.HTML", "a.mp4", "a.webp", "a")] \
        == ["gif", "html", "mp4", "webp", "gif"]
    assert format_of(tmp_path / "frames", "png") == "png"
    assert format_of(tmp_path / "a.gif", "gif") == "gif"
    for path, fmt, msg in (("a.gif", "mp4", "extension .gif, expected .mp4"),
                           ("a.mov", None, "unknown extension .mov"),
                           ("a.png", None, "folder"), ("a", "avi", "expected one of")):
        with pytest.raises(ValueError, match=msg):
            format_of(tmp_path / path, fmt)


def test_html_player_holds_the_exact_frames_and_their_metadata(tmp_path, anim):
    p = anim.save(tmp_path / "a.html")
    page = p.read_text(encoding="utf-8")
    # self-contained: no network, no external script, style or font
    assert not re.search(r"https?://|<link|src=\"(?!data:)|@import|url\(", page)
    d = html_data(p)
    got = decode_frames(d)
    assert len(got) == len(anim)
    for g, f in zip(got, anim.frames):
        np.testing.assert_array_equal(g, rgb(f))
    assert [f["ms"] for f in d["frames"]] == anim.delays()
    assert [f["phase"] for f in d["frames"]] == anim.phases
    assert [f["caption"] for f in d["frames"]] == [t["caption"] for t in anim.texts]
    tour = anim.tour_frames()
    assert set(tour) <= set(d["chapters"]) and d["chapters"] == chapters(anim)
    # unchanged frames cost no image; changed ones only their box
    assert len(d["images"]) <= len(anim)


def test_captions_come_from_the_field_then_the_texts_then_the_phase(anim):
    assert frame_captions(anim)[0].startswith("tour 1 / ")
    bare = type(anim)(anim.frames, anim.steps, phases=anim.phases)
    c = frame_captions(bare)
    assert c[0] == f"tour 1 / {len(anim.tour_frames())}" and c[-1] == "the complete output"
    own = type(anim)(anim.frames, anim.steps, captions=[f"c{i}" for i in range(len(anim))])
    assert frame_captions(own)[5] == "c5"


def test_webp_is_lossless_and_keeps_every_delay(tmp_path, anim):
    p = anim.save(tmp_path / "a.webp")
    frames, durations = merged(anim.frames, anim.delays())
    im = Image.open(p)
    assert im.n_frames == len(frames) and im.info.get("loop") == 0
    for i, f in enumerate(frames):
        im.seek(i)
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), rgb(f))
        assert im.info["duration"] == durations[i]


def test_png_frames_every_step_or_the_tour_for_slides(tmp_path, anim):
    every = anim.save(tmp_path / "a_frames", format="png")
    names = sorted(q.name for q in every.iterdir())
    assert names == [f"a_{i + 1:04d}.png" for i in range(len(anim))]
    for i in (0, len(anim) // 2, len(anim) - 1):
        idx = rgb_to_index(np.asarray(Image.open(every / names[i]).convert("RGB")))
        np.testing.assert_array_equal(idx, anim.frames[i])
    tour = save(anim, tmp_path / "t", "png", steps="tour")
    keep = slide_frames(anim)
    assert keep == anim.tour_frames() + [len(anim) - 1]
    assert sorted(q.name for q in tour.iterdir()) == [f"t_{i + 1:04d}.png" for i in keep]
    # written again: the old frames are replaced whole; a folder of other files is refused
    save(anim, tmp_path / "t", "png", steps="all")
    assert len(list(tour.iterdir())) == len(anim)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="holds other files"):
        save(anim, tmp_path / "mine", "png")
    assert [q.name for q in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".")]
    with pytest.raises(ValueError, match="only with format png"):
        save(anim, tmp_path / "x.gif", steps="tour")


def test_a_failed_write_leaves_nothing_and_the_old_file_as_it_was(tmp_path, anim, monkeypatch):
    old = tmp_path / "a.webp"
    old.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(Image.Image, "save", boom)
    for name, fmt in (("a.webp", None), ("b_frames", "png")):
        with pytest.raises(OSError, match="disk full"):
            anim.save(tmp_path / name, format=fmt)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["a.webp"]
    assert old.read_bytes() == b"old"


def test_mp4_without_the_video_extra_says_which_extra(tmp_path, anim, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)      # import fails
    with pytest.raises(ExtraMissing) as e:
        anim.save(tmp_path / "a.mp4")
    assert str(e.value) == VIDEO_EXTRA and "pip install -e '.[video]'" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_mp4_scale_and_tick():
    assert mp4_scale(435, 1061) == 3 and mp4_scale(1133, 959) == 1
    assert mp4_scale(500, 2000) == 1            # 3× would pass 4K
    assert mp4_tick([1500, 60, 60, 60, 2000]) == 60 and mp4_tick([300] * 5 + [3000]) == 100


def test_mp4_plays_each_frame_for_its_delay_scaled_sharply(tmp_path, anim):
    iio = pytest.importorskip("imageio_ffmpeg", reason="the video extra is not installed")
    p = anim.save(tmp_path / "a.mp4", min_height=2 * anim.frames[0].shape[0])
    h, w = anim.frames[0].shape
    reader = iio.read_frames(str(p))
    meta = next(reader)
    assert tuple(meta["size"]) == (2 * w, 2 * h)
    frames = [np.frombuffer(f, np.uint8).reshape(2 * h, 2 * w, 3) for f in reader]
    tick = mp4_tick(anim.delays())
    assert meta["fps"] == pytest.approx(1000 / tick, rel=1e-3)
    n = sum(max(1, round(d / tick)) for d in anim.delays())
    assert len(frames) == n
    assert meta["duration"] == pytest.approx(n * tick / 1000, abs=tick / 1000 + 0.01)
    assert abs(n * tick - sum(anim.delays())) <= tick * len(anim) / 2
    # H.264 is lossy, yet the last (hold) frame is the drawn one, nearest-neighbour scaled
    want = np.kron(rgb(anim.frames[-1]), np.ones((2, 2, 1), np.uint8)).astype(int)
    assert np.abs(frames[-1].astype(int) - want).mean() < 3


def test_the_default_maxpool_player_is_small(tmp_path):
    """The issue's budget: at most 3× the gallery GIF."""
    from recipes import Paths, build_parser, render
    parser, _ = build_parser(None, Paths(gifs=ROOT / "gifs", lenet=ROOT / "models" / "lenet5.npz"))
    anim = render(parser.parse_args(["maxpool"]))
    p = anim.save(tmp_path / "m.html")
    assert p.stat().st_size <= 3 * (ROOT / "gifs" / "maxpool.gif").stat().st_size
