"""conv2d: forward against the naive reference, gradients, dtypes."""
import numpy as np
import pytest
from hypothesis import given

import reference as ref
from gradcheck import check_gradients
from ops import conv2d, conv2d_backward
from ops_cases import CONV_CASES, FAST, conv_geometries, get_case


def _problem(case, bias, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    w = rng.standard_normal(case["w_shape"]).astype(dtype)
    b = rng.standard_normal(case["w_shape"][0]).astype(dtype) if bias else None
    geom = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    return x, w, b, geom


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_forward_matches_reference(case, bias):
    x, w, b, geom = _problem(case, bias)
    out, _ = conv2d(x, w, b, **geom)
    expected = ref.conv2d(x, w, b, **geom)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@FAST
@given(conv_geometries())
def test_forward_matches_reference_random(case):
    x, w, b, geom = _problem(case, case["bias"], seed=case["seed"])
    out, _ = conv2d(x, w, b, **geom)
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, **geom), rtol=1e-10, atol=1e-12)


def test_defaults_are_stride1_pad0_dil1():
    x, w, b, _ = _problem(get_case(CONV_CASES, "k3"), True)
    out, _ = conv2d(x, w, b)
    np.testing.assert_allclose(out, ref.conv2d(x, w, b), rtol=1e-10, atol=1e-12)
    assert out.shape == (2, 3, 3, 3)


def test_numpy_integer_geometry_accepted():
    x, w, b, _ = _problem(get_case(CONV_CASES, "k3"), False)
    out, _ = conv2d(x, w, stride=np.int64(2), padding=(np.int32(1), 1))
    np.testing.assert_allclose(out, ref.conv2d(x, w, stride=2, padding=1), atol=1e-12)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_gradients(case, bias):
    x, w, b, geom = _problem(case, bias, seed=1)
    check_gradients(lambda x, w, b: conv2d(x, w, b, **geom), conv2d_backward, [x, w, b])


@pytest.mark.parametrize("case", CONV_CASES)
def test_row_chunks_match_reference(case, monkeypatch):
    """conv2d computes a few output rows at a time (ops.conv.CHUNK_BYTES); one row per chunk
    gives the reference's forward and exact gradients, and for a tiny weight (a product per
    output position) the very bits of one chunk, forward and weight gradient."""
    import ops.conv
    x, w, b, geom = _problem(case, True, seed=2)
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    one_out, one_cache = conv2d(x32, w32, b32, **geom)
    one_grads = conv2d_backward(np.ones_like(one_out), one_cache)
    monkeypatch.setattr(ops.conv, "CHUNK_BYTES", 1)
    out, cache = conv2d(x, w, b, **geom)
    assert len(ops.conv._row_chunks(ops.conv._windows_last(cache.xp, cache.geom))) == out.shape[2]
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, **geom), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, w, b: conv2d(x, w, b, **geom), conv2d_backward, [x, w, b])
    out32, cache32 = conv2d(x32, w32, b32, **geom)
    grads32 = conv2d_backward(np.ones_like(out32), cache32)
    if w.size <= ops.conv.TINY_WEIGHT:
        np.testing.assert_array_equal(out32, one_out)
        for got, want in zip(grads32, one_grads):
            np.testing.assert_array_equal(got, want)


def test_backward_does_not_accumulate():
    x, w, b, geom = _problem(get_case(CONV_CASES, "k3_p1"), True)
    out, cache = conv2d(x, w, b, **geom)
    dout = np.ones_like(out)
    first = [g.copy() for g in conv2d_backward(dout, cache)]
    second = conv2d_backward(dout, cache)
    for g1, g2 in zip(first, second):
        np.testing.assert_array_equal(g1, g2)


def test_backward_leaves_inputs_untouched():
    x, w, b, geom = _problem(get_case(CONV_CASES, "k3_p1"), True)
    saved = [x.copy(), w.copy(), b.copy()]
    out, cache = conv2d(x, w, b, **geom)
    conv2d_backward(np.ones_like(out), cache)
    for a, s in zip([x, w, b], saved):
        np.testing.assert_array_equal(a, s)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_float_dtype_is_kept(dtype):
    x, w, b, geom = _problem(get_case(CONV_CASES, "k3_p1"), True, dtype=dtype)
    out, cache = conv2d(x, w, b, **geom)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, **geom), rtol=1e-4, atol=1e-5)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_],
                         ids=["int64", "int32", "uint8", "bool"])
