"""The layout-grid test: window GIFs over a sample of configurations place no text over other
text or content, and nothing off the canvas; every per-frame text fits its slot."""
import itertools

import numpy as np
import pytest

import ops
from viz.layout import overlaps
from viz.window_gif import render_window

GRID = dict(channels=range(1, 5), filters=range(1, 5), kernel=range(1, 8), stride=range(1, 4),
            padding=range(0, 4), dilation=range(1, 3))
SAMPLES = 40           # a seeded sample of the grid (it has 4·4·7·3·4·2 = 2688 points)
# the example of a footer printed over the step counter, and the extremes
FIXED = [dict(channels=3, filters=2, kernel=3, stride=2, padding=2, dilation=2),
         dict(channels=4, filters=4, kernel=7, stride=1, padding=3, dilation=2),
         dict(channels=1, filters=1, kernel=1, stride=3, padding=0, dilation=1),
         dict(channels=1, filters=1, kernel=7, stride=3, padding=0, dilation=1)]


def _sample():
    keys = list(GRID)
    points = list(itertools.product(*GRID.values()))
    rng = np.random.default_rng(9)
    picked = [dict(zip(keys, points[i])) for i in rng.choice(len(points), SAMPLES, replace=False)]
    return FIXED + picked


def _check(anim):
    w, h = anim.layout["size"]
    placed = anim.layout["placed"]
    leaves = [p for p in placed if p.kind in ("text", "content")]
    assert overlaps([p.box for p in leaves]) == [], [(leaves[i], leaves[j]) for i, j in
                                                     overlaps([p.box for p in leaves])]
    assert overlaps([p.box for p in placed if p.kind == "panel"]) == []
    for p in placed:
        x0, y0, x1, y1 = p.box
        assert 0 <= x0 <= x1 <= w and 0 <= y0 <= y1 <= h, p
    assert sum(p.kind == "text" for p in placed) >= 8


@pytest.mark.parametrize("cfg", _sample(), ids=lambda c: "c{channels}f{filters}k{kernel}s{stride}"
                         "p{padding}d{dilation}".format(**c))
def test_conv_layouts_never_overlap(cfg):
    rng = np.random.default_rng(0)
    k, d = cfg["kernel"], cfg["dilation"]
    side = max(9, d * (k - 1) + 1)
    x = rng.random((1, cfg["channels"], side, side + 1)).astype(np.float32)
    w = rng.normal(size=(cfg["filters"], cfg["channels"], k, k)).astype(np.float32)
    _, cache = ops.conv2d(x, w, rng.normal(size=cfg["filters"]).astype(np.float32),
                          cfg["stride"], cfg["padding"], d)
    anim = render_window(cache.trace(sample=0), max_frames=7)
    assert anim.tour_frames()                       # the tour frames were drawn in their slots
    _check(anim)


@pytest.mark.parametrize("op, k, s, p, d", [("max", 1, 1, 0, 1), ("max", 7, 3, 3, 2),
                                            ("max", 3, 2, 1, 2), ("avg", 7, 1, 3, 1),
                                            ("avg", 2, 3, 0, 1), ("avg", 5, 2, 2, 1)])
def test_pool_layouts_never_overlap(op, k, s, p, d):
    x = np.random.default_rng(1).random((1, 1, 15, 14)).astype(np.float32)
    if op == "max":
        _, cache = ops.max_pool2d(x, k, s, p, d)
    else:
        _, cache = ops.avg_pool2d(x, k, s, p)
    _check(render_window(cache.trace(sample=0), max_frames=7))
