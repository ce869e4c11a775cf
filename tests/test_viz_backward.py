"""Backward GIFs: decoded frames tour informative steps slowly, carry their legends, and the
last frame reads back the op's real gradient through the colour scale."""
import numpy as np
import pytest

import ops
from viz.backward_gif import (render_dweight, render_elementwise_backward, render_gather,
                              render_linear_backward, render_scatter, unit_of, unit_text)
from viz.encode import write_gif
from viz.readback import read_gif, read_map
from pace import assert_paced


def _rng(seed=0):
    return np.random.default_rng(seed)


def _decoded(tmp_path, anim):
    d = anim.durations()
    frames, durations, _ = read_gif(write_gif(tmp_path / "b.gif", anim.frames, d))
    assert len(frames) == len(anim)
    return frames, durations


_read_map = read_map


def _check_tour(anim, durations, nonzero):
    tour = anim.tour_frames()
    assert 3 <= len({int(anim.steps[i]) for i in tour}) <= 4
    assert all(nonzero(int(anim.steps[i])) for i in tour)
    assert anim.phases[-1] == "hold"
    assert_paced(anim, durations)


def _legends(anim, *names):
    placed = {p.name for p in anim.layout["placed"]}
    for n in names:
        assert f"{n} bar" in placed, n


def _close(got, want, anim, mask=None):
    mask = np.ones(want.shape, bool) if mask is None else mask
    assert not np.isnan(got[mask]).any()
    tol = anim.layout["grad_scale"].step / 2 * anim.layout["unit"] + 1e-12
    assert np.abs(got[mask] - want[mask]).max() <= tol


@pytest.mark.parametrize("op, geo", [("max", (2, 2, 0)), ("max", (3, 2, 1)),
                                     ("avg", (3, 2, 1)), ("avg", (2, 3, 0))])
def test_pool_backward_gif_reads_back_the_gradient(tmp_path, op, geo):
    k, s, p = geo
    x = _rng().random((1, 1, 9, 10)).astype(np.float32)
    if op == "max":
        out, cache = ops.max_pool2d(x, k, s, p)
    else:
        out, cache = ops.avg_pool2d(x, k, s, p)
    dout = (_rng(1).standard_normal(out.shape) * 1e-4).astype(np.float32)   # tiny, as real ones
    tr = cache.backward_trace(dout)
    fwd = cache.trace(sample=0).padded[0, 0] if op == "max" else None
    anim = render_scatter(tr, x=fwd, title="t", max_frames=60)
    frames, durations = _decoded(tmp_path, anim)
    _check_tour(anim, durations, lambda k: np.abs(tr.stamp[k]).sum() > 0)
    _legends(anim, "upstream legend", "gradient legend")
    assert anim.layout["unit"] == 1e-4 and unit_text(-4) == " (×10⁻⁴)"
    dx = (ops.max_pool2d_backward if op == "max" else ops.avg_pool2d_backward)(dout, cache)
    h, w = x.shape[2:]
    got = _read_map(frames[-1], anim.layout["grad_xy"], anim.layout["grad_cell"],
                    tr.padded_size(), anim.layout["grad_scale"], anim.layout["unit"])
    read = tr.overlap_counts()[p:p + h, p:p + w] > 0          # unread cells are dimmed (0)
    _close(got[p:p + h, p:p + w], dx[0, 0].astype(float), anim, read)
    if p:                                   # the stamps cropped on the padding are shown
        lost = float(tr.lost()[0, 0])
        assert abs(anim.texts[-1]["lost"] * anim.layout["unit"] - lost) <= 1e-9
        assert op == "avg" or abs(lost) < 1e-9    # max: the max is never on -inf padding
    if s < k:                               # overlap: the working counts the windows
        i = anim.tour_frames()[0]
        assert int(max(anim.texts[i]["counts"].ravel(), key=int)) >= 1