def test_integer_input_becomes_float32(dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1, 2, 4, 4)).astype(dtype)
    w = rng.integers(0, 2, (2, 2, 3, 3)).astype(dtype)
    out, _ = conv2d(x, w)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, ref.conv2d(x, w))


# --- groups and padding="same" / "valid" -------------------------------------------------

GROUPED = [  # x_shape, w_shape, groups, geometry
    ((2, 4, 5, 5), (6, 2, 3, 3), 2, dict(padding=1)),
    ((1, 3, 6, 5), (3, 1, 3, 3), 3, dict(stride=2, dilation=(1, 2), padding=(1, 2))),   # depthwise
    ((2, 4, 4, 4), (8, 1, 2, 2), 4, {}),     # depthwise, channel multiplier 2
    ((1, 6, 5, 5), (3, 2, 1, 1), 3, {}),
]


def _grouped_reference(x, w, b, groups, geom):
    """groups as independent convolutions on channel slices (the naive reference per group)."""
    fg, cg = w.shape[0] // groups, w.shape[1]
    parts = [ref.conv2d(x[:, k * cg:(k + 1) * cg], w[k * fg:(k + 1) * fg],
                        None if b is None else b[k * fg:(k + 1) * fg], **geom) for k in range(groups)]
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("xs, ws, groups, geom", GROUPED)
def test_groups_forward_gradients_traces(xs, ws, groups, geom):
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    out, cache = conv2d(x, w, b, groups=groups, **geom)
    np.testing.assert_allclose(out, _grouped_reference(x, w, b, groups, geom), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, w, b: conv2d(x, w, b, groups=groups, **geom), conv2d_backward, [x, w, b])
    tr = cache.trace()
    assert np.array_equal(tr.output(), out)
    k = len(tr) - 1
    f = tr.out_index[k, 1]
    fg, cg = ws[0] // groups, ws[1]
    assert np.array_equal(tr.channels(k), (f // fg) * cg + np.arange(cg))
    np.testing.assert_allclose(tr.contrib[k].sum() + b[f], tr.value[k], rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = conv2d_backward(dout, cache)
    np.testing.assert_allclose(cache.backward_trace(dout).output(), dx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(cache.backward_trace(dout, view="gather").output(), dx,
                               rtol=1e-12, atol=1e-13)
    wt = cache.backward_trace(dout, wrt="weight")
    assert np.array_equal(wt.output(), dw)
    np.testing.assert_allclose(np.sum(wt.tap(len(wt) - 1) * wt.upstream(len(wt) - 1)),
                               wt.value[-1], rtol=1e-12)


@pytest.mark.parametrize("k, d", [(3, 1), (4, 1), (2, 3), ((2, 5), (1, 2))])
def test_padding_same_keeps_the_size_and_pads_like_torch(k, d):
    rng = np.random.default_rng(8)
    kh, kw = (k, k) if isinstance(k, int) else k
    dh, dw = (d, d) if isinstance(d, int) else d
    x, w = rng.standard_normal((2, 2, 6, 7)), rng.standard_normal((3, 2, kh, kw))
    out, cache = conv2d(x, w, padding="same", dilation=d)
    assert out.shape == (2, 3, 6, 7)
    # torch: total d·(k−1), left total // 2, the odd cell on the right/bottom
    th, tw = dh * (kh - 1), dw * (kw - 1)
    xp = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    np.testing.assert_allclose(out, ref.conv2d(xp, w, dilation=d), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, w: conv2d(x, w, padding="same", dilation=d),
                    lambda dout, c: conv2d_backward(dout, c)[:2], [x, w])
    tr = cache.trace(sample=0)
    assert np.array_equal(tr.output()[0], out[0])
    assert tr.is_pad.any()
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(cache.backward_trace(dout).output(), conv2d_backward(dout, cache)[0],
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(cache.backward_trace(dout, view="gather").output(),
                               conv2d_backward(dout, cache)[0], rtol=1e-12, atol=1e-13)


def test_padding_valid_is_zero_padding():
    x, w, b, _ = _problem(get_case(CONV_CASES, "k3"), True)
    assert np.array_equal(conv2d(x, w, b, padding="valid")[0], conv2d(x, w, b)[0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(padding="same", stride=2), "padding='same' is not supported for strided"),
    (dict(padding="full"), "padding='full' is invalid"),
    (dict(groups=3), "groups=3 must divide"),
    (dict(groups=0), "groups=0 is invalid"),
])
def test_group_and_padding_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 4, 3, 3)), **kwargs)


def test_grouped_weight_shape_is_checked():
    with pytest.raises(ValueError, match=r"weight.shape\[1\] == x.shape\[1\] / groups \(2\)"):
        conv2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 4, 3, 3)), groups=2)


