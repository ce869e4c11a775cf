"""Nothing lost: train.py and the scripts that read runs, given existing runs, damaged files,
a diverging loss or Ctrl-C. Each case: the exit code, exactly one line on stderr, and every
file of the directory exactly as it was (a checksum before and after)."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_fake_mnist

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
TRAIN = SCRIPTS / "train.py"


def run(script, *args, cwd=ROOT, timeout=120):
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def tree(path):
    """relative path -> sha256 of every file under ``path`` (hidden ones included)."""
    path = Path(path)
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def one_line(r):
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def refused(script, *args, watch, code=2, cwd=ROOT):
    """Run, expect ``code`` and one stderr line, and no file under ``watch`` changed."""
    before = tree(watch)
    r = run(script, *args, cwd=cwd)
    assert r.returncode == code, (r.returncode, r.stderr)
    line = one_line(r)
    assert "Traceback" not in r.stderr
    assert tree(watch) == before
    return line


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Finished fake-data runs: fc2 (2 epochs) and lenet5 (1 epoch), made once."""
    base = tmp_path_factory.mktemp("runs")
    data = base / "data"
    data.mkdir()
    write_fake_mnist(data)
    for net, epochs in (("fc2", 2), ("lenet5", 1)):
        r = run("train.py", "--net", net, "--epochs", epochs, "--batch-size", "8",
                "--data-dir", data, "--out", base / net, "--no-progress")
        assert r.returncode == 0, r.stderr
    return base


@pytest.fixture
def fc2(runs, tmp_path):
    """A private copy of the finished fc2 run."""
    shutil.copytree(runs / "fc2", tmp_path / "fc2")
    return tmp_path / "fc2"


def data_args(runs):
    return ("--data-dir", runs / "data", "--no-progress")


# -- a new run never overwrites ---------------------------------------------------------
def test_out_on_an_existing_run_is_refused(runs, fc2):
    line = refused("train.py", "--net", "fc2", "--epochs", "1", "--out", fc2, *data_args(runs),
                   watch=fc2.parent)
    assert f"--resume {fc2}" in line and "checkpoint.npz" in line


def test_out_on_a_folder_with_any_file_or_on_a_file_is_refused(runs, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    line = refused("train.py", "--out", tmp_path, *data_args(runs), watch=tmp_path)
    assert "notes.txt" in line
    line = refused("train.py", "--out", tmp_path / "notes.txt", *data_args(runs), watch=tmp_path)
    assert "not a directory" in line


def test_out_on_an_empty_folder_trains(runs, tmp_path):
    r = run("train.py", "--net", "fc2", "--epochs", "1", "--batch-size", "8", "--out", tmp_path,
            *data_args(runs))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "weights.npz").is_file()


# -- resume validates everything first ----------------------------------------------------
def test_resume_with_another_networks_checkpoint_is_refused(runs, fc2):
    shutil.copy(runs / "lenet5" / "checkpoint.npz", fc2 / "checkpoint.npz")
    line = refused("train.py", "--resume", fc2, "--epochs", "3", *data_args(runs),
                   watch=fc2.parent)
    assert "belongs to another run" in line and "lenet5" in line


def test_resume_with_mismatched_snapshots_is_refused(runs, tmp_path):
    """No run.json to compare with: the snapshots (conv filters) still give it away."""
    run_dir = tmp_path / "lenet5"
    shutil.copytree(runs / "lenet5", run_dir)
    (run_dir / "run.json").unlink()
    shutil.copy(runs / "fc2" / "checkpoint.npz", run_dir / "checkpoint.npz")
    line = refused("train.py", "--resume", run_dir, "--epochs", "3", *data_args(runs),
                   watch=tmp_path)
    assert "snapshots.npz" in line and "another run" in line


def test_resume_with_a_log_of_another_run_is_refused(runs, fc2):
    shutil.copy(runs / "lenet5" / "metrics.jsonl", fc2 / "metrics.jsonl")     # 1 epoch, not 2
    line = refused("train.py", "--resume", fc2, "--epochs", "3", *data_args(runs),
                   watch=fc2.parent)
    assert "metrics.jsonl: holds epochs 1..1" in line and "not the same run" in line


