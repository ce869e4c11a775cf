"""Window-op GIFs: decoded frames show the trace (box position, filled output values)."""
import numpy as np
import pytest

import ops
from viz.draw import BOX_WIDTH
from viz.encode import write_gif
from viz.frames import plan_steps
from viz.palette import ACCENT, ACCENT2, HATCH_A, HATCH_B, WHITE
from viz.readback import read_gif
from viz.window_gif import formula_of, render_window


def _image(h=9, w=11, seed=0):
    return np.random.default_rng(seed).random((1, 1, h, w)).astype(np.float32)


def _gif(tmp_path, anim):
    path = write_gif(tmp_path / "t.gif", anim.frames, [40] * len(anim))
    frames, _, _ = read_gif(path)
    assert len(frames) == len(anim)
    return frames


def _white_box(frame, x0, y0, x1, y1):
    """Inclusive bounding box of the white pixels inside a region."""
    ys, xs = np.nonzero(frame[y0:y1, x0:x1] == WHITE)
    return xs.min() + x0, ys.min() + y0, xs.max() + x0, ys.max() + y0


def _check_boxes(frames, anim, tr, channels):
    s = anim.layout["scale"]
    kh, kw = tr.kernel_size
    dh, dw = tr.dilation
    hp, wp = tr.padded.shape[2:]
    for frame, k in zip(frames, anim.steps):
        r0, c0 = tr.origin[k]
        chans = channels(k)
        for c, (ix, iy) in enumerate(anim.layout["input_xy"]):
            region = (ix - 8, iy - 8, ix + wp * s + 8, iy + hp * s + 8)
            if c not in chans:
                assert not (frame[region[1]:region[3], region[0]:region[2]] == WHITE).any()
                continue
            got = _white_box(frame, *region)
            want = (ix + c0 * s - BOX_WIDTH, iy + r0 * s - BOX_WIDTH,
                    ix + (c0 + dw * (kw - 1) + 1) * s + BOX_WIDTH - 1,
                    iy + (r0 + dh * (kh - 1) + 1) * s + BOX_WIDTH - 1)
            assert got == want, (k, c)


def _read_output(frame, anim, shape):
    """Map every output cell of a frame back through the output colour scale."""
    F, OH, OW = shape
    o, gap, sc = anim.layout["cell"], anim.layout["gap"], anim.layout["out_scale"]
    got = np.full(shape, np.nan)
    for f, (ox, oy) in enumerate(anim.layout["output_xy"]):
        for i in range(OH):
            for j in range(OW):
                cell = frame[oy + i * o:oy + (i + 1) * o - gap, ox + j * o:ox + (j + 1) * o - gap]
                vals = cell[cell != ACCENT]
                idx = np.bincount(vals).argmax()
                assert sc.contains(idx), (f, i, j, idx)
                got[f, i, j] = sc.value(idx)
    return got


def test_maxpool_frames_follow_the_trace(tmp_path):
    x = _image()
    out, cache = ops.max_pool2d(x, 2, 2)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=3, max_frames=100)
    assert anim.steps.tolist() == list(range(len(tr)))
    frames = _gif(tmp_path, anim)
    _check_boxes(frames, anim, tr, lambda k: [0])
    got = _read_output(frames[-1], anim, out.shape[1:])
    assert np.abs(got - out[0]).max() <= anim.layout["out_scale"].step / 2 + 1e-6


def test_output_fills_in_step_by_step(tmp_path):
    x = _image(6, 6)
    out, cache = ops.avg_pool2d(x, 2)
    anim = render_window(cache.trace(sample=0), scale=4)
    frames = _gif(tmp_path, anim)
    o, gap = anim.layout["cell"], anim.layout["gap"]
    ox, oy = anim.layout["output_xy"][0]
    sc = anim.layout["out_scale"]
    for k in (0, 4, 8):
        f = frames[k]
        filled = [[sc.contains(np.bincount(f[oy + i * o:oy + (i + 1) * o - gap,
                                                 ox + j * o:ox + (j + 1) * o - gap].ravel()).argmax())
                   for j in range(3)] for i in range(3)]
        assert np.array(filled).ravel().tolist() == [n <= k for n in range(9)]
        i, j = divmod(k, 3)
        assert (f[oy + i * o:oy + (i + 1) * o, ox + j * o:ox + (j + 1) * o] == ACCENT).any()


def test_padding_is_hatched_and_dilation_cells_marked(tmp_path):
    x = _image(10, 10)
    out, cache = ops.max_pool2d(x, 3, 2, 1, 2)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=6)
    frames = _gif(tmp_path, anim)
    ix, iy = anim.layout["input_xy"][0]
    s = 6
    first = frames[0]
    border = first[iy:iy + s, ix:ix + 12 * s]                  # padded top row
    assert set(np.unique(border)) <= {HATCH_A, HATCH_B, WHITE, ACCENT2, ACCENT} | set(range(16, 20))
    assert (border == HATCH_A).any() and (border == HATCH_B).any()
    inside = first[iy + s:iy + 11 * s, ix + s:ix + 11 * s]
    assert not np.isin(inside, [HATCH_A, HATCH_B]).any()
    _check_boxes(frames, anim, tr, lambda k: [0])
    # a marker at the centre of every sampled cell of the first window
    for r in range(3):
        for c in range(3):
            cy = iy + (tr.origin[0, 0] + 2 * r) * s + s // 2
            cx = ix + (tr.origin[0, 1] + 2 * c) * s + s // 2
            assert first[cy, cx] == ACCENT2
    got = _read_output(frames[-1], anim, out.shape[1:])
    assert np.abs(got - out[0]).max() <= anim.layout["out_scale"].step / 2 + 1e-6


def test_conv_multichannel_boxes_every_channel_and_fills_every_filter(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 2, 7, 8)).astype(np.float32)
    w = rng.normal(size=(2, 2, 3, 3)).astype(np.float32)
    b = np.array([0.5, -0.25], np.float32)
    out, cache = ops.conv2d(x, w, b, stride=(1, 2), padding=1)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=3, max_frames=40)
    assert len(anim) == 40 and anim.steps[-1] == len(tr) - 1
    frames = _gif(tmp_path, anim)
    _check_boxes(frames, anim, tr, lambda k: [0, 1])
    got = _read_output(frames[-1], anim, out.shape[1:])
    sc = anim.layout["out_scale"]
    assert sc.vmin == -sc.vmax                                 # diverging: 0 in the middle
    assert np.abs(got - out[0]).max() <= sc.step / 2 + 1e-6


def test_max_frames_fast_forwards_but_ends_complete(tmp_path):
    x = _image(12, 12)
    out, cache = ops.max_pool2d(x, 2, 1)
    tr = cache.trace(sample=0)
    anim = render_window(tr, scale=3, max_frames=20)
    assert anim.steps.tolist() == plan_steps(len(tr), 20, 11).tolist()
    frames = _gif(tmp_path, anim)
    _check_boxes(frames, anim, tr, lambda k: [0])
    got = _read_output(frames[-1], anim, out.shape[1:])
    assert np.abs(got - out[0]).max() <= anim.layout["out_scale"].step / 2 + 1e-6


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
