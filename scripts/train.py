#!/usr/bin/env python
"""Train fc2, cnn, LeNet-5 or the 1998 LeNet-5 on MNIST or Fashion-MNIST.

    python scripts/train.py --net lenet5                  # the default recipe
    python scripts/train.py --net lenet5-1998             # the paper's recipe (SDLM, 20 passes)
    python scripts/train.py --net lenet5-1998 --augment   # with the paper's distortions
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

import argparse
import math
import os
import sys
import time

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, existing_dir, note_limit, run_main
from mnist import DATASETS, MnistError, get_dataset, load_mnist
from safeio.codes import EXIT_DIVERGED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from nn import ACTIVATIONS, INITS, NETS, OPTIMIZERS, SCHEDULES
from nn.lenet1998 import MODERN_PARTS
from nn.sdlm import MU
from training import TrainConfig, Trainer, TrainingDiverged
from training.config import (AUGMENT_DEFAULTS, DEFAULT_EPOCHS, DISTORTED_MU,
                             DEFAULT_EPOCHS_AUGMENTED, DEFAULT_INIT, DEFAULT_LR,
                             DEFAULT_WEIGHT_DECAY)
from training.provenance import command_line
from training.step import MAX_WORKERS, MIN_SHARD
from training.rundir import (CHECKPOINT, RUN_INFO, WEIGHTS, RunDirBusy, RunDirError, is_busy,
                             locked_run_dir, read_run_info, run_dir_entries)
from training.checkpoint import read_npz

PROG = "train.py"

# Flags that define a run; with --resume they come from the checkpoint instead.
CONFIG_FLAGS = ("net", "activation", "init", "batch_size", "optimizer", "lr", "schedule",
                "weight_decay", "clip", "augment", "rotate", "scale", "elastic", "normalize",
                "seed", "workers", "train_limit", "test_limit", "dataset", "modern",
                "warmup", "shear", "squeeze", "mu")


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = ArgumentParser(
        description=__doc__)
    p.add_argument("--net", choices=NETS, help=f"network (default {d.net})")
    p.add_argument("--dataset", choices=tuple(DATASETS), help=f"data set (default {d.dataset})")
    p.add_argument("--epochs", type=int, help=f"total epochs (default {DEFAULT_EPOCHS}, "
                   f"{DEFAULT_EPOCHS_AUGMENTED} with augmentation, 20 for lenet5-1998; with --resume, a new total "
                   "that extends the run)")
    p.add_argument("--batch-size", type=int, help="mini-batch size (default 128; 32 for lenet5-1998)")
    p.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="sgd, momentum (0.9), nesterov (0.9), adam or sdlm (default adam; "
                   "sdlm for lenet5-1998)")
    p.add_argument("--lr", type=float, help="learning rate (default per optimiser: "
                   + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--schedule", choices=SCHEDULES,
                   help="learning-rate schedule (default cosine; lecun1998 for lenet5-1998)")
    p.add_argument("--warmup", type=float, metavar="EPOCHS",
                   help="ramp the learning rate up linearly over the first EPOCHS (fractions "
                   "allowed; default 0, 1 for lenet5-1998)")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay (default per activation: "
                   + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_WEIGHT_DECAY.items()) + ")")
    p.add_argument("--clip", type=float, help="clip the global gradient norm to this value "
                   "(default none, 0; 50 for lenet5-1998)")
    p.add_argument("--mu", type=float, help="SDLM's damping: each weight steps by lr / (mu + "
                   f"its curvature) (default {MU:g}, the paper's; see --augment)")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS),
                   help="hidden-layer activation (default relu; scaled_tanh for lenet5-1998)")
    p.add_argument("--init", choices=INITS, help="weight initialisation (default per "
                   "activation: " + ", ".join(f"{k} {v}" for k, v in DEFAULT_INIT.items()) + ")")
    p.add_argument("--modern", metavar="PARTS", type=lambda v: [x for x in v.split(",") if x],
                   help="lenet5-1998 only: take these parts from the modern LeNet-5, "
                   "comma-separated among " + ", ".join(MODERN_PARTS) + " (max pooling; a "
                   "full C3; a linear output with softmax cross-entropy), e.g. for ablations")
    paper = AUGMENT_DEFAULTS["lenet5-1998"]
    p.add_argument("--augment", action="store_const", const=True,
                   help="random shifts of up to 2 pixels; for lenet5-1998 the paper's "
                   f"distortions: also --scale {paper['scale']:g} --squeeze "
                   f"{paper['squeeze']:g} --shear {paper['shear']:g} unless given, and (with any "
                   f"distortion) SDLM's --mu {DISTORTED_MU['lenet5-1998']:g}")
    p.add_argument("--rotate", type=float, metavar="DEG",
                   help="random rotations of up to DEG degrees")
    p.add_argument("--scale", type=float, metavar="FRAC",
                   help="random scalings by a factor in [1-FRAC, 1+FRAC]")
    p.add_argument("--shear", type=float, metavar="FRAC",
                   help="random horizontal shears x += k*y, k in [-FRAC, FRAC]")
    p.add_argument("--squeeze", type=float, metavar="FRAC",
                   help="random squeezes: width / f and height * f, f in [1-FRAC, 1+FRAC]")
    p.add_argument("--elastic", type=float, metavar="ALPHA",
                   help="elastic distortions (Simard et al. 2003): smoothed random fields "
                   "(sigma 4 px) scaled by ALPHA pixels, e.g. 34")
    p.add_argument("--no-normalize", dest="normalize", action="store_const", const=False,
                   help="feed raw pixel values 0..255 instead of (x/255 - mean)/std")
    p.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    p.add_argument("--workers", type=int, metavar="N",
                   help="threads per step, each on a shard of the batch (default: one per "
                   f"core, at most {MAX_WORKERS}, shards of >= {MIN_SHARD} images)")
    p.add_argument("--out", metavar="RUN_DIR", help="run directory (default runs/<net>-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run saved in RUN_DIR")
    p.add_argument("--train-limit", type=int, metavar="N", help="use the first N training images")
    p.add_argument("--test-limit", type=int, metavar="N", help="use the first N test images")
    p.add_argument("--data-dir", type=existing_dir,
                   help="directory of the data set's files (default: the user "
                   "cache's mnist or fashion-mnist, fetched if absent)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def parse(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"argument --epochs: must be >= 1, got {args.epochs}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"argument --workers: must be >= 1, got {args.workers}")
    bad = sorted(set(args.modern or ()) - set(MODERN_PARTS))
    if bad:
        parser.error(f"argument --modern: unknown part {bad[0]!r} (choose from "
                     + ", ".join(MODERN_PARTS) + ")")
    if args.modern and (args.net or TrainConfig.net) != "lenet5-1998":
        parser.error("argument --modern: swaps parts of --net lenet5-1998 only")
    if args.lr is not None and not (args.lr > 0 and math.isfinite(args.lr)):
        parser.error(f"argument --lr: must be a number > 0, got {args.lr}")
    if args.resume is not None:
        if not any(os.path.isfile(os.path.join(args.resume, n)) for n in (CHECKPOINT, RUN_INFO)):
            parser.error(f"argument --resume: no {CHECKPOINT} in {args.resume!r} "
                         "(expected a run directory written by train.py)")
        given = [f"--{f.replace('_', '-')}" for f in CONFIG_FLAGS if getattr(args, f) is not None]
        if given or args.out:
            parser.error(f"argument --resume: the run's settings come from its checkpoint; "
                         f"drop {' '.join(given + (['--out'] if args.out else []))}")
        return args, None
    values = {f: getattr(args, f) for f in CONFIG_FLAGS if getattr(args, f) is not None}
    if args.epochs is not None:
        values["epochs"] = args.epochs
    try:
        config = TrainConfig(**values).resolved()
    except ValueError as e:
        parser.error(_as_argument(str(e)))
    return args, config


def _as_argument(message: str) -> str:
    """TrainConfig's "seed=-1: expected an integer >= 0" as the option the user typed."""
    name, eq, rest = message.partition("=")
    value, colon, expected = rest.partition(": ")
    if not (eq and colon and name.isidentifier()):
        return message.replace("_", "-")
    return f"argument --{name.replace('_', '-')}: {expected.replace('_', '-')}, got {value}"


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
    args, config = parse(argv)
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
    print(f"test error {100 * summary['test_error']:.2f}% on {summary['test_n']} images after "
          f"{summary['epochs']} epochs ({summary['train_wall_s']:.0f} s); weights: "
          f"{os.path.join(run_dir, WEIGHTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
