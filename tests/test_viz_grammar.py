"""The frame grammar and the one tour planner: structured tour stops, the captions and
counters written from them, the done mask, and a view's own words chosen by kind."""

import numpy as np

import ops
from viz import grammar
from viz.backward_gif import render_gather
from viz.tour import Candidate, Stop, by_hand, choose, room
from viz.window_gif import render_window


def test_choose_takes_one_step_per_candidate_and_shows_them_in_priority_order():
    score = np.array([1.0, 9.0, 5.0, 7.0, 0.0])
    stops = choose([Candidate("largest", "the largest", score),
                    Candidate("again", "the largest again", score),       # 1 is taken: 3
                    Candidate("odd", "an odd step", score, ok=np.arange(5) % 2 == 0)], 3)
    # "again" is said after the stop it refers to: the tour keeps the candidates' order
    assert [(s.step, s.kind) for s in stops] == [(1, "largest"), (3, "again"), (2, "odd")]
    assert [s.why for s in stops] == ["the largest", "the largest again", "an odd step"]


def test_choose_stops_at_count_and_fills_with_fallbacks_only_up_to_min_tour():
    score = np.arange(6.0)
    cands = [Candidate("largest", "a", score)] + \
        [Candidate("another", "b", score, fallback=True)] * 4
    assert len(choose(cands, 6)) == 3                  # fallbacks stop at MIN_TOUR = 3
    assert len(choose(cands, 2)) == 2 and choose(cands, 0) == []
    assert len(choose(cands, 6, min_tour=5)) == 5


def test_given_step_candidates_skip_none_taken_and_out_of_range_steps():
    stops = choose([Candidate("a", "first", step=2), Candidate("b", "none", step=None),
                    Candidate("c", "taken", step=2), Candidate("d", "outside", step=9),
                    Candidate("e", "next", step=0)], 4, n_steps=5)
    assert sorted((s.step, s.kind) for s in stops) == [(0, "e"), (2, "a")]


def test_near_prefers_an_exact_step_among_near_equal_scores():
    score = np.array([10.0, 9.5, 3.0])
    exact = {0: False, 1: True, 2: True}.get
    near = choose([Candidate("k", "w", score, near=0.9)], 1, exact=exact)
    equal = choose([Candidate("k", "w", score, near="equal")], 1, exact=exact)
    assert near[0].step == 1 and equal[0].step == 0


def test_a_stop_is_worded_by_its_kind_not_by_another_modules_wording():
    s = Stop(4, "largest |output|", "largest")
    assert s.worded({"largest": "the largest |∂L/∂x|"}) == Stop(4, "the largest |∂L/∂x|",
                                                                "largest")
    assert s.worded({"largest |output|": "x"}) == s          # the old string-matching is gone
    assert by_hand([3, 1]) == [Stop(3, "chosen by hand", "by hand"),
                               Stop(1, "chosen by hand", "by hand")]
    assert room(4, 200) == 4 and room(4, 3) == 1 and room(4, 1) == 0


def test_tour_writes_captions_counters_and_the_done_mask_from_its_stops():
    plan = grammar.Tour(6, [Stop(4, "big", "largest"), Stop(1, "small", "other")], 10,
                        sweep="sweep: fast", what="cell")
    assert plan.phases == ["tour", "tour"] + ["sweep"] * 6 + ["hold"]
    assert [plan.caption(i) for i in (0, 1, 2, 8)] == [
        "tour 1 / 2: big", "tour 2 / 2: small", "sweep: fast", "the complete output"]
    # one wording everywhere: "tour j / n" on the tour, "cell k / S" in the sweep
    assert [plan.counter(i) for i in (0, 2, 8)] == ["tour 1 / 2", "cell 1 / 6", "all 6 cells"]
    assert plan.placed_counter(1, "x[0, 1]") == "tour 2 / 2 · x[0, 1]"
    assert plan.placed_counter(3, "n 1", sweep_where=True) == "n 1, step 2 / 6"
    assert plan.done(0).tolist() == [False, False, False, False, True, False]
    assert plan.done(3).tolist() == [True, True, False, False, True, False]   # sweep at step 1
    assert plan.done(len(plan) - 1).all()
    work = {4: {"x": 1}, 1: {"x": 2}}
    assert plan.texts(1, work) == {"caption": "tour 2 / 2: small", "x": 2}
    assert plan.texts(5, work) == {"caption": "sweep: fast"}


