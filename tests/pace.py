"""The reading rule, asserted on decoded delays (every GIF's pace, viz.frames): a tour frame
stays at least 250 ms per number it newly shows, the sweep takes at most 40 % of the play
time, and the whole plays at most 30 s."""
from viz.frames import MAX_PLAY_S, SWEEP_SHARE, TOUR_MIN_MS, new_numbers, reading_ms


def assert_paced(anim, durations):
    """``durations`` (decoded from the file) follow the reading rule for ``anim``."""
    assert len(durations) == len(anim)
    total = sum(durations)
    assert total <= MAX_PLAY_S * 1000, f"plays {total} ms"
    phases = anim.phases or []
    sweep = sum(d for d, ph in zip(durations, phases) if ph == "sweep")
    assert sweep <= SWEEP_SHARE * total + 10, f"sweep {sweep} of {total} ms"
    new = new_numbers(anim.texts) if anim.texts else [0] * len(anim)
    for i in anim.tour_frames():
        assert durations[i] >= reading_ms(new[i]), (i, durations[i], new[i])


def assert_paced_file(durations, tour_frames):
    """What the decoded delays alone can show: the play time, and a tour of slow frames."""
    assert sum(durations) <= MAX_PLAY_S * 1000
    assert all(durations[i] >= TOUR_MIN_MS for i in range(tour_frames))
