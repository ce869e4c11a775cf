"""Window-op GIFs: decoded frames show the trace (the window ring, the output filling in),
the tour shows informative windows slowly, and the shown arithmetic adds up."""
from decimal import Decimal

import numpy as np
import pytest

import ops
from viz.arith import APPROX, adds_up, divides, number
from viz.draw import RING_MARGIN
from viz.encode import write_gif
from viz.frames import NEW_MAX, new_numbers
from viz.inputs import load_image, toy_image
from viz.palette import (ACCENT, ACCENT2, DIV0, GRAY0, MAXC, HATCH_A, HATCH_B, NEUTRAL, WDIV0,
                         auto_scale, weight_scale)
from viz.readback import read_gif
from viz.window_gif import formula_of, render_window

SOBEL_X = np.array([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]], np.float32)


def _image(h=9, w=11, seed=0):
    return np.random.default_rng(seed).random((1, 1, h, w)).astype(np.float32)


def _digit():
    return load_image("default")[0][None, None]


def _gif(tmp_path, anim, frame_ms=40, hold_ms=500):
    d = anim.durations(frame_ms, hold_ms)
    path = write_gif(tmp_path / "t.gif", anim.frames, d)
    frames, durations, _ = read_gif(path)
    assert len(frames) == len(anim)
    return frames, durations


def _ring_box(frame, anim, c, tr):
    """Inclusive bounding box of the accent ring around channel c's image."""
    s = anim.layout["scale"]
    ix, iy = anim.layout["input_xy"][c]
    hp, wp = tr.padded.shape[2:]
    m = RING_MARGIN
    region = frame[iy - m:iy + hp * s + m, ix - m:ix + wp * s + m]
    ys, xs = np.nonzero(region == ACCENT)
    if ys.size == 0:
        return None
    return xs.min() + ix - m, ys.min() + iy - m, xs.max() + ix - m, ys.max() + iy - m


def _check_rings(frames, anim, tr, channels):
    s = anim.layout["scale"]
    kh, kw = tr.kernel_size
    dh, dw = tr.dilation
    ext_h, ext_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    for frame, k, ph in zip(frames, anim.steps, anim.phases):
        for c in range(len(anim.layout["input_xy"])):
            got = _ring_box(frame, anim, c, tr)
            if ph == "hold" or c not in channels(k):
                assert got is None, (k, c)
                continue
            r0, c0 = tr.origin[k]
            ix, iy = anim.layout["input_xy"][c]
            m = RING_MARGIN - 1                      # the outer black line is not accent
            assert got == (ix + c0 * s - m, iy + r0 * s - m, ix + (c0 + ext_w) * s + m - 1,
                           iy + (r0 + ext_h) * s + m - 1), (k, c)


def _read_output(frame, anim, shape):
    """Map every output cell of a frame back through the output colour scale (NaN: blank)."""
    F, OH, OW = shape
    o, gap, sc = anim.layout["cell"], anim.layout["gap"], anim.layout["out_scale"]
    got = np.full(shape, np.nan)
    for f, (ox, oy) in enumerate(anim.layout["output_xy"]):
        for i in range(OH):
            for j in range(OW):
                cell = frame[oy + i * o:oy + (i + 1) * o - gap, ox + j * o:ox + (j + 1) * o - gap]
                idx = np.bincount(cell.ravel()).argmax()
                if sc.contains(idx):
                    got[f, i, j] = sc.value(idx)
    return got


# -- following the trace -------------------------------------------------------------------
def test_maxpool_frames_follow_the_trace(tmp_path):
    x = _image()
    out, cache = ops.max_pool2d(x, 2, 2)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=3, max_frames=100)
    assert anim.phases[-1] == "hold" and anim.steps[-1] == len(tr) - 1
    sweep = [k for k, ph in zip(anim.steps, anim.phases) if ph == "sweep"]
    assert sweep == list(range(len(tr)))
    frames, _ = _gif(tmp_path, anim)
    _check_rings(frames, anim, tr, lambda k: [0])
    got = _read_output(frames[-1], anim, out.shape[1:])
    assert np.abs(got - out[0]).max() <= anim.layout["out_scale"].step / 2 + 1e-6