def test_units_and_paces_are_the_grammars():
    assert grammar.unit_of(np.array([3e-6, -1e-7])) == -6 and grammar.unit_text(-6) == " (×10⁻⁶)"
    # one pace rule: a tour stop built up in parts counts as one stop
    plan = grammar.Tour(6, [Stop(4, "big", "largest"), Stop(1, "small", "other")], 12, parts=3)
    assert plan.phases[:6] == ["tour"] * 6 and plan.phases[6] == "sweep"
    assert [plan.counter(i) for i in (0, 2, 3, 5)] == ["tour 1 / 2"] * 2 + ["tour 2 / 2"] * 2
    assert not plan.done(1)[4] and plan.done(2)[4] and not plan.done(3)[1]


def _conv(stride=1):
    rng = np.random.default_rng(0)
    x = rng.random((1, 1, 8, 8)).astype(np.float32)
    w = rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    return ops.conv2d(x, w, None, stride, 1)


def test_window_tour_captions_carry_their_kind_and_the_gather_view_words_them_itself():
    out, cache = _conv()
    fwd = render_window(cache.trace(sample=0), max_frames=40)
    caps = [fwd.texts[i]["caption"] for i in fwd.tour_frames()]
    assert caps and caps[0].startswith("tour 1 / ") and any("largest |output|" in c for c in caps)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    back = render_gather(cache.backward_trace(dout, view="gather"), max_frames=40)
    caps = [back.texts[i]["caption"] for i in back.tour_frames()]
    assert any("the largest |∂L/∂x|" in c for c in caps)
    assert not any("output" in c for c in caps)          # every forward word was replaced
    lay = back.layout
    assert {"layout", "placed", "size", "panels"} <= set(lay) and len(lay["panels"]) == 3


def test_a_repeated_another_says_which_one_it_is():
    stops = [Stop(4, "the largest gradient", "largest"),
             Stop(7, "another strong gradient", "another"),
             Stop(2, "another strong gradient", "another")]
    plan = grammar.Tour(10, stops, 20, sweep="sweep")
    assert [s.why for s in plan.stops] == ["the largest gradient", "another strong gradient",
                                          "a third strong gradient"]
    assert plan.caption(2) == "tour 3 / 3: a third strong gradient"
    assert [s.kind for s in plan.stops] == ["largest", "another", "another"]
    by = grammar.Tour(10, by_hand([1, 2]), 20)              # true twice: left as it is
    assert [s.why for s in by.stops] == ["chosen by hand"] * 2


def test_build_up_keeps_every_frame_within_new_max():
    from viz.frames import NEW_MAX
    # three rows of 3 + 3 + 3 distinct numbers: a row (9) is over NEW_MAX, so it splits
    nums = {(g, r): [f"{g}{r}{c}" for c in range(3)] for g in "xwp" for r in range(3)}

    def shown(rev):
        return [t for u in rev if u in nums for t in nums[u]]

    groups = [[(g, r) for g in "xwp"] for r in range(3)]
    chunks, last = grammar.build_up(groups, shown)
    assert chunks == [(("x", 0), ("w", 0)), (("p", 0),), (("x", 1), ("w", 1)), (("p", 1),),
                      (("x", 2), ("w", 2)), (("p", 2),)]
    assert len(last) == 27
    # units on screen already (a filter's weights) are not new: a row fits in one frame
    base = {("w", r) for r in range(3)}
    chunks, _ = grammar.build_up(groups, shown, prev=shown(base), base=base)
    assert chunks == [tuple(g) for g in groups]
    # merge: small groups share a frame while they fit; a frame never passes NEW_MAX
    small = [[("x", r)] for r in range(3)]
    chunks, _ = grammar.build_up(small, shown, merge=True)
    assert chunks == [(("x", 0), ("x", 1)), (("x", 2),)]
    prev = set()
    for i in range(len(chunks)):
        cur = set(shown({u for ch in chunks[:i + 1] for u in ch}))
        assert len(cur - prev) <= NEW_MAX
        prev = cur
