"""LeNet-5 as in LeCun et al. 1998: the layer-by-layer parameter counts of the paper, Table I,
the input scale, the RBF bitmaps, whole-net gradients, and SDLM's Gauss-Newton diagonal."""
import numpy as np
import pytest

import nn
import ops
from gradcheck import rel_error
from nn.lenet1998 import (BACKGROUND, C3_TABLE, FOREGROUND, MNIST_MEAN, MNIST_STD, LeNet1998,
                          MaskedConv2d, RBFOutput, Subsample2d, c3_connections, rbf_bitmaps)
from training.data import MNIST_MEAN as DATA_MEAN, MNIST_STD as DATA_STD, prepare_images
from training.step import criterion

# Section II-B of the paper: trainable parameters per layer (60,000 in all).
PAPER_COUNTS = {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120, "f6": 10164}


def _net(seed=0, dtype=np.float32):
    return nn.build_net("lenet5-1998", "scaled_tanh", "lecun98",
                        rng=np.random.default_rng(seed), dtype=dtype)


def test_parameter_counts_match_the_paper():
    net = _net()
    for name, count in PAPER_COUNTS.items():
        assert net[name].num_parameters() == count, name
    assert net.num_parameters() == sum(PAPER_COUNTS.values()) == 60_000


def test_c3_connection_table():
    mask = c3_connections()
    assert mask.shape == (16, 6)
    sizes = mask.sum(axis=1)
    assert list(sizes) == [3] * 6 + [4] * 6 + [4] * 3 + [6]

    def contiguous(maps):     # adjacent on the ring of six maps
        return any(set((s + i) % 6 for i in range(len(maps))) == set(maps) for s in range(6))

    assert all(contiguous(C3_TABLE[f]) for f in range(12))
    # maps 12-14: two pairs of adjacent maps, the pairs themselves not adjacent
    for f in (12, 13, 14):
        assert not contiguous(C3_TABLE[f])
    # every S2 map feeds 10 C3 maps: the table is balanced
    assert list(mask.sum(axis=0)) == [10] * 6


def test_masked_weights_stay_zero_under_every_optimiser():
    for name in ("sgd", "adam", "sdlm"):
        net = _net(1)
        opt = nn.build_optimizer(name, net.parameters(), 1e-2, 1e-3)
        x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
        if name == "sdlm":
            opt.samples = 4
            opt.refresh_curvature(net, x, np.random.default_rng(2))
        loss_fn, loss_backward = criterion(net)
        for _ in range(2):
            opt.zero_grad()
            _, cache = loss_fn(net.forward(x), np.arange(4))
            net.backward(loss_backward(1.0, cache), need_dx=False)
            opt.step()
        c3 = net["c3"]
        assert np.all(c3.weight.data[~c3.connections] == 0), name
        assert np.any(c3.weight.data[c3.connections] != 0)


def test_input_is_the_papers_scale():
    assert (MNIST_MEAN, MNIST_STD) == (DATA_MEAN, DATA_STD)
    images = np.zeros((1, 28, 28), dtype=np.uint8)
    images[0, 10, 10] = 255
    out = _net()["input"].forward(prepare_images(images, dtype=np.float64))
    assert out.shape == (1, 1, 32, 32)
    assert out[0, 0, 12, 12] == pytest.approx(FOREGROUND, abs=1e-6)
    assert np.allclose(np.delete(out.ravel(), 12 * 32 + 12), BACKGROUND, atol=1e-6)


def test_rbf_bitmaps():
    maps = rbf_bitmaps()
    assert maps.shape == (10, 12, 7)
    assert set(np.unique(maps)) == {-1.0, 1.0}
    flat = maps.reshape(10, -1)
    hamming = (flat[:, None] != flat[None]).sum(axis=2)
    assert hamming[~np.eye(10, dtype=bool)].min() >= 13    # every pair of codes far apart
    assert np.all(maps[:, 0] == -1) and np.all(maps[:, -1] == -1)   # blank top and bottom rows


def test_output_shape_and_scores():
    net = _net()
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    scores = net.forward(x)
    assert scores.shape == (3, 10) and np.all(scores <= 0)   # minus squared distances


