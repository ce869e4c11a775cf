"""The convolution-arithmetic GIFs: conv_transpose2d (scatter and direct), conv2d with groups
and 'same', the 1-D ops, and `make_gif.py all`'s arithmetic section, decoded as a viewer sees
them."""
import re

import numpy as np
import pytest

import ops
from viz.arith import adds_up, number
from viz.inputs import toy_image
from viz.layout import overlaps
from viz.readback import read_gif
from viz.kernels import make_weight
from recipes import GALLERY, gallery_args, make, render
from conftest import GIF_DIR, gif_parser, make_gif
from pace import assert_paced

# the arithmetic section: name -> (argv, relationship)
ARITHMETIC = {n.split("/", 1)[1]: (g.argv, g.relation) for n, g in GALLERY.items()
              if n.startswith("arithmetic/")}

GUIDE = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], np.float32)


def _args(argv, relation=None):
    parser, _ = gif_parser()
    a = parser.parse_args(argv)
    if relation is not None:
        a.formula, a.frame_ms = relation, None
    return a


def _anim(argv, relation=None):
    return render(_args(argv, relation))


def _texts(anim, kind):
    return [p.name for p in anim.layout["placed"] if p.kind == kind]


def _gif(tmp_path, argv):
    out = tmp_path / "x.gif"
    assert make_gif(argv + ["--out", str(out), "--no-gifsicle"])["path"] == out
    return read_gif(out)


def _read_cells(frame, anim, shape):
    """The output values the last frame shows, read back through the colour scale."""
    sc, o = anim.layout["out_scale"], anim.layout["cell"]
    got = np.zeros(shape)
    for f, (x0, y0) in enumerate(anim.layout["out_cells"]):
        for idx in np.ndindex(shape[1:]):
            r, c = (0,) + idx if len(idx) == 1 else idx
            got[(f,) + idx] = sc.value(frame[y0 + r * o + 2, x0 + c * o + 2])
    return got, sc.step


def _no_overlap(anim):
    boxes = [p.box for p in anim.layout["placed"] if p.kind in ("text", "content")]
    assert overlaps(boxes) == []
    w, h = anim.layout["size"]
    assert all(0 <= b[0] and 0 <= b[1] and b[2] <= w and b[3] <= h for b in boxes)


# -- conv_transpose2d ----------------------------------------------------------------------
@pytest.mark.parametrize("view", ["scatter", "direct"])
def test_transposed_gif_reads_back_the_op_output(tmp_path, view):
    argv = ["conv_transpose2d", "--view", view, "--stride", "2", "--padding", "1",
            "--output-padding", "1"]
    frames, durations, _ = _gif(tmp_path, argv)
    a = _anim(argv)
    assert len(frames) == len(a) and durations == a.delays()
    x = toy_image(6, 3)[None, None]           # the default input: no zero row
    out, _ = ops.conv_transpose2d(x, GUIDE[None, None], None, 2, 1, 1)
    got, step = _read_cells(frames[-1], a, out.shape[1:])
    assert np.abs(got - out[0]).max() <= step / 2 + 1e-6
    labels = _texts(a, "text")
    assert "label input 1×3×3" in labels and "label output 1×6×6" in labels
    assert any(t.startswith("conv_transpose2d(x, weight 1×1×3×3, stride=2, padding=1, "
                            "output_padding=1)") for t in labels)
    tour = a.tour_frames()
    assert tour
    assert_paced(a, durations)
    _no_overlap(a)


def test_transposed_direct_working_adds_up_and_styles_inserted_zeros():
    a = _anim(["conv_transpose2d", "--view", "direct", "--stride", "2"])
    lay = a.layout
    for i in a.tour_frames():
        t = a.texts[i]
        for terms, total, exact in t["equations"]:
            assert exact and adds_up(terms, total)
        assert number(t["value"]) != 0              # never a window of zeros only
        # the window shows inserted zeros and padding as such, apart from the input's cells
        assert t["inserted"].shape == (3, 3)
    assert any(a.texts[i]["inserted"].any() for i in a.tour_frames())
    notes = " ".join(_texts(a, "text"))
    assert "blue 0s" in notes and "hatched" in notes and lay["view"] == "direct"


