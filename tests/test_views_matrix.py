"""Convolution as a matrix: the patch matrix conv2d multiplies (ops.matrix.conv_patches), the
matrix C whose transpose is conv_transpose2d (ops.matrix.transpose_matrix), and the im2col
GIF read back from its decoded frames."""
from decimal import Decimal

import numpy as np
import pytest

import ops
from ops.matrix import conv_matrix, conv_patches, transpose_matrix
from viz.arith import number
from viz.readback import read_gif, read_map
from conftest import decoded_view, make_gif, render_gif

# (stride, padding, dilation, groups, channels, filters)
GEOMETRIES = [(1, 0, 1, 1, 1, 1), (2, 1, 1, 1, 2, 3), (1, "same", 2, 2, 2, 4), (2, 2, 1, 1, 3, 2),
              ((1, 2), (0, 1), (2, 1), 1, 1, 2)]


def _ints(rng, shape):
    return rng.integers(-3, 4, size=shape).astype(np.float32)


@pytest.mark.parametrize("geom", GEOMETRIES)
def test_patch_matrix_is_the_ops_and_its_product_is_the_output(geom):
    s, p, d, g, c, f = geom
    rng = np.random.default_rng(1)
    x, w, b = _ints(rng, (3, c, 7, 6)), _ints(rng, (f, c // g, 3, 3)), _ints(rng, (f,))
    out, cache = ops.conv2d(x, w, b, s, p, d, g)
    for n in range(3):
        pp = conv_patches(cache, n)
        # bit for bit the columns the op multiplied ...
        assert np.array_equal(pp.patches, cache.cols[:, n::3])
        # ... which are the windows of the padded input, read where ``where`` says
        xp = np.asarray(cache.xp[n])
        assert np.array_equal(xp[pp.taps[:, 0][:, None], pp.where[..., 0], pp.where[..., 1]],
                              pp.patches)
        assert np.all(xp[pp.taps[:, 0][:, None], pp.where[..., 0], pp.where[..., 1]][pp.is_pad]
                      == 0)
        # whole numbers: every sum is exact, so W·P + b is the op's output exactly
        assert np.array_equal(pp.weight @ pp.patches + b[:, None], out[n].reshape(f, -1))


def test_patch_product_matches_the_op_on_a_real_digit_in_float64():
    from viz.inputs import load_image
    x = load_image("default").image.astype(np.float64)[None, None]
    w = np.random.default_rng(0).normal(size=(6, 1, 5, 5))
    out, cache = ops.conv2d(x, w, None, 1, 2)
    pp = conv_patches(cache)
    err = np.abs(pp.weight @ pp.patches - out[0].reshape(6, -1)).max()
    assert err <= 1e-14, err          # the same sums, summed in BLAS's order


@pytest.mark.parametrize("s,p,a,d", [(1, 0, 0, 1), (2, 1, 1, 1), (2, 0, 0, 2), (3, 1, 2, 1),
                                     ((2, 1), (1, 0), (1, 0), 1)])
def test_transposed_convolution_is_the_transpose_of_C(s, p, a, d):
    rng = np.random.default_rng(2)
    x, w = _ints(rng, (2, 2, 3, 4)), _ints(rng, (2, 3, 3, 2))
    out, cache = ops.conv_transpose2d(x, w, None, s, p, a, 1, d)
    C = transpose_matrix(cache)
    assert C.shape == (x[0].size, out[0].size)
    for n in range(2):
        assert np.array_equal((C.T @ x[n].ravel()).reshape(out.shape[1:]), out[n])
    # and C is the convolution that conv_transpose2d transposes: conv2d(y) = C·vec(y)
    y = _ints(rng, out.shape)
    conv, _ = ops.conv2d(y, w, None, s, p, d)
    assert conv.shape == x.shape
    assert np.array_equal((C @ y[0].ravel()).reshape(x.shape[1:]), conv[0])


def test_conv_matrix_of_the_guide_is_4x16():
    """Dumoulin & Visin's C: a 3×3 kernel on a 4×4 input, no padding, unit strides."""
    w = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], np.float32)[None, None]
    _, cache = ops.conv2d(np.zeros((1, 1, 4, 4), np.float32), w)
    C = conv_matrix(w, cache.geom)
    assert C.shape == (4, 16)
    assert C[0].tolist() == [0, 1, 2, 0, 2, 2, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0]
    assert C[3].tolist() == [0] * 5 + [0, 1, 2, 0, 2, 2, 0, 0, 0, 1, 2]


