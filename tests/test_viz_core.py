"""viz building blocks: the frame plan, the palette and colour scales, the GIF encoder."""
import base64
import io
import re
import shutil

import numpy as np
import pytest

from viz.encode import frame_durations, write_gif
from viz.frames import plan_tour
from viz.palette import (DIV0, DIV_LEVELS, GRAY_LEVELS, WHITE, auto_scale,
                         diverging_scale, gray_scale, palette_rgb)
from viz.readback import read_gif


# -- plan_tour -----------------------------------------------------------------------------
@pytest.mark.parametrize("n, tour, m", [(12, [], 20), (500, [7, 300, 41], 200), (30, [3], 5)])
def test_plan_tour_is_tour_then_an_even_sweep_then_the_hold(n, tour, m):
    steps, phases = plan_tour(n, tour, m)
    assert len(steps) == len(phases) <= m
    assert phases[:len(tour)] == ["tour"] * len(tour) and steps[:len(tour)].tolist() == tour
    sweep = steps[[i for i, ph in enumerate(phases) if ph == "sweep"]]
    assert np.all(np.diff(sweep) > 0) and sweep[0] == 0 and sweep[-1] == n - 1
    assert phases[-1] == "hold" and steps[-1] == n - 1
    if n + len(tour) + 1 <= m:
        assert len(sweep) == n                           # every step when there is room


def test_plan_tour_refuses_too_few_frames():
    with pytest.raises(ValueError, match="max_frames=3, expected at least 4"):
        plan_tour(10, [1, 2], 3)
    with pytest.raises(ValueError, match="n_steps=0"):
        plan_tour(0, [], 10)


# -- palette and scales --------------------------------------------------------------------
def test_palette_colours_are_distinct_and_white_is_reserved():
    pal = palette_rgb()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    assert len({tuple(c) for c in pal}) == 256
    whites = [i for i, c in enumerate(pal) if tuple(c) == (255, 255, 255)]
    assert whites == [WHITE]


def test_gray_scale_round_trips_within_half_a_level():
    sc = gray_scale(0.0, 1.0)
    v = np.linspace(0, 1, 1001)
    idx = sc.index(v)
    assert idx.min() == sc.first and idx.max() == sc.first + GRAY_LEVELS - 1
    assert np.abs(sc.value(idx) - v).max() <= sc.step / 2 + 1e-12
    assert np.all(np.diff(idx.astype(int)) >= 0)


def test_diverging_scale_puts_zero_on_the_middle_level():
    sc = diverging_scale(3.0)
    assert sc.index(0.0) == DIV0 + DIV_LEVELS // 2
    assert sc.index(-3.0) == DIV0 and sc.index(3.0) == DIV0 + DIV_LEVELS - 1
    assert int(sc.index(-1.0)) == 2 * (DIV0 + DIV_LEVELS // 2) - int(sc.index(1.0))


def test_auto_scale_is_diverging_only_for_negative_data():
    assert auto_scale(np.array([0.0, 0.5, 1.0])).first != DIV0
    assert auto_scale(np.array([0.0, 4.0])).vmax == 4.0
    sc = auto_scale(np.array([-2.0, 1.0, -np.inf]))
    assert sc.first == DIV0 and sc.vmin == -2.0 and sc.vmax == 2.0


# -- encoder -------------------------------------------------------------------------------
def _frames(n=5, h=20, w=30, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 200, (h, w)).astype(np.uint8)
    out = [base]
    for k in range(1, n):
        f = out[-1].copy()
        f[k:k + 3, 2 * k:2 * k + 4] = rng.integers(0, 200, (3, 4))
        out.append(f)
    return out


@pytest.mark.parametrize("gifsicle", [False, True])
def test_gif_round_trip_is_exact(tmp_path, gifsicle):
    if gifsicle and not shutil.which("gifsicle"):
        pytest.skip("gifsicle is not installed")
    frames = _frames()
    p = write_gif(tmp_path / "a.gif", frames, frame_durations(5, 40, 1000), use_gifsicle=gifsicle)
    got, durations, loop = read_gif(p)
    assert len(got) == 5
    for a, b in zip(got, frames):
        np.testing.assert_array_equal(a, b)
    assert durations == [40, 40, 40, 40, 1000]
    assert loop == 0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.gif"]


def test_gif_keeps_only_changed_pixels(tmp_path):
    frames = _frames(n=30, h=200, w=300)
    p = write_gif(tmp_path / "a.gif", frames, [50] * 30)
    full = write_gif(tmp_path / "b.gif", frames[:1], [50])
    assert p.stat().st_size < 3 * full.stat().st_size      # 29 small deltas, not 29 frames


def test_identical_frames_are_merged_into_one_longer_frame(tmp_path):
    f = _frames(3)
    p = write_gif(tmp_path / "a.gif", [f[0], f[1], f[1], f[2]], [30, 40, 50, 60])
    got, durations, _ = read_gif(p)
    assert len(got) == 3 and durations == [30, 90, 60]


@pytest.mark.parametrize("ms, hold", [(15, 100), (25, 100), (40, 10), (40, 1005)])
def test_frame_durations_must_be_tens_of_ms_and_at_least_20(ms, hold):
    with pytest.raises(ValueError, match="multiple of 10"):
        frame_durations(3, ms, hold)


def test_failed_write_leaves_nothing_behind(tmp_path):
    frames = _frames()
    frames[3] = frames[3][:-1]                                 # wrong shape
    with pytest.raises(ValueError, match="shape"):
        write_gif(tmp_path / "a.gif", frames, [50] * 5)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="does not exist"):
        write_gif(tmp_path / "missing" / "a.gif", _frames(), [50] * 5)