def test_transposed_scatter_stamps_are_cell_times_kernel():
    a = _anim(["conv_transpose2d", "--kernel", "ints", "--seed", "3"])
    w = make_weight(["ints"], 1, (3, 3), 3)[0, 0]
    x = toy_image(6, 3)
    for i in a.tour_frames():
        t = a.texts[i]
        r, c = map(int, re.search(r"x\[(\d+), (\d+)\]", t["head"]).groups())
        want = np.vectorize(lambda v: f"{v:.0f}".replace("-", "−"))(x[r, c] * w)
        assert (t["stamp"][0] == want).all()


def test_checkerboard_counts_overlaps():
    a = _anim(["conv_transpose2d", "--kernel", "ones", "--counts", "--input", "toy:0:3"])
    assert "stamps per output cell (uneven: checkerboard)" in _texts(a, "text")
    assert "overlap counts" in _texts(a, "content")


def test_transposed_tour_by_hand_and_bad_cell(capsys, tmp_path):
    a = _anim(["conv_transpose2d", "--tour", "1,1"])
    assert a.texts[0]["head"] == "x[1, 1] = 3"
    with pytest.raises(SystemExit) as e:
        make_gif(["conv_transpose2d", "--tour", "5,5", "--out", str(tmp_path / "x.gif")])
    assert e.value.code == 2 and "not a cell of the input 1×3×3" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# -- conv2d: groups and 'same' -------------------------------------------------------------
def test_groups_wiring_names_the_channels_each_filter_reads():
    a = _anim(["conv2d", "--input", "toy:0:5", "--channels", "4", "--filters", "4",
               "--groups", "2", "--kernel", "ints", "--no-bias"])
    assert "groups=2" in _texts(a, "text")[0]
    for i in a.tour_frames():
        t = a.texts[i]
        f = int(re.search(r"out\[(\d)", t["final"]).group(1))
        assert t["channels"] == ([0, 1] if f < 2 else [2, 3])
        assert f"filter {f} reads input channels {t['channels'][0]}…{t['channels'][1]}" \
            in t["wiring"]
        assert len(t["x"]) == 2 and all(ok for _, _, ok in t["equations"])


def test_same_padding_title_and_odd_cell():
    a = _anim(["conv2d", "--input", "toy:0:5", "--kernel", "ones", "--kernel-size", "4",
               "--padding", "same", "--no-bias"])
    texts = _texts(a, "text")
    assert any("padding='same'" in t for t in texts)
    assert any("(5 + 1 + 2 − 4)/1⌋ + 1 = 5" in t for t in texts)   # one more at the end
    assert "label output 1×5×5" in texts


# -- 1-D -----------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["conv1d"], ["maxpool1d", "--kernel-size", "3", "--stride",
                                                "2", "--padding", "1"],
                                  ["avgpool1d", "--kernel-size", "3"]])
def test_signal_gifs_read_back_their_output(tmp_path, argv):
    frames, durations, _ = _gif(tmp_path, argv)
    a = _anim(argv)
    x = toy_image(0, 12)[6][None, None]
    if argv[0] == "conv1d":
        out, _ = ops.conv1d(x, make_weight(["ints"], 1, (1, 3), 0)[:, :, 0])
    elif argv[0] == "maxpool1d":
        out, _ = ops.max_pool1d(x, 3, 2, 1)
    else:
        out, _ = ops.avg_pool1d(x, 3)
    got, step = _read_cells(frames[-1], a, out.shape[1:])
    assert np.abs(got - out[0]).max() <= step / 2 + 1e-6
    assert f"label input 1×12" in _texts(a, "text")
    assert f"label output 1×{out.shape[2]}" in _texts(a, "text")
    assert a.tour_frames()
    assert_paced(a, durations)
    for i in a.tour_frames():
        assert all(ok for _, _, ok in a.texts[i]["equations"])
    _no_overlap(a)


