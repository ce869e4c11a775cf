"""Data-parallel training steps: shards in threads give the single-thread step's numbers."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info

from nn import SGD, build_net
from training.step import ShardedStep, default_workers, shard_bounds, train_step


def _net(seed=0):
    return build_net("lenet5", rng=np.random.default_rng(seed), dtype=np.float64)


def _batch(n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 28, 28)), rng.integers(0, 10, n)


@pytest.mark.parametrize("workers,n", [(2, 10), (3, 10), (4, 3)])
def test_sharded_step_equals_one_thread(workers, n):
    x, y = _batch(n)
    ref, model = _net(), _net()
    ref_loss, ref_logits = train_step(ref, SGD(ref.parameters(), 0.1), x, y)
    step = ShardedStep(model, workers)
    loss, logits = step(SGD(model.parameters(), 0.1), x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-12, atol=1e-12)
    for (name, p), q in zip(ref.named_parameters(), model.parameters()):
        np.testing.assert_allclose(q.grad, p.grad, rtol=1e-10, atol=1e-12, err_msg=name)
    step.close()


def test_steps_accumulate_nothing_and_follow_the_optimiser():
    """Each call starts from zero gradients, and replicas see every in-place update."""
    x, y = _batch(8)
    ref, model = _net(), _net()
    ref_opt, opt = SGD(ref.parameters(), 0.1), SGD(model.parameters(), 0.1)
    step = ShardedStep(model, 2)
    for _ in range(3):
        train_step(ref, ref_opt, x, y)
        ref_opt.step()
        step(opt, x, y)
        opt.step()
    for p, q in zip(ref.parameters(), model.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-10, atol=1e-12)
    for replica in step.replicas[1:]:
        for p, q in zip(model.parameters(), replica.parameters()):
            assert q.data is p.data and q.grad is not p.grad


def test_same_workers_same_bits():
    x, y = _batch(12)
    results = []
    for _ in range(2):
        model = _net()
        opt = SGD(model.parameters(), 0.1)
        step = ShardedStep(model, 3)
        for _ in range(2):
            step(opt, x, y)
            opt.step()
        results.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_blas_threads_are_restored():
    before = [lib["num_threads"] for lib in threadpool_info()]
    x, y = _batch(4)
    model = _net()
    ShardedStep(model, 2)(SGD(model.parameters(), 0.1), x, y)
    assert [lib["num_threads"] for lib in threadpool_info()] == before


def test_shard_bounds_and_default_workers():
    assert shard_bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert shard_bounds(2, 4) == [(0, 1), (1, 2)]
    assert shard_bounds(5, 1) == [(0, 5)]
    assert default_workers(16) == 1             # shards of at least 32 images
    assert 1 <= default_workers(128) <= 4
    with pytest.raises(ValueError, match="workers=0: expected an integer >= 1"):
        ShardedStep(_net(), 0)