def _sum_of(working):
    """The shown factors of a working line ``= a·b + c·d … + bias = y`` multiplied out and
    summed, and the shown y."""
    lhs, y = working[2:].rsplit(" ", 1)[0].rsplit(" ", 1)[0], working.rsplit(" ", 1)[1]
    total, sign = Decimal(0), 1
    for tok in lhs.split(" "):
        if tok in ("+", "\u2212"):
            sign = 1 if tok == "+" else -1
            continue
        v = Decimal(1)
        for fac in tok.split("·"):
            v *= number(fac)
        total, sign = total + sign * v, 1
    return total, number(y)


@pytest.mark.parametrize("argv", [
    ["im2col"],
    ["im2col", "--stride", "2", "--padding", "1", "--bias", "1"],
    ["im2col", "--kernel", "random", "--input", "toy:0:6", "--stride", "2"],
    ["im2col", "--channels", "2", "--kernel", "sobel-x,sobel-y", "--input", "toy:1:4"]])
def test_im2col_gif_shows_the_patch_matrix_and_the_product(tmp_path, argv):
    frames, anim = decoded_view(argv, tmp_path / "m.gif")
    if argv == ["im2col"]:     # the op, run again here: the GIF's matrices are its own
        from viz.inputs import toy_image
        w = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], np.float32)[None, None]
        _, cache = ops.conv2d(toy_image(0, 5)[None, None], w)
        assert np.array_equal(anim.layout["values"]["P"], conv_patches(cache).patches)
    grids = anim.layout["grids"]
    last = frames[-1]
    for name in ("P", "Y"):
        (x0, y0), cell, scale, shape = grids[name]
        got = read_map(last, (x0, y0), cell, shape, scale)
        want = anim.layout["values"][name]
        assert np.nanmax(np.abs(got - want)) <= scale.step / 2 + 1e-6
    # the unfolding shows one more column per frame; the product's tour works out its cells
    unfold = [t for t in anim.texts if t["stage"] == "unfold"]
    assert [t["column"] for t in unfold] == sorted(t["column"] for t in unfold)
    toured = [t for t in anim.texts if "working" in t]
    assert toured
    dw, dx, dy = anim.layout["decimals"]
    values = anim.layout["values"]
    for t in toured:
        f, i, j = t["cell"]
        col = i * anim.layout["grids"]["y0"][3][1] + j
        if "·" in t["working"]:
            total, y = _sum_of(t["working"])
        else:   # too many terms to write: the ringed row and column are on screen
            total = sum(number(f"{a:.{dw}f}") * number(f"{b:.{dx}f}")
                        for a, b in zip(values["W"][f], values["P"][:, col]))
            y = number(t["working"].rsplit(" ", 1)[1])
        assert y == number(f"{values['Y'][f, col]:.{dy}f}".replace("-0.00", "0.00"))
        assert (total.quantize(Decimal(1).scaleb(-dy)) == y) == t["exact"]
        assert t["working"].split(" ")[-2] == ("=" if t["exact"] else "\u2248")


def test_transposed_view_reads_back_the_ops_output(tmp_path):
    argv = ["im2col", "--view", "transposed", "--stride", "2", "--input", "toy:0:3",
            "--padding", "1", "--output-padding", "1"]
    out = tmp_path / "t.gif"
    make_gif(argv + ["--out", str(out)])
    frames, _, _ = read_gif(out)
    anim = render_gif(argv)
    from viz.inputs import toy_image
    from viz.kernels import make_weight
    want, _ = ops.conv_transpose2d(toy_image(0, 3)[None, None],
                                   make_weight(["guide"], 1, (3, 3)), None, 2, 1, 1)
    (x0, y0), cell, scale, shape = anim.layout["grids"]["y0"]
    got = read_map(frames[-1], (x0, y0), cell, shape, scale)
    assert np.abs(got - want[0, 0]).max() <= scale.step / 2 + 1e-6
    (x0, y0), cell, scale, shape = anim.layout["grids"]["C"]
    assert shape == (9, 36)
    for t in (t for t in anim.texts if "working" in t):
        total, y = _sum_of(t["working"])
        assert total == y and t["exact"]            # whole numbers: every sum exact


def test_im2col_refuses_what_it_cannot_draw(capsys):
    with pytest.raises(SystemExit) as e:
        make_gif(["im2col", "--input", "default", "--out", "/tmp/never-written.gif"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "patch matrix is 9×676" in err[0]