def test_causal_conv1d_reads_only_the_past():
    a = _anim(["conv1d", "--padding", "causal", "--kernel-size", "3"])
    x = toy_image(0, 12)[6][None, None]
    w = make_weight(["ints"], 1, (1, 3), 0)[:, :, 0]
    full, _ = ops.conv1d(x, w, padding=2)          # causal = the first L of symmetric padding
    texts = _texts(a, "text")
    assert "label input 1×12 (+ 2 causal zeros)" in texts and "label output 1×12" in texts
    assert any("left only" in t for t in texts)
    for i in a.tour_frames():
        t = a.texts[i]
        k = int(re.search(r"out\[(\d+)\]", t["where"]).group(1))
        assert number(t["value"]) == int(full[0, 0, k])
        lo, hi = re.search(r"input cells (\S+)…(\S+) ", t["window"]).groups()
        assert int(hi.replace("−", "-")) == k              # the window ends at t itself


@pytest.mark.parametrize("argv, match", [
    (["conv2d", "--channels", "4", "--groups", "3"], "--groups 3"),
    (["conv1d", "--kernel", "sobel-x"], "1-D kernel"),
    (["conv_transpose2d", "--output-padding", "2"], "output_padding"),
    (["maxpool1d", "--row", "40"], "--row 40"),
    (["conv_transpose2d", "--channels", "5"], "expected 1 to 4")])
