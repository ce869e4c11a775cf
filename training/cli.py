"""train.py's command line: its options, and the arguments as a :class:`TrainConfig`.

:func:`parse` checks what argparse cannot (ranges, --modern's parts, --resume's run
directory and the flags it forbids) and turns ``TrainConfig``'s own errors into the option
the user typed, so a bad value is one ``train.py: error: argument --X: ...`` line, exit 2.
"""
from __future__ import annotations

import argparse
import math
import os

from mnist import DATASETS
from nn import ACTIVATIONS, INITS, NETS, OPTIMIZERS, SCHEDULES
from nn.lenet1998 import MODERN_PARTS
from nn.sdlm import MU
from safeio.cli import ArgumentParser, existing_dir

from .config import (AUGMENT_DEFAULTS, DEFAULT_EPOCHS, DEFAULT_EPOCHS_AUGMENTED, DEFAULT_INIT,
                     DEFAULT_LR, DEFAULT_WEIGHT_DECAY, DISTORTED_MU, TrainConfig)
from .rundir import CHECKPOINT, RUN_INFO
from .step import MIN_SHARD

# Flags that define a run; with --resume they come from the checkpoint instead.
CONFIG_FLAGS = ("net", "activation", "init", "batch_size", "optimizer", "lr", "schedule",
                "weight_decay", "clip", "augment", "rotate", "scale", "elastic", "normalize",
                "seed", "workers", "train_limit", "test_limit", "dataset", "modern",
                "warmup", "shear", "squeeze", "flip", "mu", "test_flip", "test_shifts")


def build_parser(description: str | None = None) -> argparse.ArgumentParser:
    """train.py's parser; ``description`` is the script's docstring (its --help text)."""
    d = TrainConfig()
    p = ArgumentParser(description=description)
    p.add_argument("--net", choices=NETS, help=f"network (default {d.net})")
    p.add_argument("--dataset", choices=tuple(DATASETS), help=f"data set (default {d.dataset})")
    p.add_argument("--epochs", type=int, help=f"total epochs (default {DEFAULT_EPOCHS}, "
                   f"{DEFAULT_EPOCHS_AUGMENTED} with augmentation, 20 for lenet5-1998; with "
                   "--resume, a new total that extends the run)")
    p.add_argument("--batch-size", type=int,
                   help="mini-batch size (default 128; 32 for lenet5-1998, whose --batch-size "
                   "1 is the paper's one pattern per step: SDLM's lr then defaults to the "
                   "paper's 0.0005 and --clip to 0)")
    p.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="sgd, momentum (0.9), nesterov (0.9), adam or sdlm (default adam; "
                   "sdlm for lenet5-1998)")
    p.add_argument("--lr", type=float, help="learning rate (default per optimiser: "
                   + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--schedule", choices=SCHEDULES,
                   help="learning-rate schedule (default cosine; lecun1998 for lenet5-1998)")
    p.add_argument("--warmup", type=float, metavar="EPOCHS",
                   help="ramp the learning rate up linearly over the first EPOCHS (fractions "
                   "allowed; default 0; 1 for lenet5-1998 at batches over 1)")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay (default per activation: "
                   + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_WEIGHT_DECAY.items()) + ")")
    p.add_argument("--clip", type=float, help="clip the global gradient norm to this value "
                   "(default none, 0; 50 for lenet5-1998 at batches over 1)")
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
    p.add_argument("--flip", action="store_const", const=True,
                   help="random horizontal flips of half the images (for Fashion-MNIST's "
                   "clothes; digits are not mirror symmetric)")
    p.add_argument("--test-flip", action="store_const", const=True,
                   help="test each image and its mirror image and average the two logits "
                   "(test-time augmentation, for nets trained with --flip); training is "
                   "unchanged")
    p.add_argument("--test-shifts", type=int, metavar="K",
                   help="test each image moved by every offset of up to K pixels ((2K+1)² "
                   "copies) and average the logits (test-time augmentation, for nets "
                   "trained with --augment's shifts of up to 2: K = 2); training is "
                   "unchanged, each test costs (2K+1)² times as long")
    p.add_argument("--no-normalize", dest="normalize", action="store_const", const=False,
                   help="feed raw pixel values 0..255 instead of (x/255 - mean)/std")
    p.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes per step, each on a shard of the batch, at most one per "
                   f"core (default: one per core, shards of >= {MIN_SHARD} images)")
    p.add_argument("--out", metavar="RUN_DIR", help="run directory (default runs/<net>-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run saved in RUN_DIR")
    p.add_argument("--train-limit", type=int, metavar="N", help="use the first N training images")
    p.add_argument("--test-limit", type=int, metavar="N", help="use the first N test images")
    p.add_argument("--data-dir", type=existing_dir,
                   help="directory of the data set's files (default: the user "
                   "cache's mnist or fashion-mnist, fetched if absent)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def parse(argv=None, description: str | None = None):
    """``(args, config)`` of train.py's command line ``argv``: ``config`` is the resolved
    :class:`TrainConfig` of a new run, None with --resume (the run's own comes from its
    checkpoint). Bad usage exits 2 with one line, through ``parser.error``."""
    parser = build_parser(description)
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