def test_whole_net_gradients_float64():
    net = _net(2, np.float64)
    for p in net.parameters():     # larger weights than the init, so every layer matters
        p.data *= 20
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 1, 28, 28)), np.array([3, 7])
    loss_fn, loss_backward = criterion(net)

    def loss():
        return float(loss_fn(net.forward(x), y)[0])

    net.zero_grad()
    _, cache = loss_fn(net.forward(x), y)
    net.backward(loss_backward(1.0, cache), need_dx=False)
    for name, p in net.named_parameters():
        flat, grad = p.data.reshape(-1), p.grad.reshape(-1)
        live = np.flatnonzero(net["c3"].mask.ravel()) if name == "c3.weight" else np.arange(flat.size)
        for k in rng.choice(live, min(4, live.size), replace=False):
            old = flat[k]
            flat[k] = old + 1e-6
            up = loss()
            flat[k] = old - 1e-6
            down = loss()
            flat[k] = old
            assert rel_error(grad[k], (up - down) / 2e-6) < 1e-5, name


def test_gauss_newton_diagonal_of_a_linear_net():
    # Without squashing, the target's penalty y_D is quadratic in every single weight. The
    # last layer's diagonal is then exact; deeper ones drop the cross terms between the
    # units a weight reaches (LeCun's diagonal recursion), which only adds up positive
    # squares, so they are positive but not the exact second derivative.
    rng = np.random.default_rng(4)
    kw = dict(init="lecun98", rng=rng, dtype=np.float64)
    net = LeNet1998(("c1", nn.Conv2d(1, 2, 3, **kw)), ("s2", Subsample2d(2, **kw)),
                    ("c3", MaskedConv2d(np.array([[1, 0], [1, 1]], bool), 2, **kw)),
                    ("flat", nn.Flatten()), ("f6", nn.Linear(2, 4, **kw)),
                    ("rbf", RBFOutput(rng.choice([-1.0, 1.0], (3, 4)), np.float64)))
    for p in net.parameters():
        p.data += rng.standard_normal(p.shape)
    net["c3"].weight.data *= net["c3"].mask
    x, y = rng.standard_normal((5, 1, 6, 6)), rng.integers(0, 3, 5)
    hess = nn.gauss_newton_diagonal(net, x)

    def penalty():
        return float(-net.forward(x)[np.arange(5), y].mean())

    for (name, p), h in zip(net.named_parameters(), hess):
        flat = p.data.reshape(-1)
        live = np.flatnonzero(net["c3"].mask.ravel()) if name == "c3.weight" else range(flat.size)
        for k in live:
            old, e = flat[k], 1e-3
            mid = penalty()
            flat[k] = old + e
            up = penalty()
            flat[k] = old - e
            down = penalty()
            flat[k] = old
            exact, got = (up - 2 * mid + down) / e ** 2, h.reshape(-1)[k]
            if name.startswith("f6"):
                assert abs(got - exact) < 1e-5 * (1 + abs(exact)), name
            else:
                assert got > 0, name


def test_sdlm_step_uses_the_curvature():
    net = _net(5)
    x = np.random.default_rng(0).standard_normal((40, 1, 28, 28)).astype(np.float32)
    opt = nn.SDLM(net.parameters(), 1e-3, mu=0.02, samples=20, warmup_steps=0)
    with pytest.raises(RuntimeError, match="refresh_curvature"):
        opt.step()
    opt.refresh_curvature(net, x, np.random.default_rng(1))
    assert all(np.all(h >= 0) for h in opt.hessian)
    before = [p.data.copy() for p in net.parameters()]
    for p in net.parameters():
        p.grad[...] = 1.0
    opt.step()
    for p, b, h in zip(net.parameters(), before, opt.hessian):
        np.testing.assert_allclose(b - p.data, 1e-3 / (0.02 + h), rtol=1e-4)
    state = opt.state_dict()
    fresh = nn.SDLM(net.parameters(), 1e-3)
    fresh.load_state_dict(state)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.hessian, opt.hessian))


def test_lecun1998_schedule():
    s = nn.LeCun1998(5e-4)
    rates = [s(e + 0.5) for e in range(20)]
    assert rates == pytest.approx([5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8)


def test_c3_trace_shows_only_the_connected_maps():
    net = _net(6, np.float64)
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28))
    for name in ("input", "c1", "a1", "s2", "a2"):
        x = net[name].forward(x)
    out = net["c3"].forward(x)
    tr = net["c3"].cache.trace(sample=1)
    np.testing.assert_allclose(tr.output()[1], out[1], rtol=1e-12)
    for k in (0, 10 * 10 * 7 + 3, len(tr) - 1):     # filters 0, 7 and 15
        step, maps = tr[k], tr.maps(k)
        f = step.out_index[1]
        assert list(maps) == sorted(C3_TABLE[f])
        assert step.field.shape[0] == step.weight.shape[0] == len(C3_TABLE[f])
        assert step.value == pytest.approx(step.contrib.sum() + step.bias, rel=1e-12)


