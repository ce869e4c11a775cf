#!/usr/bin/env python
"""Train fc2, cnn, LeNet-5 or the 1998 LeNet-5 on MNIST or Fashion-MNIST.

    python scripts/train.py --net lenet5                  # the default recipe
    python scripts/train.py --net lenet5-1998             # the paper's recipe (SDLM, 20 passes)
    python scripts/train.py --net lenet5-1998 --augment   # with the paper's distortions
    python scripts/train.py --net lenet5-1998 --batch-size 1   # one pattern per step, as the paper
    python scripts/train.py --net lenet5-1998 --modern pooling   # an ablation
    python scripts/train.py --net lenet5 --augment --elastic 16 --epochs 40 --seed 1
    python scripts/train.py --net lenet5 --dataset fashion-mnist
    python scripts/train.py --resume runs/lenet5-20250101-120000

Writes RUN_DIR/metrics.jsonl (one line per epoch), RUN_DIR/checkpoint.npz (after every
epoch), RUN_DIR/weights.npz and RUN_DIR/summary.json (at the end). A new run needs a new
or empty RUN_DIR; an existing run is continued with --resume, never overwritten.

One process trains in a RUN_DIR at a time (a lock the kernel releases when the process
ends, even by kill -9): a second --out or --resume on it is refused and changes nothing.

Exit codes: 0 done (or already complete), 1 MNIST or the run directory could not be
read or written, or another process trains in it, 2 bad usage or an unusable run
directory (one line on stderr), 3 the run diverged (a non-finite loss; the last finite
checkpoint is kept), 130 interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import os
import sys
import time

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import note_limit, run_main
from mnist import MnistError, get_dataset, load_mnist
from safeio.codes import EXIT_DIVERGED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from training import Trainer, TrainingDiverged, describe_views, views_for
from training.cli import parse
from training.provenance import command_line
from training.rundir import (CHECKPOINT, RUN_INFO, WEIGHTS, RunDirBusy, RunDirError, is_busy,
                             locked_run_dir, read_run_info, run_dir_entries)
from training.checkpoint import read_npz

PROG = "train.py"


def _error(message: str, code: int = EXIT_USAGE) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _interrupted(trainer: Trainer, run_dir: str) -> str:
    """What is true after Ctrl-C: which checkpoint survives, if any."""
    resume = f"python scripts/train.py --resume {run_dir}"
    k, total = trainer.checkpoint_epoch, trainer.config.epochs
    if k:
        return (f"interrupted; {CHECKPOINT} after epoch {k}/{total} is intact. "
                f"Resume with: {resume}")
    if os.path.isfile(os.path.join(run_dir, RUN_INFO)):
        return (f"interrupted during epoch 1/{total}, before the first checkpoint: no epoch "
                f"was saved. Start it again with: {resume}")
    return f"interrupted before training started; nothing was saved in {run_dir}"


def _run_dataset(run_dir: str) -> str:
    """The data set a run to resume was trained on (checkpoint first, then run.json);
    unreadable files are left for Trainer.resume to report."""
    try:
        path = os.path.join(run_dir, CHECKPOINT)
        if os.path.exists(path):
            return read_npz(path)["config"].dataset
        return (read_run_info(run_dir) or {}).get("config", {}).get("dataset", "mnist")
    except (OSError, ValueError, KeyError, AttributeError):
        return "mnist"


def main(argv=None) -> int:
    args, config = parse(argv, __doc__)
    try:
        return _run(args, config, argv)
    except KeyboardInterrupt:       # loading MNIST or checking the run: nothing written yet
        print(f"\n{PROG}: interrupted before training started; no run file was written",
              file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args, config, argv) -> int:
    if args.resume:
        run_dir = args.resume
        if is_busy(run_dir):
            return _error(f"argument --resume: {RunDirBusy(run_dir)}", EXIT_FAILED)
    else:
        run_dir = args.out or os.path.join("runs", f"{config.net}-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            held = run_dir_entries(run_dir)
        except RunDirError as e:
            return _error(f"argument --out: {e}")
        if os.path.isdir(run_dir) and is_busy(run_dir):
            return _error(f"argument --out: {RunDirBusy(run_dir)}", EXIT_FAILED)
        if held:
            shown = ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
            if CHECKPOINT in held or (RUN_INFO in held and WEIGHTS not in held):
                return _error(f"argument --out: {run_dir} already holds a run ({shown}); "
                              f"continue it with --resume {run_dir}, or choose a new --out")
            return _error(f"argument --out: {run_dir} is not empty ({shown}); choose a new "
                          "or empty --out")
    # One writer per run directory: everything below reads and writes under its lock.
    option = "--resume" if args.resume else "--out"
    try:
        with locked_run_dir(run_dir, create=not args.resume):
            return _train(args, config, argv, run_dir)
    except RunDirBusy as e:
        return _error(f"argument {option}: {e}", EXIT_FAILED)
    except OSError as e:
        return _error(f"argument {option}: cannot create the run directory {run_dir}: "
                      f"{e.strerror or e}", EXIT_FAILED)


def _train(args, config, argv, run_dir) -> int:
    dataset = _run_dataset(run_dir) if args.resume else config.dataset
    try:
        train = load_mnist("train", args.data_dir, dataset=dataset)
        test = load_mnist("test", args.data_dir, dataset=dataset)
    except (MnistError, OSError) as e:
        return _error(f"cannot load {get_dataset(dataset).title}: {e}", EXIT_FAILED)
    if config is not None:
        note_limit(PROG, "--train-limit", config.train_limit, len(train[0]))
        note_limit(PROG, "--test-limit", config.test_limit, len(test[0]))
    command = command_line([os.path.relpath(sys.argv[0])] + (sys.argv[1:] if argv is None else argv))
    progress = not args.no_progress
    if args.resume:
        try:
            trainer = Trainer.resume(run_dir, train, test, epochs=args.epochs,
                                     progress=progress, command=command)
        except (FileNotFoundError, ValueError) as e:   # CheckpointError is a ValueError
            return _error(f"argument --resume: {e}")
        if trainer.complete:
            print(f"{run_dir} is already complete ({trainer.epoch}/{trainer.config.epochs} "
                  f"epochs, {WEIGHTS} written); nothing to do. To train longer, add --epochs N "
                  f"with N > {trainer.epoch}")
            return 0
        print(f"resuming {run_dir} after epoch {trainer.epoch}/{trainer.config.epochs}")
    else:
        try:
            trainer = Trainer(config, train, test, run_dir, progress=progress, command=command)
        except (RunDirError, ValueError) as e:
            return _error(str(e))
        except OSError as e:
            return _error(f"cannot create the run directory {run_dir}: {e.strerror}", EXIT_FAILED)
        print(f"run directory: {run_dir}")
    try:
        summary = trainer.fit()
    except KeyboardInterrupt:           # Ctrl-C or SIGTERM (safeio.cli.run_main)
        # a directory this command made and left empty is removed by locked_run_dir
        print(("\n" if progress else "") + f"{PROG}: {_interrupted(trainer, run_dir)}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingDiverged as e:
        return _error(f"training diverged: {e}. Try a smaller --lr, or --clip", EXIT_DIVERGED)
    except OSError as e:
        return _error(f"cannot write to {run_dir}: {e}", EXIT_FAILED)
    views = describe_views(**views_for(trainer.config))
    print(f"test error {100 * summary['test_error']:.2f}% on {summary['test_n']} images"
          f"{' (' + views + ')' if views else ''} after "
          f"{summary['epochs']} epochs ({summary['train_wall_s']:.0f} s); weights: "
          f"{os.path.join(run_dir, WEIGHTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