@pytest.mark.parametrize("damage", ["empty", "text", "truncated", "flipped", "zeros"])
def test_resume_with_a_damaged_checkpoint_is_refused(runs, fc2, damage):
    path = fc2 / "checkpoint.npz"
    raw = path.read_bytes()
    path.write_bytes({"empty": b"", "text": b"epoch 2\n", "truncated": raw[:len(raw) // 2],
                      "flipped": raw[:200] + bytes([raw[200] ^ 4]) + raw[201:],
                      "zeros": bytes(len(raw))}[damage])
    line = refused("train.py", "--resume", fc2, "--epochs", "3", *data_args(runs),
                   watch=fc2.parent)
    assert f"{path}: not a readable .npz archive" in line


def test_resume_with_a_damaged_log_or_run_json_is_refused(runs, fc2):
    (fc2 / "metrics.jsonl").write_text('{"epoch": 1}\n{"epo')
    line = refused("train.py", "--resume", fc2, "--epochs", "3", *data_args(runs),
                   watch=fc2.parent)
    assert "metrics.jsonl: line 2 is not JSON" in line
    (fc2 / "run.json").write_text("[]")
    line = refused("train.py", "--resume", fc2, "--epochs", "3", *data_args(runs),
                   watch=fc2.parent)
    assert "run.json: no 'config'" in line


def test_resume_of_a_finished_run_without_its_checkpoint_is_refused(runs, fc2):
    """Starting over is only for a run stopped before its first checkpoint."""
    (fc2 / "checkpoint.npz").unlink()
    line = refused("train.py", "--resume", fc2, *data_args(runs), watch=fc2.parent)
    assert "holds 2 epochs in metrics.jsonl: it cannot be resumed" in line


def test_resume_cannot_shorten_a_run(runs, fc2):
    line = refused("train.py", "--resume", fc2, "--epochs", "1", *data_args(runs),
                   watch=fc2.parent)
    assert "already completed 2 epochs" in line


@pytest.mark.parametrize("epochs", [[], ["--epochs", "2"]])
def test_resume_of_a_complete_run_says_so_and_writes_nothing(runs, fc2, epochs):
    before = tree(fc2)
    r = run("train.py", "--resume", fc2, *epochs, *data_args(runs))
    assert r.returncode == 0 and r.stderr == ""
    assert "already complete (2/2 epochs" in r.stdout and "--epochs N with N > 2" in r.stdout
    assert tree(fc2) == before


def test_resume_after_a_crash_before_the_final_weights_finishes(runs, fc2):
    (fc2 / "weights.npz").unlink()
    (fc2 / "summary.json").unlink()
    r = run("train.py", "--resume", fc2, *data_args(runs))
    assert r.returncode == 0, r.stderr
    assert (fc2 / "weights.npz").read_bytes() == (runs / "fc2" / "weights.npz").read_bytes()


# -- a diverging loss ---------------------------------------------------------------------
def test_a_diverging_run_stops_with_one_line_and_keeps_the_last_finite_checkpoint(runs, tmp_path):
    out = tmp_path / "run"
    r = run("train.py", "--net", "fc2", "--epochs", "3", "--batch-size", "8", "--lr", "1e6",
            "--optimizer", "sgd", "--out", out, *data_args(runs))
    assert r.returncode == 3, r.stderr
    line = one_line(r)                  # no RuntimeWarning either
    assert "training diverged" in line and "non-finite at epoch 2/3" in line and "--lr" in line
    assert "the checkpoint after epoch 1 is kept" in line
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "metrics.jsonl", "run.json"]
    from training import read_npz
    saved = read_npz(str(out / "checkpoint.npz"))       # refuses non-finite weights
    assert saved["epoch"] == 1
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1


# -- Ctrl-C -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def slow_data(tmp_path_factory):
    """Enough fake images that one epoch at batch size 1 lasts seconds."""
    return write_fake_mnist(tmp_path_factory.mktemp("slow"), n_train=20000, seed=1)