def test_config_defaults_are_the_papers_recipe():
    from training import TrainConfig
    cfg = TrainConfig(net="lenet5-1998").resolved()
    assert (cfg.optimizer, cfg.schedule, cfg.activation, cfg.init) == \
        ("sdlm", "lecun1998", "scaled_tanh", "lecun")
    assert (cfg.epochs, cfg.batch_size, cfg.weight_decay) == (20, 32, 0.0)
    modern = TrainConfig(net="lenet5").resolved()
    assert (modern.optimizer, modern.schedule, modern.activation, modern.batch_size) == \
        ("adam", "cosine", "relu", 128)
    assert TrainConfig(net="lenet5-1998", optimizer="adam").resolved().optimizer == "adam"
    with pytest.raises(ValueError, match="normalize=False: expected True for lenet5-1998"):
        TrainConfig(net="lenet5-1998", normalize=False).resolved()


def test_the_default_init_puts_every_weighted_sum_in_the_squashings_range(mnist_dir):
    """The paper's aim for its init (Appendix A): each unit's weighted sum at a standard
    deviation within the sigmoid's operating range. On 200 real digits the default N(0,
    1/F_in) does that at every layer; the printed +-2.4/F_in leaves C5's and F6's sums
    near zero, so the net starts almost linear and its curvature estimate tiny."""
    from mnist import load_mnist
    from training import TrainConfig
    from training.data import prepare_images
    x = prepare_images(load_mnist("train", mnist_dir, fetch=False)[0][:200])

    def sum_stds(init):
        net = nn.build_net("lenet5-1998", "scaled_tanh", init, rng=np.random.default_rng(0))
        stds, h = {}, x
        for name, layer in net.children.items():
            h = layer.forward(h)
            if name in ("c1", "s2", "c3", "s4", "c5", "f6"):
                stds[name] = float(h.std())
        return stds

    default = sum_stds(TrainConfig(net="lenet5-1998").resolved().init)
    assert all(0.3 < s < 2.0 for s in default.values()), default
    printed = sum_stds("lecun98")
    assert printed["c5"] < 0.01 and printed["f6"] < 0.01, printed


def test_augment_on_the_1998_net_means_the_papers_distortions():
    from training import TrainConfig
    from training.cli import parse
    from training.config import AUGMENT_DEFAULTS, DISTORTED_MU
    mu = DISTORTED_MU["lenet5-1998"]
    _, cfg = parse(["--net", "lenet5-1998", "--augment"])
    paper = AUGMENT_DEFAULTS["lenet5-1998"]
    assert (cfg.scale, cfg.squeeze, cfg.shear) == (paper["scale"], paper["squeeze"], paper["shear"])
    assert (cfg.rotate, cfg.elastic) == (0.0, 0.0) and 0 < cfg.shear < 1
    plain = TrainConfig(net="lenet5-1998").resolved()
    assert cfg.mu == mu > plain.mu == 0.02 and cfg.lr == plain.lr
    from training.config import build_model, build_training
    opt, _ = build_training(cfg, build_model(cfg, np.random.default_rng(0)))
    assert (opt.lr, opt.mu) == (cfg.lr, cfg.mu)
    # a range given by hand wins, 0 included; so does --lr
    _, cfg = parse(["--net", "lenet5-1998", "--augment", "--shear", "0", "--lr", "1e-3"])
    assert (cfg.shear, cfg.scale, cfg.lr, cfg.mu) == (0.0, paper["scale"], 1e-3, mu)
    # without --augment no range is added, but a distorted run still gets the distorted mu
    _, cfg = parse(["--net", "lenet5-1998", "--scale", "0.1"])
    assert (cfg.scale, cfg.squeeze, cfg.shear, cfg.augment) == (0.1, 0.0, 0.0, False)
    assert cfg.mu == mu
    # other optimisers keep their own default and have no mu; the modern net's --augment is
    # shifts only
    adam = TrainConfig(net="lenet5-1998", augment=True, optimizer="adam").resolved()
    assert (adam.lr, adam.mu) == (2e-3, None)
    with pytest.raises(SystemExit):
        parse(["--net", "lenet5-1998", "--optimizer", "adam", "--mu", "0.1"])
    assert parse(["--net", "lenet5-1998", "--mu", "0.5"])[1].mu == 0.5
    modern = TrainConfig(net="lenet5", augment=True).resolved()
    assert (modern.scale, modern.squeeze, modern.shear, modern.lr) == (0.0, 0.0, 0.0, 2e-3)
    # a run file keeps what it ran with; one written before mu existed ran with the paper's
    old = {**TrainConfig(net="lenet5-1998", augment=True).resolved().to_dict(), "scale": 0.0,
           "shear": 0.0, "squeeze": 0.0, "lr": 8e-3}
    del old["mu"]
    again = TrainConfig.from_dict(old).resolved()
    assert (again.scale, again.shear, again.squeeze, again.lr, again.mu) == (0, 0, 0, 8e-3, 0.02)


