"""Optimisers against hand-computed torch update formulas, schedules and gradient clipping."""
import math

import numpy as np
import pytest

from nn import (SGD, Adam, Constant, Cosine, Parameter, Step, build_optimizer, build_schedule,
                clip_grad_norm_)


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal((3, 2))), Parameter(rng.standard_normal(4))]


def run(opt, params, grads_per_step):
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad[...] = g
        opt.step()


def grad_sequence(params, steps=4, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(p.shape) for p in params] for _ in range(steps)]


def test_plain_sgd_with_weight_decay():
    params = make_params()
    start = [p.data.copy() for p in params]
    grads = grad_sequence(params, steps=1)
    run(SGD(params, lr=0.1, weight_decay=0.01), params, grads)
    for p, p0, g in zip(params, start, grads[0]):
        np.testing.assert_allclose(p.data, p0 - 0.1 * (g + 0.01 * p0))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_torch_formula(nesterov):
    lr, mu, wd = 0.05, 0.9, 1e-3
    params = make_params()
    expected = [p.data.copy() for p in params]
    grads = grad_sequence(params)
    run(SGD(params, lr, momentum=mu, weight_decay=wd, nesterov=nesterov), params, grads)
    bufs = [None, None]
    for step in grads:                  # torch.optim.SGD, written out
        for i, g in enumerate(step):
            d = g + wd * expected[i]
            bufs[i] = d.copy() if bufs[i] is None else mu * bufs[i] + d
            d = d + mu * bufs[i] if nesterov else bufs[i]
            expected[i] = expected[i] - lr * d
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.data, e, rtol=1e-12)


def test_adam_matches_torch_formula():
    lr, (b1, b2), eps, wd = 2e-3, (0.9, 0.999), 1e-8, 1e-2
    params = make_params()
    expected = [p.data.copy() for p in params]
    grads = grad_sequence(params, steps=5)
    run(Adam(params, lr, weight_decay=wd), params, grads)
    m = [np.zeros_like(e) for e in expected]
    v = [np.zeros_like(e) for e in expected]
    for t, step in enumerate(grads, start=1):
        for i, g in enumerate(step):
            g = g + wd * expected[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            step_size = lr / (1 - b1 ** t)
            denom = np.sqrt(v[i]) / math.sqrt(1 - b2 ** t) + eps
            expected[i] = expected[i] - step_size * m[i] / denom
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.data, e, rtol=1e-12)


def test_adam_first_step_moves_each_weight_by_lr():
    # With bias correction the first Adam step is lr * sign(g) (up to eps).
    params = make_params()
    start = [p.data.copy() for p in params]
    grads = grad_sequence(params, steps=1)
    run(Adam(params, 0.01), params, grads)
    for p, p0, g in zip(params, start, grads[0]):
        np.testing.assert_allclose(p.data - p0, -0.01 * np.sign(g), rtol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_optimizers_match_torch(name):
    torch = pytest.importorskip("torch")
    params = make_params()
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    kw = dict(lr=0.01, weight_decay=1e-3)
    topt = {"sgd": lambda: torch.optim.SGD(tparams, **kw),
            "momentum": lambda: torch.optim.SGD(tparams, momentum=0.9, **kw),
            "nesterov": lambda: torch.optim.SGD(tparams, momentum=0.9, nesterov=True, **kw),
            "adam": lambda: torch.optim.Adam(tparams, **kw)}[name]()
    opt = build_optimizer(name, params, 0.01, weight_decay=1e-3)
    for step in grad_sequence(params, steps=6):
        for p, tp, g in zip(params, tparams, step):
            p.grad[...] = g
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_optimizer_state_round_trip():
    params, params2 = make_params(), make_params()
    grads = grad_sequence(params, steps=6)
    a = Adam(params, 1e-2)
    run(a, params, grads[:3])
    b = Adam(params2, 1e-2)
    for p, q in zip(params, params2):
        q.data[...] = p.data
    b.load_state_dict({k: v.copy() for k, v in a.state_dict().items()})
    run(a, params, grads[3:])
    run(b, params2, grads[3:])
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.data, q.data)


def test_optimizer_arguments_are_checked():
    with pytest.raises(ValueError, match="lr must be a positive"):
        SGD(make_params(), lr=0)
    with pytest.raises(ValueError, match="nesterov requires"):
        SGD(make_params(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        build_optimizer("rmsprop", make_params(), 0.1)


def test_schedules():
    assert Constant(0.1)(7.3) == 0.1
    step = Step(1.0, step_size=2, gamma=0.1)
    assert [step(e) for e in (0, 1.9, 2, 4.5)] == pytest.approx([1, 1, 0.1, 0.01])
    cos = Cosine(1.0, total_epochs=10)
    assert cos(0) == 1.0 and cos(5) == pytest.approx(0.5) and cos(10) == pytest.approx(0.0)
    assert cos(2.5) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert build_schedule("step", 1.0, 9) == Step(1.0, 3, 0.1)
    with pytest.raises(ValueError, match="schedule must be one of"):
        build_schedule("linear", 1.0, 5)


def test_warmup_ramps_linearly_then_hands_over():
    warm = build_schedule("lecun1998", 1.0, 20, warmup=2)
    assert 0 < warm(0) < 1e-3                      # the first step is tiny, not zero
    assert warm(0.5) == pytest.approx(0.25, abs=1e-3)
    assert warm(1.0) == pytest.approx(0.5, abs=1e-3)
    assert warm(2.5) == build_schedule("lecun1998", 1.0, 20)(2.5) == 0.4
    assert build_schedule("cosine", 1.0, 10, warmup=0) == Cosine(1.0, 10)


def test_clip_scales_only_above_max_norm():
    params = make_params()
    grads = [np.full((3, 2), 3.0), np.full(4, 4.0)]    # norm sqrt(6*9 + 4*16) = sqrt(118)
    for p, g in zip(params, grads):
        p.grad[...] = g
    total = clip_grad_norm_(params, 1.0)
    assert total == pytest.approx(math.sqrt(118))
    coef = 1.0 / (math.sqrt(118) + 1e-6)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad, g * coef)
    after = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
    assert after == pytest.approx(1.0, rel=1e-5)
    # Below the threshold nothing changes, but the norm is still returned.
    before = [p.grad.copy() for p in params]
    assert clip_grad_norm_(params, 10.0) == pytest.approx(after)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.grad, b)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        clip_grad_norm_(params, 0)


def test_clip_matches_torch():
    torch = pytest.importorskip("torch")
    params = make_params()
    for p, g in zip(params, grad_sequence(params, steps=1)[0]):
        p.grad[...] = 5 * g
    tparams = [torch.zeros(p.shape, dtype=torch.float64, requires_grad=True) for p in params]
    for p, tp in zip(params, tparams):
        tp.grad = torch.tensor(p.grad.copy())
    total_t = torch.nn.utils.clip_grad_norm_(tparams, 2.0)
    total = clip_grad_norm_(params, 2.0)
    assert total == pytest.approx(float(total_t))
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)
