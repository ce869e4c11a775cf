"""Data-parallel training steps: shards in worker processes give the one-process step's
numbers, the same bits every run, and leave no process behind."""
import multiprocessing
import os
import signal

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from nn import SGD, build_net
from training.step import ShardedStep, default_workers, shard_bounds, train_step, usable_cores

two_cores = pytest.mark.skipif(usable_cores() < 2, reason="needs 2 usable cores for 2 workers")


def _net(seed=0, dtype=np.float64):
    return build_net("lenet5", rng=np.random.default_rng(seed), dtype=dtype)


def _batch(n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 28, 28)), rng.integers(0, 10, n)


def _workers():
    return [p for p in multiprocessing.active_children() if p.name == "numpy_dl shard"]


@two_cores
@pytest.mark.parametrize("workers,n", [(2, 10), (3, 10), (4, 3)])
def test_sharded_step_equals_one_process(workers, n):
    x, y = _batch(n)
    ref, model = _net(), _net()
    ref_loss, ref_logits = train_step(ref, SGD(ref.parameters(), 0.1), x, y)
    with ShardedStep(model, workers) as step:
        loss, logits = step(SGD(model.parameters(), 0.1), x, y)
        assert step.workers == min(workers, usable_cores()) and len(_workers()) == step.workers - 1
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-12, atol=1e-12)
    for (name, p), q in zip(ref.named_parameters(), model.parameters()):
        np.testing.assert_allclose(q.grad, p.grad, rtol=1e-10, atol=1e-12, err_msg=name)


@two_cores
def test_steps_accumulate_nothing_and_follow_the_optimiser():
    """Each call starts from zero gradients, and the workers see every update of the weights
    (in place, or a new array as load_state_dict's caller may leave)."""
    x, y = _batch(8)
    ref, model = _net(), _net()
    ref_opt, opt = SGD(ref.parameters(), 0.1), SGD(model.parameters(), 0.1)
    with ShardedStep(model, 2) as step:
        for k in range(3):
            train_step(ref, ref_opt, x, y)
            ref_opt.step()
            step(opt, x, y)
            opt.step()
            if k == 1:
                for p, q in zip(ref.parameters(), model.parameters()):
                    p.data, q.data = p.data * 0.5, q.data * 0.5
        for p, q in zip(ref.parameters(), model.parameters()):
            np.testing.assert_allclose(q.data, p.data, rtol=1e-10, atol=1e-12)


@two_cores
def test_two_workers_agree_with_one_and_give_the_same_bits_every_run():
    """float32, as training runs: 2 workers match 1 to float tolerance, and two runs of 2
    workers match bit for bit (shard gradients are summed in shard order)."""
    x, y = _batch(64, seed=3)
    x = x.astype(np.float32)
    results = {}
    for workers, run in ((1, 0), (2, 0), (2, 1)):
        model = _net(dtype=np.float32)
        opt = SGD(model.parameters(), 0.05)
        with ShardedStep(model, workers) as step:
            for _ in range(3):
                step(opt, x, y)
                opt.step()
        results[workers, run] = [p.data.copy() for p in model.parameters()]
    for a, b, c in zip(results[1, 0], results[2, 0], results[2, 1]):
        np.testing.assert_array_equal(b, c)
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert any((a != b).any() for a, b in zip(results[1, 0], results[2, 0]))    # 2 really ran


def test_blas_threads_are_restored():
    before = [lib["num_threads"] for lib in threadpool_info()]
    x, y = _batch(4)
    model = _net()
    with ShardedStep(model, 2) as step:
        step(SGD(model.parameters(), 0.1), x, y)
    assert [lib["num_threads"] for lib in threadpool_info()] == before


@two_cores
def test_workers_end_with_close_and_start_again_with_a_larger_batch():
    model = _net()
    opt = SGD(model.parameters(), 0.1)
    step = ShardedStep(model, 2)
    step(opt, *_batch(4))
    first = _workers()
    assert len(first) == 1
    step(opt, *_batch(16))                  # shards larger than the shared slots: new workers
    assert len(_workers()) == 1 and _workers()[0].pid != first[0].pid
    assert not first[0].is_alive()
    step.close()
    assert _workers() == []
    step(opt, *_batch(4))                   # closed is not broken
    assert len(_workers()) == 1
    step.close()
    assert _workers() == []


@two_cores
def test_an_error_in_a_worker_is_raised_here_and_the_workers_stop():
    model = _net()
    x, y = _batch(8)
    y[-1] = 99                              # in the second shard only
    step = ShardedStep(model, 2)
    with pytest.raises(ValueError, match="labels contains 99"):
        step(SGD(model.parameters(), 0.1), x, y)
    assert _workers() == []


@two_cores
def test_a_killed_worker_is_one_clear_error_and_the_next_step_works():
    model = _net()
    opt = SGD(model.parameters(), 0.1)
    x, y = _batch(8)
    with ShardedStep(model, 2) as step:
        step(opt, x, y)
        (worker,) = _workers()
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        with pytest.raises(RuntimeError, match="a training worker process died"):
            step(opt, x, y)
        assert _workers() == []
        loss, _ = step(opt, x, y)
        assert np.isfinite(loss) and len(_workers()) == 1


def test_shard_bounds_and_default_workers():
    assert shard_bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert shard_bounds(2, 4) == [(0, 1), (1, 2)]
    assert shard_bounds(5, 1) == [(0, 5)]
    assert default_workers(32) == 1             # shards of at least 32 images
    assert default_workers(64) == min(2, usable_cores())
    assert default_workers(4096) == usable_cores()
    assert ShardedStep(_net(), 64).workers == usable_cores()    # never more than the cores
    with pytest.raises(ValueError, match="workers=0: expected an integer >= 1"):
        ShardedStep(_net(), 0)
