"""Elementwise, linear, flatten and softmax GIFs show their traces' numbers."""
from decimal import Decimal

import numpy as np
import pytest

import ops
from viz.elementwise_gif import render_elementwise
from viz.arith import adds_up, decimals_of, number, quotient
from viz.encode import write_gif
from viz.flatten_gif import render_flatten
from viz.layout import overlaps
from viz.linear_gif import render_linear
from viz.palette import ACCENT
from viz.readback import read_gif
from viz.softmax_gif import phases, render_softmax


def _decode(tmp_path, anim):
    frames, _, _ = read_gif(write_gif(tmp_path / "t.gif", anim.frames, [40] * len(anim)))
    assert len(frames) == len(anim)
    return frames


def _cell_value(frame, x, y, h, w, scale):
    cell = frame[y:y + h, x:x + w]
    idx = np.bincount(cell[cell != ACCENT]).argmax()
    assert scale.contains(idx)
    return scale.value(idx)


def _changed_box(frame, base, x0, y0, x1, y1):
    """Bounding box (x0, y0) of the pixels of ``frame`` that differ from the base frame."""
    ys, xs = np.nonzero(frame[y0:y1, x0:x1] != base[y0:y1, x0:x1])
    return xs.min() + x0, ys.min() + y0, xs.max() + x0 + 1, ys.max() + y0 + 1


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_elementwise_boxes_each_element_and_ends_with_the_output(tmp_path, name):
    x = np.random.default_rng(0).normal(0, 2, (1, 1, 5, 6)).astype(np.float32)
    out, cache = getattr(ops, name)(x)
    tr = cache.trace(sample=0)
    anim = render_elementwise(tr, scale=5, tour="none")
    assert list(anim.steps) == list(range(30)) + [29]
    frames = _decode(tmp_path, anim)
    base = anim.layout["layout"].base.px
    (ix, iy), s = anim.layout["input_xy"][0], anim.layout["scale"]
    for f, k in zip(frames[:-1], anim.steps):
        r, c = tr.index[k, 2:]
        x0, y0, x1, y1 = _changed_box(f, base, ix - 8, iy - 8, ix + 6 * s + 8, iy + 5 * s + 8)
        assert ((x0 + x1) / 2, (y0 + y1) / 2) == (ix + c * s + s / 2, iy + r * s + s / 2)
    (ox, oy), o, gap = anim.layout["output_xy"][0], anim.layout["cell"], anim.layout["gap"]
    sc = anim.layout["out_scale"]
    got = np.array([[_cell_value(frames[-1], ox + j * o, oy + i * o, o - gap, o - gap, sc)
                     for j in range(6)] for i in range(5)])
    assert np.abs(got - out[0, 0]).max() <= sc.step / 2 + 1e-6


def test_elementwise_rejects_multichannel_input():
    _, cache = ops.relu(np.zeros((1, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        render_elementwise(cache.trace(sample=0))


def test_linear_sweeps_one_neuron_per_frame_and_fills_the_output_column(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((2, 6)).astype(np.float32)
    w = rng.normal(size=(4, 6)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    out, cache = ops.linear(x, w, b)
    anim = render_linear(cache.trace(sample=1), tour="none")
    assert list(anim.steps) == [0, 1, 2, 3, 3]                 # the sweep, then the hold
    assert anim.phases == ["sweep"] * 4 + ["hold"]
    frames = _decode(tmp_path, anim)
    (ox, oy), (h, cw) = anim.layout["output_xy"][0], anim.layout["cell"]
    sc, gap = anim.layout["out_scale"], anim.layout["gap"]
    for k, f in enumerate(frames[:4]):
        got = [_cell_value(f, ox, oy + o * h, h - gap, cw - gap, sc) if o <= k else None
               for o in range(4)]
        for o in range(k + 1):
            assert abs(got[o] - out[1, o]) <= sc.step / 2 + 1e-6
        blank = f[oy + (k + 1) * h + 2, ox + 4] if k < 3 else None
        assert blank is None or not sc.contains(blank)


def test_flatten_sends_each_cell_to_its_index(tmp_path):
    x = np.arange(2 * 3 * 2, dtype=np.float32).reshape(1, 2, 3, 2) / 10
    out, cache = ops.flatten(x)
    anim = render_flatten(cache.trace(sample=0), tour="none")
    assert list(anim.steps) == list(range(12)) + [11]
    frames = _decode(tmp_path, anim)
    base = anim.layout["layout"].base.px
    cell, sc = anim.layout["cell"], anim.layout["scale"]
    (h, w), rows = anim.layout["out_cell"], anim.layout["col_rows"]
    for k, f in enumerate(frames[:12]):
        c, i, j = np.unravel_index(k, (2, 3, 2))
        gx, gy = anim.layout["input_xy"][c]
        m = 8               # the window box is drawn just outside the cell
        x0, y0, x1, y1 = _changed_box(f, base, gx - m, gy - m, gx + 2 * cell + m,
                                      gy + 3 * cell + m)
        assert ((x0 + x1) / 2, (y0 + y1) / 2) == (gx + j * cell + (cell - 1) / 2,
                                                  gy + i * cell + (cell - 1) / 2)
        assert anim.texts[k]["k"] == k
    ox, oy = anim.layout["output_xy"][0]
    got = [_cell_value(frames[-1], ox, oy + d * h, h - 1, w - 1, sc) for d in range(12)]
    assert np.abs(np.array(got) - out[0]).max() <= sc.step / 2 + 1e-6


def test_softmax_stages_and_loss():
    tr = ops.trace_softmax(np.array([1.0, 2.0, 0.5], np.float32), label=1)
    anim = render_softmax(tr)
    assert len(anim) == len(phases(3, True)) == 2 * 3 + 4
    assert anim.layout["stages"][-1] == ("loss",)
    no_label = render_softmax(ops.trace_softmax(np.array([1.0, 2.0], np.float32)))
    assert len(no_label) == 2 * 2 + 3
    # consecutive stages differ (the encoder would otherwise merge them)
    assert all((a != b).any() for a, b in zip(anim.frames, anim.frames[1:]))
    assert anim.phases[:2] == ["tour", "tour"] and anim.phases[-1] == "hold"


@pytest.mark.parametrize("logits", [[-1.2, 0.3, 1.1, 0.4, -0.8, -0.2, -1.5, 3.1, 0.2, 0.9],
                                    [1.0, 2.0, 0.5], [1e30, -1e30, 3.0], [0.1] * 20])
def test_softmax_sum_and_division_add_up_or_say_so(logits):
    tr = ops.trace_softmax(np.array(logits, np.float32), label=0)
    anim = render_softmax(tr)
    lay = anim.layout["layout"]
    assert overlaps(lay.boxes("text") + lay.boxes("content")) == []
    seen = set()
    for t in anim.texts:
        if "sum" in t:
            s = t["sum"]
            assert adds_up(s["terms"], s["total"]) != s["approx"]
            seen.add("sum")
        if "divide" in t:
            d = t["divide"]
            # the quotient shown follows from the e and Σ e shown, at p's decimals, or says ≈
            follows = "e" not in d["p"] and \
                quotient(d["e"], d["total"], decimals_of(d["p"])) == d["p"]
            assert follows != d["approx"]
            seen.add("divide")
    assert seen == {"sum", "divide"}
