#!/usr/bin/env python
"""Seconds per training epoch (60,000 images) of a network, and peak memory.

    python scripts/bench_train.py                    # lenet5, batch 128
    python scripts/bench_train.py --compare-torch --json
    python scripts/bench_train.py --scaling --compare-torch   # workers 1, 2, 4 against torch

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
from training.bench import EPOCH_IMAGES, numpy_step, plural, time_epoch, torch_step
from training.step import default_workers, usable_cores


SCALING = (1, 2, 4)     # --scaling: worker counts, and torch thread counts


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
    how_many = p.add_mutually_exclusive_group()
    how_many.add_argument("--workers", type=int,
                          help="processes per step, as train.py --workers (default: one per "
                          "core; at most one per core is used); torch then runs on as many "
                          "threads")
    how_many.add_argument("--scaling", action="store_true",
                          help="time 1, 2 and 4 workers (and torch on 1, 2 and 4 threads): "
                          "the scaling table")
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
    counts = SCALING if args.scaling else [args.workers or default_workers(args.batch_size)]

    rows = []
    for requested in counts:
        step = numpy_step(args.net, x, y, args.batch_size, requested)
        try:
            ours = time_epoch(step, args.batch_size, args.steps, args.blocks)
        finally:
            step.close()
        rows.append({"workers_requested": requested, "workers": step.workers,
                     "extrapolated_from_steps": ours["steps_timed"],
                     "s_per_step": ours["s_per_step"], "s_per_epoch": ours["s_per_epoch"],
                     "images_per_s": ours["images_per_s"],
                     "cpu_s_per_epoch": ours["cpu_s_per_epoch"],
                     "block_s_per_epoch": ours["block_s_per_epoch"]})
    report = {"net": args.net, "optimizer": recipe.optimizer, "batch_size": args.batch_size,
              "data": data, "threads": threads,
              "peak_rss_mb": peak_rss_mb()}     # before torch is imported
    if args.compare_torch:
        report["torch_version"] = torch_version
        for row in rows:
            # torch on as many threads as workers were asked for (the cores without --workers)
            row["torch_threads"] = row["workers_requested"] if args.scaling or args.workers \
                else threads
            theirs = time_epoch(torch_step(args.net, x, y, args.batch_size, row["torch_threads"]),
                                args.batch_size, args.steps, args.blocks)
            row.update(torch_s_per_epoch=theirs["s_per_epoch"],
                       torch_images_per_s=theirs["images_per_s"],
                       torch_cpu_s_per_epoch=theirs["cpu_s_per_epoch"],
                       ratio=row["s_per_epoch"] / theirs["s_per_epoch"],
                       cpu_ratio=row["cpu_s_per_epoch"] / theirs["cpu_s_per_epoch"])
    if args.scaling:
        report["scaling"] = rows
    else:
        report.update(rows[0])
    if args.json:
        print(json.dumps(report))
        return 0
    if args.scaling:
        _print_scaling(report, recipe.optimizer, args)
    else:
        _print_one(report, recipe.optimizer, args)
    return 0


def _print_one(r: dict, optimizer: str, args) -> None:
    print(f"{args.net}, batch {args.batch_size}, {r['data']} data, {r['threads']} cores, "
          f"{plural(r['workers'], 'worker')}: timed {r['extrapolated_from_steps']} "
          f"{optimizer} steps in {args.blocks} blocks, extrapolated to {EPOCH_IMAGES} images")
    print(f"  numpy: {r['s_per_epoch']:.2f} s/epoch (median block), "
          f"{r['images_per_s']:.0f} images/s, CPU {r['cpu_s_per_epoch']:.2f} s/epoch, "
          f"peak RSS {r['peak_rss_mb']:.0f} MB")
    if args.compare_torch:
        print(f"  torch {r['torch_version']} ({plural(r['torch_threads'], 'thread')}): "
              f"{r['torch_s_per_epoch']:.2f} s/epoch, {r['torch_images_per_s']:.0f} images/s, "
              f"CPU {r['torch_cpu_s_per_epoch']:.2f} s/epoch")
        print(f"  ratio numpy/torch: {r['ratio']:.2f} (CPU time: {r['cpu_ratio']:.2f})")


def _print_scaling(r: dict, optimizer: str, args) -> None:
    rows = r["scaling"]
    print(f"{args.net}, batch {args.batch_size}, {r['data']} data, {r['threads']} cores: "
          f"timed {rows[0]['extrapolated_from_steps']} {optimizer} steps in {args.blocks} "
          f"blocks per row, extrapolated to {EPOCH_IMAGES} images; seconds per epoch, "
          "wall (CPU)")
    torch = args.compare_torch
    print("| workers | numpy | speed-up |" + (f" torch {r['torch_version']} | numpy/torch |"
                                              if torch else ""))
    print("|---|---|---|" + ("---|---|" if torch else ""))
    one = rows[0]["s_per_epoch"]
    for row in rows:
        used = row["workers"]
        who = str(row["workers_requested"]) + ("" if used == row["workers_requested"]
                                               else f" ({used} run, one per core)")
        line = (f"| {who} | {row['s_per_epoch']:.2f} ({row['cpu_s_per_epoch']:.2f}) | "
                f"{one / row['s_per_epoch']:.2f}x |")
        if torch:
            line += (f" {row['torch_s_per_epoch']:.2f} ({row['torch_cpu_s_per_epoch']:.2f}) "
                     f"on {plural(row['torch_threads'], 'thread')} | {row['ratio']:.2f} |")
        print(line)
    print(f"peak RSS {r['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    sys.exit(run_main(main))
