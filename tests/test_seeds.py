"""Seed tables: training/seeds.py's parts, and scripts/seeds.py run as a process on tiny data."""
import filecmp
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from training.seeds import (BLAS_THREAD_VARS, check_train_args, markdown, parse_seeds,
                            median_seed, summarize)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = str(ROOT / "scripts" / "seeds.py")
TRAIN = str(ROOT / "scripts" / "train.py")


def run(*args, env=None):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)


def error_line(stderr):
    lines = [line for line in stderr.splitlines() if "error:" in line]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("text,seeds", [("0-4", [0, 1, 2, 3, 4]), ("3", [3]),
                                        ("0,2,7", [0, 2, 7]), ("0-2, 9", [0, 1, 2, 9])])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text,message", [("4-2", "range '4-2' runs backwards"),
                                          ("0-2,1", "seed 1 is given twice"),
                                          ("-1", "'-1' is not a seed"), ("a", "'a' is not")])
def test_parse_seeds_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_seeds(text)


@pytest.mark.parametrize("args", [["--seed", "3"], ["--se=3"], ["--out", "x"], ["--resume", "x"],
                                  ["--no-progress"], ["-h"]])
def test_train_args_may_not_set_what_the_table_sets(args):
    with pytest.raises(ValueError, match="drop|--help"):
        check_train_args(["--net", "lenet5"] + args)
    check_train_args(["--net", "lenet5", "--no-normalize", "--scale", "0.1"])


def test_summary_and_markdown():
    stats = summarize([0.0092, 0.0098, 0.0117])
    assert stats["median"] == 0.0098 and stats["min"] == 0.0092 and stats["max"] == 0.0117
    assert stats["mean"] == pytest.approx(0.010233333)
    assert stats["std"] == pytest.approx(0.00130512, rel=1e-5)
    assert summarize([0.01])["std"] is None and summarize([]) is None
    rows = [{"seed": s, "run_dir": f"seed-{s}", "status": "done", "test_error": e, "epochs": 20,
             "train_wall_s": 226.4} for s, e in enumerate([0.0092, 0.0098, 0.0117])]
    rows.append({"seed": 3, "run_dir": "seed-3", "status": "unfinished", "epochs_done": 4})
    table = {"name": "t", "train_args": ["--net", "lenet5-1998"], "seeds_text": "0-3",
             "rows": rows, "summary": stats, "train_wall_s": 679.2, "wall_s": 400.0,
             "jobs": 2, "blas_threads": 1, "commit": "abc",
             "environment": {"blas": [{"library": "openblas", "threads": 1}]},
             "command": "python scripts/seeds.py"}
    text = markdown(table)
    assert "| 0 | 0.92 % | 20 | 226 s | seed-0 |" in text
    assert "| 3 | not finished (4 epochs) |  |  | seed-3 |" in text
    assert ("median 0.98 %, mean 1.02 % (sample std 0.13 %), min 0.92 %, max 1.17 %"
            in text)
    assert "Closest to the median: seed 1 (0.98 %), the run to ship" in text
    assert "3 of 4 finished" in text and "OPENBLAS_NUM_THREADS=1 python scripts/train.py" in text
    assert "commit abc." in text and "(2 at once, 1 BLAS thread each)" in text
    # a hash is cut to 10 digits, a run from a changed tree says so in full
    rows[0]["commit"], rows[1]["commit"] = "uncommitted", "29df75453f841ff304a6"
    assert "commit 29df75453f, uncommitted (the seeds were" in markdown(table)


def test_median_seed_is_the_typical_run_not_the_best():
    rows = [{"seed": s, "status": "done", "test_error": e}
            for s, e in [(0, 0.0092), (1, 0.0098), (2, 0.0117), (3, 0.0129), (4, 0.0107)]]
    assert median_seed(rows) == 4
    rows[4]["status"] = "unfinished"         # seeds 0-3: median 1.075 %, 0.98 and 1.17 tie
    assert median_seed(rows) == 1
    assert median_seed(rows[:1]) == 0 and median_seed([]) is None


