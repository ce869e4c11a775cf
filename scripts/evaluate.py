#!/usr/bin/env python
"""Evaluate saved weights on the MNIST or Fashion-MNIST test set.

    python scripts/evaluate.py models/lenet5.npz
    python scripts/evaluate.py models/lenet5-fashion.npz
    python scripts/evaluate.py runs/lenet5-.../weights.npz --json

The weights file records its network, preprocessing and data set (files written before
the data set was recorded are MNIST's), so no other flags are needed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, existing_dir, note_limit, run_main
from safeio.paths import input_problem
from mnist import DATASETS, MnistError, get_dataset, load_mnist
from training import (describe_views, evaluate_arrays, load_model, most_confused,
                      per_class_table, prepare_images, views_for)
from training.provenance import environment, environment_lines, recorded_environment


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(description="Test error, per-class errors and the most "
                       "confused pairs of a trained network.")
    p.add_argument("weights", help="a weights.npz or checkpoint.npz written by train.py")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--limit", type=int, metavar="N", help="use the first N test images")
    p.add_argument("--top", type=int, default=5, help="how many confused pairs to list (default 5)")
    p.add_argument("--dataset", choices=tuple(DATASETS),
                   help="test set to use (default: the one the weights were trained on)")
    p.add_argument("--data-dir", type=existing_dir,
                   help="directory of the data set's files (default: the user "
                   "cache's mnist or fashion-mnist, fetched if absent)")
    p.add_argument("--test-flip", action=argparse.BooleanOptionalAction,
                   help="classify each image by the mean logits of it and its mirror image "
                   "(default: as the weights were trained, train.py --test-flip)")
    p.add_argument("--test-shifts", type=int, metavar="K",
                   help="classify each image by the mean logits of it moved by every offset "
                   "of up to K pixels, (2K+1)² copies (default: as the weights were trained, "
                   "train.py --test-shifts; 0: once)")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = input_problem(args.weights)
    if problem:
        parser.error(f"argument weights: {args.weights!r} {problem}")
    if args.limit is not None and args.limit < 1:
        parser.error(f"argument --limit: must be >= 1, got {args.limit}")
    try:
        model, config = load_model(args.weights)
    except ValueError as e:     # CheckpointError: damaged, or not a weights file
        parser.exit(2, f"{parser.prog}: error: argument weights: {e}\n")
    asked = {k: v for k, v in (("test_flip", args.test_flip), ("test_shifts", args.test_shifts))
             if v is not None}
    try:                # the test the flags ask for, checked as train.py checks it
        config = dataclasses.replace(config, **asked)
        config.validate()
    except ValueError as e:
        parser.error(f"argument --test-shifts: {e}")
    data = get_dataset(args.dataset or config.dataset)
    try:
        images, labels = load_mnist("test", args.data_dir, dataset=data.name)
    except (MnistError, OSError) as e:
        parser.fail(f"cannot load {data.title}: {e}")
    note_limit(parser.prog, "--limit", args.limit, len(images))
    images, labels = images[:args.limit], labels[:args.limit].astype(int)
    views = views_for(config)
    tested = describe_views(**views)
    result = evaluate_arrays(model, prepare_images(images, config.normalize), labels, **views)
    cm = result["confusion"]
    report = {
        "weights": args.weights,
        "net": config.net,
        "activation": config.activation,
        "dataset": data.name,
        "trained_on": config.dataset,
        "test_error": result["error"],
        "test_flip": views["mirror"],
        "test_shifts": views["shifts"],
        "errors": int(round(result["error"] * result["n"])),
        "n": result["n"],
        "test_loss": result["loss"],
        "per_class": per_class_table(cm, data.classes),
        "most_confused": most_confused(cm, args.top, data.classes),
        "confusion": cm.tolist(),
    }
    trained_env, env_source = recorded_environment(args.weights)
    report["trained_environment"] = trained_env
    report["environment"] = environment()
    if args.json:
        print(json.dumps(report))
        return 0
    trained = "" if data.name == config.dataset else \
        f", trained on {get_dataset(config.dataset).title}"
    print(f"{args.weights}: {config.net} ({config.activation}{trained})")
    print(f"{data.title} test error {100 * report['test_error']:.2f}%  "
          f"({report['errors']} of {report['n']}), loss {report['test_loss']:.4f}"
          + (f"; tested {tested}" if tested else ""))
    for line in environment_lines(trained_env, env_source):
        print(line)
    width = max(5, *(len(c) for c in data.classes))
    print(f"\n{'class':<{width}}      n  errors   error")
    for row in report["per_class"]:
        print(f"{row['name']:<{width}}  {row['n']:>5}  {row['errors']:>6}  "
              f"{100 * row['error']:6.2f}%")
    print("\nmost confused (true -> predicted: count)")
    for pair in report["most_confused"]:
        print(f"  {pair['true_name']} -> {pair['pred_name']}: {pair['count']}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, interrupted="nothing was written"))
