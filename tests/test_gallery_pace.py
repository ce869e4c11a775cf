"""Every gallery GIF, decoded: it plays by the reading rule, and every product, quotient and
sum on a tour frame follows from the operands shown beside it (or says ≈)."""
from decimal import Decimal

import numpy as np
import pytest

from recipes import GALLERY, gallery_args, render
from viz.arith import adds_up, decimals_of, number, quotient
from viz.frames import NEW_MAX, new_numbers
from conftest import ROOT, gif_parser
from pace import assert_paced


@pytest.fixture(scope="module")
def parser():
    return gif_parser()[0]


def _products_follow(t, d):
    """Window GIFs: x · w cell by cell at the shown decimals; linear: exact products."""
    if "p" in t:
        q = Decimal(1).scaleb(-d)
        for xg, wg, pg in zip(t["x"], t["w"], t["p"]):
            for xs, ws, ps in zip(*(np.ravel(g) for g in (xg, wg, pg))):
                assert number(ps) == (number(xs) * number(ws)).quantize(q), (xs, ws, ps)
    if "terms" in t and "x" in t and "w" in t and isinstance(t["x"], list):
        for xs, ws, ps in zip(t["x"], t["w"], t["terms"]):
            assert number(ps) == number(xs) * number(ws), (xs, ws, ps)
        assert adds_up(t["terms"], t["sum"])


@pytest.mark.parametrize("name", list(GALLERY))
def test_gallery_gif_is_paced_and_its_numbers_follow(tmp_path, parser, name):
    anim = render(gallery_args(parser, GALLERY[name], tmp_path / "g.gif"))
    # the delays the file gets (tests/test_viz_core.py decodes them back byte for byte)
    assert_paced(anim, anim.delays())
    if not anim.texts:
        return
    new = new_numbers(anim.texts)
    d = anim.layout.get("decimals", 2)
    for i in anim.tour_frames():
        t = anim.texts[i]
        assert new[i] <= NEW_MAX, (i, new[i])  # a dense working is built up in phases
        _products_follow(t, d)
        for terms, total, exact in t.get("equations", []):
            assert adds_up(terms, total) == exact
        if "divide" in t and "p" in t["divide"] and "e" in t["divide"]:
            dv = t["divide"]
            follows = "e" not in dv["p"] and \
                quotient(dv["e"], dv["total"], decimals_of(dv["p"])) == dv["p"]
            assert follows != dv["approx"]


def _stops(anim):
    """The first tour frame of each stop (a stop built up in parts spans several frames)."""
    return [i for i in anim.tour_frames()
            if i == 0 or anim.phases[i - 1] != "tour" or anim.steps[i - 1] != anim.steps[i]]


# GIFs whose default tour asks for three stops or more, and finds that many candidates
ASKS_3 = [n for n in GALLERY if n not in {
    "conv_transpose2d", "conv_transpose2d_direct", "arithmetic/checkerboard",   # ask for 2
    "conv1d", "avgpool1d",                  # unpadded 1-D: two kinds of candidate
    "receptive_field", "network", "chain_rule",     # no tour
    "training_step", "softmax",             # staged, not toured
    "conv2d_backward_input",                # a 5×5 stamp and running sum: 2 stops in 30 s
} and not n.endswith("_transposed")]


@pytest.mark.parametrize("name", ASKS_3)
def test_gallery_tour_has_three_stops(tmp_path, parser, name):
    """The 30 s cap leaves room for a tour that teaches: at least three stops."""
    anim = render(gallery_args(parser, GALLERY[name], tmp_path / "g.gif"))
    assert len(_stops(anim)) >= 3, name


@pytest.mark.parametrize("name", list(GALLERY))
def test_gallery_tour_reasons_differ(tmp_path, parser, name):
    """No two stops of one tour give the same reason (a repeated "another" says which one)."""
    from viz.player import frame_captions
    anim = render(gallery_args(parser, GALLERY[name], tmp_path / "g.gif"))
    caps = frame_captions(anim)
    whys = [caps[i].split(": ", 1)[-1] for i in _stops(anim)]
    assert len(whys) == len(set(whys)), whys


def test_lenet5_filter_tour_has_two_stops(tmp_path, parser):
    """The trained filter's GIF (docs/watch.md, gifs/lenet5_conv1_filter3.gif): a 5×5 working
    built up to at most 8 new numbers a frame; a shorter sweep leaves room for a second stop
    within the 30 s (a third, ~7 s more, does not fit)."""
    from recipes.gallery import Gif
    weights = ROOT / "models" / "lenet5.npz"
    anim = render(gallery_args(parser, Gif(f"conv2d --weights {weights} --filter 3"),
                               tmp_path / "g.gif"))
    assert_paced(anim, anim.delays())
    assert max(new_numbers(anim.texts)[i] for i in anim.tour_frames()) <= NEW_MAX
    assert len(_stops(anim)) >= 2
