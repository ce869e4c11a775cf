"""The training-step GIF: one real SGD step, recorded from the layers' backward traces, and
a decoded GIF whose last frame reads back the weights before, after and their change."""
import numpy as np

from training.step_record import digit_step, record_step, tiny_net
from viz.encode import write_gif
from viz.inputs import load_image
from viz.readback import read_gif, read_map
from viz.training_step_gif import render_training_step
from pace import assert_paced


def test_record_is_one_sgd_step():
    rng = np.random.default_rng(0)
    x = rng.random((1, 1, 8, 8))
    rec = record_step(tiny_net(np.random.default_rng(3), size=8), x, label=4, lr=0.05)
    for k, g in rec.grads.items():                 # plain SGD: after = before − lr · grad
        assert np.allclose(rec.after[k], rec.before[k] - 0.05 * g, rtol=0, atol=1e-15)
    assert rec.loss_after < rec.loss
    onehot = np.eye(10)[4]
    assert np.allclose(rec.douts["fc"][0], rec.probs - onehot)
    # maxpool's routing: ∂L/∂(relu out) is non-zero only where the pool took its max
    assert np.count_nonzero(rec.douts["relu"]) <= rec.douts["pool"].size


def test_training_step_gif(tmp_path):
    image, _, label = load_image("default")
    assert label == 7
    rec = digit_step(image, 7, lr=0.1, seed=1)
    anim = render_training_step(rec)
    d = anim.durations()
    path = write_gif(tmp_path / "t.gif", anim.frames, d)
    frames, durations, _ = read_gif(path)
    assert len(frames) == 11 and path.stat().st_size <= 1024 * 1024
    assert_paced(anim, durations)                 # the reading rule (tests/pace.py)
    assert [t["stage"].split(":")[0] for t in anim.texts[:2]] == ["forward 1/5", "forward 2/5"]
    h, w = frames[0].shape[:2]
    assert w <= 1280 and h <= 720                 # fits a slide
    placed = {p.name for p in anim.layout["placed"]}
    for leg in ("x", "conv", "dconv", "dwconv", "dlogits", "wafter", "wchange", "fcchange"):
        assert f"{leg} legend bar" in placed, leg
    # class indices 0–9 beside the logits, p and ∂L/∂logits, the true class named
    for col in ("logits", "probs", "dlogits"):
        assert {f"{col} class {k}" for k in "012345689"} | {f"{col} class label 7"} <= placed
    # a stage not reached yet is not drawn: no empty panel with its legend on frame 0
    bg = frames[0][0, 0]
    x0, y0, x1, y1 = anim.layout["panels"]["dlogits"]
    assert (frames[0][y0:y1, x0:x1] == bg).all()
    assert not (frames[-1][y0:y1, x0:x1] == bg).all()
    grids = anim.layout["grids"]["update"]
    wb = rec.before["conv.weight"][:, 0]
    wa = rec.after["conv.weight"][:, 0]
    for (box, scale, cell, unit), want in zip(grids[:6], [*wb, *wa, *(wa - wb)]):
        got = read_map(frames[-1], box[:2], cell, want.shape, scale, unit)
        assert np.abs(got - want).max() <= scale.step / 2 * unit + 1e-12
    # the backward row is not drawn before its turn
    box, scale, cell, unit = anim.layout["grids"]["dconv"][0]
    assert np.isnan(read_map(frames[4], box[:2], cell, (14, 14), scale, unit)).all()
    assert not np.isnan(read_map(frames[-1], box[:2], cell, (14, 14), scale, unit)).any()
