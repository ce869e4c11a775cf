"""The new renderers over a grid of geometries: every configuration lays out (no two text or
content boxes overlap, all inside the canvas; Layout raises otherwise) and its scatter
running sums end at the op's own output."""
import itertools

import numpy as np
import pytest

import ops
from viz.inputs import stack_channels, toy_image
from viz.kernels import make_weight
from viz.layout import overlaps
from viz.signal_gif import render_signal
from viz.transpose_gif import render_transpose
from viz.window_gif import render_window


def _inside(anim):
    boxes = [p.box for p in anim.layout["placed"] if p.kind in ("text", "content")]
    w, h = anim.layout["size"]
    assert overlaps(boxes) == []
    assert all(b[0] >= 0 and b[1] >= 0 and b[2] <= w and b[3] <= h for b in boxes)


# (C_in, C_out, groups, k, stride, padding, output_padding, dilation, side)
TRANSPOSED = [(1, 1, 1, 1, 3, 0, 2, 1, 3), (2, 4, 2, 5, 1, 0, 0, 1, 4), (3, 3, 3, 2, 2, 2, 1, 2, 5),
              (4, 2, 1, 4, 2, 1, 1, 1, 2), (1, 2, 1, 3, 3, 1, 0, 2, 6), (2, 2, 1, 3, 2, 3, 0, 1, 4)]


@pytest.mark.parametrize("case, view", list(itertools.product(TRANSPOSED, ["scatter", "direct"])))
def test_transposed_grid(case, view):
    c, f, g, k, s, p, op_, d, side = case
    x = stack_channels(toy_image(1, side), c)[None]
    w = make_weight(["ints"] * c, f // g, (k, k), 2)
    out, cache = ops.conv_transpose2d(x, w, None, s, p, op_, g, d)
    tr = cache.trace(view=view)
    a = render_transpose(tr, x, w, max_frames=8, counts=True)
    _inside(a)
    assert len(a) <= 8 and a.layout["out_cells"] and a.phases[-1] == "hold"
    if view == "scatter":
        st = tr.steps
        last = a.layout["last_sum"]                     # what the hold frame draws
        assert np.array_equal(last, st.padded_output()[0])


# (C, F, k, stride, padding, dilation, L, causal) for conv1d; pools use C = F = 1
SIGNALS = [(1, 1, 1, 1, 0, 1, 4, False), (2, 3, 3, 2, 1, 2, 12, False),
           (3, 2, 6, 1, 0, 1, 20, True), (1, 4, 4, 3, 2, 1, 9, False), (4, 1, 2, 1, 0, 2, 7, True)]


@pytest.mark.parametrize("case", SIGNALS)
@pytest.mark.parametrize("op", ["conv1d", "max_pool1d", "avg_pool1d"])
def test_signal_grid(case, op):
    c, f, k, s, p, d, length, causal = case
    x = np.stack([toy_image(3, length)[i] for i in range(c)])[None]
    lead = 0
    if op == "conv1d":
        w = make_weight(["ints"] * f, c, (1, k), 4)[:, :, 0]
        if causal:
            lead, p = d * (k - 1), 0
            x = np.concatenate([np.zeros((1, c, lead), x.dtype), x], axis=2)
        _, cache = ops.conv1d(x, w, None, s, p, d)
    elif op == "max_pool1d":
        _, cache = ops.max_pool1d(x[:, :1], k, s, min(p, (d * (k - 1) + 1) // 2), d)
    else:
        _, cache = ops.avg_pool1d(x[:, :1], k, s, min(p, k // 2))
    a = render_signal(cache.trace(sample=0), max_frames=8, lead=lead)
    _inside(a)


@pytest.mark.parametrize("c, g, f, k, pad", [(4, 2, 4, 3, 1), (3, 3, 3, 1, 0), (4, 4, 4, 5, "same"),
                                             (2, 2, 4, 4, "same"), (4, 1, 2, 2, "valid")])
def test_groups_and_same_grid(c, g, f, k, pad):
    x = stack_channels(toy_image(2, 6), c)[None]
    w = make_weight(["ints"] * f, c // g, (k, k), 5)
    _, cache = ops.conv2d(x, w, None, 1, pad, 1, groups=g)
    a = render_window(cache.trace(sample=0), max_frames=8,
                      padding_mode=pad if isinstance(pad, str) else None)
    _inside(a)