def test_bad_usage_exits_2_with_one_line(tmp_path, capsys, argv, match):
    with pytest.raises(SystemExit) as e:
        make_gif(argv + ["--out", str(tmp_path / "x.gif")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
    assert list(tmp_path.iterdir()) == []


# -- the arithmetic section ----------------------------------------------------------------
GUIDE_SET = ["no_padding_no_strides", "arbitrary_padding_no_strides", "same_padding_no_strides",
             "full_padding_no_strides", "no_padding_strides", "padding_strides",
             "padding_strides_odd", "dilation"]


def test_the_section_holds_every_guide_animation_and_the_extras():
    names = set(ARITHMETIC)
    assert set(GUIDE_SET) <= names
    assert {n + "_transposed" for n in GUIDE_SET if n != "dilation"} <= names
    assert {"groups2", "depthwise", "causal_conv1d", "checkerboard"} <= names


def _shown(line, texts):
    """``line`` is on the frame: one text, or consecutive texts it was broken into (a line
    wider than the frame wraps; a continued equation starts with "= ")."""
    norm = lambda t: re.sub(r"\s+", " ", t).strip()          # noqa: E731
    return any(norm(" ".join(texts[i:j])) == norm(line)
               for i in range(len(texts)) for j in range(i + 1, min(i + 4, len(texts)) + 1))


@pytest.mark.parametrize("name", sorted(n for n, (_, r) in ARITHMETIC.items() if r))
def test_arithmetic_gif_title_carries_its_relationship(name):
    argv, relation = ARITHMETIC[name]
    a = _anim(argv, relation)
    assert _shown(relation, _texts(a, "text"))
    size = int(re.search(r"= (\d+)(?:  |$)", relation).group(1))      # the relation's result
    out = [t for t in _texts(a, "text") if t.startswith("label output")][0]
    assert out.endswith(f"×{size}×{size}")
    ins = [t for t in _texts(a, "text") if t.startswith("label input")][0]
    i = int(re.search(r"toy:\d+:(\d+)", " ".join(argv)).group(1))
    assert ins.endswith(f"×{i}×{i}")
    for k in a.tour_frames():                 # whole numbers: every shown sum is exact
        assert all(ok for _, _, ok in a.texts[k]["equations"])
    assert_paced(a, a.delays())


def test_transposed_groups_fill_only_their_own_outputs():
    from viz.palette import BLANK
    a = _anim(["conv_transpose2d", "--channels", "2", "--filters", "4", "--groups", "2",
               "--kernel", "ints", "--padding", "1", "--tour", "0,0,0"])
    (x0, y0), (x2, y2) = a.layout["out_cells"][0], a.layout["out_cells"][2]
    first = a.frames[0]
    assert a.texts[0]["head"] == "x[0, 0, 0] = 1"
    assert first[y0 + 2, x0 + 2] != BLANK          # group 0's output got the stamp
    assert first[y2 + 2, x2 + 2] == BLANK          # group 1's output did not


def _op_output(a):
    """The op behind parsed gallery arguments ``a``, run here from the same inputs."""
    _, seed, side = a.input.split(":")
    x = toy_image(int(seed), int(side))
    ks = a.kernel_size if isinstance(a.kernel_size, tuple) else (a.kernel_size,) * 2
    if a.op == "conv2d":
        w = make_weight([a.kernel], 1, ks, a.seed)
        out, _ = ops.conv2d(x[None, None], w, None, a.stride, a.padding, a.dilation)
    else:
        w = make_weight([a.kernel], 1, ks, a.seed)
        out, _ = ops.conv_transpose2d(x[None, None], w, None, a.stride, a.padding,
                                      a.output_padding, 1, a.dilation)
    return out[0]


@pytest.mark.parametrize("name", [n for n, (_, r) in ARITHMETIC.items() if r])
def test_arithmetic_gif_decoded(tmp_path, name):
    gif = GALLERY[f"arithmetic/{name}"]
    parser, subs = gif_parser()
    a = gallery_args(parser, gif, tmp_path / f"{name}.gif", no_gifsicle=True)
    r = make(a, subs[a.op], GIF_DIR)
    frames, durations, loop = read_gif(r["path"])
    anim = render(gallery_args(parser, gif, tmp_path / "x.gif"))
    assert len(frames) == len(anim) == r["frames"] and loop == 0
    assert r["bytes"] <= 500 * 1024
    tour = anim.tour_frames()
    assert len(tour) >= 2
    assert_paced(anim, durations)
    out = _op_output(a)
    lay = anim.layout
    if "out_cells" in lay:                                    # conv_transpose2d
        got, step = _read_cells(frames[-1], anim, out.shape)
    else:                                                     # conv2d's window GIF
        sc, o = lay["out_scale"], lay["cell"]
        (x0, y0), = lay["output_xy"]
        got = np.array([[sc.value(frames[-1][y0 + r * o + 2, x0 + c * o + 2])
                         for c in range(out.shape[2])] for r in range(out.shape[1])])[None]
        step = sc.step
    assert np.abs(got - out).max() <= step / 2 + 1e-6


def test_means_of_whole_numbers_keep_their_decimals():
    a = _anim(["avgpool", "--input", "toy", "--kernel-size", "3", "--stride", "3"])
    for i in a.tour_frames():
        total, n, mean, ok = a.texts[i]["divide"]
        assert "." not in total and abs(number(total) / n - number(mean)) < 0.005 and ok


def test_toy_size_and_integer_kernels():
    from viz.inputs import load_image
    img, desc, _ = load_image("toy:2:5")
    assert img.shape == (5, 5) and "5×5" in desc and np.array_equal(img, toy_image(2, 5))
    assert np.array_equal(load_image("toy:2")[0], toy_image(2))          # 6×6 as before
    for bad in ("toy:0:0", "toy:0:17", "toy:0:3:1", "toy:0:x"):
        with pytest.raises(ValueError, match="toy:SEED:SIZE"):
            load_image(bad)
    assert np.array_equal(make_weight(["guide"], 1, (3, 3))[0, 0], GUIDE)
    w = make_weight(["ints", "ints"], 2, (4, 4), 7)
    assert w.shape == (2, 2, 4, 4) and set(np.unique(w)) <= {-1, 0, 1, 2}
    assert not np.array_equal(w[0], w[1]) and (make_weight(["ones"], 1, (2, 5)) == 1).all()
