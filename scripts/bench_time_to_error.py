#!/usr/bin/env python
"""Wall time to a test error: train.py's recipe in numpy_dl, then the same recipe in torch.

    python scripts/bench_time_to_error.py                  # lenet5, time to <= 0.90 %
    python scripts/bench_time_to_error.py --error 0.8 --epochs 30 --json

Both train the full recipe epoch by epoch (ours in train.py's trainer, with a temporary
run directory; torch's twin from our initial weights, with the same optimiser, schedule,
weight decay and batch order) and are timed with their per-epoch test evaluation. The
figure is the wall time at the end of the first epoch whose test error is at most --error.
Exit codes: 0 done (whether or not the error was reached), 1 the data set could not be
loaded, 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import json
import sys

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import EXIT_FAILED, ArgumentParser, existing_dir, run_main
from mnist import DATASETS, MnistError, get_dataset, load_mnist
from nn import NETS
from training import TrainConfig
from training.bench import plural
from training.race import check_portable, first_at, ours, theirs
from training.step import usable_cores


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__)
    p.add_argument("--net", choices=NETS, default="lenet5", help="network (default lenet5)")
    p.add_argument("--error", type=float, default=0.90, metavar="PCT",
                   help="test error to reach, in percent (default 0.90)")
    p.add_argument("--epochs", type=int, help="epochs (default: train.py's, 15)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-torch", action="store_true", help="time numpy_dl only")
    p.add_argument("--dataset", choices=tuple(DATASETS), default="mnist")
    p.add_argument("--data-dir", type=existing_dir,
                   help="directory of the data set (default: the user cache)")
    p.add_argument("--train-limit", type=int, metavar="N", help="use the first N training images")
    p.add_argument("--test-limit", type=int, metavar="N", help="use the first N test images")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if not 0 < args.error < 100:
        p.error(f"argument --error: a percentage in (0, 100), got {args.error:g}")
    try:
        cfg = TrainConfig(net=args.net, epochs=args.epochs, seed=args.seed,
                          dataset=args.dataset, train_limit=args.train_limit,
                          test_limit=args.test_limit).resolved()
    except ValueError as e:
        p.error(str(e).replace("_", "-"))
    torch_version = None
    if not args.no_torch:
        try:
            import torch
            torch_version = torch.__version__
        except ImportError:
            p.error("torch is not installed: install it, or time numpy_dl alone with --no-torch")
        try:
            check_portable(cfg)
        except ValueError as e:
            p.error(f"argument --net: {e}")
    try:
        train = load_mnist("train", args.data_dir, dataset=cfg.dataset)
        test = load_mnist("test", args.data_dir, dataset=cfg.dataset)
    except (MnistError, OSError) as e:
        print(f"bench_time_to_error.py: cannot load {get_dataset(cfg.dataset).title}: {e}",
              file=sys.stderr)
        return EXIT_FAILED

    target = args.error / 100
    say = (lambda *a: None) if args.json else print
    say(f"numpy_dl: training {cfg.net} for {cfg.epochs} epochs")
    report = {"net": cfg.net, "epochs": cfg.epochs, "seed": cfg.seed, "error": target,
              "cores": usable_cores(), "workers": cfg.workers, "numpy": ours(cfg, train, test, quiet=args.json)}
    if torch_version:
        say(f"torch {torch_version}: training the same recipe")
        line = lambda r: say(f"epoch {r['epoch']}/{cfg.epochs}: test error "
                             f"{r['test_error'] * 100:.2f}% | {r['elapsed_s']:.1f} s")
        report.update(torch_version=torch_version, torch_threads=usable_cores(),
                      torch=theirs(cfg, train, test, usable_cores(), line))
    sides = ["numpy"] + (["torch"] if torch_version else [])
    for side in sides:
        report[f"{side}_reached"] = first_at(report[side], target)
    if args.json:
        print(json.dumps(report))
        return 0
    _print(report, sides, args.error)
    return 0


def _print(r: dict, sides: list[str], pct: float) -> None:
    print(f"{r['net']}, train.py's recipe, {r['epochs']} epochs, seed {r['seed']}, "
          f"{plural(r['cores'], 'core')} (numpy_dl: {plural(r['workers'], 'worker')}"
          + (f"; torch {r['torch_version']}: {plural(r['torch_threads'], 'thread')})"
             if "torch" in r
             else ")"))
    print("| epoch | " + " | ".join(f"{s} test error | {s} wall s" for s in sides) + " |")
    print("|---|" + "---|---|" * len(sides))
    for i in range(r["epochs"]):
        cells = [f"{r[s][i]['test_error'] * 100:.2f} % | {r[s][i]['elapsed_s']:.1f}"
                 for s in sides]
        print(f"| {i + 1} | " + " | ".join(cells) + " |")
    for s in sides:
        hit = r[f"{s}_reached"]
        print(f"{s}: " + (f"<= {pct:.2f} % at epoch {hit['epoch']}, {hit['elapsed_s']:.1f} s"
                          if hit else f"never <= {pct:.2f} % in {r['epochs']} epochs"))
    if len(sides) == 2 and r["numpy_reached"] and r["torch_reached"]:
        print(f"ratio numpy/torch: "
              f"{r['numpy_reached']['elapsed_s'] / r['torch_reached']['elapsed_s']:.2f}")


if __name__ == "__main__":
    sys.exit(run_main(main))