def test_maxpool_tour_shows_the_running_sum_where_windows_overlap():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 1, 1] = 1                               # the max of four 3×3 windows
    out, cache = ops.max_pool2d(x, 3, 2, 1)
    tr = cache.backward_trace(np.ones_like(out))
    anim = render_scatter(tr, x=cache.trace(sample=0).padded[0, 0])
    reasons = [anim.texts[i]["caption"] for i in anim.tour_frames()]
    assert any("adds onto gradient already there" in r for r in reasons)
    i = next(i for i in anim.tour_frames() if "already there" in anim.texts[i]["caption"])
    k = int(anim.steps[i])
    # the running sum at the max: one per window so far that chose it
    assert max(int(v) for v in anim.texts[i]["sum"].ravel()) == \
        int(tr.padded_output(k)[0, 0, 2, 2]) >= 2
    assert int(tr.output()[0, 0, 1, 1]) == 4


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 1), (2, 0)])
def test_conv_dx_scatter_and_gather_read_back_the_same_gradient(tmp_path, stride, padding):
    rng = _rng(2)
    x = rng.random((1, 1, 8, 8)).astype(np.float32)
    w = rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    out, cache = ops.conv2d(x, w, None, stride, padding)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = ops.conv2d_backward(dout, cache)[0][0, 0].astype(float)
    sc = render_scatter(cache.backward_trace(dout), weight=w[0, 0], max_frames=50)
    frames, durations = _decoded(tmp_path, sc)
    _check_tour(sc, durations, lambda k: True)
    p = padding
    got = _read_map(frames[-1], sc.layout["grad_xy"], sc.layout["grad_cell"],
                    (8 + 2 * p,) * 2, sc.layout["grad_scale"], sc.layout["unit"])
    read = cache.backward_trace(dout).overlap_counts()[p:p + 8, p:p + 8] > 0
    _close(got[p:p + 8, p:p + 8], dx, sc, read)

    ga = render_gather(cache.backward_trace(dout, view="gather"), max_frames=50)
    frames, durations = _decoded(tmp_path, ga)
    assert ga.tour_frames()
    assert_paced(ga, durations)
    _legends(ga, "input legend", "output legend", "weight legend")
    lay = ga.layout
    got = _read_map(frames[-1], (lay["output_xy"][0][0] - lay["gap"], lay["output_xy"][0][1] -
                                 lay["gap"]), lay["cell"], (8 + 2 * p,) * 2, lay["out_scale"],
                    lay["unit"])
    tol = lay["out_scale"].step / 2 * lay["unit"] + 1e-9
    assert np.abs(got[p:p + 8, p:p + 8] - dx).max() <= tol       # cropped cells are dimmed
    if stride > 1:
        assert any("inserted" in p.name for p in lay["placed"] if p.kind == "text")


def test_conv_weight_gradient_gif(tmp_path):
    rng = _rng(3)
    x = rng.random((1, 1, 7, 7)).astype(np.float32)
    w = rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    out, cache = ops.conv2d(x, w, np.zeros(1, np.float32), 2, 1)
    dout = rng.standard_normal(out.shape).astype(np.float32) * 1e-3
    _, dw, db = ops.conv2d_backward(dout, cache)
    anim = render_dweight(cache.backward_trace(dout, wrt="weight"),
                          cache.trace(sample=0).padded[0, 0], stride=(2, 2))
    frames, durations = _decoded(tmp_path, anim)
    _check_tour(anim, durations, lambda k: dw.ravel()[k] != 0)
    _legends(anim, "input legend", "upstream legend", "product legend", "gradient legend")
    got = _read_map(frames[-1], anim.layout["grad_xy"], anim.layout["grad_cell"], (3, 3),
                    anim.layout["grad_scale"], anim.layout["unit"])
    _close(got, dw[0, 0].astype(float), anim)
    i = anim.tour_frames()[0]
    k = int(anim.steps[i])
    assert anim.texts[i]["final"].split(" = ")[-1].split(" ")[0].replace("\u2212", "-") == \
        f"{dw.ravel()[k] / anim.layout['unit']:.2f}"
    placed = [p.name for p in anim.layout["placed"]]
    assert any(n.startswith("∂L/∂b = Σ ∂L/∂out") for n in placed)


