"""The chain rule along one path (training.chain, make_gif.py chain-rule): the sum over all
paths is the backward pass's gradient to 1e-12 in float64, every row's ∂L/∂unit is the sum of
its terms one layer up, and the GIF shows the same numbers when decoded."""
from pathlib import Path

import numpy as np
import pytest

import ops
from training import load_model
from training.chain import chain_rule, column, strongest_target
from training.features import prepare_unit_image
from viz.chain_gif import HEADER, product_shown, sig
from viz.inputs import load_image
from viz.readback import read_map
from conftest import decoded_view, make_gif

LENET = Path(__file__).resolve().parents[1] / "models" / "lenet5.npz"


@pytest.fixture(scope="module")
def net():
    model, config = load_model(str(LENET), dtype=np.float64)
    src = load_image("default")
    return model, prepare_unit_image(src.image, config.normalize).astype(np.float64), src.label


def _loss(model, x, label):
    loss, _ = ops.cross_entropy(model.forward(x), np.array([label]))
    return float(loss)


@pytest.mark.parametrize("what", ["weight", "pixel"])
@pytest.mark.parametrize("label", [7, 3])
def test_sum_over_all_paths_is_the_backward_gradient(net, what, label):
    model, x, _ = net
    target = (what, strongest_target(model, x, label, what))
    tr = chain_rule(model, x, label, target)
    assert abs(tr.end_value - tr.backward) <= 1e-12
    assert tr.links[-1].grad == tr.backward
    # and the backward pass is the derivative of the loss: a central difference agrees
    eps = 1e-6
    if what == "weight":
        w = model.children["c1"].weight.data
        keep = w[target[1]]
        w[target[1]] = keep + eps
        up = _loss(model, x, label)
        w[target[1]] = keep - eps
        down = _loss(model, x, label)
        w[target[1]] = keep
    else:
        xp, xm = x.copy(), x.copy()
        xp[(0, 0) + target[1]] += eps
        xm[(0, 0) + target[1]] -= eps
        up, down = _loss(model, xp, label), _loss(model, xm, label)
    fd = (up - down) / (2 * eps)
    # (a loss of ~1e-5 is 1 − p with p ≈ 1: its rounding, ~1e-16, over 2·eps bounds the match)
    assert abs(fd - tr.backward) <= 1e-4 * abs(tr.backward) + 1e-9


def test_every_row_is_the_sum_of_its_terms_and_the_product_runs_down(net):
    model, x, label = net
    tr = chain_rule(model, x, label, ("weight", (2, 0, 3, 1)))
    names = list(model.children)
    links = tr.links
    assert [lk.name for lk in links] == ["loss", *reversed(names), "weight"]
    for t in range(2, len(links)):
        lk, up = links[t], links[t - 1]
        assert lk.product == up.product * lk.local                 # the running product
        i = names.index(lk.name) if lk.name in names else -1
        if i < 0:
            continue
        nxt = names[i + 1]
        layer = model.children[nxt]
        col = column(layer, _kind(layer), _input(model, x, nxt), lk.unit)
        terms = tr.grads[nxt] * col
        assert np.count_nonzero(terms) == lk.terms
        assert abs(terms.sum() - lk.grad) <= 1e-12 * max(1.0, abs(lk.grad))
        assert col[up.unit] == lk.local                           # the link's own derivative


def _kind(layer):
    from training.chain import _kind as kind
    return kind(layer)


def _input(model, x, name):
    h = x
    for n, layer in model.children.items():
        if n == name:
            return h
        h = layer.forward(h)


def test_the_top_layers_sum_over_their_840_paths_literally(net):
    """∂L/∂a5[n] written out as the sum over every path logit k -> a6[m] -> f6[m] -> a5[n]:
    10 × 84 products of local derivatives, added up, equal the backward pass."""
    model, x, label = net
    tr = chain_rule(model, x, label, ("weight", (2, 0, 3, 1)))
    n = next(lk for lk in tr.links if lk.name == "a5").unit[0]
    dz = tr.grads["out"]                                   # ∂L/∂z, 10
    w_out, w6 = model.children["out"].weight.data, model.children["f6"].weight.data
    relu6 = (_input(model, x, "a6")[0] > 0).astype(float)  # relu′ of f6's output
    paths = [dz[k] * w_out[k, m] * relu6[m] * w6[m, n] for k in range(10) for m in range(84)]
    assert len(paths) == 840
    assert abs(sum(paths) - tr.grads["a5"][n]) <= 1e-15


def test_chain_rule_gif_reads_back(tmp_path, net):
    argv = ["chain-rule", "--weight", "2,0,3,1"]
    frames, anim = decoded_view(argv, tmp_path / "c.gif")
    model, x, label = net
    tr = chain_rule(model, x, label, ("weight", (2, 0, 3, 1)))
    # the maps beside the rows are the backward pass's gradients, read back by colour
    for i in (4, len(frames) - 1):
        m = anim.layout["maps"][i]
        got = read_map(frames[i], m["xy"], m["cell"], m["values"].shape, m["scale"])
        ok = np.isfinite(m["values"])
        ok[m["ring"]] = False                  # the path's cell is ringed in the accent
        assert np.abs(got[ok] - m["values"][ok]).max() <= m["scale"].step / 2 + 1e-18
    assert np.array_equal(anim.layout["maps"][-1]["values"], tr.end_terms[2])
    # every row as written: the product follows from the row above, else it says ≈
    rows = anim.texts[-1]["rows"]
    assert len(rows) == len(tr.links)
    p = HEADER.index("running product")
    for t in range(2, len(rows)):
        exact = product_shown(rows[t - 1][p].lstrip("≈ "), rows[t][HEADER.index("local ∂")],
                              rows[t][p].lstrip("≈ "))
        assert rows[t][p].startswith("≈") != exact
    assert rows[-1][HEADER.index("∂L/∂unit")] == sig(tr.backward)
    end = anim.texts[-1]["end"]
    assert f"Σ = {sig(tr.end_value, 6)}" in end and f"backward pass: {sig(tr.backward, 6)}" in end
    assert anim.phases[-1] == "hold" and all(ph == "link" for ph in anim.phases[:-1])


@pytest.mark.parametrize("argv,words", [
    (["--pixel", "40,3"], "--pixel 40,3: outside the 28×28 input"),
    (["--weight", "9,0,0,0"], "--weight 9,0,0,0: outside c1's weight 6×1×5×5"),
    (["--weight", "1,2"], "--weight '1,2': expected 4 integers"),
    (["--weights", "/nonexistent.npz"], "cannot read")])
def test_chain_rule_errors_are_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        make_gif(["chain-rule", *argv, "--out", "/tmp/never-written.gif"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
