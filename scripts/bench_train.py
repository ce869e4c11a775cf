#!/usr/bin/env python
"""Seconds per training epoch (60,000 images) of a network, and peak memory.

    python scripts/bench_train.py                    # lenet5, batch 128
    python scripts/bench_train.py --compare-torch --json

It times a few hundred steps of the net's own recipe (train.py's default optimiser: Adam,
or SDLM for lenet5-1998), in blocks, and extrapolates to a full epoch; the figure is the
median over blocks.
"""

from __future__ import annotations

import json
import sys

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, existing_dir, run_main
import numpy as np
from mnist import DATASETS, MnistError, load_mnist
from nn import NETS
from training import TrainConfig, peak_rss_mb, prepare_images
from training.bench import EPOCH_IMAGES, numpy_step, time_epoch, torch_step
from training.step import default_workers, usable_cores


def main(argv=None) -> int:
    d = TrainConfig()
    p = ArgumentParser(description="Time training epochs of a network "
                       "(extrapolated from a few hundred steps).")
    p.add_argument("--net", choices=NETS, default=d.net, help=f"network (default {d.net})")
    p.add_argument("--batch-size", type=int,
                   help="mini-batch size (default: train.py's for the net, 128 or 32)")
    p.add_argument("--steps", type=int, default=200, help="steps timed (default 200)")
    p.add_argument("--blocks", type=int, default=5,
                   help="timing blocks; the median block is reported (default 5)")
    p.add_argument("--workers", type=int,
                   help="threads per step, as train.py --workers (default: one per core); "
                        "torch then runs on as many threads")
    p.add_argument("--compare-torch", action="store_true",
                   help="also time the same architecture in torch (if installed)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--dataset", choices=tuple(DATASETS), default=d.dataset,
                   help="training images to time on (synthetic ones when not cached)")
    p.add_argument("--data-dir", type=existing_dir,
                   help="directory of the data set (default: the user cache)")
    args = p.parse_args(argv)
    recipe = TrainConfig(net=args.net).resolved()
    if args.batch_size is None:
        args.batch_size = recipe.batch_size
    for name in ("batch_size", "steps", "blocks", "workers"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"argument --{name.replace('_', '-')}: must be >= 1, got {getattr(args, name)}")
    torch_version = None
    if args.compare_torch:
        try:
            import torch
            torch_version = torch.__version__
        except ImportError:
            p.error("argument --compare-torch: torch is not installed")

    try:
        images, labels = load_mnist("train", args.data_dir, fetch=False, dataset=args.dataset)
        data = args.dataset
    except (MnistError, OSError):
        rng = np.random.default_rng(0)      # timing does not depend on pixel values
        images = rng.integers(0, 256, (EPOCH_IMAGES, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, EPOCH_IMAGES).astype(np.uint8)
        data = "synthetic"
    x = prepare_images(images)
    y = labels.astype(np.intp)
    threads = usable_cores()
    workers = args.workers or default_workers(args.batch_size)

    ours = time_epoch(numpy_step(args.net, x, y, args.batch_size, workers), args.batch_size,
                      args.steps, args.blocks)
    report = {"net": args.net, "optimizer": recipe.optimizer, "batch_size": args.batch_size,
              "data": data,
              "threads": threads, "workers": workers, "extrapolated_from_steps": ours["steps_timed"],
              "s_per_step": ours["s_per_step"], "s_per_epoch": ours["s_per_epoch"],
              "images_per_s": ours["images_per_s"], "cpu_s_per_epoch": ours["cpu_s_per_epoch"],
              "block_s_per_epoch": ours["block_s_per_epoch"],
              "peak_rss_mb": peak_rss_mb()}     # before torch is imported
    if args.compare_torch:
        torch_threads = args.workers or threads
        theirs = time_epoch(torch_step(args.net, x, y, args.batch_size, torch_threads),
                            args.batch_size, args.steps, args.blocks)
        report.update(torch_version=torch_version, torch_threads=torch_threads,
                      torch_s_per_epoch=theirs["s_per_epoch"],
                      torch_images_per_s=theirs["images_per_s"],
                      torch_cpu_s_per_epoch=theirs["cpu_s_per_epoch"],
                      ratio=ours["s_per_epoch"] / theirs["s_per_epoch"],
                      cpu_ratio=ours["cpu_s_per_epoch"] / theirs["cpu_s_per_epoch"])
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{args.net}, batch {args.batch_size}, {data} data, {threads} cores, "
          f"{workers} worker{'s' if workers > 1 else ''}: "
          f"timed {ours['steps_timed']} {recipe.optimizer} steps in {args.blocks} blocks, extrapolated to "
          f"{EPOCH_IMAGES} images")
    print(f"  numpy: {ours['s_per_epoch']:.2f} s/epoch (median block), "
          f"{ours['images_per_s']:.0f} images/s, CPU {ours['cpu_s_per_epoch']:.2f} s/epoch, "
          f"peak RSS {report['peak_rss_mb']:.0f} MB")
    if args.compare_torch:
        print(f"  torch {torch_version} ({report['torch_threads']} thread"
              f"{'s' if report['torch_threads'] > 1 else ''}): "
              f"{report['torch_s_per_epoch']:.2f} s/epoch, "
              f"{report['torch_images_per_s']:.0f} images/s, "
              f"CPU {report['torch_cpu_s_per_epoch']:.2f} s/epoch")
        print(f"  ratio numpy/torch: {report['ratio']:.2f} (CPU time: {report['cpu_ratio']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