def test_ctrl_c_in_the_first_epoch_says_no_checkpoint_exists(slow_data, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(TRAIN), "--net", "fc2", "--epochs", "1",
                             "--batch-size", "1", "--data-dir", str(slow_data), "--out",
                             str(out), "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while not (out / "run.json").exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1, stderr
    assert not (out / "checkpoint.npz").exists()
    assert "before the first checkpoint" in lines[0] and "intact" not in lines[0]
    assert f"--resume {out}" in lines[0]
    assert sorted(os.listdir(out)) == ["run.json"]


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return []


def _gone(pid, timeout=10.0):
    """True once process ``pid`` has ended (a zombie awaiting its reaper counts as ended)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores for 2 workers")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_signal_mid_epoch_with_two_workers_leaves_no_process_and_keeps_the_checkpoint(
        slow_data, tmp_path, sig):
    """--workers 2 runs a shard in a worker process: Ctrl-C or SIGTERM in epoch 2 or later
    still gives one line, exit 130 and the last checkpoint; after that or kill -9 no worker
    lives on (they would hold the test's pipes open) and /dev/shm gains nothing."""
    out = tmp_path / "run"
    shm = set(os.listdir("/dev/shm"))
    proc = subprocess.Popen([sys.executable, str(TRAIN), "--net", "lenet5", "--epochs", "100",
                             "--batch-size", "16", "--workers", "2", "--train-limit", "640",
                             "--test-limit", "16", "--data-dir", str(slow_data), "--out",
                             str(out), "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 120
    while not ((out / "checkpoint.npz").exists() and _children(proc.pid)) \
            and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)                         # into the next epoch
    workers = _children(proc.pid)
    assert len(workers) == 1, workers
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert all(_gone(pid) for pid in workers)
    assert set(os.listdir("/dev/shm")) <= shm
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]
    from training import read_npz
    kept = read_npz(str(out / "checkpoint.npz"))["epoch"]
    assert kept >= 1
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        return
    assert proc.returncode == 130
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1, stderr
    assert f"checkpoint.npz after epoch {kept}/100 is intact" in lines[0]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == kept


def test_resume_before_the_first_checkpoint_starts_over(runs, tmp_path):
    """run.json alone (Ctrl-C in epoch 1): --resume trains from scratch, same weights."""
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(runs / "fc2" / "run.json", out / "run.json")
    r = run("train.py", "--resume", out, *data_args(runs))
    assert r.returncode == 0, r.stderr
    assert (out / "weights.npz").read_bytes() == (runs / "fc2" / "weights.npz").read_bytes()
    assert [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()] \
        == [1, 2]


# -- the scripts that read runs: damaged files ----------------------------------------------
DAMAGE = {
    "empty": lambda raw: b"",
    "text": lambda raw: b"hello\n",
    "truncated": lambda raw: raw[:len(raw) // 2],
    "flipped": lambda raw: raw[:len(raw) // 2] + bytes([raw[len(raw) // 2] ^ 1])
    + raw[len(raw) // 2 + 1:],
}


@pytest.fixture
def lenet5(runs, tmp_path):
    shutil.copytree(runs / "lenet5", tmp_path / "lenet5")
    return tmp_path / "lenet5"


def _damage(path, how):
    path.write_bytes(DAMAGE[how](path.read_bytes()))


@pytest.mark.parametrize("case,how", [   # every kind of damage: test_training_checkpoint.py
    ("evaluate", "empty"), ("evaluate", "text"), ("evaluate", "truncated"),
    ("evaluate", "flipped"), ("feature_maps", "truncated"), ("animate_filters", "flipped"),
    ("animate_filters", "text"), ("report", "empty"), ("report_metrics", "truncated"),
])
def test_readers_of_a_damaged_file_print_one_line(runs, lenet5, case, how):
    data = ("--data-dir", runs / "data")
    target, argv = {
        "evaluate": ("weights.npz", ("evaluate.py", lenet5 / "weights.npz", *data)),
        "feature_maps": ("weights.npz", ("feature_maps.py", "--weights", lenet5 / "weights.npz",
                                         "--no-progress")),
        "animate_filters": ("snapshots.npz", ("animate_filters.py", lenet5, "--no-progress")),
        "report": ("weights.npz", ("report.py", lenet5, *data, "--no-progress")),
        "report_metrics": ("metrics.jsonl", ("report.py", lenet5, *data, "--no-progress")),
    }[case]
    _damage(lenet5 / target, how)
    line = refused(*argv, watch=lenet5.parent)
    assert line.startswith(f"{argv[0]}: error: ") and target in line


# -- outputs go into the run, never over shipped files -------------------------------------
def test_outputs_of_a_run_go_into_it(runs, lenet5):
    shipped = {d: tree(ROOT / d) for d in ("gifs", "docs", "models")}
    r = run("animate_filters.py", lenet5, "--no-progress", "--no-gifsicle")
    assert r.returncode == 0, r.stderr
    r = run("report.py", lenet5, "--data-dir", runs / "data", "--no-progress", "--dpi", "30")
    assert r.returncode == 0, r.stderr
    r = run("feature_maps.py", "--weights", lenet5 / "weights.npz", "--no-progress")
    assert r.returncode == 0, r.stderr
    new = set(tree(lenet5)) - set(tree(runs / "lenet5"))
    assert new == {"filters.gif", "feature_maps.png", "report/curves.png",
                   "report/confusion.png", "report/misclassified.png", "report/norms.png"}
    assert {d: tree(ROOT / d) for d in shipped} == shipped


def test_output_dir_keeps_shipped_folders_read_only(tmp_path):
    from training.rundir import ROOT as root, output_dir
    assert output_dir(tmp_path / "run") == tmp_path / "run"
    assert output_dir(root / "models" / "lenet5-run") == Path("runs", "lenet5-run")
    assert output_dir(root / "models" / "lenet5-run", "weights") == Path("runs", "lenet5-run")
    assert output_dir(root / "models", "lenet5") == Path("runs", "lenet5")
    assert output_dir(root / "gifs") == Path("runs", "gifs")


SHIPPED_RUN = ROOT / "models" / "lenet5-run"


def test_the_shipped_run_works_straight_away_and_stays_as_shipped(runs, tmp_path):
    """models/lenet5-run is the run behind models/lenet5.npz; its outputs go to runs/."""
    assert (SHIPPED_RUN / "weights.npz").read_bytes() == \
        (ROOT / "models" / "lenet5.npz").read_bytes()
    lines = (SHIPPED_RUN / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == list(range(1, 16))
    shipped = {d: tree(ROOT / d) for d in ("models", "gifs", "docs")}
    for argv in (("animate_filters.py", SHIPPED_RUN, "--no-gifsicle", "--scale", "2"),
                 ("report.py", SHIPPED_RUN, "--data-dir", runs / "data", "--dpi", "30"),
                 ("feature_maps.py", "--weights", SHIPPED_RUN / "weights.npz")):
        r = run(*argv, "--no-progress", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    made = tree(tmp_path / "runs" / "lenet5-run")
    assert {"filters.gif", "feature_maps.png", "report/curves.png"} <= set(made)
    assert {d: tree(ROOT / d) for d in shipped} == shipped
    line = refused("train.py", "--out", SHIPPED_RUN, *data_args(runs), watch=ROOT / "models")
    assert "is not empty" in line
    line = refused("train.py", "--resume", SHIPPED_RUN, *data_args(runs), watch=ROOT / "models")
    assert "cannot be resumed" in line


@pytest.mark.parametrize("argv", [
    ("animate_filters.py", "{run}", "--no-gifsicle"),
    ("feature_maps.py", "--weights", "{run}/weights.npz"),
    ("report.py", "{run}", "--data-dir", "{data}", "--dpi", "30"),
])
def test_an_output_onto_a_folder_is_one_line_and_leaves_nothing(runs, lenet5, argv):
    target = lenet5.parent / "taken"
    (target / "curves.png").mkdir(parents=True)      # report.py writes PNGs inside --out
    argv = [a.format(run=lenet5, data=runs / "data") for a in argv]
    line = refused(*argv, "--out", target, "--no-progress", watch=lenet5.parent)
    assert "cannot write" in line and str(target) in line
    assert sorted(p.name for p in lenet5.parent.iterdir()) == ["lenet5", "taken"]
