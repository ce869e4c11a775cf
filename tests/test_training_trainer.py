"""The trainer on tiny synthetic data: learning, metrics, checkpoints, resume, determinism."""
import json
import os

import numpy as np
import pytest

from training import TrainConfig, Trainer, TrainingDiverged, load_model, read_npz
from training.trainer import CHECKPOINT, METRICS, WEIGHTS


def bar_digits(n, seed):
    """Learnable fake MNIST: class k is a bright horizontal bar at rows 2k+3..2k+4, plus noise."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for k in range(10):
        images[labels == k, 2 * k + 3:2 * k + 5, 4:24] = 255
    return images, labels


TRAIN = bar_digits(160, 0)
TEST = bar_digits(40, 1)


def config(**kw):
    base = dict(net="cnn", epochs=2, batch_size=32, lr=3e-3, seed=3)
    base.update(kw)
    return TrainConfig(**base)


def weights(trainer):
    return {n: p.data.copy() for n, p in trainer.model.named_parameters()}


def test_training_learns_and_writes_run_files(tmp_path):
    run = tmp_path / "run"
    trainer = Trainer(config(net="lenet5", epochs=4), TRAIN, TEST, str(run), progress=False,
                      command="python scripts/train.py")
    summary = trainer.fit()
    lines = [json.loads(line) for line in open(run / METRICS)]
    assert [r["epoch"] for r in lines] == [1, 2, 3, 4]
    assert lines[-1]["train_loss"] < 0.5 * lines[0]["train_loss"]
    assert lines[-1]["train_acc"] > 0.5 and lines[-1]["test_error"] < 0.5   # chance: 0.9 error
    r = lines[0]
    for key in ("test_error", "lr", "weight_norm", "grad_norm", "grad_norm_max", "wall_s",
                "train_acc", "weight_std", "peak_rss_mb"):
        assert key in r
    assert set(r["grad_norm"]) == {n for n, _ in trainer.model.named_parameters()}
    assert r["grad_norm_max"] >= max(r["grad_norm"].values())
    assert lines[0]["lr"] == pytest.approx(3e-3) and lines[-1]["lr"] < lines[0]["lr"]  # cosine
    assert summary["test_error"] == lines[-1]["test_error"] and summary["epochs"] == 4
    info = json.load(open(run / "run.json"))
    assert info["config"]["net"] == "lenet5" and "c1.weight" in info["init_weight_std"]
    # weights.npz records its config, so it rebuilds without flags.
    model, cfg = load_model(str(run / WEIGHTS))
    assert cfg.net == "lenet5" and cfg.init == "he"
    for (n, p), (_, q) in zip(model.named_parameters(), trainer.model.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert not [f for f in os.listdir(run) if f.endswith(".tmp")]


@pytest.mark.parametrize("workers", [1, 2])
def test_resume_equals_uninterrupted(tmp_path, workers):
    cfg = config(augment=True, rotate=10.0, scale=0.1, flip=True, optimizer="momentum",
                 lr=0.02, schedule="cosine", clip=5.0, workers=workers)
    straight = Trainer(cfg, TRAIN, TEST, str(tmp_path / "a"), progress=False)
    straight.fit()

    first = Trainer(cfg, TRAIN, TEST, str(tmp_path / "b"), progress=False)
    assert first.fit(stop_after=1) is None
    assert not os.path.exists(tmp_path / "b" / WEIGHTS)
    assert read_npz(str(tmp_path / "b" / CHECKPOINT))["epoch"] == 1
    resumed = Trainer.resume(str(tmp_path / "b"), TRAIN, TEST, progress=False)
    assert resumed.epoch == 1
    resumed.fit()
    a, b = weights(straight), weights(resumed)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6)
    la = [json.loads(x) for x in open(tmp_path / "a" / METRICS)]
    lb = [json.loads(x) for x in open(tmp_path / "b" / METRICS)]
    assert [r["train_loss"] for r in la] == pytest.approx([r["train_loss"] for r in lb])


def test_flip_is_recorded_and_changes_the_batches(tmp_path):
    plain = Trainer(config(epochs=1), TRAIN, TEST, str(tmp_path / "a"), progress=False)
    plain.fit()
    flipped = Trainer(config(epochs=1, flip=True), TRAIN, TEST, str(tmp_path / "b"),
                      progress=False)
    flipped.fit()
    _, cfg = load_model(str(tmp_path / "b" / WEIGHTS))
    assert cfg.flip is True and load_model(str(tmp_path / "a" / WEIGHTS))[1].flip is False
    a, b = weights(plain), weights(flipped)
    assert any(not np.array_equal(a[n], b[n]) for n in a)


def test_interrupt_keeps_last_checkpoint_and_resume_finishes(tmp_path):
    cfg = config(optimizer="adam")
    straight = Trainer(cfg, TRAIN, TEST, str(tmp_path / "a"), progress=False)
    straight.fit()

    run = str(tmp_path / "b")
    trainer = Trainer(cfg, TRAIN, TEST, run, progress=False)
    calls = {"n": 0}
    forward = trainer.model.forward

    def interrupted_forward(x):
        calls["n"] += 1
        if calls["n"] == 7:                 # inside epoch 2 (5 steps per epoch)
            raise KeyboardInterrupt
        return forward(x)

    trainer.model.forward = interrupted_forward
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    saved = read_npz(os.path.join(run, CHECKPOINT))
    assert saved["epoch"] == 1
    assert len(open(os.path.join(run, METRICS)).readlines()) == 1
    resumed = Trainer.resume(run, TRAIN, TEST, progress=False)
    resumed.fit()
    a, b = weights(straight), weights(resumed)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6)


def test_resume_drops_metrics_lines_newer_than_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    Trainer(config(epochs=2), TRAIN, TEST, str(run), progress=False).fit(stop_after=1)
    with open(run / METRICS, "a") as f:     # a crash between the log line and the checkpoint
        f.write(json.dumps({"epoch": 2, "train_loss": 0.0}) + "\n")
    before = (run / METRICS).read_bytes()
    resumed = Trainer.resume(str(run), TRAIN, TEST, progress=False)
    assert (run / METRICS).read_bytes() == before        # resume() only checks; fit() writes
    resumed.fit(stop_after=1)
    assert [json.loads(x)["epoch"] for x in open(run / METRICS)] == [1]
    resumed.fit()
    assert [json.loads(x)["epoch"] for x in open(run / METRICS)] == [1, 2]


@pytest.mark.parametrize("after_write", [False, True])
def test_ctrl_c_between_an_epochs_log_line_and_its_checkpoint(tmp_path, monkeypatch,
                                                              after_write):
    """A signal while epoch 2's checkpoint is written: the log ends where the checkpoint on
    disk does (epoch 1 if the write was cut short, 2 if it had landed), and so does the
    epoch the trainer reports as kept."""
    import training.trainer as trainer_module
    real = trainer_module.save_checkpoint

    def interrupted_save(path, *args):
        if args[3] == 2:                         # the epoch argument
            if after_write:
                real(path, *args)
            raise KeyboardInterrupt
        real(path, *args)

    monkeypatch.setattr(trainer_module, "save_checkpoint", interrupted_save)
    run = tmp_path / "run"
    trainer = Trainer(config(epochs=3), TRAIN, TEST, str(run), progress=False)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    kept = 2 if after_write else 1
    assert read_npz(str(run / CHECKPOINT))["epoch"] == kept == trainer.checkpoint_epoch
    assert [json.loads(x)["epoch"] for x in open(run / METRICS)] == list(range(1, kept + 1))
    monkeypatch.setattr(trainer_module, "save_checkpoint", real)
    Trainer.resume(str(run), TRAIN, TEST, progress=False).fit()
    assert [json.loads(x)["epoch"] for x in open(run / METRICS)] == [1, 2, 3]


def test_resume_can_extend_epochs(tmp_path):
    run = str(tmp_path / "run")
    Trainer(config(epochs=1), TRAIN, TEST, run, progress=False).fit()
    resumed = Trainer.resume(run, TRAIN, TEST, epochs=2, progress=False)
    assert resumed.epoch == 1 and resumed.config.epochs == 2
    resumed.fit()
    assert read_npz(os.path.join(run, CHECKPOINT))["epoch"] == 2


@pytest.mark.parametrize("workers", [1, 3])
def test_same_seed_same_result_different_seed_differs(tmp_path, workers):
    runs = [Trainer(config(epochs=1, seed=s, workers=workers), TRAIN, TEST,
                    str(tmp_path / str(i)), progress=False) for i, s in enumerate([5, 5, 6])]
    for t in runs:
        t.fit()
    w = [weights(t) for t in runs]
    for name in w[0]:
        np.testing.assert_array_equal(w[0][name], w[1][name])
    assert not np.array_equal(w[0]["c1.weight"], w[2]["c1.weight"])


def test_limits_and_bad_config(tmp_path):
    t = Trainer(config(train_limit=50, test_limit=20), TRAIN, TEST, str(tmp_path), progress=False)
    assert len(t.x_train) == 50 and len(t.x_test) == 20
    assert t.x_train.dtype == np.float32 and t.x_train.shape[1:] == (1, 28, 28)
    with pytest.raises(ValueError, match="lr=-1.0: expected a number > 0"):
        Trainer(config(lr=-1.0), TRAIN, TEST, str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="workers=0: expected an integer >= 1"):
        Trainer(config(workers=0), TRAIN, TEST, str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="net='vgg'"):
        Trainer(config(net="vgg"), TRAIN, TEST, str(tmp_path), progress=False)


def test_resume_rejects_a_weights_file(tmp_path):
    run = str(tmp_path / "run")
    Trainer(config(epochs=1), TRAIN, TEST, run, progress=False).fit()
    os.replace(os.path.join(run, WEIGHTS), os.path.join(run, CHECKPOINT))
    with pytest.raises(ValueError, match="weights file, not a checkpoint"):
        Trainer.resume(run, TRAIN, TEST, progress=False)


@pytest.mark.parametrize("lr,epochs_before", [(0.1, 0), (1e6, 0)])
def test_diverging_run_stops_and_saves_nothing_of_it(tmp_path, capsys, recwarn, lr, epochs_before):
    run = tmp_path / "run"
    cfg = config(net="lenet5", init="naive", optimizer="sgd", lr=lr, epochs=2,
                 schedule="constant")
    trainer = Trainer(cfg, TRAIN, TEST, str(run), progress=False)
    with pytest.raises(TrainingDiverged, match="became non-finite at epoch 1/2, step") as e:
        trainer.fit()
    assert e.value.checkpoint_epoch is None and "no checkpoint had been saved yet" in str(e.value)
    assert sorted(os.listdir(run)) == ["run.json"]      # no metrics, snapshots or weights
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_divergence_after_a_checkpoint_keeps_it(tmp_path, recwarn):
    run = tmp_path / "run"
    trainer = Trainer(config(epochs=3), TRAIN, TEST, str(run), progress=False)
    trainer.fit(stop_after=1)
    before = {n: (run / n).read_bytes() for n in os.listdir(run)}
    trainer.optimizer.lr = 1e30
    trainer.schedule = lambda t: 1e30                   # blow up in epoch 2
    with pytest.raises(TrainingDiverged, match="checkpoint after epoch 1 is kept") as e:
        trainer.fit()
    assert e.value.checkpoint_epoch == 1
    assert {n: (run / n).read_bytes() for n in os.listdir(run)} == before
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert read_npz(str(run / CHECKPOINT))["epoch"] == 1       # finite, loads


def test_snapshots_series_and_resume_continues_it(tmp_path):
    from training.snapshots import load_snapshots
    straight, split = tmp_path / "straight", tmp_path / "split"
    cfg = dict(net="lenet5", epochs=2, batch_size=32)
    Trainer(config(**cfg), TRAIN, TEST, str(straight), progress=False).fit()
    Trainer(config(**cfg), TRAIN, TEST, str(split), progress=False).fit(stop_after=1)
    Trainer.resume(str(split), TRAIN, TEST, progress=False).fit()
    a, b = load_snapshots(straight), load_snapshots(split)
    steps = a["step"]
    assert steps[0] == 0 and steps[-1] == 2 * 5 and np.all(np.diff(steps) > 0)
    assert a["conv1"].shape == (len(steps), 6, 1, 5, 5)
    assert a["conv2"].shape == (len(steps), 16, 6, 5, 5)
    np.testing.assert_array_equal(b["step"], steps)          # no duplicates, no gaps
    np.testing.assert_allclose(b["conv1"], a["conv1"], atol=1e-6)
    np.testing.assert_allclose(b["conv2"], a["conv2"], atol=1e-6)
    model = Trainer.resume(str(split), TRAIN, TEST, progress=False).model
    np.testing.assert_array_equal(a["conv1"][-1], model.children["c1"].weight.data)
    # every = 1 here: steps 0..10. Each snapshot carries the latest test error before it.
    e1, e2 = [json.loads(line)["test_error"] for line in open(straight / METRICS)]
    te = a["test_error"]
    assert np.isnan(te[:6]).all()
    np.testing.assert_array_equal(te[6:10], e1)
    assert te[10] == e2


@pytest.mark.parametrize("activation,given,expected", [
    ("relu", None, 5e-4), ("tanh", None, 5e-4), ("sigmoid", None, 0.0), ("relu", 0.0, 0.0),
    ("sigmoid", 1e-3, 1e-3),
])
def test_default_weight_decay_per_activation(activation, given, expected):
    cfg = TrainConfig(activation=activation, weight_decay=given).resolved()
    assert cfg.weight_decay == expected
    assert TrainConfig.from_dict(cfg.to_dict()).resolved().weight_decay == expected