@pytest.mark.parametrize("optimizer", ["sdlm", "sgd", "adam"])
def test_trainer_runs_the_1998_net(tmp_path, optimizer):
    from training import TrainConfig, Trainer
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8)
    labels = np.arange(64) % 10
    cfg = TrainConfig(net="lenet5-1998", optimizer=optimizer, epochs=1, batch_size=32,
                      workers=1)
    trainer = Trainer(cfg, (images, labels), (images[:16], labels[:16]), str(tmp_path),
                      progress=False)
    summary = trainer.fit()
    assert summary["test_n"] == 16 and 0 <= summary["test_error"] <= 1
    if optimizer == "sdlm":
        assert trainer.optimizer.estimates >= 2     # before the pass and during warm-up


# --modern PARTS: one part of the 1998 net taken from the modern LeNet-5 (the ablations).
MODERN_COUNTS = {"pooling": 60_000 - 12 - 32, "c3": 60_000 - 1516 + 2416,
                 "output": 60_000 + 850}


@pytest.mark.parametrize("part", sorted(MODERN_COUNTS))
def test_modern_parts_swap_one_difference(part):
    net = nn.build_net("lenet5-1998", "scaled_tanh", "lecun98", modern=[part],
                       rng=np.random.default_rng(0))
    assert net.num_parameters() == MODERN_COUNTS[part]
    names = list(net.children)
    assert ("s2" in names) == (part != "pooling") and ("p2" in names) == (part == "pooling")
    assert isinstance(net["c3"], MaskedConv2d) == (part != "c3")
    assert isinstance(net[names[-1]], RBFOutput) == (part != "output")
    assert (net.map_j is None) == (part == "output")
    x = np.random.default_rng(1).standard_normal((3, 1, 28, 28)).astype(np.float32)
    assert net.forward(x).shape == (3, 10)
    with pytest.raises(ValueError, match="modern parts"):
        nn.build_net("lenet5-1998", modern=["softmax"], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="lenet5-1998 only"):
        nn.build_net("lenet5", modern=[part], rng=np.random.default_rng(0))


def test_linear_output_trains_with_cross_entropy_and_an_exact_last_diagonal():
    # The "output" ablation: softmax cross-entropy, whose Gauss-Newton diagonal in the last
    # layer's weights is sum_n x_j^2 p_i (1 - p_i) / N, exactly.
    net = nn.build_net("lenet5-1998", "scaled_tanh", "lecun98", modern=["output"],
                       rng=np.random.default_rng(2), dtype=np.float64)
    assert criterion(net)[0] is ops.cross_entropy
    x = np.random.default_rng(3).standard_normal((6, 1, 28, 28))
    hess = dict(zip([n for n, _ in net.named_parameters()], nn.gauss_newton_diagonal(net, x)))
    logits = net.forward(x)
    p = ops.softmax(logits)
    feats = net["out"].cache.x
    expected = np.einsum("ni,nj->ij", p * (1 - p), feats ** 2) / len(x)
    np.testing.assert_allclose(hess["out.weight"], expected, rtol=1e-10)
    np.testing.assert_allclose(hess["out.bias"], (p * (1 - p)).mean(0), rtol=1e-10)
    assert all(np.all(h >= 0) for h in hess.values())


def test_config_takes_modern_parts_for_the_1998_net_only():
    from training import TrainConfig
    cfg = TrainConfig(net="lenet5-1998", modern=["output", "pooling", "output"]).resolved()
    assert cfg.modern == ["pooling", "output"]           # the canonical order, once each
    with pytest.raises(ValueError, match="modern"):
        TrainConfig(net="lenet5", modern=["c3"]).resolved()
    with pytest.raises(ValueError, match="modern"):
        TrainConfig(net="lenet5-1998", modern=["relu"]).resolved()
    with pytest.raises(ValueError, match="warmup=30: expected epochs in"):
        TrainConfig(net="lenet5-1998", warmup=30).resolved()
    old = TrainConfig(net="lenet5-1998").resolved().to_dict()
    del old["modern"], old["warmup"]       # a file written before these fields
    old["clip"] = None                     # which then meant no clipping
    assert (TrainConfig.from_dict(old).resolved().warmup,
            TrainConfig.from_dict(old).resolved().clip) == (0.0, 0.0)
    assert TrainConfig(net="lenet5-1998").resolved().clip == 50.0
    assert TrainConfig(net="lenet5-1998", clip=0).resolved().clip == 0     # 0: off


