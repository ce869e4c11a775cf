"""make_gif.py's backward subcommands: LeNet-5's real gradient by default, a clear fallback
for hand-made geometry, and one line with exit code 2 for bad usage."""
from pathlib import Path

import numpy as np
import pytest

from viz.readback import read_gif, read_map
from conftest import make_gif, render_gif
from pace import assert_paced

ROOT = Path(__file__).resolve().parents[1]
_make, _anim = make_gif, render_gif


def test_maxpool_backward_default_is_lenet5s_own_gradient(tmp_path):
    from training import load_model
    from training.gradients import lenet_layer_case
    from viz.inputs import load_image
    r = _make(["maxpool-backward", "--out", str(tmp_path / "m.gif"), "--no-gifsicle"])
    frames, durations, _ = read_gif(r["path"])
    assert len(frames) == r["frames"] and r["tour_frames"] >= 3
    anim = _anim(["maxpool-backward"])
    assert_paced(anim, durations)
    placed = [p.name for p in anim.layout["placed"]]
    assert any("LeNet-5's loss (label 7" in n for n in placed)
    model, config = load_model(str(ROOT / "models" / "lenet5.npz"))
    case = lenet_layer_case(model, config, load_image("default")[0], "pool", label=7)
    # the last frame's gradient is LeNet-5's s2 gradient routed to a1, channel `index`
    lay = anim.layout
    got = read_map(anim.frames[-1], lay["grad_xy"], lay["grad_cell"], (28, 28),
                    lay["grad_scale"], lay["unit"])
    want = case["grads"].dxs["s2"][0, case["index"]]
    assert np.abs(got - want).max() <= lay["grad_scale"].step / 2 * lay["unit"] + 1e-12


def test_hand_made_geometry_falls_back_to_random_with_a_note(capsys):
    anim = _anim(["avgpool-backward", "--kernel-size", "3", "--stride", "2", "--padding", "1"])
    err = capsys.readouterr().err
    assert "note: --dout lenet5: LeNet-5 has no layer with --kernel-size, --stride, --padding" \
        in err and "using --dout random" in err
    placed = [p.name for p in anim.layout["placed"]]
    assert any("random N(0, 1), seed 0 (LeNet-5 has no layer" in n for n in placed)
    anim = _anim(["conv2d-backward-input", "--input", "toy", "--dout", "ones", "--view",
                  "gather", "--stride", "2", "--kernel", "random"])
    assert capsys.readouterr().err == ""
    assert any("inserted" in p.name for p in anim.layout["placed"])


@pytest.mark.parametrize("argv, msg", [
    (["conv2d-backward-weight", "--filter", "9"], "--filter 9: layer c1 has 6 filters"),
    (["maxpool-backward", "--dout", "zeros"], "argument --dout: invalid choice"),
    (["relu-backward", "--label", "12"], "argument --label: 12, expected a class 0 to 9"),
])
def test_bad_usage_is_one_line_and_exit_2(tmp_path, capsys, argv, msg):
    out = tmp_path / "x.gif"
    with pytest.raises(SystemExit) as e:
        make_gif(argv + ["--out", str(out)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]
    assert not out.exists()


def test_every_backward_command_renders():
    for argv in (["conv2d-backward-input"], ["conv2d-backward-weight"], ["relu-backward"],
                 ["linear-backward", "--wrt", "weight"], ["linear-backward", "--pool", "7",
                                                          "--dout", "random"]):
        anim = _anim(argv)
        assert len(anim) >= 5 and anim.tour_frames()


def test_tour_by_hand_names_upstream_cells():
    anim = _anim(["maxpool-backward", "--tour", "3,4", "9,4"])
    tour = anim.tour_frames()
    assert [int(anim.steps[i]) for i in tour] == [3 * 14 + 4, 9 * 14 + 4]
    assert anim.texts[tour[0]]["where"].startswith("∂L/∂out[3, 4]")
    anim = _anim(["conv2d-backward-input", "--view", "gather", "--tour", "5,6"])
    # one stop, built up over several frames
    assert {int(anim.steps[i]) for i in anim.tour_frames()} == {5 * 32 + 6}
    assert _anim(["conv2d-backward-weight", "--tour", "none"]).tour_frames() == []
    with pytest.raises(ValueError, match="outside the 14×14"):
        _anim(["maxpool-backward", "--tour", "14,0"])