def test_tour_cells_then_sweep_fill_in(tmp_path):
    x = _image(6, 6)
    out, cache = ops.avg_pool2d(x, 2)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=4, tour=[7, 2])
    frames, _ = _gif(tmp_path, anim)
    filled = [~np.isnan(_read_output(f, anim, (1, 3, 3)))[0].ravel() for f in frames]
    assert filled[0].tolist() == [n == 7 for n in range(9)]          # tour: only toured cells
    assert filled[1].tolist() == [n in (2, 7) for n in range(9)]
    for f, k in zip(filled[2:-1], anim.steps[2:-1]):                  # sweep: up to k, and tour
        assert f.tolist() == [n <= k or n in (2, 7) for n in range(9)]
    assert filled[-1].all()


def test_padding_is_hatched_and_dilation_taps_outlined(tmp_path):
    x = _image(10, 10)
    out, cache = ops.max_pool2d(x, 3, 1, 1, 2)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=6, tour=[0])
    frames, _ = _gif(tmp_path, anim)
    ix, iy = anim.layout["input_xy"][0]
    s = 6
    hold = frames[-1]
    border = hold[iy:iy + s, ix:ix + 12 * s]                        # padded top row
    assert (border == HATCH_A).any() and (border == HATCH_B).any()
    inside = hold[iy + s:iy + 11 * s, ix + s:ix + 11 * s]
    assert not np.isin(inside, [HATCH_A, HATCH_B]).any()
    _check_rings(frames, anim, tr, lambda k: [0])
    first = frames[0]
    r0, c0 = tr.origin[0]
    for r in range(5):
        for c in range(5):
            y, xx = iy + (r0 + r) * s, ix + (c0 + c) * s
            if r % 2 == 0 and c % 2 == 0:                 # a tap: outlined (the max in yellow)
                want = MAXC if (r // 2, c // 2) == tuple(tr.argmax[0]) else ACCENT2
                assert first[y, xx + s // 2] == want
            else:                                                     # skipped: dimmed
                assert first[y + s // 2, xx + s // 2] != hold[y + s // 2, xx + s // 2]
    assert "3×3 taps spanning 5×5" in str(anim.layout["placed"])


def test_cells_no_window_reads_are_dimmed():
    x = np.ones((1, 1, 8, 8), np.float32)
    x[0, 0, ::3, ::3] = 0.5                                           # not constant
    _, cache = ops.max_pool2d(x, 2, 3)
    anim = render_window(cache.trace(sample=0), scale=5, tour=[])
    ix, iy = anim.layout["input_xy"][0]
    hold = anim.frames[-1]
    read, unread = hold[iy + 1 * 5 + 2, ix + 1 * 5 + 2], hold[iy + 2 * 5 + 2, ix + 2 * 5 + 2]
    assert read == auto_scale(x).index(1.0) and unread != read       # row/col 2 is skipped
    assert "dimmed: never read by any window" in str(anim.layout["placed"])


def test_conv_multichannel_rings_every_channel_and_fills_every_filter(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 2, 7, 8)).astype(np.float32)
    w = rng.normal(size=(2, 2, 3, 3)).astype(np.float32)
    b = np.array([0.5, -0.25], np.float32)
    out, cache = ops.conv2d(x, w, b, stride=(1, 2), padding=1)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=3, max_frames=40)
    stops = [i for i in anim.tour_frames() if anim.texts[i]["part"] == 0]
    # 2 channels of 9 distinct numbers each: one stop takes ~15 s to read, so one fits 30 s
    assert len(anim) == 40 and len(stops) >= 1 and sum(anim.durations()) <= 30_000
    frames, _ = _gif(tmp_path, anim)
    _check_rings(frames, anim, tr, lambda k: [0, 1])
    got = _read_output(frames[-1], anim, out.shape[1:])
    sc = anim.layout["out_scale"]
    assert sc.vmin == -sc.vmax                                     # diverging: 0 in the middle
    assert np.abs(got - out[0]).max() <= sc.step / 2 + 1e-6


# -- the tour ------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["maxpool", "conv2d"])
def test_tour_shows_nonzero_windows_slowly_in_the_decoded_gif(tmp_path, op):
    x = _digit()
    if op == "maxpool":
        _, cache = ops.max_pool2d(x, 2, 2)
    else:
        _, cache = ops.conv2d(x, SOBEL_X, np.zeros(1, np.float32), 1, 1)
    tr = cache.trace(sample=0)
    anim = render_window(tr)
    frames, durations = _gif(tmp_path, anim, None, None)
    tour = anim.tour_frames()
    stops = [i for i in tour if anim.texts[i]["part"] == 0]
    assert len(stops) == 3 and tour == list(range(len(tour)))
    # the reading rule, decoded from the file: 250 ms per new number, at most about 8 new
    # numbers a frame, the sweep at most 40 % of the play time, at most 30 s in all
    new = new_numbers(anim.texts)
    assert sum(durations) <= 30_000
    assert sum(d for d, ph in zip(durations, anim.phases) if ph == "sweep") \
        <= 0.4 * sum(durations) + 10
    for i in tour:
        assert durations[i] >= 250 * new[i] and new[i] <= NEW_MAX
        k = anim.steps[i]
        assert np.abs(tr.field[k]).max() > 0                      # never a window of zeros
        shown = [number(t) for g in anim.texts[i]["x"] for t in g.ravel()]
        assert any(v != 0 for v in shown)
        j = sum(1 for s in stops if s <= i)
        assert anim.texts[i]["caption"].startswith(f"tour {j} / {len(stops)}")
    # the biggest output is in the tour, and for max pooling of the digit a tie
    assert np.argmax(np.abs(tr.value)) in {anim.steps[i] for i in tour} or \
        max(abs(tr.value[anim.steps[i]]) for i in tour) == np.abs(tr.value).max()
    if op == "maxpool":
        assert any(len(anim.texts[i]["ties"]) > 1 for i in tour)


def _check_arithmetic(anim, tr, i):
    t = anim.texts[i]
    k = anim.steps[i]
    approx = False
    for terms, total, exact in t["equations"]:
        ok = adds_up(terms, total)
        assert ok == exact
        if not ok:                    # ≈, within the rounding of the shown terms
            approx = True
            half = Decimal(1).scaleb(number(total).as_tuple().exponent) / 2
            assert abs(sum(number(s) for s in terms) - number(total)) <= len(terms) * half
    if approx:
        assert APPROX in t["final"] or any(not e for e in t.get("sum_exact", [True]))
        assert t["note"].startswith(APPROX)
    else:
        assert APPROX not in t["final"] and t["note"] == ""
    assert number(t["value"]) == round(Decimal(float(tr.value[k])), anim.layout["decimals"])


@pytest.mark.parametrize("case", ["conv_digit", "conv_toy", "conv_channels", "avg", "max"])
def test_shown_arithmetic_adds_up_on_every_tour_frame(tmp_path, case):
    rng = np.random.default_rng(3)
    if case == "conv_digit":
        _, cache = ops.conv2d(_digit(), SOBEL_X, np.zeros(1, np.float32), 1, 1)
    elif case == "conv_toy":
        _, cache = ops.conv2d(toy_image()[None, None], SOBEL_X, np.array([1.0], np.float32), 1, 1)
    elif case == "conv_channels":
        w = rng.normal(size=(2, 3, 3, 3)).astype(np.float32)
        _, cache = ops.conv2d(rng.random((1, 3, 8, 8)).astype(np.float32), w,
                              np.array([0.1, -0.2], np.float32), 2, 1)
    elif case == "avg":
        _, cache = ops.avg_pool2d(_digit(), 3, 3, 1)
    else:
        _, cache = ops.max_pool2d(toy_image()[None, None], 2, 2)
    tr = cache.trace(sample=0)
    anim = render_window(tr)
    frames, _ = _gif(tmp_path, anim)
    lay, slots = anim.layout["layout"], anim.layout["slots"]
    for i in anim.tour_frames():
        _check_arithmetic(anim, tr, i)
        t = anim.texts[i]
        if "p" in t:        # every product follows from the factors shown, at the shown digits
            d = anim.layout["decimals"]
            for xg, wg, pg in zip(t["x"], t["w"], t["p"]):
                for xs, ws, ps in zip(xg.ravel(), wg.ravel(), pg.ravel()):
                    q = Decimal(1).scaleb(-d)
                    assert number(ps) == (number(xs) * number(ws)).quantize(q), (xs, ws, ps)
        if case == "conv_toy":                                    # integers: all exact
            assert all(e for *_, e in t["equations"])
        if case == "avg":
            total, n, mean, ok = t["divide"]
            assert divides(total, n, mean) == ok and n == 9
        # the decoded frame shows exactly the declared strings in their slots
        for name in ("final", "caption", "window") if t["complete"] else ("caption", "window"):
            node = slots[name]
            want = lay.new_frame()
            lay.write(want, node, t[name])
            x0, y0, x1, y1 = node.box
            np.testing.assert_array_equal(frames[i][y0:y1, x0:x1], want.px[y0:y1, x0:x1])


def test_tour_by_hand_and_no_tour():
    _, cache = ops.max_pool2d(_image(8, 8), 2, 2)
    tr = cache.trace(sample=0)
    anim = render_window(tr, tour=[5, 1])
    assert anim.phases[:2] == ["tour", "tour"] and anim.steps[:2].tolist() == [5, 1]
    assert anim.texts[0]["caption"] == "tour 1 / 2: chosen by hand"
    none = render_window(tr, tour=[])
    assert "tour" not in none.phases and len(none) == len(tr) + 1


def test_zero_input_gets_no_tour():
    _, cache = ops.max_pool2d(np.zeros((1, 1, 6, 6), np.float32), 2)
    anim = render_window(cache.trace(sample=0))
    assert anim.tour_frames() == []


# -- colours and labels --------------------------------------------------------------------
def _legend_bar(anim, name):
    box = [p.box for p in anim.layout["placed"] if p.name == name][0]
    x0, y0, x1, y1 = box
    return anim.frames[0][(y0 + y1) // 2, x0 + 1:x1 - 1]     # a tour frame: its working


def test_legends_and_colour_maps():
    x = _digit()
    _, cache = ops.conv2d(x, np.full((1, 1, 8, 8), 1 / 64, np.float32), None, 1, 0)
    anim = render_window(cache.trace(sample=0), tour=[40])
    names = [p.name for p in anim.layout["placed"]]
    for leg in ("input legend", "output legend", "weight legend"):
        assert f"{leg} bar" in names
    assert set(_legend_bar(anim, "weight legend bar")) == {NEUTRAL}    # a constant kernel
    gray = _legend_bar(anim, "input legend bar")                      # non-negative: gray
    assert gray.min() == GRAY0 and np.all(np.diff(gray.astype(int)) >= 0)
    assert weight_scale(SOBEL_X).first == WDIV0 and auto_scale(SOBEL_X).first == DIV0
    _, cache = ops.conv2d(x, SOBEL_X, None, 1, 1)
    anim = render_window(cache.trace(sample=0))
    ticks = [p.name for p in anim.layout["placed"] if p.name.startswith("output legend tick")]
    assert len(ticks) == 3 and ticks[1] == "output legend tick 0"     # min, 0, max
    assert set(_legend_bar(anim, "weight legend bar")) <= set(range(WDIV0, WDIV0 + 71))


def test_weight_label_names_the_real_filter():
    rng = np.random.default_rng(0)
    _, cache = ops.conv2d(rng.random((1, 1, 12, 12)).astype(np.float32),
                          rng.normal(size=(1, 1, 5, 5)).astype(np.float32), None)
    anim = render_window(cache.trace(sample=0), weight_label=lambda f: "w[3] of conv1 (6×1×5×5)")
    i = anim.tour_frames()[0]
    assert anim.texts[i]["w_head"] == "w[3] of conv1 (6×1×5×5)"
    assert all(len(g.ravel()) == 25 for g in anim.texts[i]["w"])   # 5×5 numbers, all shown
    assert anim.layout["work_cell"] >= 30


def test_formula_uses_the_geometry():
    _, cache = ops.max_pool2d(_image(28, 28), 2, 2)
    assert formula_of(cache.trace(sample=0)) == "out = \u230a(28 + 2·0 \u2212 2)/2\u230b + 1 = 14"
    _, cache = ops.max_pool2d(_image(9, 11), 3, 2, 1, 2)
    f = formula_of(cache.trace(sample=0))
    assert f.startswith("OH = \u230a(9 + 2·1 \u2212 2·(3\u22121) \u2212 1)/2\u230b + 1 = 4")
    assert "OW = \u230a(11 + 2·1" in f and f.endswith("= 5")


def test_rejects_multi_sample_traces():
    _, cache = ops.max_pool2d(np.zeros((2, 1, 4, 4), np.float32), 2)
    with pytest.raises(ValueError, match="sample"):
        render_window(cache.trace(), scale=2)