def test_relu_backward_gif(tmp_path):
    x = _rng(4).standard_normal((1, 1, 6, 7)).astype(np.float32)
    out, cache = ops.relu(x)
    dout = _rng(5).standard_normal(out.shape).astype(np.float32)
    anim = render_elementwise_backward(cache.backward_trace(dout))
    frames, durations = _decoded(tmp_path, anim)
    dx = ops.relu_backward(dout, cache)
    _check_tour(anim, durations, lambda k: dout.ravel()[k] != 0)
    assert any("blocked" in anim.texts[i]["caption"] for i in anim.tour_frames())
    _legends(anim, "upstream legend", "local legend", "gradient legend")
    got = _read_map(frames[-1], anim.layout["grad_xy"], anim.layout["grad_cell"], (6, 7),
                    anim.layout["grad_scale"], anim.layout["unit"])
    _close(got, dx[0, 0].astype(float), anim)


@pytest.mark.parametrize("wrt", ["x", "weight"])
def test_linear_backward_gif(tmp_path, wrt):
    rng = _rng(6)
    x = rng.random((1, 12)).astype(np.float32)
    w = rng.standard_normal((5, 12)).astype(np.float32)
    out, cache = ops.linear(x, w, None)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx, dw, _ = ops.linear_backward(dout, cache)
    anim = render_linear_backward(cache.backward_trace(dout, wrt=wrt))
    frames, durations = _decoded(tmp_path, anim)
    _check_tour(anim, durations, lambda k: dout[0, k] != 0)
    _legends(anim, "upstream legend", "row legend", "adds legend", "gradient legend")
    if wrt == "x":
        rows, cols = anim.layout["fold"]
        got = _read_map(frames[-1], anim.layout["grad_xy"], anim.layout["grad_cell"],
                        (rows, cols), anim.layout["grad_scale"], anim.layout["unit"])
        _close(got.ravel()[:12], dx[0].astype(float), anim)
    else:
        s = anim.layout["grad_cell"]
        got = _read_map(frames[-1], anim.layout["grad_xy"], (max(s, 12), s), dw.shape,
                        anim.layout["grad_scale"], anim.layout["unit"])
        _close(got, dw.astype(float), anim)


def test_unit_of():
    assert unit_of(np.array([3e-6, -1e-7])) == -6
    assert unit_of(np.array([0.5, -2.0])) == 0 and unit_of(np.array([1.0, 2.0])) == 0
    assert unit_text(0) == ""


def test_render_scatter_rejects_several_channels():
    _, cache = ops.max_pool2d(np.zeros((1, 2, 4, 4), np.float32), 2)
    with pytest.raises(ValueError, match="one sample and one channel"):
        render_scatter(cache.backward_trace(np.ones((1, 2, 2, 2), np.float32)), x=np.zeros((4, 4)))


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_scatter_layout_grid(k):
    """Every geometry lays out without overlapping text (the layout refuses overlaps)."""
    rng = _rng(k)
    for s in (1, 2, 3):
        for p in range(0, k // 2 + 1):
            x = rng.random((1, 1, 7, 8)).astype(np.float32)
            out, cache = ops.max_pool2d(x, k, s, p)
            anim = render_scatter(cache.backward_trace(rng.standard_normal(out.shape)),
                                  x=cache.trace(sample=0).padded[0, 0], max_frames=8)
            w = rng.standard_normal((1, 1, k, k)).astype(np.float32)
            out, cache = ops.conv2d(x, w, None, s, p)
            render_scatter(cache.backward_trace(rng.standard_normal(out.shape)), weight=w[0, 0],
                           max_frames=8)
            render_gather(cache.backward_trace(rng.standard_normal(out.shape), view="gather"),
                          max_frames=8)
            assert anim.layout["size"][0] <= 1600