def test_one_column_weight_gradient_is_the_blas_product_bit_for_bit():
    """conv2d's weight gradient with one output cell of one image (lenet5-1998's C5 at
    batch 1) is an outer product instead of BLAS's a @ b.T: same values, same zero signs."""
    from ops.conv import _times_transposed
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 1)).astype(np.float32)
    b = rng.standard_normal((7, 1)).astype(np.float32)
    a[::3], a[1::5], b[::2] = 0.0, -0.0, -0.0
    got, want = _times_transposed(a, b), a @ b.T
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    x, w = rng.standard_normal((1, 4, 5, 5)), rng.standard_normal((3, 4, 5, 5))
    out, cache = conv2d(x, w)
    np.testing.assert_allclose(conv2d_backward(np.ones_like(out), cache)[1],
                               x[0][None].repeat(3, axis=0), rtol=1e-12)


@pytest.mark.parametrize("x_shape,k,geom", [
    ((3, 4, 5, 5), 5, dict()),                                  # C5: a 1x1 output
    ((2, 2, 8, 7), 2, dict(stride=2)),                          # stride = kernel
    ((2, 2, 9, 9), 3, dict(stride=(4, 5), padding=1)),          # stride > kernel
    ((2, 2, 9, 9), 3, dict(stride=5, dilation=2)),              # stride = dilated extent
    ((2, 2, 9, 5), 3, dict(stride=(1, 3))),                     # disjoint along W only: no
    ((1, 6, 14, 14), 5, dict()),                                # C3 at batch 1: overlapping
    ((2, 3, 11, 10), 3, dict(stride=(1, 2), padding=2, dilation=2)),
], ids=["1x1-out", "stride-eq-kernel", "stride-gt-kernel", "dilated", "overlap-in-H", "C3",
        "overlap-dilated"])
def test_col2im_fast_paths_are_the_tap_loop_bit_for_bit(x_shape, k, geom):
    """Windows that share no cell are added back in one step through a window view
    (lenet5-1998's C5 at batch 1), overlapping ones of a small batch through a stack
    summed over the offsets (C3 at batch 1); the reference is the loop over offsets."""
    from ops.conv import _col2im_disjoint, _col2im_stacked, _col2im_taps, _windows_disjoint
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((2, x_shape[1], k, k)).astype(np.float32)
    out, cache = conv2d(x, w, **geom)
    g = cache.geom
    disjoint = _windows_disjoint(g)
    assert disjoint == (g.out[0] == 1 or g.stride[0] >= g.dilation[0] * (k - 1) + 1)
    dcols = rng.standard_normal((x_shape[1], k, k) + g.out + (x_shape[0],)).astype(np.float32)
    dcols[:, 0] = -0.0                          # -0.0 added to a zero is +0.0 both ways
    want = np.zeros((x_shape[1],) + cache.xp.shape[2:] + (x_shape[0],), np.float32)
    _col2im_taps(dcols, g, want)
    for fast in (_col2im_stacked, _col2im_disjoint) if disjoint else (_col2im_stacked,):
        got = np.zeros_like(want)
        fast(dcols, g, got)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    check_gradients(lambda x, w, b: conv2d(x, w, b, **geom), conv2d_backward, [x64, w64, None])

