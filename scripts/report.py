#!/usr/bin/env python
"""Plots of a training run, as PNGs in RUN_DIR/report/ (or --out DIR).

    python scripts/report.py runs/lenet5-20250101-120000
    python scripts/report.py models/lenet5-run              # -> runs/lenet5-run/report/
    python scripts/report.py models/lenet5-run --out docs/img/report

Writes curves.png (loss, error and learning rate per epoch), confusion.png (the test-set
confusion matrix of RUN_DIR/weights.npz, or of the checkpoint while the run is unfinished),
misclassified.png (the misclassified test digits with true and predicted label and the
confidence) and norms.png (per-layer weight and gradient norms per epoch: do gradients
explode or vanish?).
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, existing_dir, note_limit, run_main  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")      # before viz.report imports pyplot

from training import (MetricsLog, confusion_matrix, describe_views, load_model,  # noqa: E402
                      predict_logits, prepare_images, views_for)
from training.features import probabilities  # noqa: E402
from training.provenance import environment_lines, recorded_environment  # noqa: E402
from training.rundir import output_dir  # noqa: E402
from viz.png import save_figure  # noqa: E402
from viz.report import (plot_confusion, plot_curves, plot_misclassified,  # noqa: E402
                        plot_norms)

METRICS, WEIGHTS, CHECKPOINT = "metrics.jsonl", "weights.npz", "checkpoint.npz"


def build_parser():
    p = ArgumentParser(prog="report.py", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                   help="a run directory written by train.py (metrics.jsonl, weights.npz "
                        "or checkpoint.npz)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder of the PNGs (default: RUN_DIR/report, or runs/NAME/report "
                        "for a run shipped in models/; created if its parent exists)")
    p.add_argument("--max-errors", type=int, default=60,
                   help="most misclassified digits shown (default 60)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="evaluate on the first N test images (default: all)")
    p.add_argument("--data-dir", type=existing_dir, default=None,
                   help="directory of the run's data set (default: the user cache, fetched "
                        "if absent)")
    p.add_argument("--dpi", type=int, default=110, help="resolution of the PNGs (default 110)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _init_norms(run_dir):
    """Weight norms at initialisation from RUN_DIR/run.json, if recorded."""
    try:
        with open(run_dir / "run.json", encoding="utf-8") as f:
            return json.load(f).get("init_weight_norm")
    except (OSError, ValueError, AttributeError):
        return None


def _title(run_dir, records):
    return f"{run_dir.name}: {len(records)} epochs"


# -- main --------------------------------------------------------------------------------
def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    run_dir = args.run_dir
    if not run_dir.is_dir():
        problem = "no such directory" if not run_dir.exists() else "is not a directory"
        parser.error(f"argument RUN_DIR: {str(run_dir)!r} {problem}")
    if not (run_dir / METRICS).is_file():
        parser.error(f"argument RUN_DIR: no {METRICS} in {str(run_dir)!r} (not a run "
                     "directory written by train.py)")
    weights = next((run_dir / n for n in (WEIGHTS, CHECKPOINT) if (run_dir / n).is_file()), None)
    if weights is None:
        parser.error(f"argument RUN_DIR: neither {WEIGHTS} nor {CHECKPOINT} in {str(run_dir)!r}")
    for name in ("max_errors", "limit", "dpi"):
        v = getattr(args, name)
        if v is not None and v < 1:
            parser.error(f"argument --{name.replace('_', '-')}: {v}, expected an integer >= 1")
    out = args.out or output_dir(run_dir) / "report"
    if args.out is not None and not out.parent.is_dir():
        parser.error(f"argument --out: folder {str(out.parent)!r} does not exist")
    try:
        records = MetricsLog(str(run_dir / METRICS)).read()
        if not records:
            raise ValueError(f"{run_dir / METRICS} is empty")
        model, config = load_model(str(weights))
    except ValueError as e:     # CheckpointError: damaged, or not a weights file
        parser.exit(2, f"{parser.prog}: error: argument RUN_DIR: {e}\n")
    from mnist import MnistError, get_dataset, load_mnist
    data = get_dataset(config.dataset)
    try:
        images, labels = load_mnist("test", args.data_dir, fetch=args.data_dir is None,
                                    dataset=data.name)
    except (MnistError, OSError, ValueError) as e:
        parser.fail(f"cannot load the {data.title} test set: {e}")
    classes = None if data.name == "mnist" else data.classes

    t0 = time.perf_counter()
    try:
        out.mkdir(parents=args.out is None, exist_ok=True)   # runs/NAME/report for a shipped run
    except OSError as e:
        parser.fail(f"argument --out: cannot create {out}: {e.strerror or e}")
    note_limit(parser.prog, "--limit", args.limit, len(images))
    images, labels = images[:args.limit], np.asarray(labels[:args.limit]).astype(np.intp)
    bar = tqdm(total=5, desc="report", disable=args.no_progress)
    bar.set_postfix_str("evaluating")
    x = prepare_images(images, config.normalize)
    views = views_for(config)
    probs = probabilities(predict_logits(model, x, **views))
    cm = confusion_matrix(labels, probs.argmax(1), probs.shape[1])
    error = float(np.mean(probs.argmax(1) != labels))
    bar.update()
    figures = {
        "curves.png": lambda: plot_curves(records, _title(run_dir, records)),
        "confusion.png": lambda: plot_confusion(
            cm, error, f"{weights.name} {describe_views(**views)}".rstrip(), classes),
        "misclassified.png": lambda: plot_misclassified(images, labels, probs, args.max_errors,
                                                        classes),
        "norms.png": lambda: plot_norms(records, _init_norms(run_dir)),
    }
    written = []
    for name, make in figures.items():
        bar.set_postfix_str(name)
        try:
            written.append(save_figure(make(), out / name, dpi=args.dpi))
        except OSError as e:    # each PNG is written atomically
            say = parser.error if isinstance(e, IsADirectoryError) else parser.fail
            say(f"argument --out: cannot write {out / name}: {e.strerror or e}")
        bar.update()
    bar.close()
    print(f"{out}: {', '.join(p.name for p in written)} ({weights.name}: test error "
          f"{100 * error:.2f}% on {len(labels)} images; {len(records)} epochs) "
          f"in {time.perf_counter() - t0:.1f} s")
    for line in environment_lines(*recorded_environment(str(run_dir))):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, interrupted="each PNG already written is complete"))
