"""One digit through the network (training.network, make_gif.py network): every stage drawn
is the model's own layer output, read back from the decoded GIF, and the class scores are
the softmax of its logits."""
from pathlib import Path

import numpy as np

import ops
from training import load_model
from training.features import prepare_unit_image
from training.network import network_stages
from viz.inputs import load_image
from viz.readback import read_map
from conftest import decoded_view, make_gif

LENET = Path(__file__).resolve().parents[1] / "models" / "lenet5.npz"


def test_stages_are_the_models_layers():
    model, config = load_model(str(LENET))
    x = prepare_unit_image(load_image("default").image, config.normalize)
    stages, probs = network_stages(model, x)
    assert [s.name for s in stages] == ["c1", "s2", "c3", "s4", "f5", "f6", "out"]
    logits = model.forward(x)
    assert np.array_equal(stages[-1].out, logits[0])
    assert np.allclose(probs, ops.softmax(logits, axis=-1)[0]) and int(np.argmax(probs)) == 7
    c3 = stages[2]
    assert c3.region[1] - c3.region[0] == 4 and c3.reads == 6 * 25     # a 5×5 window of S2


def test_network_gif_reads_back(tmp_path):
    frames, anim = decoded_view(["network"], tmp_path / "n.gif")
    model, config = load_model(str(LENET))
    x = prepare_unit_image(load_image("default").image, config.normalize)
    stages, probs = network_stages(model, x)
    first = frames[len(stages) - 1]            # the overview's last frame: every stage drawn
    for s in stages[:4]:
        maps, origins, px, scale = anim.layout["tiles"][s.name]
        if px < 2:
            continue
        for k in (0, len(maps) - 1):
            got = read_map(first, origins[k], px, maps[k].shape, scale)
            assert np.abs(got - np.asarray(s.out)[k]).max() <= scale.step / 2 + 1e-5
    assert anim.texts[-1]["scores"][7] == f"{100 * probs[7]:.2f} %"
    # the bar of each class is as long as its probability
    last = frames[-1]
    for k, (x0, y0, x1, y1) in enumerate(anim.layout["bars"]):
        row = last[(y0 + y1) // 2, x0:x1]
        filled = int((row != row[-1]).sum()) if probs[k] < 0.99 else x1 - x0
        assert abs(filled - probs[k] * (x1 - x0)) <= 1
