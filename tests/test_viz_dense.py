"""Linear, flatten and activation GIFs: the tour, arithmetic that adds up on screen, and
layouts whose text never collides, over a grid of configurations."""

import numpy as np
import pytest

import ops
from viz.arith import adds_up, number, show
from viz.elementwise_gif import render_elementwise, shown_result
from viz.encode import write_gif
from viz.flatten_gif import render_flatten
from viz.layout import overlaps
from viz.linear_gif import render_linear
from viz.readback import read_gif
from conftest import make_gif, render_gif
from pace import assert_paced


def _linear(n_in, n_out, seed=0):
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.normal(size=(1, n_in)), 0).astype(np.float32)      # some zeros
    w = rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)).astype(np.float32)
    b = rng.normal(0, 0.1, n_out).astype(np.float32)
    _, cache = ops.linear(x, w, b)
    return cache.trace(sample=0)


def _flatten(c, h, w, seed=0):
    x = np.random.default_rng(seed).random((1, c, h, w)).astype(np.float32)
    x[x < 0.4] = 0
    _, cache = ops.flatten(x)
    return cache.trace(sample=0)


def _act(name, h=10, w=12, seed=0):
    x = np.random.default_rng(seed).normal(0, 2, (1, 1, h, w)).astype(np.float32)
    _, cache = getattr(ops, name)(x)
    return cache.trace(sample=0)


def _text_fits(anim):
    lay = anim.layout["layout"]
    texts = lay.boxes("text") + lay.boxes("content")
    assert overlaps(texts) == []
    for x0, y0, x1, y1 in texts + lay.boxes("panel"):
        assert 0 <= x0 <= x1 <= lay.width and 0 <= y0 <= y1 <= lay.height
    assert anim.frames[0].shape == (lay.height, lay.width)


# -- the layout grid: no text box overlaps another or leaves the canvas ---------------------
@pytest.mark.parametrize("n_in", [1, 4, 16, 49])
@pytest.mark.parametrize("n_out", [1, 2, 5, 10, 16, 17, 32])
def test_linear_layout_grid(n_in, n_out):
    anim = render_linear(_linear(n_in, n_out), max_frames=8)
    _text_fits(anim)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("hw", [(1, 1), (4, 4), (7, 7), (2, 9)])
def test_flatten_layout_grid(channels, hw):
    if channels * hw[0] * hw[1] > 256:
        pytest.skip("more than the renderer draws")
    _text_fits(render_flatten(_flatten(channels, *hw), max_frames=8))


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("hw", [(1, 1), (5, 30), (28, 28)])
def test_elementwise_layout_grid(name, hw):
    _text_fits(render_elementwise(_act(name, *hw), max_frames=8))


# -- the tour ---------------------------------------------------------------------------------
def _decoded(tmp_path, anim, frame_ms=50, hold_ms=2000):
    d = anim.durations(frame_ms, hold_ms)
    frames, got, _ = read_gif(write_gif(tmp_path / "t.gif", anim.frames, d, use_gifsicle=False))
    return frames, got


@pytest.mark.parametrize("render", ["linear", "flatten", "relu", "sigmoid", "tanh"])
def test_tour_frames_last_over_a_second_and_show_numbers(tmp_path, render):
    if render == "linear":
        anim = render_linear(_linear(16, 10))
        zero = [not any(number(t) for t in w["terms"]) and number(w["y"]) == 0
                for w in anim.texts]
    elif render == "flatten":
        anim = render_flatten(_flatten(2, 4, 4))
        zero = [w["k"] == 0 and number(w["value"]) == 0 for w in anim.texts]
    else:
        anim = render_elementwise(_act(render), max_frames=40)
        zero = [number(w["x"]) == 0 for w in anim.texts[:anim.phases.count("tour")]]
    phases = anim.phases
    n_tour = phases.count("tour")         # frames; a stop may be built up over several
    stops = list(dict.fromkeys(int(k) for k in anim.steps[:n_tour]))
    assert len(stops) == 3 and phases[:n_tour] == ["tour"] * n_tour
    assert not any(zero[:n_tour])
    assert all(w["reason"] and w["reason"] != "chosen by hand" for w in anim.texts[:n_tour])
    frames, got = _decoded(tmp_path, anim)
    assert len(frames) == len(anim)                      # no frame merged into another
    assert_paced(anim, got)
    # a tour frame shows its step's output cell filled: it differs from the frame before
    for a, b in zip(frames[:n_tour], frames[1:n_tour]):      # each adds numbers
        assert (a != b).any()
    if render in ("relu", "sigmoid", "tanh"):        # the toured cell is coloured, on screen
        (ox, oy), s = anim.layout["output_xy"][0], anim.layout["cell"]
        sc, W = anim.layout["out_scale"], _act(render).input.shape[3]
        for f, k in zip(frames[:n_tour], anim.steps):
            r, c = divmod(int(k), W)
            assert sc.contains(f[oy + r * s + s // 2, ox + c * s + s // 2])


def test_relu_tour_shows_a_clipped_negative_and_a_passing_positive():
    anim = render_elementwise(_act("relu"))
    n_tour = anim.phases.count("tour")
    xs = [number(w["x"]) for w in anim.texts[:n_tour]]
    assert min(xs) < 0 < max(xs)


@pytest.mark.parametrize("max_frames, n_tour", [(2, 0), (3, 1), (5, 3), (200, 3)])
def test_a_short_max_frames_shortens_the_tour(max_frames, n_tour):
    for anim in (render_linear(_linear(6, 8), max_frames=max_frames),
                 render_flatten(_flatten(2, 3, 3), max_frames=max_frames),
                 render_elementwise(_act("relu", 4, 5), max_frames=max_frames)):
        n = anim.phases.count("tour")
        assert len(dict.fromkeys(anim.steps[:n].tolist())) == n_tour and len(anim) <= max_frames


def test_tour_by_hand_and_none():
    tr = _linear(6, 5)
    anim = render_linear(tr, tour=[3, 1])
    n = anim.phases.count("tour")
    assert list(dict.fromkeys(anim.steps[:n].tolist())) == [3, 1]
    assert anim.phases[n] == "sweep"
    assert anim.texts[0]["reason"] == "chosen by hand"
    assert "tour" not in render_linear(tr, tour="none").phases
    with pytest.raises(ValueError, match="tour neuron 5"):
        render_linear(tr, tour=[5])
    fl = render_flatten(_flatten(2, 3, 3), tour=[10])
    assert fl.texts[0]["k"] == 10
    el = render_elementwise(_act("tanh", 4, 5), tour=[(2, 3)])
    assert list(el.steps[:1]) == [2 * 5 + 3]
    with pytest.raises(ValueError, match="outside"):
        render_elementwise(_act("tanh", 4, 5), tour=[(4, 0)])


# -- arithmetic that adds up at the precision shown ---------------------------------------
@pytest.mark.parametrize("n_in, n_out, seed", [(16, 10, 0), (6, 4, 1), (24, 32, 2), (1, 1, 3)])
def test_linear_working_adds_up_on_every_tour_frame(n_in, n_out, seed):
    tr = _linear(n_in, n_out, seed)
    anim = render_linear(tr)
    for i, w in enumerate(anim.texts):
        k = anim.steps[i]
        assert number(w["y"]) == number(show(tr.value[k], w["decimals"]))   # the op's own y
        assert len(w["terms"]) == n_in
        # every product is the exact product of the x and W shown beside it, Σ their sum
        for xs, ws, ps in zip(w["x"], w["w"], w["terms"]):
            assert number(ps) == number(xs) * number(ws), (xs, ws, ps)
        assert adds_up(w["terms"], w["sum"]) and not w["approx"]
        # y is the op's own: "=" when Σ + b gives it at the shown digits, else "≈"
        assert adds_up([w["sum"]] + ([w["bias"]] if w["bias"] else []), w["y"]) != w["rounded"]


def test_flatten_index_arithmetic_adds_up():
    anim = render_flatten(_flatten(3, 2, 5))
    for w, k in zip(anim.texts, anim.steps):
        assert sum(w["terms"]) == w["k"] == k


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_working_gives_the_shown_output(name):
    tr = _act(name)
    anim = render_elementwise(tr)
    n_tour = anim.phases.count("tour")
    assert all(w is None for w in anim.texts[n_tour:])      # sweep and hold: no working
    for i, w in enumerate(anim.texts[:n_tour]):
        d = w["decimals"]
        assert w["y"] == show(tr.value[anim.steps[i]], d)
        if name == "relu":
            assert number(w["y"]) == max(0, number(w["x"]))
        else:
            assert (shown_result(name, w["parts"], d) == w["y"]) != w["approx"]
        if i < n_tour:
            assert not w["approx"]


# -- as a user runs them: make_gif.py, decoded ------------------------------------------
def _make(argv, out):
    return make_gif(argv + ["--out", str(out), "--no-gifsicle"])


@pytest.mark.parametrize("argv", [["relu"], ["linear"], ["flatten", "--channels", "2"],
                                  ["linear", "--out-features", "32"],
                                  ["flatten", "--channels", "4"],
                                  ["softmax", "--logits", ",".join(["0.5"] * 19 + ["2"]),
                                   "--label", "3"]])
def test_gifs_fit_their_budget_and_tour_slowly(tmp_path, argv):
    r = _make(argv, tmp_path / "g.gif")
    frames, got, _ = read_gif(r["path"])
    assert r["bytes"] <= 500 * 1024
    anim = render_gif(argv)
    assert_paced(anim, got)
    tour = anim.tour_frames()
    assert tour and got[-1] >= 2000
    if argv[0] != "softmax":
        assert tour == list(range(len(tour)))          # the tour comes first


def test_tour_option_of_the_vector_ops(tmp_path, capsys):
    a = _make(["linear", "--tour", "3", "7"], tmp_path / "l.gif")
    assert_paced(render_gif(["linear", "--tour", "3", "7"]), read_gif(a["path"])[1])
    assert render_gif(["flatten", "--tour", "none"]).phases.count("tour") == 0
    for argv, match in ((["linear", "--tour", "x"], "not a neuron index"),
                        (["flatten", "--tour", "99"], "tour index 99"),
                        (["relu", "--tour", "30,1"], "outside")):
        with pytest.raises(SystemExit) as e:
            make_gif(argv + ["--out", str(tmp_path / "x.gif")])
        assert e.value.code == 2 and match in capsys.readouterr().err
        assert not (tmp_path / "x.gif").exists()


def test_relu_on_whole_numbers_shows_whole_numbers():
    x = np.array([[-4, 3, 0], [2, -1, 5]], np.float32)[None, None]
    _, cache = ops.relu(x)
    anim = render_elementwise(cache.trace(sample=0))
    n_tour = anim.phases.count("tour")
    assert n_tour >= 3
    for w in anim.texts[:n_tour]:
        assert w["decimals"] == 0 and "." not in "".join(w["lines"])
        assert number(w["y"]) == max(0, number(w["x"]))
