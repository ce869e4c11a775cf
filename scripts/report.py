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

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from training import (MetricsLog, confusion_matrix, load_model, predict_logits,  # noqa: E402
                      prepare_images)
from training.features import probabilities  # noqa: E402
from training.provenance import environment_lines, recorded_environment  # noqa: E402
from training.rundir import output_dir  # noqa: E402
from viz.png import save_figure  # noqa: E402

METRICS, WEIGHTS, CHECKPOINT = "metrics.jsonl", "weights.npz", "checkpoint.npz"
LOSS_C, TEST_C, TRAIN_C, LR_C = "#d62728", "#1f77b4", "#ff7f0e", "#7f7f7f"


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


def _series(records, key, sub=None):
    """A metric per epoch as floats, NaN where missing (a diverged run logs null)."""
    out = []
    for r in records:
        v = r.get(key)
        if sub is not None:
            v = (v or {}).get(sub)
        out.append(np.nan if v is None else float(v))
    return np.array(out)


def _init_norms(run_dir):
    """Weight norms at initialisation from RUN_DIR/run.json, if recorded."""
    try:
        with open(run_dir / "run.json", encoding="utf-8") as f:
            return json.load(f).get("init_weight_norm")
    except (OSError, ValueError, AttributeError):
        return None


def _title(run_dir, records):
    return f"{run_dir.name}: {len(records)} epochs"


# -- the figures -------------------------------------------------------------------------
def plot_curves(records, title):
    ep = _series(records, "epoch")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    ax.plot(ep, _series(records, "train_loss"), "o-", color=TRAIN_C, ms=3, label="train")
    ax.plot(ep, _series(records, "test_loss"), "o-", color=TEST_C, ms=3, label="test")
    ax.set(yscale="log", xlabel="epoch", title="cross-entropy loss")
    ax.legend()
    ax = axes[1]
    test_err = 100 * _series(records, "test_error")
    ax.plot(ep, 100 * (1 - _series(records, "train_acc")), "o-", color=TRAIN_C, ms=3,
            label="train (during the epoch)")
    ax.plot(ep, test_err, "o-", color=TEST_C, ms=3, label="test")
    if np.isfinite(test_err).any():
        best = int(np.nanargmin(test_err))
        ax.annotate(f"{test_err[best]:.2f}%", (ep[best], test_err[best]),
                    textcoords="offset points", xytext=(0, -14), ha="center", color=TEST_C)
    ax.set(yscale="log", xlabel="epoch", ylabel="%", title="error")
    ax.legend()
    ax = axes[2]
    ax.plot(ep, _series(records, "lr"), "o-", color=LR_C, ms=3)
    ax.set(xlabel="epoch", title="learning rate (at the epoch's start)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    for a in axes:
        a.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion(cm, error, source, classes=None):
    named = classes is not None and any(len(c) > 2 for c in classes)
    fig, ax = plt.subplots(figsize=(7.4, 6.6) if named else (6.4, 5.6))
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)       # the diagonal would drown the mistakes
    im = ax.imshow(off, cmap="Reds", vmin=0, vmax=max(1.0, np.nanmax(off)))
    K = cm.shape[0]
    for t in range(K):
        for p in range(K):
            if cm[t, p] == 0:
                continue
            diag = t == p
            ax.text(p, t, str(cm[t, p]), ha="center", va="center", fontsize=8,
                    color="#1f5f1f" if diag else
                    ("white" if off[t, p] > 0.6 * np.nanmax(off) else "black"),
                    fontweight="bold" if diag else "normal")
    ax.set(xticks=range(K), yticks=range(K), xlabel="predicted", ylabel="true",
           title=f"confusion matrix, {source}: test error {100 * error:.2f}% "
                 f"({int(cm.sum() - np.trace(cm))} of {int(cm.sum())})")
    if named:
        ax.set_xticklabels(classes, rotation=40, ha="right", fontsize=8)
        ax.set_yticklabels(classes, fontsize=8)
    ax.title.set_fontsize(10)
    fig.colorbar(im, ax=ax, fraction=0.046, label="mistakes (diagonal: correct, in green)")
    fig.tight_layout()
    return fig


def plot_misclassified(images, labels, probs, max_errors, classes=None):
    preds = probs.argmax(1)
    wrong = np.flatnonzero(preds != labels)
    conf = probs[wrong, preds[wrong]]
    wrong = wrong[np.argsort(-conf, kind="stable")][:max_errors]     # most confident first
    cols = 10
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.15, rows * 1.35 + 0.5),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
        p = probs[i, preds[i]]
        conf = ">99%" if p >= 0.995 else f"{100 * p:.0f}%"      # never round up to 100%
        if classes is None:
            ax.set_title(f"{labels[i]}→{preds[i]} {conf}", fontsize=8)
        else:   # names are long: one line each
            ax.set_title(f"{classes[labels[i]]}\n→{classes[preds[i]]} {conf}", fontsize=6.5)
        ax.text(0.02, 0.98, f"#{i}", transform=ax.transAxes, color="#aaaaaa", fontsize=6,
                va="top")
    total = int((preds != labels).sum())
    what = "digits" if classes is None else "images"
    fig.suptitle(f"{len(wrong)} of {total} misclassified test {what}, most confident first "
                 "(true→predicted, confidence; #test index)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_norms(records, init_norms=None):
    ep = _series(records, "epoch")
    names = [k for k in (records[0].get("weight_norm") or {}) if k.endswith("weight")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(names), 1)))
    for name, c in zip(names, colors):
        wn = _series(records, "weight_norm", name)
        if init_norms and name in init_norms:          # epoch 0: the initial weights
            axes[0].plot(np.r_[0, ep], np.r_[init_norms[name], wn], "o-", ms=3, color=c,
                         label=name)
        else:
            axes[0].plot(ep, wn, "o-", ms=3, color=c, label=name)
        axes[1].plot(ep, _series(records, "grad_norm", name), "o-", ms=3, color=c, label=name)
    gmax = _series(records, "grad_norm_max")
    if np.isfinite(gmax).any():
        axes[1].plot(ep, gmax, "k--", lw=1, label="largest total norm of a step")
    axes[0].set(xlabel="epoch", title="weight norm ‖W‖₂ per layer (epoch end; 0: initial)")
    axes[1].set(yscale="log", xlabel="epoch",
                title="gradient norm ‖∇W‖₂ per layer (mean over the epoch's steps)")
    for a, loc in zip(axes, ("center right", "upper right")):
        a.grid(alpha=0.3, which="both")
        a.legend(fontsize=8, loc=loc)
    fig.tight_layout()
    return fig


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
    probs = probabilities(predict_logits(model, x))
    cm = confusion_matrix(labels, probs.argmax(1), probs.shape[1])
    error = float(np.mean(probs.argmax(1) != labels))
    bar.update()
    figures = {
        "curves.png": lambda: plot_curves(records, _title(run_dir, records)),
        "confusion.png": lambda: plot_confusion(cm, error, weights.name, classes),
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