# -- Animation in a notebook ---------------------------------------------------------------
def _decode_html_gif(html):
    """The GIF a notebook shows where scripts do not run (inside the player's markup)."""
    m = re.search(r'<img class="ndl-fallback" src="data:image/gif;base64,([A-Za-z0-9+/=]+)" '
                  r'width="(\d+)" height="(\d+)" alt="[^"]*">', html)
    assert m, html[:200]
    return read_gif(io.BytesIO(base64.b64decode(m.group(1)))), int(m.group(2)), int(m.group(3))


def test_animation_shows_itself_as_an_embedded_gif():
    import ops
    from viz.window_gif import render_window
    x = np.random.default_rng(0).random((1, 1, 6, 6))
    _, cache = ops.max_pool2d(x, 2)
    anim = render_window(cache.trace(sample=0))          # what a notebook cell would show
    (frames, durations, loop), w, h = _decode_html_gif(anim._repr_html_())
    assert len(frames) == len(anim) and loop == 0
    for got, drawn in zip(frames, anim.frames):
        np.testing.assert_array_equal(got, drawn)
    assert (h, w) == anim.frames[0].shape
    from viz.frames import READ_MS, SWEEP_SHARE, new_numbers
    tour = anim.tour_frames()
    assert tour and durations == anim.delays()
    new = new_numbers(anim.texts)
    assert all(durations[i] >= READ_MS * new[i] for i in tour)
    sweep = [d for d, ph in zip(durations, anim.phases) if ph == "sweep"]
    assert len(set(sweep)) == 1 and sum(sweep) <= SWEEP_SHARE * sum(durations) + 10


def test_animation_plays_at_its_renderers_pace_and_saves_the_same_gif(tmp_path):
    import ops
    from viz.softmax_gif import render_softmax
    anim = render_softmax(ops.trace_softmax(np.array([1.0, 2.0, 0.5]), label=1))
    (frames, durations, _), _, _ = _decode_html_gif(anim._repr_html_())
    from viz.frames import READ_MS, new_numbers
    assert durations == anim.delays()
    new = new_numbers(anim.texts)
    assert all(d >= READ_MS * n for d, n, ph in zip(durations, new, anim.phases) if ph == "tour")
    p = anim.save(tmp_path / "s.gif", use_gifsicle=False)
    assert p.read_bytes() == anim.gif()
    paced = type(anim)(anim.frames, anim.steps, frame_ms=100, hold_ms=700)
    assert read_gif(io.BytesIO(paced.gif()))[1] == [100] * (len(anim) - 1) + [700]


def test_legend_ticks_stay_short_for_extreme_and_tiny_ranges():
    from viz.legend import ticks
    from viz.palette import diverging_scale
    assert ticks(diverging_scale(1e30)) == ["\u22121.0e30", "0", "1.0e30"]
    tiny = ticks(diverging_scale(0.002))
    assert all("0.00" != t.lstrip("\u2212") for t in tiny) and "2.0e\u22123" in tiny[-1]
