"""recipes: the registry behind make_gif.py (one registration adds an animation), the one
--tour resolver, and the import arrows (viz imports no op and no trainer; nothing in the
library imports recipes)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recipes import GALLERY, RECIPES, Recipe, render, resolve_tour
from recipes.tour import grid_steps, parse_cells1d
from viz.frames import Animation
from conftest import gif_parser, make_gif

ROOT = Path(__file__).resolve().parents[1]


def test_one_registration_is_a_subcommand_with_its_options(monkeypatch, tmp_path):
    seen = {}

    def options(p, paths):
        p.add_argument("--level", type=int, default=3, help="grey level")
        p.add_argument("--out", type=Path, default=None)
        p.add_argument("--no-gifsicle", action="store_true")
        p.add_argument("--frame-ms", type=int, default=100)
        p.add_argument("--fps", type=float, default=None)
        p.add_argument("--hold", type=int, default=500)
        p.add_argument("--input", default="toy:0:4")

    def build(args, source):
        seen["source"] = source
        frame = np.full((8, 8), args.level, np.uint8)
        return Animation([frame, frame], ["sweep", "hold"])

    monkeypatch.setitem(RECIPES, "grey", Recipe("grey", "a grey square", options, build))
    parser, subs = gif_parser()
    assert "grey" in subs and "a grey square" in parser.format_help()
    assert "--level" in subs["grey"].format_help()
    r = make_gif(["grey", "--level", "5", "--out", str(tmp_path / "g.gif"), "--no-gifsicle"])
    assert r["frames"] == 2 and r["path"].is_file()
    assert seen["source"].image.shape == (4, 4) and seen["source"].label is None


def test_every_gallery_entry_names_a_registered_animation():
    parser, _ = gif_parser()
    for name, gif in GALLERY.items():
        assert gif.argv[0] in RECIPES, name
        assert parser.parse_args(gif.argv).op == gif.argv[0]
    relations = [n for n, g in GALLERY.items() if g.relation]
    assert relations and all(n.startswith("arithmetic/") for n in relations)


def test_render_passes_the_input_once_with_its_label(monkeypatch):
    parser, _ = gif_parser()
    calls = []
    import viz.inputs
    real = viz.inputs.load_input
    monkeypatch.setattr("viz.inputs.load_input", lambda *a, **k: calls.append(a) or real(*a, **k))
    anim = render(parser.parse_args(["training-step"]))
    assert len(anim) > 2 and len(calls) == 1            # the label came with the image


def test_the_one_tour_resolver():
    assert resolve_tour(None) is None
    assert resolve_tour(["4,9", "7,7"]) == [(4, 9), (7, 7)]
    assert resolve_tour(["none"]) == []
    assert resolve_tour(["1,2", "0,1,0"], steps=(3, 4)) == [6, 4]
    assert resolve_tour(["3"], parse=parse_cells1d, steps=lambda cells: cells) == [(3,)]
    with pytest.raises(ValueError, match="outside the 3×4 grid"):
        grid_steps([(3, 0)], (3, 4))
    with pytest.raises(ValueError, match="R,C or F,R,C"):
        resolve_tour(["a"])
    with pytest.raises(ValueError, match="I or F,I"):
        resolve_tour(["a"], parse=parse_cells1d)


def test_the_import_arrows():
    code = ("import sys, viz, viz.backward_gif, viz.transpose_gif, viz.signal_gif, "
            "viz.training_step_gif, ops, nn, training, training.gradients, "
            "training.step_record\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'recipes', 'scripts'}))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr
    code = ("import sys, viz, viz.backward_gif, viz.transpose_gif, viz.signal_gif, "
            "viz.training_step_gif, viz.inputs\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'ops', 'nn', 'training'}))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr

