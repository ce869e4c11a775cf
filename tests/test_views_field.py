"""Receptive fields (training.receptive, make_gif.py receptive-field): the geometric field
holds every pixel the real gradient reaches, its size follows the formula, the gradient is
the derivative of the unit, and the GIF shows them when decoded."""
import re
from pathlib import Path

import numpy as np
import pytest

from training import load_model
from training.features import prepare_unit_image
from training.receptive import PAPER, receptive_field, strongest_unit
from viz.inputs import load_image
from viz.readback import read_map
from conftest import decoded_view, make_gif

LENET = Path(__file__).resolve().parents[1] / "models" / "lenet5.npz"


@pytest.fixture(scope="module")
def net():
    model, config = load_model(str(LENET), dtype=np.float64)
    src = load_image("default")
    return model, prepare_unit_image(src.image, config.normalize).astype(np.float64)


def _unit(model, x, layer, unit):
    h = x
    for n, child in model.children.items():
        h = child.forward(h)
        if n == layer:
            return float(h[(0,) + tuple(unit)])


@pytest.mark.parametrize("paper", list(PAPER))
def test_the_gradient_lives_inside_the_geometric_field(net, paper):
    model, x = net
    layer = PAPER[paper]
    unit = strongest_unit(model, x, layer)
    rf = receptive_field(model, x, layer, unit)
    r0, r1, c0, c1 = rf.box
    outside = np.ones(rf.gradient.shape, bool)
    outside[r0:r1 + 1, c0:c1 + 1] = False
    assert np.all(rf.gradient[outside] == 0)
    assert np.count_nonzero(rf.gradient) > 0
    last = rf.steps[-1]
    if last.kind != "linear":      # the unclipped field of one unit is r × r
        u0, u1, v0, v1 = rf.unclipped
        assert (u1 - u0 + 1, v1 - v0 + 1) == last.r
        for st in rf.steps:
            a0, a1, b0, b1 = st.one
            assert (a1 - a0 + 1, b1 - b0 + 1) == st.r
    for st in rf.steps:            # every formula adds up as written
        for a, k, j, r in re.findall(r"(\d+) \+ \((\d+) − 1\)·(\d+) = (\d+)", st.formula):
            assert int(a) + (int(k) - 1) * int(j) == int(r)


def test_c1_field_is_its_kernel_and_deeper_fields_are_the_derivative(net):
    model, x = net
    rf = receptive_field(model, x, "c1", (2, 14, 18))
    w = model.children["c1"].weight.data[2, 0]
    assert np.array_equal(rf.gradient[12:17, 16:21], w)        # ∂c1[2,14,18]/∂x[14+a−2, 18+b−2]
    unit = (5, 3, 3)                       # on the stroke of the 7
    rf = receptive_field(model, x, "c3", unit)
    eps, checked = 1e-6, 0
    u0 = _unit(model, x, "c3", unit)
    for (r, c) in np.argwhere(rf.gradient != 0):
        if checked == 6:
            break
        xp, xm = x.copy(), x.copy()
        xp[0, 0, r, c] += eps
        xm[0, 0, r, c] -= eps
        up, down = _unit(model, xp, "c3", unit), _unit(model, xm, "c3", unit)
        if abs((up - u0) - (u0 - down)) > 1e-9:
            continue       # a kink (a max-pool tie on the flat background): no derivative
        assert abs((up - down) / (2 * eps) - rf.gradient[r, c]) <= 1e-7
        checked += 1
    assert checked >= 3


def test_receptive_field_gif_reads_back(tmp_path, net):
    argv = ["receptive-field", "--layer", "c3", "--unit", "5,3,3"]
    frames, anim = decoded_view(argv, tmp_path / "f.gif")
    model, x = net
    rf = receptive_field(model, x, "c3", (5, 3, 3))
    g, xy, cell, sc = anim.layout["maps"][-1]["erf"]
    assert np.array_equal(g, rf.gradient)
    got = read_map(frames[-1], xy, cell, g.shape, sc)
    ok = _far(g.shape, rf.box)          # the field's outline covers the cells along it
    assert np.abs(got[ok] - g[ok]).max() <= sc.step / 2 + 1e-12
    texts = anim.texts
    assert texts[0]["work"].startswith("r = 1 + (5 − 1)·1 = 5")
    assert "nonzero on" in texts[-1]["caption"]
    assert f"{np.count_nonzero(rf.gradient)} of the 14×14" in texts[-1]["caption"]


def _far(shape, box, m=2):
    """Cells at least ``m`` cells away from the box outline."""
    r0, r1, c0, c1 = box
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    near = (rr >= r0 - m) & (rr <= r1 + m) & (cc >= c0 - m) & (cc <= c1 + m)
    inside = (rr > r0 + 1) & (rr < r1 - 1) & (cc > c0 + 1) & (cc < c1 - 1)
    return ~near | inside


def test_receptive_field_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        make_gif(["receptive-field", "--unit", "16,0,0", "--out", "/tmp/never-written.gif"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--unit 16,0,0: outside c3's output 16×10×10" in err[0]
