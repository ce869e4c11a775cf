"""Every shipped gallery GIF is readable where it is embedded: decoded as a viewer decodes it,
it is at most 880 px wide (training_step: a 1280×720 slide), at most 500 KB, plays at most
30 s and at least 60 % of its canvas holds content; cell digits are at least 9 px tall."""
from pathlib import Path

import numpy as np
import pytest

from viz.draw import DIGIT_MIN, Canvas, cell_grid
from viz.palette import BG
from viz.readback import read_gif

GIFS = Path(__file__).resolve().parents[1] / "gifs"
ALL = sorted(p.relative_to(GIFS).as_posix() for p in GIFS.rglob("*.gif"))
SLIDES = {"training_step.gif": (1280, 720)}     # made for a slide, not a page column
MAX_WIDTH, MAX_BYTES, MAX_PLAY_MS, MIN_CONTENT = 880, 500 * 1024, 30_000, 0.60
BLOCK = 16          # content is counted in 16×16 px blocks


def content_fraction(frames, block=BLOCK):
    """The fraction of the canvas's ``block``-px blocks where some frame draws anything but
    the background (the top-left pixel's colour): panels, text, maps, rings. A frame half of
    which stays background in every frame scores about 0.5."""
    bg = frames[0][0, 0]
    drawn = np.zeros(frames[0].shape, dtype=bool)
    for f in frames:
        drawn |= f != bg
    h, w = drawn.shape
    pad = np.zeros((-(-h // block) * block, -(-w // block) * block), dtype=bool)
    pad[:h, :w] = drawn
    return float(pad.reshape(pad.shape[0] // block, block, -1, block).any(axis=(1, 3)).mean())


def test_the_gallery_is_all_here():
    assert len(ALL) >= 50 and any(n.startswith("arithmetic/") for n in ALL)


@pytest.mark.parametrize("name", ALL)
def test_gallery_gif_is_readable_where_embedded(name):
    path = GIFS / name
    frames, durations, loop = read_gif(path)
    h, w = frames[0].shape
    max_w, max_h = SLIDES.get(name, (MAX_WIDTH, None))
    assert w <= max_w, f"{name}: {w} px wide"
    assert max_h is None or h <= max_h, f"{name}: {h} px tall"
    assert path.stat().st_size <= MAX_BYTES, f"{name}: {path.stat().st_size} bytes"
    assert sum(durations) <= MAX_PLAY_MS, f"{name}: plays {sum(durations)} ms"
    assert content_fraction(frames) >= MIN_CONTENT, \
        f"{name}: {content_fraction(frames):.0%} of the canvas holds content"


def test_content_fraction_sees_an_empty_half():
    f = np.zeros((64, 128), dtype=np.int64)
    f[:, :64] = 1
    f[0, 0] = 0
    assert content_fraction([f]) == pytest.approx(0.5)


def test_cell_digits_are_at_least_9px_tall():
    # every number in a cell goes through cell_grid: a renderer asking for a smaller font
    # gets DIGIT_MIN, whose digits are 9 px tall
    idx = np.full((1, 1), BG, dtype=np.uint8)
    plain, cv = Canvas(60, 40, BG), Canvas(60, 40, BG)
    cell_grid(plain, 0, 0, idx, 40)
    cell_grid(cv, 0, 0, idx, 40, labels=np.array([["80"]]), label_size=8)
    ink = np.nonzero((cv.px != plain.px).any(axis=1))[0]
    assert DIGIT_MIN >= 12 and ink.max() - ink.min() + 1 >= 9
