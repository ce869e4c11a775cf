"""make_gif.py's --tour and --input toy, as a user runs them."""

import numpy as np
import pytest

from viz.inputs import load_image, toy_image
from viz.readback import read_gif
from conftest import make_gif, render_gif

_anim = render_gif


def test_tour_by_hand_unquoted_and_off(tmp_path):
    a = _anim(["maxpool", "--tour", "4,9", "7,7"])
    assert a.phases[:2] == ["tour", "tour"] and a.phases[2] == "sweep"
    assert a.steps[:2].tolist() == [4 * 14 + 9, 7 * 14 + 7]
    a = _anim(["conv2d", "--filters", "2", "--kernel", "sobel-x,sobel-y", "--tour", "1,3,3"])
    assert a.steps[0] == 1 * 28 * 28 + 3 * 28 + 3
    out = tmp_path / "n.gif"
    r = make_gif(["maxpool", "--tour", "none", "--out", str(out), "--no-gifsicle"])
    _, durations, _ = read_gif(out)
    # no tour: the sweep at the fastest pace, and the hold waits so it stays ≤ 40 % of the play
    assert r["tour_frames"] == 0 and max(durations[:-1]) == 20
    assert sum(durations[:-1]) <= 0.4 * sum(durations) + 10


@pytest.mark.parametrize("tour, match", [(["14,0"], "outside the output 1×14×14"),
                                         (["a,b"], "R,C"), (["1,2,3,4"], "R,C")])
def test_bad_tour_exits_2_with_one_line(tmp_path, capsys, tour, match):
    with pytest.raises(SystemExit) as e:
        make_gif(["maxpool", "--tour", *tour, "--out", str(tmp_path / "x.gif")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "error:" in err[-1] and match in err[-1]
    assert list(tmp_path.iterdir()) == []


def test_toy_input_is_small_whole_numbers():
    img, desc, label = load_image("toy")
    assert img.shape == (6, 6) and set(np.unique(img)) <= {0, 1, 2, 3} and "toy" in desc
    assert label is None                                  # the toy input has no class
    assert np.array_equal(img, toy_image(0)) and not np.array_equal(load_image("toy:1")[0], img)
    with pytest.raises(ValueError, match="toy:SEED"):
        load_image("toy:x")
    a = _anim(["conv2d", "--input", "toy"])
    assert a.layout["decimals"] == 0                      # every number shown exactly
    for i in a.tour_frames():
        assert all(exact for *_, exact in a.texts[i]["equations"])
        assert "." not in a.texts[i]["final"]