def test_seed_table_trains_resumes_and_extends(tmp_path, fake_mnist_dir):
    out = tmp_path / "table"
    recipe = ["--net", "fc2", "--epochs", "1", "--batch-size", "8", "--train-limit", "24",
              "--test-limit", "8", "--data-dir", fake_mnist_dir]
    r = run(SEEDS, "--seeds", "0-1", "--jobs", "2", "--out", out, "--no-progress", "--", *recipe)
    assert r.returncode == 0, r.stderr
    table = json.loads((out / "seeds.json").read_text())
    summaries = [json.loads((out / f"seed-{s}" / "summary.json").read_text()) for s in (0, 1)]
    assert [row["status"] for row in table["rows"]] == ["done", "done"]
    assert [row["test_error"] for row in table["rows"]] == [s["test_error"] for s in summaries]
    assert [s["config"]["seed"] for s in summaries] == [0, 1]
    assert summaries[0]["test_n"] == 8
    errors = [s["test_error"] for s in summaries]
    assert table["summary"]["mean"] == pytest.approx(sum(errors) / 2)
    assert table["summary"]["min"] == min(errors) and table["summary"]["max"] == max(errors)
    assert f"test error over 2 seeds: median {100 * sum(errors) / 2:.2f}%" in r.stdout
    assert f"closest to the median: seed {table['median_seed']};" in r.stdout
    md = (out / "seeds.md").read_text()
    assert "2 of 2 finished" in md and "| seed-1 |" in md
    # Two at once: each run on a share of the cores' BLAS threads, and recorded as such.
    threads = table["blas_threads"]
    set_here = os.environ.get(BLAS_THREAD_VARS[0], "")
    assert threads == (int(set_here) if set_here.isdigit()
                       else max(1, len(os.sched_getaffinity(0)) // 2))
    assert summaries[0]["environment"]["blas"][0]["threads"] == threads
    assert table["environment"] == summaries[0]["environment"]

    # Seed 0 is the run train.py makes alone, with the same BLAS threads: byte for byte.
    alone = tmp_path / "alone"
    r = run(TRAIN, *recipe, "--seed", "0", "--out", alone, "--no-progress",
            env={**os.environ, BLAS_THREAD_VARS[0]: str(threads)})
    assert r.returncode == 0, r.stderr
    assert filecmp.cmp(alone / "weights.npz", out / "seed-0" / "weights.npz", shallow=False)

    # Seed 1 interrupted before its end; seed 2 new: only those two run.
    (out / "seed-1" / "weights.npz").unlink()
    (out / "seed-1" / "summary.json").unlink()
    before = (out / "seed-0" / "metrics.jsonl").stat().st_mtime_ns
    r = run(SEEDS, "--seeds", "0-2", "--out", out, "--no-progress", "--", *recipe)
    assert r.returncode == 0, r.stderr
    assert "seed 0: already finished" in r.stdout and "seed 1: resuming" in r.stdout
    assert "seed 2: starting" in r.stdout
    assert (out / "seed-0" / "metrics.jsonl").stat().st_mtime_ns == before
    assert "--resume" in (out / "logs" / "seed-1.log").read_text()
    table = json.loads((out / "seeds.json").read_text())
    assert [row["status"] for row in table["rows"]] == ["done"] * 3
    assert table["rows"][1]["test_error"] == errors[1]
    # The seeds were trained at this commit and with these BLAS threads, whatever runs next.
    commit = summaries[0]["commit"][:10]
    assert f"commit {commit}. A seed re-trains byte for byte (`OPENBLAS_NUM_THREADS=" in (
        out / "seeds.md").read_text()

    # Another recipe may not take over the table; nothing is written.
    md = (out / "seeds.md").read_text()
    r = run(SEEDS, "--seeds", "0-2", "--out", out, "--", *recipe, "--lr", "0.1")
    assert r.returncode == 2 and r.stdout == ""
    assert "holds the seed table of another recipe" in error_line(r.stderr)
    assert (out / "seeds.md").read_text() == md


@pytest.mark.parametrize("args,code,message", [     # the rest: test_parse_seeds etc.
    (["--seeds", "0-1", "--", "--net", "resnet"], 2,
     "train.py rejects the recipe: argument --net: invalid choice: 'resnet'"),
    (["--seeds", "0", "--net", "fc2"], 2, "(train.py's arguments go after --)"),
])
def test_seed_table_usage_errors(tmp_path, args, code, message):
    r = run(SEEDS, "--out", tmp_path / "t", "--no-progress", *args)
    assert r.returncode == code
    assert message in error_line(r.stderr)


def test_seed_table_ctrl_c_keeps_every_run(tmp_path, fake_mnist_dir):
    out = tmp_path / "table"
    proc = subprocess.Popen([sys.executable, SEEDS, "--seeds", "0-1", "--jobs", "2", "--out",
                             str(out), "--no-progress", "--", "--net", "fc2", "--epochs",
                             "100000", "--batch-size", "8", "--data-dir", str(fake_mnist_dir)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not all(
            (out / f"seed-{s}" / "checkpoint.npz").exists() for s in (0, 1)):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted; every run keeps its last checkpoint" in stderr
    table = json.loads((out / "seeds.json").read_text())
    assert [row["status"] for row in table["rows"]] == ["unfinished"] * 2
    assert all(row["epochs_done"] >= 1 for row in table["rows"])
    for s in (0, 1):    # each train.py saw one Ctrl-C and said what it kept
        assert "--resume" in (out / "logs" / f"seed-{s}.log").read_text()


def test_seed_table_refuses_a_folder_that_is_not_one(tmp_path):
    from training.seeds import SeedTable, SeedTableError

    def table(out):
        return SeedTable(str(out), [0], ["--net", "fc2"], train_command=["true"])

    (tmp_path / "file").write_text("x")
    with pytest.raises(SeedTableError, match="exists and is not a directory"):
        table(tmp_path / "file")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SeedTableError, match=r"not empty and holds no seeds.json \(notes.txt\)"):
        table(tmp_path / "other")
    (tmp_path / "odd" / "seed-0").mkdir(parents=True)
    (tmp_path / "odd" / "seed-0" / "mine.txt").write_text("x")
    with pytest.raises(SeedTableError, match="holds mine.txt but no run of train.py"):
        table(tmp_path / "odd")
    assert table(tmp_path / "new").jobs >= 1 and not (tmp_path / "new").exists()


def test_seed_table_refuses_runs_of_mixed_recipes(tmp_path):
    from training.seeds import SeedTable, SeedTableError

    for seed, lr in ((0, 0.1), (1, 0.2)):
        (tmp_path / f"seed-{seed}").mkdir()
        (tmp_path / f"seed-{seed}" / "run.json").write_text(json.dumps(
            {"config": {"net": "fc2", "seed": seed, "lr": lr, "epochs": 1}}))
    with pytest.raises(SeedTableError, match=r"seed-1/run.json: another recipe than .*"
                                              r"seed-0/run.json \(lr 0.2 vs 0.1\)"):
        SeedTable(str(tmp_path), [0, 1], [], train_command=["true"])
    with pytest.raises(SeedTableError, match="a run of seed 1, not 2"):
        (tmp_path / "seed-1").rename(tmp_path / "seed-2")
        SeedTable(str(tmp_path), [0, 2], [], train_command=["true"])