def test_one_pattern_per_step_is_the_papers_recipe():
    from training import TrainConfig
    cfg = TrainConfig(net="lenet5-1998", batch_size=1).resolved()
    assert (cfg.optimizer, cfg.lr, cfg.clip, cfg.warmup, cfg.schedule, cfg.mu, cfg.epochs) \
        == ("sdlm", 5e-4, 0.0, 0.0, "lecun1998", 0.02, 20)
    given = TrainConfig(net="lenet5-1998", batch_size=1, lr=1e-3, clip=5).resolved()
    assert (given.lr, given.clip) == (1e-3, 5)
    adam = TrainConfig(net="lenet5-1998", batch_size=1, optimizer="adam").resolved()
    assert (adam.lr, adam.clip) == (2e-3, 50.0)         # SDLM's eta is not Adam's
    assert TrainConfig(net="lenet5", batch_size=1).resolved().lr == 2e-3


def test_sdlm_refreshes_often_while_the_net_is_young():
    net = _net(7)
    x = np.random.default_rng(0).standard_normal((30, 1, 28, 28)).astype(np.float32)
    opt = nn.SDLM(net.parameters(), 1e-4, samples=4, batch_size=2, warmup_steps=2,
                  early_patterns=20, early_refresh_patterns=6, refresh_patterns=10)
    opt.refresh_curvature(net, x, np.random.default_rng(1))
    counts = []
    for _ in range(20):
        for p in net.parameters():
            p.grad[...] = 0.0
        opt.step()
        counts.append(opt.estimates)
    # 1 before; after step 1 (warm-up); every 3 steps before step 10; then every 5.
    refreshed = [t + 1 for t in range(20) if counts[t] > (counts[t - 1] if t else 1)]
    assert refreshed == [1, 4, 7, 12, 17]


def test_sdlm_schedule_counts_patterns_and_is_batch_32s_in_steps():
    # The shipped recipe (batch 32) was tuned counting steps: after each of the first 20,
    # every 20 up to step 2,000, then every 200; counted in patterns it must stay exactly
    # that, while one pattern per step refreshes as often per pattern, not 32x as often.
    params = _net(7).parameters()
    at32 = nn.SDLM(params, 1e-3, batch_size=32)
    assert (at32.warmup_steps, at32.early_refresh, at32.early_steps, at32.refresh_steps) \
        == (20, 20, 2000, 200)
    at1 = nn.SDLM(params, 1e-3, batch_size=1)
    assert (at1.warmup_steps, at1.early_refresh, at1.early_steps, at1.refresh_steps) \
        == (20, 640, 64000, 6400)
    assert nn.SDLM(params, 1e-3, batch_size=10_000).early_refresh == 1
    with pytest.raises(ValueError, match="batch_size"):
        nn.SDLM(params, 1e-3, batch_size=0)


def test_sdlm_step_sizes_kept_between_steps_are_the_inline_ones_bit_for_bit():
    # SDLM keeps lr / (mu + h) while lr and h stay; the reference recomputes it each step.
    net = _net(5)
    x = np.random.default_rng(0).standard_normal((40, 1, 28, 28)).astype(np.float32)
    opt = nn.SDLM(net.parameters(), 1e-3, samples=20, batch_size=4, warmup_steps=2,
                  early_patterns=0, refresh_patterns=12)
    opt.refresh_curvature(net, x, np.random.default_rng(1))
    rng = np.random.default_rng(2)
    for t in range(8):
        opt.lr = 1e-3 if t < 5 else 5e-4        # a schedule's change is seen
        if t == 6:
            opt.mu = 0.1
        want = []
        for p, h in zip(opt.params, opt.hessian):
            p.grad[...] = rng.standard_normal(p.grad.shape)
            want.append(p.data - (opt.lr / (opt.mu + h)) * p.grad)
        opt.step()                              # refreshes h after steps 1, 4 and 7
        for p, w in zip(opt.params, want):
            np.testing.assert_array_equal(p.data, w)
    assert opt.estimates == 4
