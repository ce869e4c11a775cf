"""training.gradients: one real forward/backward pass of a trained model, layer by layer."""
import numpy as np
import pytest

import ops
from training import load_model
from training.features import prepare_unit_image
from training.gradients import layer_gradients, lenet_layer_case
from viz.inputs import load_image

LENET = "models/lenet5.npz"


@pytest.fixture(scope="module")
def model64():
    model, config = load_model(LENET, dtype=np.float64)
    return model, config


def _loss(model, x, label):
    h = model.forward(x)
    for layer in model.children.values():
        layer.cache = None
    return float(ops.cross_entropy(h, np.array([label]))[0])


def test_input_gradient_matches_finite_differences(model64):
    model, config = model64
    image, _, _ = load_image("default")
    x = prepare_unit_image(image, config.normalize).astype(np.float64)
    g = layer_gradients(model, x, label=3)       # a wrong label: gradients of a useful size
    dx = g.dxs[g.names[0]]
    for idx in [np.unravel_index(np.abs(dx).argmax(), dx.shape), (0, 0, 14, 14)]:
        eps = 1e-5
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        fd = (_loss(model, xp, 3) - _loss(model, xm, 3)) / (2 * eps)
        assert abs(fd - dx[idx]) <= 1e-6 * max(1.0, abs(fd))
    # the chain: what a layer passes back is what arrives at the layer before it
    for a, b in zip(g.names, g.names[1:]):
        assert np.array_equal(g.dxs[b], g.douts[a])
    assert all(np.all(p.grad == 0) for p in model.parameters())     # left as it was
    assert g.label == 3 and np.isclose(g.probs.sum(), 1)


def test_lenet_layer_case_slices_one_channel():
    model, config = load_model(LENET)
    image, _, _ = load_image("default")
    case = lenet_layer_case(model, config, image, "pool", label=7, index=2)
    g = case["grads"]
    assert case["layer"] == "s2" and case["index"] == 2 and case["channels"] == 6
    assert np.array_equal(case["dout"], g.douts["s2"][:, 2:3])
    assert np.array_equal(case["x"], g.outputs["a1"][:, 2:3])
    conv = lenet_layer_case(model, config, image, "conv", label=7)
    assert conv["weight"].shape == (1, 1, 5, 5) and conv["padding"] in (2, (2, 2))
    assert np.abs(conv["dout"]).sum() == np.abs(g.douts["c1"]).sum(axis=(0, 2, 3)).max()
    with pytest.raises(ValueError, match="--channel 6: layer s2 has 6 channels"):
        lenet_layer_case(model, config, image, "pool", index=6)
